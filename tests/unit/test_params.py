"""Typed values from the documents: strings become the numbers and booleans they spell."""

from __future__ import annotations

import pytest

from tuning_workflow.exceptions import InvalidInputError
from tuning_workflow.params import (
    load_manifest,
    load_ml_parameters,
    parse_hyperparameters,
    parse_manifest,
    parse_ml_parameters,
    to_api_string,
    to_bool,
    to_float,
    to_int,
)


@pytest.mark.parametrize(
    ("value", "expected"),
    [(True, True), (False, False), ("True", True), ("true", True), ("TRUE", True),
     ("False", False), ("false", False), ("FALSE", False), (" false ", False)],
)  # fmt: skip
def test_to_bool_reads_booleans_and_their_spellings(value, expected):
    assert to_bool(value) is expected


@pytest.mark.parametrize("value", ["yes", "no", "", "0", 0, 1, None, [], "Falsey"])
def test_to_bool_refuses_to_guess(value):
    with pytest.raises(ValueError, match="is not a boolean"):
        to_bool(value)


@pytest.mark.parametrize(
    ("value", "expected"), [(1, 1), ("1", 1), (" 30 ", 30), ("+4", 4), ("-2", -2), (3.0, 3)]
)
def test_to_int_reads_whole_numbers(value, expected):
    assert to_int(value) == expected


@pytest.mark.parametrize("value", [True, False, "1.5", 1.5, "ten", "", None])
def test_to_int_rejects_everything_else(value):
    with pytest.raises(ValueError, match="is not a whole number"):
        to_int(value)


@pytest.mark.parametrize(
    ("value", "expected"), [("0.001", 0.001), ("1e-9", 1e-9), (5000, 5000.0), (".5", 0.5)]
)
def test_to_float_reads_numbers(value, expected):
    assert to_float(value) == expected


@pytest.mark.parametrize("value", [True, "nan", "inf", float("nan"), "1,5", None])
def test_to_float_rejects_booleans_and_non_finite_values(value):
    with pytest.raises(ValueError):
        to_float(value)


@pytest.mark.parametrize(
    ("value", "expected"),
    [("0.01", "0.01"), (10, "10"), (10.0, "10"), (0.5, "0.5"), (1e-9, "1e-09")],
)
def test_hyperparameter_values_are_sent_as_strings(value, expected):
    assert to_api_string(value) == expected


# ---------------------------------------------------------------------------------------------
# The old stack's bool("False") is True: spot training and DisableScaleIn were always on
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("spelling", ["False", "false", "FALSE", False])
def test_seed_defect_spot_training_false_is_off(ml_parameters, spelling):
    ml_parameters["enableManagedSpotTraining"] = spelling
    ml = parse_ml_parameters(ml_parameters)
    assert ml.enable_managed_spot_training is False


@pytest.mark.parametrize("spelling", ["False", "false", "FALSE", False])
def test_seed_defect_disable_scale_in_false_keeps_scale_in(ml_parameters, spelling):
    ml_parameters["targetTrackingScalingPolicyConfiguration"]["DisableScaleIn"] = spelling
    ml = parse_ml_parameters(ml_parameters)
    assert ml.autoscaling is not None
    assert ml.autoscaling.target_tracking["DisableScaleIn"] is False


def test_true_spellings_still_turn_the_options_on(ml_parameters):
    ml_parameters["enableManagedSpotTraining"] = "True"
    ml_parameters["targetTrackingScalingPolicyConfiguration"]["DisableScaleIn"] = "true"
    ml = parse_ml_parameters(ml_parameters)
    assert ml.enable_managed_spot_training is True
    assert ml.autoscaling.target_tracking["DisableScaleIn"] is True


# ---------------------------------------------------------------------------------------------
# Defaults and typing
# ---------------------------------------------------------------------------------------------


def test_defaults_fill_what_the_document_leaves_out(ml_parameters):
    # GIVEN the seed's parameters, which set none of the newer options
    for key in ("enableManagedSpotTraining", "spotTrainingCheckpointS3Uri"):
        del ml_parameters[key]
    del ml_parameters["targetTrackingScalingPolicyConfiguration"]["DisableScaleIn"]

    ml = parse_ml_parameters(ml_parameters)

    assert ml.objective.name == "validation:auc"
    assert ml.objective.type == "Maximize"
    assert ml.training_instance_count == 1
    assert ml.max_runtime_in_seconds == 86400
    assert ml.enable_managed_spot_training is False
    assert ml.model.hosting.variant_name == "AllTraffic"
    assert ml.autoscaling.target_tracking["DisableScaleIn"] is False
    assert ml.endpoint_wait_interval_seconds == 60
    assert ml.endpoint_wait_timeout_seconds == 7200
    assert ml.endpoint_wait_max_attempts == 120
    assert ml.quality_gate is None


def test_strings_become_typed_values(ml_parameters):
    ml_parameters.update(
        {
            "maxParallelTrainingJobs": "3",
            "trainingInstanceCount": "2",
            "autoscalingMinCapacity": "2",
            "maxRuntimeInSeconds": "3600",
            "qualityGate": {"threshold": "0.75"},
            "objectiveMetric": {"name": "validation:rmse", "type": "Minimize"},
        }
    )
    ml_parameters["targetTrackingScalingPolicyConfiguration"]["TargetValue"] = "5000"
    ml = parse_ml_parameters(ml_parameters)
    assert ml.max_parallel_training_jobs == 3
    assert ml.training_instance_count == 2
    assert ml.model.hosting.initial_instance_count == 1  # the seed's "1"
    assert ml.autoscaling.min_capacity == 2
    assert ml.autoscaling.target_tracking["TargetValue"] == 5000.0
    assert ml.max_runtime_in_seconds == 3600
    assert ml.quality_gate.to_dict() == {"threshold": 0.75, "direction": "Minimize"}


def test_spot_wait_defaults_to_the_runtime_limit(ml_parameters):
    ml_parameters["maxRuntimeInSeconds"] = 1800
    assert parse_ml_parameters(ml_parameters).effective_max_wait_time_in_seconds == 1800
    ml_parameters["maxWaitTimeInSeconds"] = 3600
    assert parse_ml_parameters(ml_parameters).effective_max_wait_time_in_seconds == 3600


def test_vpc_settings_exist_only_when_configured(ml_parameters):
    ml = parse_ml_parameters(ml_parameters)
    assert ml.model.training_vpc.to_api() == {
        "SecurityGroupIds": ["sg-0a1b2c3d4e5f60718"],
        "Subnets": [
            "subnet-0a1b2c3d4e5f60001",
            "subnet-0a1b2c3d4e5f60002",
            "subnet-0a1b2c3d4e5f60003",
        ],
    }
    del ml_parameters["model"]["hosting"]["subnets"]
    del ml_parameters["model"]["hosting"]["securityGroupIds"]
    assert parse_ml_parameters(ml_parameters).model.hosting.vpc is None


def test_hyperparameters_keep_categorical_values_and_send_strings(hyperparameters):
    hyperparameters["parameterRanges"]["CategoricalParameterRanges"] = [
        {"Name": "distribution", "Values": ["bernoulli", "gaussian"]},
        {"Name": "nbins", "Values": [16, 32]},
    ]
    hyperparameters["parameterRanges"]["IntegerParameterRanges"][0]["MinValue"] = 10
    hyperparameters["staticHyperParameters"]["seed"] = 7
    hp = parse_hyperparameters(hyperparameters)
    ranges = hp.ranges_to_api()
    assert ranges["CategoricalParameterRanges"] == [
        {"Name": "distribution", "Values": ["bernoulli", "gaussian"]},
        {"Name": "nbins", "Values": ["16", "32"]},
    ]
    assert ranges["IntegerParameterRanges"][0] == {
        "Name": "ntrees",
        "MinValue": "10",
        "MaxValue": "100",
        "ScalingType": "Linear",
    }
    assert ranges["ContinuousParameterRanges"][0]["MinValue"] == "0.001"
    assert hp.static["seed"] == "7"
    assert all(isinstance(value, str) for value in hp.static.values())


def test_manifest_channels_keep_their_order_and_defaults(manifest):
    del manifest["channels"][0]["s3DataSource"]["S3DataType"]
    channels = parse_manifest(manifest).channels
    assert [channel.name for channel in channels] == ["training", "validation"]
    assert channels[0].s3_data_type == "S3Prefix"
    assert channels[0].s3_data_distribution_type == "FullyReplicated"


def test_load_validates_before_parsing(ml_parameters):
    ml_parameters["tuningStrategy"] = "Bayes"
    del ml_parameters["endpointName"]
    with pytest.raises(InvalidInputError) as caught:
        load_ml_parameters(ml_parameters)
    assert [problem.path for problem in caught.value.problems] == ["$", "$.tuningStrategy"]
    assert str(caught.value).startswith("2 problems in the input: $: 'endpointName' is required")
    with pytest.raises(InvalidInputError):
        load_manifest({"channels": []})


# ---------------------------------------------------------------------------------------------
# What the seed did that is kept: network isolation, MODEL_TYPE, model.hosting.inferenceImage
# ---------------------------------------------------------------------------------------------


def test_training_runs_network_isolated_unless_turned_off(ml_parameters):
    # GIVEN the seed's parameters, which do not mention network isolation
    assert "enableNetworkIsolation" not in ml_parameters
    # THEN training is isolated, as the seed's was
    assert parse_ml_parameters(ml_parameters).enable_network_isolation is True

    # WHEN it is turned off, in any of the spellings booleans take
    for spelling in (False, "False", "false"):
        ml_parameters["enableNetworkIsolation"] = spelling
        assert parse_ml_parameters(ml_parameters).enable_network_isolation is False
    ml_parameters["enableNetworkIsolation"] = "True"
    assert parse_ml_parameters(ml_parameters).enable_network_isolation is True


def test_the_model_type_variable_is_the_artifact_type_as_the_seed_set_it(ml_parameters):
    # GIVEN the seed's artifactType and no environment of its own
    assert ml_parameters["model"]["artifactType"] == "MOJO"
    ml = parse_ml_parameters(ml_parameters)
    assert ml.model.environment == {"MODEL_TYPE": "MOJO"}

    # WHEN the document gives an environment: its variables are added and win
    ml_parameters["model"]["environment"] = {"MODEL_TYPE": "POJO", "JAVA_OPTS": "-Xmx2g"}
    ml = parse_ml_parameters(ml_parameters)
    assert ml.model.environment == {"MODEL_TYPE": "POJO", "JAVA_OPTS": "-Xmx2g"}

    # WHEN there is neither an artifact type nor an environment: no variables
    del ml_parameters["model"]["artifactType"]
    del ml_parameters["model"]["environment"]
    assert parse_ml_parameters(ml_parameters).model.environment == {}


@pytest.mark.parametrize(
    ("root", "seed", "expected"),
    [
        (None, "123456789012.dkr.ecr.us-east-1.amazonaws.com/serve:1", "seed"),
        ("123456789012.dkr.ecr.us-east-1.amazonaws.com/serve:2", None, "root"),
        (
            "123456789012.dkr.ecr.us-east-1.amazonaws.com/serve:3",
            "123456789012.dkr.ecr.us-east-1.amazonaws.com/serve:3",
            "root",
        ),
        (None, None, None),
    ],
)
def test_the_inference_image_may_be_given_where_the_seed_put_it(
    ml_parameters, root, seed, expected
):
    if root is not None:
        ml_parameters["inferenceImage"] = root
    if seed is not None:
        ml_parameters["model"]["hosting"]["inferenceImage"] = seed
    ml = parse_ml_parameters(ml_parameters)
    assert ml.inference_image == {"root": root, "seed": seed, None: None}[expected]
