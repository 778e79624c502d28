"""SageMaker behaviour moto 5.2.5 lacks: tuning jobs with real training jobs, endpoint updates,
deployment outcomes, and algorithm resources.

moto marks a tuning job Completed at once with a fixed "FakeTrainingJobName" best job that no
training job backs, has no UpdateEndpoint, StopHyperParameterTuningJob,
ListTrainingJobsForHyperParameterTuningJob, CreateAlgorithm or DescribeAlgorithm. The functions
here work on moto's own backend objects so every other SageMaker call (DescribeTrainingJob,
ListTrainingJobs, DeleteEndpoint, ...) sees the same state. Per-backend bookkeeping lives on the
backend object, so moto's reset clears it with everything else.
"""

from __future__ import annotations

import copy
import gzip
import hashlib
import io
import json
import math
import random
import re
import tarfile
import threading
from dataclasses import dataclass, field
from typing import Any, Callable

from moto.core.utils import utcnow
from moto.sagemaker.exceptions import ResourceNotFound, ValidationError
from moto.sagemaker.utils import arn_formatter

from . import iam
from .control import CONTROL, AlgorithmImages, ControlError, EndpointOutcome

_SIM_ATTRIBUTE = "_smtune_emulator_state"
_SCALING_DIMENSION = "sagemaker:variant:DesiredInstanceCount"
_ALGORITHM_ARN = re.compile(r"^arn:aws[a-z-]*:sagemaker:([a-z0-9-]+):(\d{12}):algorithm/(.+)$")
_S3_URI = re.compile(r"^s3://([^/]+)/?(.*)$")


@dataclass
class PlannedTrainingJob:
    """One training job of an emulated tuning job and how it ends."""

    name: str
    tuned_hyper_parameters: dict[str, str]
    objective_value: float
    final_status: str
    failure_reason: str | None = None
    finished: bool = False


@dataclass
class TuningRun:
    """An emulated tuning job: its training jobs and how many Describe calls remain."""

    job_name: str
    final_status: str
    failure_reason: str | None
    objective: dict[str, str]
    definition_name: str | None
    planned: list[PlannedTrainingJob]
    describes: int
    remaining: int


@dataclass
class EndpointTransition:
    """Where an endpoint in Creating/Updating lands once the remaining Describe calls pass."""

    remaining: int
    status: str
    config_name: str
    variants: list[dict[str, Any]]
    failure_reason: str | None


@dataclass
class _BackendState:
    lock: threading.RLock = field(default_factory=threading.RLock)
    tuning_runs: dict[str, TuningRun] = field(default_factory=dict)
    endpoint_transitions: dict[str, EndpointTransition] = field(default_factory=dict)


def _state(backend: Any) -> _BackendState:
    state = getattr(backend, _SIM_ATTRIBUTE, None)
    if state is None:
        state = _BackendState()
        setattr(backend, _SIM_ATTRIBUTE, state)
    return state


# Hyperparameters and objective values --------------------------------------------------------


def _number(path: str, value: Any) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        raise ValidationError(message=f"{path}: '{value}' is not a number.") from None


def validate_parameter_ranges(ranges: dict[str, Any] | None) -> None:
    """Reject ranges SageMaker would reject before the tuning job starts."""
    prefix = "HyperParameterTuningJobConfig.ParameterRanges"
    for kind in ("IntegerParameterRanges", "ContinuousParameterRanges"):
        for index, spec in enumerate((ranges or {}).get(kind) or []):
            path = f"{prefix}.{kind}[{index}]"
            low = _number(f"{path}.MinValue", spec.get("MinValue"))
            high = _number(f"{path}.MaxValue", spec.get("MaxValue"))
            if low > high:
                raise ValidationError(
                    message=f"{path}: MinValue {spec['MinValue']} is greater than MaxValue "
                    f"{spec['MaxValue']}."
                )
    for index, spec in enumerate((ranges or {}).get("CategoricalParameterRanges") or []):
        if not spec.get("Values"):
            raise ValidationError(
                message=f"{prefix}.CategoricalParameterRanges[{index}].Values: must not be empty."
            )


def _sample_scaled(rng: random.Random, low: float, high: float, scaling: str | None) -> float:
    if scaling == "Logarithmic" and low > 0:
        return math.exp(rng.uniform(math.log(low), math.log(high)))
    if scaling == "ReverseLogarithmic" and high < 1:
        return 1 - math.exp(rng.uniform(math.log(1 - high), math.log(1 - low)))
    return rng.uniform(low, high)


def sample_hyper_parameters(ranges: dict[str, Any] | None, rng: random.Random) -> dict[str, str]:
    """One point of the search space, as the strings SageMaker passes to training."""
    ranges = ranges or {}
    sampled: dict[str, str] = {}
    for spec in ranges.get("IntegerParameterRanges") or []:
        low, high = float(spec["MinValue"]), float(spec["MaxValue"])
        value = _sample_scaled(rng, low, high, spec.get("ScalingType"))
        sampled[spec["Name"]] = str(min(int(high), max(int(low), round(value))))
    for spec in ranges.get("ContinuousParameterRanges") or []:
        low, high = float(spec["MinValue"]), float(spec["MaxValue"])
        value = _sample_scaled(rng, low, high, spec.get("ScalingType"))
        sampled[spec["Name"]] = repr(round(value, 6))
    for spec in ranges.get("CategoricalParameterRanges") or []:
        sampled[spec["Name"]] = str(rng.choice(list(spec["Values"])))
    return sampled


def _seed(*parts: str) -> int:
    return int.from_bytes(hashlib.sha256("/".join(parts).encode("utf-8")).digest()[:8], "big")


def training_job_name(tuning_job_name: str, index: int) -> str:
    """`<tuningjob>-001-<8 hex>`, as SageMaker names a tuning job's training jobs."""
    suffix = hashlib.sha256(f"{tuning_job_name}/{index}".encode()).hexdigest()[:8]
    return f"{tuning_job_name}-{index:03d}-{suffix}"


def plan_training_jobs(
    tuning_job_name: str,
    ranges: dict[str, Any] | None,
    objective_type: str,
    count: int,
    failed: int,
    final_status: str,
    failure_reason: str | None,
) -> list[PlannedTrainingJob]:
    """Deterministic training jobs for a tuning job: same name, same jobs and values."""
    rng = random.Random(_seed(tuning_job_name))
    low, high = (0.05, 0.5) if objective_type == "Minimize" else (0.5, 0.95)
    seen: set[float] = set()
    planned = []
    for index in range(1, count + 1):
        value = round(rng.uniform(low, high), 6)
        while value in seen:
            value = round(rng.uniform(low, high), 6)
        seen.add(value)
        if final_status == "Completed":
            fails = index > count - failed
            status = "Failed" if fails else "Completed"
            reason = "AlgorithmError: training failed (emulated failure)." if fails else None
        else:
            status, reason = final_status, failure_reason
        planned.append(
            PlannedTrainingJob(
                name=training_job_name(tuning_job_name, index),
                tuned_hyper_parameters=sample_hyper_parameters(ranges, rng),
                objective_value=value,
                final_status=status,
                failure_reason=reason,
            )
        )
    return planned


# Tuning jobs ---------------------------------------------------------------------------------


def _definition_of(job: Any) -> dict[str, Any]:
    if job.training_job_definition:
        return job.training_job_definition
    return (job.training_job_definitions or [{}])[0]


def validate_tuning_job_request(
    config: dict[str, Any] | None,
    definition: dict[str, Any] | None,
    definitions: list[dict[str, Any]] | None,
) -> None:
    """Check what the emulation needs and SageMaker requires, before the job is created."""
    chosen = definition or next(iter(definitions or []), None)
    if not chosen:
        raise ValidationError(message="TrainingJobDefinition: is required.")
    if not (chosen.get("OutputDataConfig") or {}).get("S3OutputPath"):
        raise ValidationError(
            message="TrainingJobDefinition.OutputDataConfig.S3OutputPath: is required."
        )
    objective = (config or {}).get("HyperParameterTuningJobObjective") or {}
    if objective and objective.get("Type") not in ("Maximize", "Minimize"):
        raise ValidationError(
            message="HyperParameterTuningJobConfig.HyperParameterTuningJobObjective.Type: "
            f"must be Maximize or Minimize (got {objective.get('Type')!r})."
        )
    validate_parameter_ranges((config or {}).get("ParameterRanges"))


def impose_best_objective(
    planned: list[PlannedTrainingJob], objective_type: str, value: float
) -> None:
    """Make the best completed training job report exactly `value`; the others keep their
    distance from the best and so stay strictly worse."""
    completed = [p for p in planned if p.final_status == "Completed"]
    if not completed:
        return
    maximize = objective_type != "Minimize"
    best = (max if maximize else min)(completed, key=lambda p: p.objective_value)
    worse = -math.inf if maximize else math.inf
    previous = value
    for job in sorted(completed, key=lambda p: abs(p.objective_value - best.objective_value)):
        if job is best:
            continue
        distance = abs(job.objective_value - best.objective_value)
        candidate = value - distance if maximize else value + distance
        # Distinct and strictly worse than the best, even where float spacing is coarse.
        if (candidate >= previous) if maximize else (candidate <= previous):
            candidate = math.nextafter(previous, worse)
        job.objective_value = candidate
        previous = candidate
    best.objective_value = value


# The SageMaker execution role ------------------------------------------------------------------


def _s3_objects(backend: Any, bucket: str, prefix: str) -> list[str]:
    from moto.s3.models import s3_backends
    from moto.utilities.utils import get_partition

    s3 = s3_backends[backend.account_id][get_partition(backend.region_name)]
    found = s3.buckets.get(bucket)
    if found is None:
        return []
    return sorted(key for key in list(found.keys.keys()) if key.startswith(prefix))[:20]


def training_access_failure(backend: Any, definition: dict[str, Any]) -> str | None:
    """Why the execution role cannot run the training jobs, as SageMaker reports it, or None.

    A training job reads its S3 channels (ListBucket on the bucket, GetObject on the objects)
    and writes its output with the execution role
    (https://docs.aws.amazon.com/sagemaker/latest/dg/sagemaker-roles.html#sagemaker-roles-createtrainingjob-perms),
    and uses the output and volume keys with it.
    """
    role = str(definition.get("RoleArn") or "")
    if not role:
        return None
    partition = "aws"
    checks: list[iam.Check] = []
    for channel in definition.get("InputDataConfig") or []:
        uri = ((channel.get("DataSource") or {}).get("S3DataSource") or {}).get("S3Uri", "")
        match = _S3_URI.match(str(uri))
        if not match:
            continue
        bucket, prefix = match.groups()
        checks.append(iam.Check("s3:ListBucket", f"arn:{partition}:s3:::{bucket}"))
        keys = _s3_objects(backend, bucket, prefix) or [prefix]
        checks += [iam.Check("s3:GetObject", f"arn:{partition}:s3:::{bucket}/{k}") for k in keys]
    output = definition.get("OutputDataConfig") or {}
    match = _S3_URI.match(str(output.get("S3OutputPath") or ""))
    if match:
        bucket, prefix = match.groups()
        key = f"{prefix.rstrip('/')}/" if prefix else ""
        checks.append(
            iam.Check("s3:PutObject", f"arn:{partition}:s3:::{bucket}/{key}output/model.tar.gz")
        )
    for key_id in (
        output.get("KmsKeyId"),
        (definition.get("ResourceConfig") or {}).get("VolumeKmsKeyId"),
    ):
        if key_id:
            checks += [
                iam.Check(action, str(key_id))
                for action in ("kms:GenerateDataKey", "kms:Decrypt", "kms:CreateGrant")
            ]
    try:
        iam.authorize(role, checks)
    except iam.AccessDenied as refused:
        return f"ClientError: {refused.denial.message} (AccessDenied)"
    return None


def hosting_access_failure(backend: Any, config_name: str) -> str | None:
    """Why an endpoint config's models cannot be hosted with their execution roles, or None:
    SageMaker downloads each model's artifacts with the model's role
    (https://docs.aws.amazon.com/sagemaker/latest/dg/sagemaker-roles.html#sagemaker-roles-createmodel-perms)."""
    config = backend.endpoint_configs.get(config_name)
    if config is None:
        return None
    for variant in config.production_variants or []:
        model = (
            backend._models.get(variant.get("ModelName")) if hasattr(backend, "_models") else None
        )
        if model is None:
            continue
        role = str(getattr(model, "execution_role_arn", "") or "")
        containers = list(getattr(model, "containers", None) or [])
        primary = getattr(model, "primary_container", None)
        if primary:
            containers.append(primary)
        checks = []
        for container in containers:
            match = _S3_URI.match(str((container or {}).get("ModelDataUrl") or ""))
            if match:
                bucket, key = match.groups()
                checks.append(iam.Check("s3:GetObject", f"arn:aws:s3:::{bucket}/{key}"))
        if not role or not checks:
            continue
        try:
            iam.authorize(role, checks)
        except iam.AccessDenied as refused:
            return (
                'Failed to download model data for container "container_1" from URL: '
                f'"{checks[0].resource}". Please ensure that there is an object located at the '
                f"URL and that the role passed to CreateModel has permissions to download the "
                f"object. {refused.denial.message}"
            )
    return None


def start_tuning_run(backend: Any, job: Any) -> None:
    """Give a freshly created moto tuning job its training jobs and its outcome."""
    outcome = CONTROL.next_tuning_job_outcome()
    best_objective = CONTROL.next_best_objective()
    count, failed = CONTROL.training_jobs()
    describes = CONTROL.progression()
    config = job.hyper_parameter_tuning_job_config or {}
    limits = config.get("ResourceLimits") or {}
    count = min(count, int(float(limits.get("MaxNumberOfTrainingJobs", count))))
    objective = dict(config.get("HyperParameterTuningJobObjective") or {})
    objective.setdefault("Type", "Maximize")
    objective.setdefault("MetricName", "objective")
    definition = _definition_of(job)
    run = TuningRun(
        job_name=job.hyper_parameter_tuning_job_name,
        final_status=outcome.status,
        failure_reason=outcome.failure_reason,
        objective=objective,
        definition_name=definition.get("DefinitionName"),
        planned=plan_training_jobs(
            job.hyper_parameter_tuning_job_name,
            config.get("ParameterRanges"),
            objective["Type"],
            max(count, 1),
            failed,
            outcome.status,
            outcome.failure_reason,
        ),
        describes=describes,
        remaining=describes,
    )
    refused = training_access_failure(backend, definition)
    if refused is not None:
        for planned in run.planned:
            if planned.final_status == "Completed":
                planned.final_status, planned.failure_reason = "Failed", refused
        if run.final_status == "Completed":
            run.final_status = "Failed"
            run.failure_reason = f"All training jobs failed. {refused}"
    if best_objective is not None:
        impose_best_objective(run.planned, objective["Type"], best_objective)
    static = {str(k): str(v) for k, v in (definition.get("StaticHyperParameters") or {}).items()}
    for planned in run.planned:
        training_job = backend.create_training_job(
            training_job_name=planned.name,
            hyper_parameters={**static, **planned.tuned_hyper_parameters},
            algorithm_specification=copy.deepcopy(definition.get("AlgorithmSpecification") or {}),
            role_arn=definition.get("RoleArn"),
            input_data_config=definition.get("InputDataConfig"),
            output_data_config=definition["OutputDataConfig"],
            resource_config=definition.get("ResourceConfig")
            or definition.get("HyperParameterTuningResourceConfig"),
            vpc_config=definition.get("VpcConfig"),
            stopping_condition=definition.get("StoppingCondition"),
            tags=job.tags,
            enable_network_isolation=definition.get("EnableNetworkIsolation", False),
            enable_inter_container_traffic_encryption=definition.get(
                "EnableInterContainerTrafficEncryption", False
            ),
            enable_managed_spot_training=definition.get("EnableManagedSpotTraining", False),
            checkpoint_config=definition.get("CheckpointConfig"),
            debug_hook_config=None,
            debug_rule_configurations=None,
            tensor_board_output_config=None,
            experiment_config=None,
        )
        # moto replaces the metric definitions with its own sample; keep the caller's.
        training_job.algorithm_specification = copy.deepcopy(
            definition.get("AlgorithmSpecification") or {}
        )
        training_job.tuning_job_arn = job.arn
        training_job.training_job_status = "InProgress"
        training_job.secondary_status = "Training"
        training_job.training_end_time = None
        training_job.final_metric_data_list = []
    state = _state(backend)
    with state.lock:
        state.tuning_runs[run.job_name] = run
        _advance_tuning_run(backend, job, run, elapsed=0)


def _finish_training_job(backend: Any, run: TuningRun, planned: PlannedTrainingJob) -> None:
    training_job = backend.training_jobs.get(planned.name)
    planned.finished = True
    if training_job is None:
        return
    now = utcnow()
    training_job.training_job_status = planned.final_status
    training_job.secondary_status = planned.final_status
    training_job.training_end_time = now
    training_job.last_modified_time = now
    if planned.failure_reason:
        training_job.failure_reason = planned.failure_reason
    if planned.final_status == "Completed":
        training_job.final_metric_data_list = [
            {
                "MetricName": run.objective["MetricName"],
                "Value": planned.objective_value,
                "Timestamp": now,
            }
        ]
        _write_model_artifact(backend, training_job, run, planned)


def _advance_tuning_run(backend: Any, job: Any, run: TuningRun, elapsed: int) -> None:
    """Finish the share of training jobs that `elapsed` of `describes` calls stands for."""
    total = len(run.planned)
    done = total if run.describes == 0 else (total * elapsed) // run.describes
    for planned in run.planned[:done]:
        if not planned.finished:
            _finish_training_job(backend, run, planned)
    finished = run.remaining <= 0
    _reflect_on_tuning_job(backend, job, run, status=run.final_status if finished else "InProgress")


def _summary(run: TuningRun, planned: PlannedTrainingJob, training_job: Any) -> dict[str, Any]:
    status = training_job.training_job_status
    summary: dict[str, Any] = {
        "TrainingJobName": planned.name,
        "TrainingJobArn": training_job.arn,
        "TuningJobName": run.job_name,
        "CreationTime": training_job.creation_time,
        "TrainingStartTime": training_job.training_start_time,
        "TrainingJobStatus": status,
        "TunedHyperParameters": dict(planned.tuned_hyper_parameters),
        "ObjectiveStatus": {"Completed": "Succeeded", "InProgress": "Pending"}.get(
            status, "Failed"
        ),
    }
    if run.definition_name:
        summary["TrainingJobDefinitionName"] = run.definition_name
    if training_job.training_end_time is not None:
        summary["TrainingEndTime"] = training_job.training_end_time
    if status == "Completed":
        summary["FinalHyperParameterTuningJobObjectiveMetric"] = {
            "Type": run.objective["Type"],
            "MetricName": run.objective["MetricName"],
            "Value": planned.objective_value,
        }
    if getattr(training_job, "failure_reason", None) and status != "Completed":
        summary["FailureReason"] = training_job.failure_reason
    return summary


def _summaries(backend: Any, run: TuningRun) -> list[dict[str, Any]]:
    summaries = []
    for planned in run.planned:
        training_job = backend.training_jobs.get(planned.name)
        if training_job is not None:
            summaries.append(_summary(run, planned, training_job))
    return summaries


def _reflect_on_tuning_job(backend: Any, job: Any, run: TuningRun, status: str) -> None:
    statuses = [p.final_status if p.finished else "InProgress" for p in run.planned]
    completed = [p for p in run.planned if p.finished and p.final_status == "Completed"]
    now = utcnow()
    job.hyper_parameter_tuning_job_status = status
    job.last_modified_time = now
    job.hyper_parameter_tuning_end_time = None if status == "InProgress" else now
    job.training_job_status_counters = {
        "Completed": statuses.count("Completed"),
        "InProgress": statuses.count("InProgress"),
        "RetryableError": 0,
        "NonRetryableError": statuses.count("Failed"),
        "Stopped": statuses.count("Stopped"),
    }
    job.objective_status_counters = {
        "Succeeded": len(completed),
        "Pending": statuses.count("InProgress"),
        "Failed": len(statuses) - len(completed) - statuses.count("InProgress"),
    }
    job.failure_reason = run.failure_reason if status == "Failed" else None
    job.OverallBestTrainingJob = None
    job.tuning_job_completion_details = {"NumberOfTrainingJobsObjectiveNotImproving": 0}
    job.consumed_resources = {
        "RuntimeInSeconds": 60 * (len(statuses) - statuses.count("InProgress"))
    }
    job.best_training_job = None
    if completed:
        pick: Callable[..., PlannedTrainingJob] = (
            min if run.objective["Type"] == "Minimize" else max
        )
        best = pick(completed, key=lambda p: p.objective_value)
        training_job = backend.training_jobs.get(best.name)
        if training_job is not None:
            job.best_training_job = _summary(run, best, training_job)


def describe_tuning_job(backend: Any, name: str) -> None:
    """Advance an in-progress emulated tuning job by one Describe call."""
    state = _state(backend)
    with state.lock:
        run = state.tuning_runs.get(name)
        job = backend.hyper_parameter_tuning_jobs.get(name)
        if run is None or job is None or run.remaining <= 0:
            return
        run.remaining -= 1
        _advance_tuning_run(backend, job, run, elapsed=run.describes - run.remaining)


def stop_tuning_job(backend: Any, name: str) -> None:
    """StopHyperParameterTuningJob: unfinished training jobs stop; the job ends Stopped."""
    job = backend.hyper_parameter_tuning_jobs.get(name)
    if job is None:
        raise ResourceNotFound(message=f"Could not find hyper parameter tuning job '{name}'.")
    if job.hyper_parameter_tuning_job_status != "InProgress":
        raise ValidationError(
            message=f"Hyperparameter tuning job '{name}' is in status "
            f"{job.hyper_parameter_tuning_job_status} and cannot be stopped."
        )
    state = _state(backend)
    with state.lock:
        run = state.tuning_runs.get(name)
        if run is None:
            job.hyper_parameter_tuning_job_status = "Stopped"
            return
        for planned in run.planned:
            if not planned.finished:
                planned.final_status, planned.failure_reason = "Stopped", None
                _finish_training_job(backend, run, planned)
        run.final_status, run.remaining = "Stopped", 0
        _reflect_on_tuning_job(backend, job, run, status="Stopped")


_SORT_KEYS: dict[str, Callable[[dict[str, Any]], Any]] = {
    "Name": lambda s: s["TrainingJobName"],
    "CreationTime": lambda s: s["CreationTime"],
    "Status": lambda s: s["TrainingJobStatus"],
    "FinalObjectiveMetricValue": lambda s: s.get(
        "FinalHyperParameterTuningJobObjectiveMetric", {}
    ).get("Value", float("-inf")),
}


def list_training_jobs_for_tuning_job(
    backend: Any,
    name: str,
    status_equals: str | None = None,
    sort_by: str | None = None,
    sort_order: str | None = None,
    max_results: int | None = None,
    next_token: str | None = None,
) -> dict[str, Any]:
    """ListTrainingJobsForHyperParameterTuningJob over the emulated training jobs."""
    if name not in backend.hyper_parameter_tuning_jobs:
        raise ResourceNotFound(message=f"Could not find hyper parameter tuning job '{name}'.")
    state = _state(backend)
    with state.lock:
        run = state.tuning_runs.get(name)
        summaries = _summaries(backend, run) if run else []
    if status_equals:
        summaries = [s for s in summaries if s["TrainingJobStatus"] == status_equals]
    key = _SORT_KEYS.get(sort_by or "Name")
    if key is None:
        raise ValidationError(
            message=f"SortBy: must be one of {', '.join(_SORT_KEYS)} (got {sort_by!r})."
        )
    summaries.sort(key=key, reverse=sort_order == "Descending")
    start = int(next_token) if next_token and next_token.isdigit() else 0
    size = int(max_results or 10)
    page = summaries[start : start + size]
    result: dict[str, Any] = {"TrainingJobSummaries": page}
    if start + size < len(summaries):
        result["NextToken"] = str(start + size)
    return result


def _write_model_artifact(
    backend: Any, training_job: Any, run: TuningRun, planned: PlannedTrainingJob
) -> None:
    """Put a small model.tar.gz at ModelArtifacts.S3ModelArtifacts when the bucket exists."""
    from moto.s3.models import s3_backends
    from moto.utilities.utils import get_partition

    uri = (training_job.model_artifacts or {}).get("S3ModelArtifacts", "")
    match = _S3_URI.match(uri)
    if not match:
        return
    bucket, key = match.groups()
    s3 = s3_backends[backend.account_id][get_partition(backend.region_name)]
    if bucket not in s3.buckets:
        return
    model = json.dumps(
        {
            "trainingJobName": planned.name,
            "tuningJobName": run.job_name,
            "hyperParameters": training_job.hyper_parameters,
            "objective": {**run.objective, "Value": planned.objective_value},
        },
        indent=2,
    ).encode("utf-8")
    buffer = io.BytesIO()
    with (
        gzip.GzipFile(fileobj=buffer, mode="wb", mtime=0) as zipped,
        tarfile.open(fileobj=zipped, mode="w") as archive,
    ):
        info = tarfile.TarInfo("model.json")
        info.size = len(model)
        archive.addfile(info, io.BytesIO(model))
    s3.put_object(bucket, key, buffer.getvalue())


# Endpoints -----------------------------------------------------------------------------------


def _apply_transition(endpoint: Any, transition: EndpointTransition) -> None:
    endpoint.endpoint_status = transition.status
    endpoint.endpoint_config_name = transition.config_name
    endpoint.production_variants = transition.variants
    endpoint.failure_reason = transition.failure_reason
    endpoint.last_modified_time = utcnow()


def _schedule(backend: Any, endpoint: Any, transition: EndpointTransition) -> None:
    state = _state(backend)
    with state.lock:
        if transition.remaining <= 0:
            state.endpoint_transitions.pop(endpoint.endpoint_name, None)
            _apply_transition(endpoint, transition)
        else:
            state.endpoint_transitions[endpoint.endpoint_name] = transition


# SageMaker answers calls on an endpoint whose deployment is under way with this message
# (UpdateEndpoint, DeleteEndpoint), and a CreateEndpoint of a name in use with the next one:
# https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_UpdateEndpoint.html
# ("You must not delete an EndpointConfig in use... cannot update an endpoint whose status is
# not InService") and https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_CreateEndpoint.html
# ("The endpoint name must be unique within an AWS Region in your AWS account").
_IN_PROGRESS_STATUSES = frozenset({"Creating", "Updating", "SystemUpdating", "RollingBack"})
# The status a deleted endpoint reaches when its Deleting transition ends: it is gone.
_DELETED = "<deleted>"


def _in_progress_error(endpoint: Any) -> ValidationError:
    return ValidationError(message=f'Cannot update in-progress endpoint "{endpoint.arn}".')


def refuse_existing_endpoint(backend: Any, endpoint_name: str) -> None:
    """CreateEndpoint of a name that exists (in any status, Deleting included) is refused."""
    existing = backend.endpoints.get(endpoint_name)
    if existing is not None:
        raise ValidationError(message=f'Cannot create already existing endpoint "{existing.arn}".')


def start_endpoint_deletion(backend: Any, endpoint_name: str) -> bool:
    """DeleteEndpoint: refused while a deployment is under way; otherwise the endpoint is
    Deleting for the progression's Describe calls before it is gone (True: gone at once).

    https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_DescribeEndpoint.html lists
    Deleting among the statuses; a Failed endpoint can only be deleted.
    """
    endpoint = backend.endpoints.get(endpoint_name)
    if endpoint is None:
        arn = arn_formatter("endpoint", endpoint_name, backend.account_id, backend.region_name)
        raise ValidationError(message=f"Could not find endpoint '{arn}'.")
    if endpoint.endpoint_status in _IN_PROGRESS_STATUSES:
        raise _in_progress_error(endpoint)
    describes = CONTROL.progression()
    state = _state(backend)
    with state.lock:
        state.endpoint_transitions.pop(endpoint_name, None)
        if describes <= 0:
            del backend.endpoints[endpoint_name]
            return True
        endpoint.endpoint_status = "Deleting"
        endpoint.last_modified_time = utcnow()
        state.endpoint_transitions[endpoint_name] = EndpointTransition(
            remaining=describes,
            status=_DELETED,
            config_name=endpoint.endpoint_config_name,
            variants=endpoint.production_variants,
            failure_reason=None,
        )
    return False


def start_endpoint_creation(backend: Any, endpoint: Any) -> None:
    """Give a freshly created moto endpoint its queued outcome (InService by default)."""
    outcome = CONTROL.next_endpoint_outcome()
    refused = hosting_access_failure(backend, endpoint.endpoint_config_name)
    if refused is not None and outcome.outcome == "InService":
        outcome = EndpointOutcome("Failed", refused)
    describes = CONTROL.progression()
    succeeded = outcome.outcome == "InService"
    transition = EndpointTransition(
        remaining=describes,
        status="InService" if succeeded else "Failed",
        config_name=endpoint.endpoint_config_name,
        variants=endpoint.production_variants,
        failure_reason=None if succeeded else outcome.failure_reason,
    )
    endpoint.endpoint_status = "Creating"
    _schedule(backend, endpoint, transition)


def describe_endpoint(backend: Any, name: str) -> None:
    """Advance an endpoint in Creating/Updating by one Describe call."""
    state = _state(backend)
    with state.lock:
        transition = state.endpoint_transitions.get(name)
        endpoint = backend.endpoints.get(name)
        if transition is None or endpoint is None:
            return
        transition.remaining -= 1
        if transition.remaining <= 0:
            del state.endpoint_transitions[name]
            if transition.status == _DELETED:
                del backend.endpoints[name]
                return
            _apply_transition(endpoint, transition)


def _registered_scaling_variants(backend: Any, endpoint_name: str) -> set[str]:
    from moto.applicationautoscaling.models import applicationautoscaling_backends

    scaling = applicationautoscaling_backends[backend.account_id][backend.region_name]
    prefix = f"endpoint/{endpoint_name}/variant/"
    return {
        resource_id[len(prefix) :]
        for resource_id in scaling.targets.get(_SCALING_DIMENSION, {})
        if resource_id.startswith(prefix)
    }


def _check_scaling_allows_update(
    backend: Any, endpoint: Any, new_variants: list[dict[str, Any]]
) -> None:
    """SageMaker refuses to remove or retype a variant that auto scaling still targets."""
    old_config = backend.endpoint_configs.get(endpoint.endpoint_config_name)
    if old_config is None:
        return
    registered = _registered_scaling_variants(backend, endpoint.endpoint_name)
    new_by_name = {v.get("VariantName"): v for v in new_variants}
    blocked = []
    for variant in old_config.production_variants:
        name = variant.get("VariantName")
        if name not in registered:
            continue
        replacement = new_by_name.get(name)
        if replacement is None or replacement.get("InstanceType") != variant.get("InstanceType"):
            blocked.append(name)
    if blocked:
        raise ValidationError(
            message=f'The variant(s) "[{", ".join(blocked)}]" must be deregistered as scalable '
            "targets with AWS Application Auto Scaling before they can be removed or have "
            "their instance type updated."
        )


def update_endpoint(backend: Any, endpoint_name: str, endpoint_config_name: str) -> str:
    """UpdateEndpoint: switch configs, roll back, or fail, as the control queue says."""
    endpoint = backend.endpoints.get(endpoint_name)
    if endpoint is None:
        arn = arn_formatter("endpoint", endpoint_name, backend.account_id, backend.region_name)
        raise ValidationError(message=f"Could not find endpoint '{arn}'.")
    config = backend.endpoint_configs.get(endpoint_config_name)
    if config is None:
        arn = arn_formatter(
            "endpoint-config", endpoint_config_name, backend.account_id, backend.region_name
        )
        raise ValidationError(message=f"Could not find endpoint configuration '{arn}'.")
    if endpoint.endpoint_status in _IN_PROGRESS_STATUSES:
        raise _in_progress_error(endpoint)
    if endpoint.endpoint_status != "InService":
        # A Failed endpoint can only be deleted; a Deleting one is on its way out.
        raise ValidationError(
            message=f'Cannot update endpoint "{endpoint.arn}" in status '
            f"{endpoint.endpoint_status}; it must be InService."
        )
    _check_scaling_allows_update(backend, endpoint, config.production_variants)
    outcome = CONTROL.next_endpoint_outcome()
    refused = hosting_access_failure(backend, endpoint_config_name)
    if refused is not None and outcome.outcome == "InService":
        # SageMaker keeps the old config serving when the new one cannot be hosted.
        outcome = EndpointOutcome("RolledBack", refused)
    if outcome.outcome == "InService":
        transition = EndpointTransition(
            remaining=CONTROL.progression(),
            status="InService",
            config_name=endpoint_config_name,
            variants=endpoint._process_production_variants(config.production_variants),
            failure_reason=None,
        )
    else:
        transition = EndpointTransition(
            remaining=CONTROL.progression(),
            status="InService" if outcome.outcome == "RolledBack" else "Failed",
            config_name=endpoint.endpoint_config_name,
            variants=endpoint.production_variants,
            failure_reason=outcome.failure_reason,
        )
    endpoint.endpoint_status = "Updating"
    endpoint.last_modified_time = utcnow()
    _schedule(backend, endpoint, transition)
    return endpoint.arn


# Algorithms ----------------------------------------------------------------------------------


def create_algorithm(backend: Any, request: dict[str, Any]) -> str:
    """CreateAlgorithm: remember the images so DescribeAlgorithm can return them."""
    name = str(request.get("AlgorithmName") or "")
    training = request.get("TrainingSpecification") or {}
    containers = (request.get("InferenceSpecification") or {}).get("Containers") or []
    if not training.get("TrainingImage"):
        raise ValidationError(message="TrainingSpecification.TrainingImage: is required.")
    image = containers[0].get("Image") if containers else training["TrainingImage"]
    try:
        CONTROL.register_algorithm(name, image, training["TrainingImage"])
    except ControlError as error:
        raise ValidationError(message=str(error)) from None
    return arn_formatter("algorithm", name, backend.account_id, backend.region_name)


def _synthesised_algorithm(identifier: str) -> AlgorithmImages | None:
    match = _ALGORITHM_ARN.match(identifier)
    if not match:
        return None
    region, account, name = match.groups()
    image = f"{account}.dkr.ecr.{region}.amazonaws.com/{name}:latest"
    return AlgorithmImages(name=name, inference_image=image, training_image=image)


def describe_algorithm(backend: Any, identifier: str) -> dict[str, Any]:
    """DescribeAlgorithm by name or ARN; an unknown algorithm ARN gets synthesised images."""
    name = identifier.rsplit("/", 1)[-1] if identifier.startswith("arn:") else identifier
    images = CONTROL.algorithm(name) or _synthesised_algorithm(identifier)
    if images is None:
        raise ValidationError(message=f"Could not find algorithm '{identifier}'.")
    arn = (
        identifier
        if identifier.startswith("arn:")
        else arn_formatter("algorithm", name, backend.account_id, backend.region_name)
    )
    return {
        "AlgorithmName": images.name,
        "AlgorithmArn": arn,
        "CreationTime": utcnow(),
        "TrainingSpecification": {
            "TrainingImage": images.training_image,
            "SupportedTrainingInstanceTypes": ["ml.m5.xlarge", "ml.c5.2xlarge"],
            "TrainingChannels": [
                {
                    "Name": "train",
                    "SupportedContentTypes": ["text/csv"],
                    "SupportedInputModes": ["File"],
                }
            ],
        },
        "InferenceSpecification": {
            "Containers": [{"Image": images.inference_image}],
            "SupportedContentTypes": ["text/csv"],
            "SupportedResponseMIMETypes": ["text/csv"],
        },
        "AlgorithmStatus": "Completed",
        "AlgorithmStatusDetails": {},
        "CertifyForMarketplace": False,
    }


# ---------------------------------------------------------------------------------------------
# Tags on endpoints. AddTags "adds or overwrites one or more tags" and "tag keys must be unique
# per resource" (https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_AddTags.html);
# moto appends a second tag of the same key, so ListTags
# (https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_ListTags.html) showed both.
# SageMaker ARNs carry the name lowercased, so the ARN of an endpoint named with capitals still
# finds it. A missing endpoint is a ValidationException, as SageMaker answers tag calls on a
# resource that is gone (moto failed with an internal error).
# ---------------------------------------------------------------------------------------------


def endpoint_from_arn(backend: Any, arn: str) -> Any:
    """The endpoint an ARN names (its name compared case-insensitively); ValidationException
    when there is none."""
    name = arn.split(":", 5)[-1].partition("/")[2]
    endpoint = backend.endpoints.get(name)
    if endpoint is None:
        endpoint = next(
            (e for key, e in backend.endpoints.items() if key.lower() == name.lower()), None
        )
    if endpoint is None:
        raise ValidationError(message=f'Could not find endpoint "{arn}".')
    return endpoint


def is_endpoint_arn(arn: str) -> bool:
    return arn.split(":", 5)[-1].startswith("endpoint/")


def merge_tags(current: list[dict[str, str]], added: list[dict[str, str]]) -> list[dict[str, str]]:
    """AddTags: a key already present takes the new value in place; new keys are appended."""
    merged = {tag["Key"]: tag.get("Value", "") for tag in current}
    for tag in added:
        merged[tag["Key"]] = tag.get("Value", "")
    return [{"Key": key, "Value": value} for key, value in merged.items()]
