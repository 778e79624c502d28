"""Typed, defaulted values from valid input documents.

The documents allow numbers and booleans as strings ("1", "True", "False"). Every conversion goes
through `to_bool`, `to_int` and `to_float` here, so `bool("False") is True` cannot happen: "False"
in any case is False, and anything that is neither true nor false is an error, not a truthy value.

The parse_* functions expect documents that passed validation; `load_*` validate first and raise
InvalidInputError with every problem.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from tuning_workflow.exceptions import InvalidInputError

SCHEMA_DIR = Path(__file__).resolve().parent / "schemas"


@lru_cache(maxsize=None)
def _schema_file(name: str) -> dict[str, Any]:
    schema: dict[str, Any] = json.loads(
        (SCHEMA_DIR / f"{name}.schema.json").read_text(encoding="utf-8")
    )
    return schema


def schema_default(schema: str, *path: str) -> Any:
    """The `default` of the field at `path` (keys) in the named schema, where every default of
    an optional field is written."""
    node: Any = _schema_file(schema)
    for key in path:
        node = node[key]
    return node["default"]


_OBJECTIVE = schema_default("ml-parameters", "properties", "objectiveMetric")
DEFAULT_OBJECTIVE_METRIC: str = _OBJECTIVE["name"]
DEFAULT_OBJECTIVE_TYPE: str = _OBJECTIVE["type"]
DEFAULT_TRAINING_INSTANCE_COUNT: int = schema_default(
    "ml-parameters", "properties", "trainingInstanceCount"
)
DEFAULT_MAX_RUNTIME_SECONDS: int = schema_default(
    "ml-parameters", "properties", "maxRuntimeInSeconds"
)
DEFAULT_EARLY_STOPPING: str = schema_default(
    "ml-parameters", "properties", "trainingJobEarlyStoppingType"
)
DEFAULT_MANAGED_SPOT_TRAINING: bool = schema_default(
    "ml-parameters", "properties", "enableManagedSpotTraining"
)
DEFAULT_VARIANT_NAME: str = schema_default(
    "ml-parameters", "properties", "model", "properties", "hosting", "properties", "variantName"
)
DEFAULT_DISABLE_SCALE_IN: bool = schema_default(
    "ml-parameters",
    "properties",
    "targetTrackingScalingPolicyConfiguration",
    "properties",
    "DisableScaleIn",
)
DEFAULT_PROMOTION_POLICY: str = schema_default(
    "ml-parameters", "properties", "promotion", "properties", "policy"
)
DEFAULT_MIN_IMPROVEMENT: float = schema_default(
    "ml-parameters", "properties", "promotion", "properties", "minImprovement"
)
DEFAULT_APPROVAL: str = schema_default(
    "ml-parameters", "properties", "modelRegistry", "properties", "approval"
)
DEFAULT_APPROVAL_TIMEOUT_HOURS: float = schema_default(
    "ml-parameters", "properties", "modelRegistry", "properties", "approvalTimeoutHours"
)
DEFAULT_KEEP_MODELS: int = schema_default(
    "ml-parameters", "properties", "retention", "properties", "keepModels"
)
DEFAULT_WAIT_INTERVAL_SECONDS: int = schema_default(
    "ml-parameters", "properties", "endpointWaitIntervalSeconds"
)
DEFAULT_WAIT_TIMEOUT_SECONDS: int = schema_default(
    "ml-parameters", "properties", "endpointWaitTimeoutSeconds"
)
_S3_DATA_SOURCE = ("$defs", "channel", "properties", "s3DataSource", "properties")
DEFAULT_S3_DATA_TYPE: str = schema_default("manifest", *_S3_DATA_SOURCE, "S3DataType")
DEFAULT_S3_DATA_DISTRIBUTION: str = schema_default(
    "manifest", *_S3_DATA_SOURCE, "S3DataDistributionType"
)
# The seed trained with network isolation on, and so does this workflow unless told otherwise.
DEFAULT_ENABLE_NETWORK_ISOLATION: bool = schema_default(
    "ml-parameters", "properties", "enableNetworkIsolation"
)
# The environment variable of the model's container that the seed set to model.artifactType.
MODEL_TYPE_VARIABLE = "MODEL_TYPE"

_INTEGER = re.compile(r"^\s*[+-]?[0-9]+\s*$")
_NUMBER = re.compile(r"^\s*[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?\s*$")


# ---------------------------------------------------------------------------------------------
# Scalar conversions
# ---------------------------------------------------------------------------------------------


def to_bool(value: Any) -> bool:
    """True/False, or "true"/"false" in any case. Anything else raises ValueError."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        text = value.strip().lower()
        if text == "true":
            return True
        if text == "false":
            return False
    raise ValueError(f"{value!r} is not a boolean (expected true or false)")


def to_int(value: Any) -> int:
    """An int from an int, a whole float or a string of digits. Booleans are rejected."""
    if isinstance(value, bool):
        raise ValueError(f"{value!r} is not a whole number")
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and _INTEGER.match(value):
        return int(value)
    raise ValueError(f"{value!r} is not a whole number")


def to_float(value: Any) -> float:
    """A finite float from a number or a numeric string. Booleans are rejected."""
    if isinstance(value, bool):
        raise ValueError(f"{value!r} is not a number")
    if not (isinstance(value, (int, float)) or (isinstance(value, str) and _NUMBER.match(value))):
        raise ValueError(f"{value!r} is not a number")
    try:
        number = float(value)
    except OverflowError:  # an int past the largest float
        raise ValueError("the number is too large to be a float") from None
    if not math.isfinite(number):
        raise ValueError(f"{value!r} is not a finite number")
    return number


def to_api_string(value: Any) -> str:
    """How a hyperparameter value is sent: strings unchanged, numbers without a float tail."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        raise ValueError(f"{value!r}: write booleans as the string the algorithm expects")
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    raise ValueError(f"{value!r} is not a string or a number")


def _optional(value: Any, convert: Any) -> Any:
    return None if value is None else convert(value)


# ---------------------------------------------------------------------------------------------
# ml-parameters.json
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class VpcSettings:
    subnets: tuple[str, ...]
    security_group_ids: tuple[str, ...]

    def to_api(self) -> dict[str, list[str]]:
        return {"SecurityGroupIds": list(self.security_group_ids), "Subnets": list(self.subnets)}


@dataclass(frozen=True)
class HostingSettings:
    instance_type: str
    initial_instance_count: int
    variant_name: str = DEFAULT_VARIANT_NAME
    vpc: VpcSettings | None = None
    deployment_config: dict[str, Any] | None = None


@dataclass(frozen=True)
class ModelSettings:
    name: str
    artifacts_s3_output_path: str
    hosting: HostingSettings
    artifact_type: str | None = None
    training_vpc: VpcSettings | None = None
    # The container's environment: MODEL_TYPE from artifact_type, then model.environment.
    environment: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class ObjectiveMetric:
    name: str = DEFAULT_OBJECTIVE_METRIC
    type: str = DEFAULT_OBJECTIVE_TYPE


@dataclass(frozen=True)
class CompletionCriteria:
    target_objective_metric_value: float | None = None
    max_number_of_training_jobs_not_improving: int | None = None
    complete_on_convergence: bool | None = None


@dataclass(frozen=True)
class HyperbandConfig:
    min_resource: int | None = None
    max_resource: int | None = None


@dataclass(frozen=True)
class WarmStart:
    parent_tuning_jobs: tuple[str, ...]
    type: str


@dataclass(frozen=True)
class Autoscaling:
    min_capacity: int
    max_capacity: int
    target_tracking: dict[str, Any]


@dataclass(frozen=True)
class QualityGate:
    threshold: float
    direction: str

    def to_dict(self) -> dict[str, Any]:
        return {"threshold": self.threshold, "direction": self.direction}


@dataclass(frozen=True)
class Promotion:
    """Whether a run's best model replaces the live one (`always`, or `ifBetter` by more than
    `min_improvement`)."""

    policy: str = "always"
    min_improvement: float = 0.0


@dataclass(frozen=True)
class ModelRegistry:
    group_name: str
    approval: str = "auto"
    approval_timeout_hours: float = 72.0

    @property
    def approval_timeout_seconds(self) -> int:
        """The manual approval's wait, in whole seconds (at least one)."""
        return max(1, round(self.approval_timeout_hours * 3600))


@dataclass(frozen=True)
class MlParameters:
    tuning_job_name: str
    tuning_strategy: str
    max_parallel_training_jobs: int
    max_number_of_training_jobs: int
    training_instance_type: str
    training_instance_volume_size_in_gb: int
    endpoint_name: str
    model: ModelSettings
    algorithm_arn: str | None = None
    training_image: str | None = None
    metric_definitions: tuple[dict[str, str], ...] = ()
    inference_image: str | None = None
    objective: ObjectiveMetric = field(default_factory=ObjectiveMetric)
    max_tuning_runtime_in_seconds: int | None = None
    completion_criteria: CompletionCriteria | None = None
    hyperband: HyperbandConfig | None = None
    warm_start: WarmStart | None = None
    input_content_type: str | None = None
    training_job_definition_name: str | None = None
    enable_managed_spot_training: bool = DEFAULT_MANAGED_SPOT_TRAINING
    enable_network_isolation: bool = DEFAULT_ENABLE_NETWORK_ISOLATION
    spot_training_checkpoint_s3_uri: str | None = None
    training_instance_count: int = DEFAULT_TRAINING_INSTANCE_COUNT
    max_runtime_in_seconds: int = DEFAULT_MAX_RUNTIME_SECONDS
    max_wait_time_in_seconds: int | None = None
    training_job_early_stopping_type: str = DEFAULT_EARLY_STOPPING
    autoscaling: Autoscaling | None = None
    quality_gate: QualityGate | None = None
    endpoint_wait_interval_seconds: int = DEFAULT_WAIT_INTERVAL_SECONDS
    endpoint_wait_timeout_seconds: int = DEFAULT_WAIT_TIMEOUT_SECONDS
    promotion: Promotion = field(default_factory=Promotion)
    model_registry: ModelRegistry | None = None
    keep_models: int = DEFAULT_KEEP_MODELS

    @property
    def effective_max_wait_time_in_seconds(self) -> int:
        """Spot training's MaxWaitTimeInSeconds: as given, else the per-job runtime limit."""
        if self.max_wait_time_in_seconds is not None:
            return self.max_wait_time_in_seconds
        return self.max_runtime_in_seconds

    @property
    def endpoint_wait_max_attempts(self) -> int:
        """How many times the wait loop checks the endpoint: timeout / interval, at least once."""
        return max(1, self.endpoint_wait_timeout_seconds // self.endpoint_wait_interval_seconds)


def model_environment(model_doc: Mapping[str, Any]) -> dict[str, str]:
    """The model container's environment: MODEL_TYPE = artifactType (as the seed set it), then
    the variables of model.environment, which win over it."""
    environment: dict[str, str] = {}
    if model_doc.get("artifactType"):
        environment[MODEL_TYPE_VARIABLE] = str(model_doc["artifactType"])
    environment.update(
        {str(key): str(value) for key, value in (model_doc.get("environment") or {}).items()}
    )
    return environment


def inference_image_of(doc: Mapping[str, Any]) -> str | None:
    """The configured inference image: inferenceImage, else the seed's
    model.hosting.inferenceImage (validation refuses two different values)."""
    image = doc.get("inferenceImage")
    if image:
        return str(image)
    hosting = (doc.get("model") or {}).get("hosting") or {}
    image = hosting.get("inferenceImage")
    return str(image) if image else None


def _vpc(subnets: Any, security_group_ids: Any) -> VpcSettings | None:
    if not subnets or not security_group_ids:
        return None
    return VpcSettings(tuple(subnets), tuple(security_group_ids))


def parse_target_tracking(config: Mapping[str, Any]) -> dict[str, Any]:
    """Application Auto Scaling's object with typed values; DisableScaleIn defaults to False."""
    result: dict[str, Any] = {"TargetValue": to_float(config["TargetValue"])}
    for key in ("PredefinedMetricSpecification", "CustomizedMetricSpecification"):
        if key in config:
            result[key] = config[key]
    for key in ("ScaleInCooldown", "ScaleOutCooldown"):
        if key in config:
            result[key] = to_int(config[key])
    result["DisableScaleIn"] = to_bool(config.get("DisableScaleIn", DEFAULT_DISABLE_SCALE_IN))
    return result


def parse_ml_parameters(doc: Mapping[str, Any]) -> MlParameters:
    """Typed values of a valid ml-parameters document, defaults filled in."""
    model_doc = doc["model"]
    hosting_doc = model_doc["hosting"]
    hosting = HostingSettings(
        instance_type=hosting_doc["instanceType"],
        initial_instance_count=to_int(hosting_doc["initialInstanceCount"]),
        variant_name=hosting_doc.get("variantName", DEFAULT_VARIANT_NAME),
        vpc=_vpc(hosting_doc.get("subnets"), hosting_doc.get("securityGroupIds")),
        deployment_config=hosting_doc.get("deploymentConfig"),
    )
    model = ModelSettings(
        name=model_doc["name"],
        artifacts_s3_output_path=model_doc["artifactsS3OutputPath"],
        hosting=hosting,
        artifact_type=model_doc.get("artifactType"),
        training_vpc=_vpc(
            model_doc.get("trainingSubnets"), model_doc.get("trainingSecurityGroupIds")
        ),
        environment=model_environment(model_doc),
    )

    objective_doc = doc.get("objectiveMetric")
    objective = (
        ObjectiveMetric(objective_doc["name"], objective_doc["type"])
        if objective_doc
        else ObjectiveMetric()
    )

    completion = None
    if doc.get("completionCriteria"):
        criteria = doc["completionCriteria"]
        completion = CompletionCriteria(
            target_objective_metric_value=_optional(
                criteria.get("targetObjectiveMetricValue"), to_float
            ),
            max_number_of_training_jobs_not_improving=_optional(
                criteria.get("maxNumberOfTrainingJobsNotImproving"), to_int
            ),
            complete_on_convergence=_optional(criteria.get("completeOnConvergence"), to_bool),
        )

    hyperband = None
    if "hyperbandStrategyConfig" in doc:
        config = doc["hyperbandStrategyConfig"]
        hyperband = HyperbandConfig(
            min_resource=_optional(config.get("minResource"), to_int),
            max_resource=_optional(config.get("maxResource"), to_int),
        )

    warm_start = None
    if "warmStart" in doc:
        warm_start = WarmStart(
            tuple(doc["warmStart"]["parentTuningJobs"]), doc["warmStart"]["type"]
        )

    autoscaling = None
    if "autoscalingMinCapacity" in doc and "autoscalingMaxCapacity" in doc:
        autoscaling = Autoscaling(
            min_capacity=to_int(doc["autoscalingMinCapacity"]),
            max_capacity=to_int(doc["autoscalingMaxCapacity"]),
            target_tracking=parse_target_tracking(doc["targetTrackingScalingPolicyConfiguration"]),
        )

    promotion_doc = doc.get("promotion") or {}
    promotion = Promotion(
        policy=promotion_doc.get("policy", DEFAULT_PROMOTION_POLICY),
        min_improvement=to_float(promotion_doc.get("minImprovement", DEFAULT_MIN_IMPROVEMENT)),
    )
    model_registry = None
    if "modelRegistry" in doc:
        registry_doc = doc["modelRegistry"]
        model_registry = ModelRegistry(
            group_name=registry_doc["modelPackageGroupName"],
            approval=registry_doc.get("approval", DEFAULT_APPROVAL),
            approval_timeout_hours=to_float(
                registry_doc.get("approvalTimeoutHours", DEFAULT_APPROVAL_TIMEOUT_HOURS)
            ),
        )

    quality_gate = None
    if "qualityGate" in doc:
        quality_gate = QualityGate(
            threshold=to_float(doc["qualityGate"]["threshold"]), direction=objective.type
        )

    return MlParameters(
        tuning_job_name=doc["tuningJobName"],
        tuning_strategy=doc["tuningStrategy"],
        max_parallel_training_jobs=to_int(doc["maxParallelTrainingJobs"]),
        max_number_of_training_jobs=to_int(doc["maxNumberOfTrainingJobs"]),
        training_instance_type=doc["trainingInstanceType"],
        training_instance_volume_size_in_gb=to_int(doc["trainingInstanceVolumeSizeInGB"]),
        endpoint_name=doc["endpointName"],
        model=model,
        algorithm_arn=doc.get("algorithmARN"),
        training_image=doc.get("trainingImage"),
        metric_definitions=tuple(dict(item) for item in doc.get("metricDefinitions", ())),
        inference_image=inference_image_of(doc),
        objective=objective,
        max_tuning_runtime_in_seconds=_optional(doc.get("maxTuningRuntimeInSeconds"), to_int),
        completion_criteria=completion,
        hyperband=hyperband,
        warm_start=warm_start,
        input_content_type=doc.get("inputContentType"),
        training_job_definition_name=doc.get("trainingJobDefinitionName"),
        enable_managed_spot_training=to_bool(
            doc.get("enableManagedSpotTraining", DEFAULT_MANAGED_SPOT_TRAINING)
        ),
        enable_network_isolation=to_bool(
            doc.get("enableNetworkIsolation", DEFAULT_ENABLE_NETWORK_ISOLATION)
        ),
        spot_training_checkpoint_s3_uri=doc.get("spotTrainingCheckpointS3Uri"),
        training_instance_count=to_int(
            doc.get("trainingInstanceCount", DEFAULT_TRAINING_INSTANCE_COUNT)
        ),
        max_runtime_in_seconds=to_int(doc.get("maxRuntimeInSeconds", DEFAULT_MAX_RUNTIME_SECONDS)),
        max_wait_time_in_seconds=_optional(doc.get("maxWaitTimeInSeconds"), to_int),
        training_job_early_stopping_type=doc.get(
            "trainingJobEarlyStoppingType", DEFAULT_EARLY_STOPPING
        ),
        autoscaling=autoscaling,
        quality_gate=quality_gate,
        endpoint_wait_interval_seconds=to_int(
            doc.get("endpointWaitIntervalSeconds", DEFAULT_WAIT_INTERVAL_SECONDS)
        ),
        endpoint_wait_timeout_seconds=to_int(
            doc.get("endpointWaitTimeoutSeconds", DEFAULT_WAIT_TIMEOUT_SECONDS)
        ),
        promotion=promotion,
        model_registry=model_registry,
        keep_models=to_int((doc.get("retention") or {}).get("keepModels", DEFAULT_KEEP_MODELS)),
    )


# ---------------------------------------------------------------------------------------------
# hyperparameters.json
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class NumericRange:
    name: str
    min_value: str
    max_value: str
    scaling_type: str | None = None

    def to_api(self) -> dict[str, str]:
        result = {"Name": self.name, "MinValue": self.min_value, "MaxValue": self.max_value}
        if self.scaling_type:
            result["ScalingType"] = self.scaling_type
        return result


@dataclass(frozen=True)
class CategoricalRange:
    name: str
    values: tuple[str, ...]

    def to_api(self) -> dict[str, Any]:
        return {"Name": self.name, "Values": list(self.values)}


@dataclass(frozen=True)
class Hyperparameters:
    integer_ranges: tuple[NumericRange, ...] = ()
    continuous_ranges: tuple[NumericRange, ...] = ()
    categorical_ranges: tuple[CategoricalRange, ...] = ()
    static: dict[str, str] = field(default_factory=dict)

    def ranges_to_api(self) -> dict[str, list[dict[str, Any]]]:
        """ParameterRanges with all three lists, categorical ones included."""
        return {
            "IntegerParameterRanges": [item.to_api() for item in self.integer_ranges],
            "ContinuousParameterRanges": [item.to_api() for item in self.continuous_ranges],
            "CategoricalParameterRanges": [item.to_api() for item in self.categorical_ranges],
        }


def _integer_bound(value: Any) -> str:
    return str(to_int(value))


def _continuous_bound(value: Any) -> str:
    to_float(value)  # must be numeric; the text the user wrote is kept when it is a string
    return value.strip() if isinstance(value, str) else to_api_string(value)


def parse_hyperparameters(doc: Mapping[str, Any]) -> Hyperparameters:
    """Typed values of a valid hyperparameters document; every value becomes a string."""
    ranges = doc.get("parameterRanges") or {}
    return Hyperparameters(
        integer_ranges=tuple(
            NumericRange(
                item["Name"],
                _integer_bound(item["MinValue"]),
                _integer_bound(item["MaxValue"]),
                item.get("ScalingType"),
            )
            for item in ranges.get("IntegerParameterRanges", ())
        ),
        continuous_ranges=tuple(
            NumericRange(
                item["Name"],
                _continuous_bound(item["MinValue"]),
                _continuous_bound(item["MaxValue"]),
                item.get("ScalingType"),
            )
            for item in ranges.get("ContinuousParameterRanges", ())
        ),
        categorical_ranges=tuple(
            CategoricalRange(item["Name"], tuple(to_api_string(value) for value in item["Values"]))
            for item in ranges.get("CategoricalParameterRanges", ())
        ),
        static={
            str(key): to_api_string(value)
            for key, value in (doc.get("staticHyperParameters") or {}).items()
        },
    )


# ---------------------------------------------------------------------------------------------
# manifest.json
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Channel:
    name: str
    s3_uri: str
    s3_data_type: str = DEFAULT_S3_DATA_TYPE
    s3_data_distribution_type: str = DEFAULT_S3_DATA_DISTRIBUTION
    attribute_names: tuple[str, ...] = ()
    instance_group_names: tuple[str, ...] = ()
    content_type: str | None = None
    compression_type: str | None = None
    input_mode: str | None = None


@dataclass(frozen=True)
class Manifest:
    channels: tuple[Channel, ...]


def parse_manifest(doc: Mapping[str, Any]) -> Manifest:
    """Typed channels of a valid manifest, in the order given."""
    channels = []
    for item in doc["channels"]:
        source = item["s3DataSource"]
        channels.append(
            Channel(
                name=item["channelName"],
                s3_uri=source["S3Uri"],
                s3_data_type=source.get("S3DataType", DEFAULT_S3_DATA_TYPE),
                s3_data_distribution_type=source.get(
                    "S3DataDistributionType", DEFAULT_S3_DATA_DISTRIBUTION
                ),
                attribute_names=tuple(source.get("AttributeNames", ())),
                instance_group_names=tuple(source.get("InstanceGroupNames", ())),
                content_type=item.get("contentType"),
                compression_type=item.get("compressionType"),
                input_mode=item.get("inputMode"),
            )
        )
    return Manifest(tuple(channels))


# ---------------------------------------------------------------------------------------------
# Validate, then parse
# ---------------------------------------------------------------------------------------------


def load_ml_parameters(doc: Any) -> MlParameters:
    """Validated and typed, or InvalidInputError listing every problem."""
    from tuning_workflow.validation import validate_ml_parameters

    problems = validate_ml_parameters(doc)
    if problems:
        raise InvalidInputError(problems)
    return parse_ml_parameters(doc)


def load_hyperparameters(doc: Any) -> Hyperparameters:
    """Validated and typed, or InvalidInputError listing every problem."""
    from tuning_workflow.validation import validate_hyperparameters

    problems = validate_hyperparameters(doc)
    if problems:
        raise InvalidInputError(problems)
    return parse_hyperparameters(doc)


def load_manifest(doc: Any) -> Manifest:
    """Validated and typed, or InvalidInputError listing every problem."""
    from tuning_workflow.validation import validate_manifest

    problems = validate_manifest(doc)
    if problems:
        raise InvalidInputError(problems)
    return parse_manifest(doc)
