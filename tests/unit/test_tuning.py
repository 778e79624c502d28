"""The CreateHyperParameterTuningJob request."""

from __future__ import annotations

import functools
from typing import Any

import botocore.session
import pytest
from botocore.validate import ParamValidator

from tuning_workflow.params import parse_hyperparameters, parse_manifest, parse_ml_parameters
from tuning_workflow.tuning import build_tags, build_tuning_job_request

from .conftest import ROLE_ARN

TAGS = [{"Key": "environment", "Value": "development"}, {"Key": "run-id", "Value": "0123456789ab"}]


def build(ml_doc: dict, hp_doc: dict, manifest_doc: dict, **overrides: Any) -> dict[str, Any]:
    options: dict[str, Any] = {
        "tuning_job_name": "survival-tuning-0123456789ab",
        "role_arn": ROLE_ARN,
        "tags": TAGS,
    }
    options.update(overrides)
    return build_tuning_job_request(
        parse_ml_parameters(ml_doc),
        parse_hyperparameters(hp_doc),
        parse_manifest(manifest_doc),
        **options,
    )


@functools.cache
def request_shape() -> Any:
    model = botocore.session.get_session().get_service_model("sagemaker")
    return model.operation_model("CreateHyperParameterTuningJob").input_shape


def assert_valid_request(request: dict[str, Any]) -> None:
    """botocore's own check of the request against the SageMaker API model."""
    report = ParamValidator().validate(request, request_shape())
    assert not report.has_errors(), report.generate_report()


def contains_none(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, dict):
        return any(contains_none(item) for item in value.values())
    if isinstance(value, list):
        return any(contains_none(item) for item in value)
    return False


def test_the_example_parameters_make_a_request_the_api_accepts(
    ml_parameters, hyperparameters, manifest
):
    request = build(ml_parameters, hyperparameters, manifest)
    assert_valid_request(request)
    assert not contains_none(request)
    assert request["HyperParameterTuningJobName"] == "survival-tuning-0123456789ab"
    assert request["Tags"] == TAGS


def test_moto_accepts_the_request_and_keeps_the_categorical_values(
    sagemaker, ml_parameters, hyperparameters, manifest
):
    # GIVEN categorical ranges, which the old stack never stored
    hyperparameters["parameterRanges"]["CategoricalParameterRanges"] = [
        {"Name": "distribution", "Values": ["bernoulli", "gaussian"]}
    ]
    request = build(ml_parameters, hyperparameters, manifest)
    # WHEN the request is sent
    sagemaker.create_hyper_parameter_tuning_job(**request)
    # THEN the tuning job holds them
    described = sagemaker.describe_hyper_parameter_tuning_job(
        HyperParameterTuningJobName=request["HyperParameterTuningJobName"]
    )
    ranges = described["HyperParameterTuningJobConfig"]["ParameterRanges"]
    assert ranges["CategoricalParameterRanges"] == [
        {"Name": "distribution", "Values": ["bernoulli", "gaussian"]}
    ]


def test_seed_defect_categorical_ranges_are_not_dropped(ml_parameters, hyperparameters, manifest):
    hyperparameters["parameterRanges"]["CategoricalParameterRanges"] = [
        {"Name": "distribution", "Values": ["bernoulli", "gaussian", "multinomial"]}
    ]
    config = build(ml_parameters, hyperparameters, manifest)["HyperParameterTuningJobConfig"]
    assert config["ParameterRanges"]["CategoricalParameterRanges"] == [
        {"Name": "distribution", "Values": ["bernoulli", "gaussian", "multinomial"]}
    ]
    assert len(config["ParameterRanges"]["IntegerParameterRanges"]) == 4
    assert len(config["ParameterRanges"]["ContinuousParameterRanges"]) == 3


@pytest.mark.parametrize("count", [1, 2, 3, 5])
def test_seed_defect_every_channel_is_consumed_not_exactly_two(
    ml_parameters, hyperparameters, count
):
    manifest = {
        "channels": [
            {
                "channelName": f"channel-{index}",
                "s3DataSource": {"S3Uri": f"s3://bucket/data/{index}/"},
            }
            for index in range(count)
        ]
    }
    request = build(ml_parameters, hyperparameters, manifest)
    channels = request["TrainingJobDefinition"]["InputDataConfig"]
    assert [channel["ChannelName"] for channel in channels] == [
        f"channel-{index}" for index in range(count)
    ]
    assert channels[-1] == {
        "ChannelName": f"channel-{count - 1}",
        "DataSource": {
            "S3DataSource": {
                "S3DataType": "S3Prefix",
                "S3Uri": f"s3://bucket/data/{count - 1}/",
                "S3DataDistributionType": "FullyReplicated",
            }
        },
        "ContentType": "text/csv",
    }
    assert_valid_request(request)


def test_seed_defect_objective_instance_count_and_stop_condition_come_from_parameters(
    ml_parameters, hyperparameters, manifest
):
    ml_parameters.update(
        {
            "objectiveMetric": {"name": "validation:rmse", "type": "Minimize"},
            "trainingInstanceCount": "3",
            "maxRuntimeInSeconds": "7200",
            "maxWaitTimeInSeconds": 10800,
        }
    )
    request = build(ml_parameters, hyperparameters, manifest)
    config = request["HyperParameterTuningJobConfig"]
    definition = request["TrainingJobDefinition"]
    assert config["HyperParameterTuningJobObjective"] == {
        "Type": "Minimize",
        "MetricName": "validation:rmse",
    }
    assert definition["ResourceConfig"]["InstanceCount"] == 3
    assert definition["StoppingCondition"] == {
        "MaxRuntimeInSeconds": 7200,
        "MaxWaitTimeInSeconds": 10800,
    }


def test_spot_settings_are_sent_only_with_spot_training(ml_parameters, hyperparameters, manifest):
    ml_parameters["enableManagedSpotTraining"] = "False"
    definition = build(ml_parameters, hyperparameters, manifest)["TrainingJobDefinition"]
    assert definition["EnableManagedSpotTraining"] is False
    assert "CheckpointConfig" not in definition
    assert definition["StoppingCondition"] == {"MaxRuntimeInSeconds": 86400}

    ml_parameters["enableManagedSpotTraining"] = "true"
    definition = build(ml_parameters, hyperparameters, manifest)["TrainingJobDefinition"]
    assert definition["EnableManagedSpotTraining"] is True
    assert definition["CheckpointConfig"] == {
        "S3Uri": "s3://sagemaker-tuner-demo/model-training-checkpoint/"
    }
    assert definition["StoppingCondition"]["MaxWaitTimeInSeconds"] == 86400


def test_vpc_and_kms_keys_are_sent_only_when_set(ml_parameters, hyperparameters, manifest):
    definition = build(
        ml_parameters,
        hyperparameters,
        manifest,
        volume_kms_key_id="arn:aws:kms:us-east-1:123456789012:key/volume",
        output_kms_key_id="arn:aws:kms:us-east-1:123456789012:key/output",
    )["TrainingJobDefinition"]
    assert definition["ResourceConfig"]["VolumeKmsKeyId"].endswith("key/volume")
    assert definition["OutputDataConfig"]["KmsKeyId"].endswith("key/output")
    assert definition["VpcConfig"]["Subnets"][0] == "subnet-0a1b2c3d4e5f60001"

    del ml_parameters["model"]["trainingSubnets"]
    del ml_parameters["model"]["trainingSecurityGroupIds"]
    definition = build(ml_parameters, hyperparameters, manifest)["TrainingJobDefinition"]
    assert "VpcConfig" not in definition
    assert "KmsKeyId" not in definition["OutputDataConfig"]
    assert "VolumeKmsKeyId" not in definition["ResourceConfig"]


def test_an_algorithm_resource_or_a_training_image(ml_parameters, hyperparameters, manifest):
    algorithm = build(ml_parameters, hyperparameters, manifest)["TrainingJobDefinition"][
        "AlgorithmSpecification"
    ]
    assert algorithm == {
        "TrainingInputMode": "File",
        "AlgorithmName": "arn:aws:sagemaker:us-east-1:123456789012:algorithm/h2o-gbm-algorithm",
    }
    del ml_parameters["algorithmARN"]
    ml_parameters["trainingImage"] = "123456789012.dkr.ecr.us-east-1.amazonaws.com/gbm:1"
    ml_parameters["metricDefinitions"] = [{"Name": "validation:auc", "Regex": "auc=([0-9.]+)"}]
    request = build(ml_parameters, hyperparameters, manifest)
    assert request["TrainingJobDefinition"]["AlgorithmSpecification"] == {
        "TrainingInputMode": "File",
        "TrainingImage": "123456789012.dkr.ecr.us-east-1.amazonaws.com/gbm:1",
        "MetricDefinitions": [{"Name": "validation:auc", "Regex": "auc=([0-9.]+)"}],
    }
    assert_valid_request(request)


def test_optional_tuning_features_map_to_the_api(ml_parameters, hyperparameters, manifest):
    ml_parameters.update(
        {
            "tuningStrategy": "Hyperband",
            "trainingJobEarlyStoppingType": "Off",
            "maxTuningRuntimeInSeconds": "3600",
            "hyperbandStrategyConfig": {"minResource": "1", "maxResource": 27},
            "completionCriteria": {
                "targetObjectiveMetricValue": "0.95",
                "maxNumberOfTrainingJobsNotImproving": 4,
                "completeOnConvergence": "false",
            },
            "warmStart": {"parentTuningJobs": ["older-1", "older-2"], "type": "TransferLearning"},
        }
    )
    request = build(ml_parameters, hyperparameters, manifest)
    config = request["HyperParameterTuningJobConfig"]
    assert config["ResourceLimits"] == {
        "MaxNumberOfTrainingJobs": 10,
        "MaxParallelTrainingJobs": 10,
        "MaxRuntimeInSeconds": 3600,
    }
    assert config["StrategyConfig"] == {
        "HyperbandStrategyConfig": {"MinResource": 1, "MaxResource": 27}
    }
    assert config["TuningJobCompletionCriteria"] == {
        "TargetObjectiveMetricValue": 0.95,
        "BestObjectiveNotImproving": {"MaxNumberOfTrainingJobsNotImproving": 4},
        "ConvergenceDetected": {"CompleteOnConvergence": "Disabled"},
    }
    assert request["WarmStartConfig"] == {
        "ParentHyperParameterTuningJobs": [
            {"HyperParameterTuningJobName": "older-1"},
            {"HyperParameterTuningJobName": "older-2"},
        ],
        "WarmStartType": "TransferLearning",
    }
    assert_valid_request(request)


def test_optional_tuning_features_are_absent_unless_configured(
    ml_parameters, hyperparameters, manifest
):
    request = build(ml_parameters, hyperparameters, manifest)
    config = request["HyperParameterTuningJobConfig"]
    assert "WarmStartConfig" not in request
    assert "StrategyConfig" not in config
    assert "TuningJobCompletionCriteria" not in config
    assert "MaxRuntimeInSeconds" not in config["ResourceLimits"]


def test_channel_options_override_the_default_content_type(
    ml_parameters, hyperparameters, manifest
):
    manifest["channels"][1].update(
        {"contentType": "application/x-parquet", "compressionType": "Gzip", "inputMode": "Pipe"}
    )
    manifest["channels"][1]["s3DataSource"]["AttributeNames"] = ["source-ref"]
    channels = build(ml_parameters, hyperparameters, manifest)["TrainingJobDefinition"][
        "InputDataConfig"
    ]
    assert channels[0]["ContentType"] == "text/csv"
    assert "AttributeNames" not in channels[0]["DataSource"]["S3DataSource"]
    assert channels[1]["ContentType"] == "application/x-parquet"
    assert channels[1]["CompressionType"] == "Gzip"
    assert channels[1]["InputMode"] == "Pipe"
    assert channels[1]["DataSource"]["S3DataSource"]["AttributeNames"] == ["source-ref"]


def test_tags_merge_the_deployment_tags_with_the_run_id():
    assert build_tags({"environment": "prod", "team": "ml"}, run_id="0123456789ab") == [
        {"Key": "environment", "Value": "prod"},
        {"Key": "run-id", "Value": "0123456789ab"},
        {"Key": "team", "Value": "ml"},
    ]
    assert build_tags(None, run_id="0123456789ab", artifact_type="MOJO") == [
        {"Key": "artifact-type", "Value": "MOJO"},
        {"Key": "run-id", "Value": "0123456789ab"},
    ]


def test_training_is_network_isolated_as_the_seeds_was_unless_turned_off(
    ml_parameters, hyperparameters, manifest
):
    # GIVEN the seed's parameters (no enableNetworkIsolation): isolated
    request = build(ml_parameters, hyperparameters, manifest)
    assert request["TrainingJobDefinition"]["EnableNetworkIsolation"] is True
    assert_valid_request(request)

    # WHEN the document turns it off with the string the seed's files use for booleans
    ml_parameters["enableNetworkIsolation"] = "False"
    request = build(ml_parameters, hyperparameters, manifest)
    # THEN the training jobs may reach the network
    assert request["TrainingJobDefinition"]["EnableNetworkIsolation"] is False
    assert_valid_request(request)
