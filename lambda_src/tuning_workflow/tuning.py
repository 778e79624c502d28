"""The CreateHyperParameterTuningJob request, built from typed parameters.

Everything the old stack hard-coded is a parameter here (objective metric, instance count,
stopping condition), every manifest channel becomes an input channel, categorical ranges keep
their values, and keys whose value would be null are left out rather than sent as null.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from tuning_workflow.params import Channel, Hyperparameters, Manifest, MlParameters

TRAINING_INPUT_MODE = "File"
RUN_ID_TAG = "run-id"
ARTIFACT_TYPE_TAG = "artifact-type"


def without_nulls(value: Any) -> Any:
    """`value` with every None-valued key removed, at any depth."""
    if isinstance(value, Mapping):
        return {key: without_nulls(item) for key, item in value.items() if item is not None}
    if isinstance(value, list):
        return [without_nulls(item) for item in value]
    return value


def _request(fields: Mapping[str, Any]) -> dict[str, Any]:
    """An API request from `fields`: without_nulls, typed as the dict it returns."""
    request: dict[str, Any] = without_nulls(fields)
    return request


def build_tags(
    tags: Mapping[str, Any] | None, *, run_id: str, artifact_type: str | None = None
) -> list[dict[str, str]]:
    """The deployment's tags plus the run id (and artifact type), as AWS's Key/Value list."""
    merged = {str(key): str(value) for key, value in (tags or {}).items() if value is not None}
    if artifact_type:
        merged[ARTIFACT_TYPE_TAG] = artifact_type
    merged[RUN_ID_TAG] = run_id
    return [{"Key": key, "Value": merged[key]} for key in sorted(merged)]


def channel_to_api(channel: Channel, default_content_type: str | None) -> dict[str, Any]:
    source: dict[str, Any] = {
        "S3DataType": channel.s3_data_type,
        "S3Uri": channel.s3_uri,
        "S3DataDistributionType": channel.s3_data_distribution_type,
    }
    if channel.attribute_names:
        source["AttributeNames"] = list(channel.attribute_names)
    if channel.instance_group_names:
        source["InstanceGroupNames"] = list(channel.instance_group_names)
    return _request(
        {
            "ChannelName": channel.name,
            "DataSource": {"S3DataSource": source},
            "ContentType": channel.content_type or default_content_type,
            "CompressionType": channel.compression_type,
            "InputMode": channel.input_mode,
        }
    )


def build_tuning_job_config(ml: MlParameters, hyperparameters: Hyperparameters) -> dict[str, Any]:
    """HyperParameterTuningJobConfig."""
    config: dict[str, Any] = {
        "Strategy": ml.tuning_strategy,
        "HyperParameterTuningJobObjective": {
            "Type": ml.objective.type,
            "MetricName": ml.objective.name,
        },
        "ResourceLimits": {
            "MaxNumberOfTrainingJobs": ml.max_number_of_training_jobs,
            "MaxParallelTrainingJobs": ml.max_parallel_training_jobs,
            "MaxRuntimeInSeconds": ml.max_tuning_runtime_in_seconds,
        },
        "ParameterRanges": hyperparameters.ranges_to_api(),
        "TrainingJobEarlyStoppingType": ml.training_job_early_stopping_type,
    }
    criteria = ml.completion_criteria
    if criteria is not None:
        completion: dict[str, Any] = {
            "TargetObjectiveMetricValue": criteria.target_objective_metric_value,
        }
        if criteria.max_number_of_training_jobs_not_improving is not None:
            completion["BestObjectiveNotImproving"] = {
                "MaxNumberOfTrainingJobsNotImproving": (
                    criteria.max_number_of_training_jobs_not_improving
                )
            }
        if criteria.complete_on_convergence is not None:
            completion["ConvergenceDetected"] = {
                "CompleteOnConvergence": "Enabled"
                if criteria.complete_on_convergence
                else "Disabled"
            }
        config["TuningJobCompletionCriteria"] = completion
    hyperband = ml.hyperband
    if ml.tuning_strategy == "Hyperband" and hyperband is not None:
        resources = {"MinResource": hyperband.min_resource, "MaxResource": hyperband.max_resource}
        if any(value is not None for value in resources.values()):
            config["StrategyConfig"] = {"HyperbandStrategyConfig": resources}
    return _request(config)


def build_training_job_definition(
    ml: MlParameters,
    hyperparameters: Hyperparameters,
    manifest: Manifest,
    *,
    role_arn: str,
    volume_kms_key_id: str | None = None,
    output_kms_key_id: str | None = None,
) -> dict[str, Any]:
    """HyperParameterTrainingJobDefinition."""
    algorithm: dict[str, Any] = {"TrainingInputMode": TRAINING_INPUT_MODE}
    if ml.algorithm_arn:
        algorithm["AlgorithmName"] = ml.algorithm_arn
    else:
        algorithm["TrainingImage"] = ml.training_image
        if ml.metric_definitions:
            algorithm["MetricDefinitions"] = [
                {"Name": item["Name"], "Regex": item["Regex"]} for item in ml.metric_definitions
            ]
    spot = ml.enable_managed_spot_training
    stopping: dict[str, Any] = {"MaxRuntimeInSeconds": ml.max_runtime_in_seconds}
    if spot:
        stopping["MaxWaitTimeInSeconds"] = ml.effective_max_wait_time_in_seconds
    definition: dict[str, Any] = {
        "DefinitionName": ml.training_job_definition_name,
        "AlgorithmSpecification": algorithm,
        "RoleArn": role_arn,
        "InputDataConfig": [
            channel_to_api(channel, ml.input_content_type) for channel in manifest.channels
        ],
        "OutputDataConfig": {
            "S3OutputPath": ml.model.artifacts_s3_output_path,
            "KmsKeyId": output_kms_key_id or None,
        },
        "ResourceConfig": {
            "InstanceType": ml.training_instance_type,
            "InstanceCount": ml.training_instance_count,
            "VolumeSizeInGB": ml.training_instance_volume_size_in_gb,
            "VolumeKmsKeyId": volume_kms_key_id or None,
        },
        "StoppingCondition": stopping,
        "EnableManagedSpotTraining": spot,
        "EnableNetworkIsolation": ml.enable_network_isolation,
    }
    if spot:
        definition["CheckpointConfig"] = {"S3Uri": ml.spot_training_checkpoint_s3_uri}
    if ml.model.training_vpc is not None:
        definition["VpcConfig"] = ml.model.training_vpc.to_api()
    if hyperparameters.static:
        definition["StaticHyperParameters"] = dict(hyperparameters.static)
    return _request(definition)


def build_warm_start_config(ml: MlParameters) -> dict[str, Any] | None:
    if ml.warm_start is None:
        return None
    return {
        "ParentHyperParameterTuningJobs": [
            {"HyperParameterTuningJobName": name} for name in ml.warm_start.parent_tuning_jobs
        ],
        "WarmStartType": ml.warm_start.type,
    }


def build_tuning_job_request(
    ml: MlParameters,
    hyperparameters: Hyperparameters,
    manifest: Manifest,
    *,
    tuning_job_name: str,
    role_arn: str,
    tags: list[dict[str, str]],
    volume_kms_key_id: str | None = None,
    output_kms_key_id: str | None = None,
) -> dict[str, Any]:
    """The complete CreateHyperParameterTuningJob request."""
    return _request(
        {
            "HyperParameterTuningJobName": tuning_job_name,
            "HyperParameterTuningJobConfig": build_tuning_job_config(ml, hyperparameters),
            "TrainingJobDefinition": build_training_job_definition(
                ml,
                hyperparameters,
                manifest,
                role_arn=role_arn,
                volume_kms_key_id=volume_kms_key_id,
                output_kms_key_id=output_kms_key_id,
            ),
            "WarmStartConfig": build_warm_start_config(ml),
            "Tags": tags,
        }
    )
