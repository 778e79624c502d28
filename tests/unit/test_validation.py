"""The input documents' validation: what passes, and how every kind of mistake is reported."""

from __future__ import annotations

from typing import Any

import pytest
from jsonschema import Draft202012Validator

from tuning_workflow.validation import (
    SCHEMA_NAMES,
    Problem,
    json_path,
    load_schema,
    ml_parameter_warnings,
    sort_problems,
    validate_deployer_input,
    validate_hyperparameters,
    validate_manifest,
    validate_ml_parameters,
    validate_run_documents,
)

from .conftest import EXAMPLES, read_json


def messages(problems: list[Problem]) -> list[str]:
    return [str(problem) for problem in problems]


def at(problems: list[Problem], path: str) -> list[str]:
    return [problem.message for problem in problems if problem.path == path]


# ---------------------------------------------------------------------------------------------
# What must pass
# ---------------------------------------------------------------------------------------------


def test_the_seed_files_validate_unchanged_placeholders_and_all(seed_documents):
    result = validate_run_documents(
        seed_documents["ml-parameters"],
        seed_documents["hyperparameters"],
        seed_documents["manifest"],
    )
    assert result == {"ml-parameters": [], "hyperparameters": [], "manifest": []}


def test_the_example_parameter_files_validate(ml_parameters, hyperparameters, manifest):
    assert validate_run_documents(ml_parameters, hyperparameters, manifest) == {
        "ml-parameters": [],
        "hyperparameters": [],
        "manifest": [],
    }


def test_unknown_root_keys_are_allowed_because_users_carry_their_own(ml_parameters, manifest):
    ml_parameters["team"] = "fraud-detection"
    manifest["note"] = {"any": "thing"}
    assert validate_ml_parameters(ml_parameters) == []
    assert validate_manifest(manifest) == []


@pytest.mark.parametrize("value", [True, False, "true", "False", "TRUE", "fAlSe"])
def test_booleans_may_be_strings_in_any_case(ml_parameters, value):
    ml_parameters["enableManagedSpotTraining"] = value
    ml_parameters["targetTrackingScalingPolicyConfiguration"]["DisableScaleIn"] = value
    assert validate_ml_parameters(ml_parameters) == []


@pytest.mark.parametrize("value", [4, "4", "+4", "004"])
def test_whole_numbers_may_be_strings(ml_parameters, value):
    ml_parameters["autoscalingMaxCapacity"] = value
    ml_parameters["maxParallelTrainingJobs"] = value
    assert validate_ml_parameters(ml_parameters) == []


def test_a_training_image_with_metrics_replaces_the_algorithm(ml_parameters):
    del ml_parameters["algorithmARN"]
    ml_parameters["trainingImage"] = "123456789012.dkr.ecr.us-east-1.amazonaws.com/gbm:1"
    ml_parameters["metricDefinitions"] = [{"Name": "validation:auc", "Regex": "auc=([0-9.]+)"}]
    assert validate_ml_parameters(ml_parameters) == []


def test_every_optional_addition_validates_when_well_formed(ml_parameters, hyperparameters):
    ml_parameters.update(
        {
            "tuningStrategy": "Hyperband",
            "trainingJobEarlyStoppingType": "Off",
            "objectiveMetric": {"name": "validation:logloss", "type": "Minimize"},
            "maxTuningRuntimeInSeconds": "3600",
            "completionCriteria": {
                "targetObjectiveMetricValue": "0.1",
                "maxNumberOfTrainingJobsNotImproving": 5,
                "completeOnConvergence": "True",
            },
            "hyperbandStrategyConfig": {"minResource": 1, "maxResource": "30"},
            "warmStart": {"parentTuningJobs": ["older-tuning-1"], "type": "TransferLearning"},
            "trainingInstanceCount": "2",
            "maxRuntimeInSeconds": 3600,
            "maxWaitTimeInSeconds": 7200,
            "qualityGate": {"threshold": "0.2"},
            "endpointWaitIntervalSeconds": 30,
            "endpointWaitTimeoutSeconds": 3600,
        }
    )
    ml_parameters["model"]["hosting"]["variantName"] = "Primary"
    ml_parameters["model"]["hosting"]["deploymentConfig"] = {
        "BlueGreenUpdatePolicy": {
            "TrafficRoutingConfiguration": {"Type": "ALL_AT_ONCE", "WaitIntervalInSeconds": 60}
        }
    }
    hyperparameters["parameterRanges"]["CategoricalParameterRanges"] = [
        {"Name": "distribution", "Values": ["bernoulli", "gaussian"]}
    ]
    result = validate_run_documents(ml_parameters, hyperparameters, {"channels": []})
    assert result["ml-parameters"] == []
    assert result["hyperparameters"] == []


# ---------------------------------------------------------------------------------------------
# Schema violations: every one reported, with the path and a clear message
# ---------------------------------------------------------------------------------------------


def test_several_problems_are_reported_together_sorted_by_path(ml_parameters):
    # GIVEN a document with five unrelated mistakes
    ml_parameters["tuningStrategy"] = "Bayes"
    del ml_parameters["endpointName"]
    ml_parameters["model"]["hosting"]["instanceType"] = "c5.large"
    ml_parameters["maxParallelTrainingJobs"] = "ten"
    ml_parameters["trainingJobEarlyStoppingType"] = "Sometimes"

    # WHEN it is validated
    problems = validate_ml_parameters(ml_parameters)

    # THEN each mistake is reported once, in path order, with its own message
    assert messages(problems) == [
        "$: 'endpointName' is required",
        "$.maxParallelTrainingJobs: must be a whole number of at least 1 (a number, or a string "
        "of digits such as \"1\"), got 'ten'",
        "$.model.hosting.instanceType: must be a SageMaker instance type such as ml.c5.2xlarge, "
        "got 'c5.large'",
        "$.trainingJobEarlyStoppingType: 'Sometimes' is not one of Auto, Off",
        "$.tuningStrategy: 'Bayes' is not one of Bayesian, Random, Hyperband, Grid",
    ]


def test_missing_required_fields_name_the_field_at_its_parent(ml_parameters):
    del ml_parameters["tuningJobName"]
    del ml_parameters["model"]["hosting"]["initialInstanceCount"]
    del ml_parameters["model"]["artifactsS3OutputPath"]
    assert messages(validate_ml_parameters(ml_parameters)) == [
        "$: 'tuningJobName' is required",
        "$.model: 'artifactsS3OutputPath' is required",
        "$.model.hosting: 'initialInstanceCount' is required",
    ]


def test_a_wrong_type_says_what_was_expected_and_what_was_found(ml_parameters):
    ml_parameters["model"]["hosting"] = ["ml.c5.2xlarge"]
    ml_parameters["endpointName"] = 42
    problems = validate_ml_parameters(ml_parameters)
    assert at(problems, "$.model.hosting") == ['expected an object, got an array ["ml.c5.2xlarge"]']
    assert at(problems, "$.endpointName") == ["expected a string, got a number 42"]


@pytest.mark.parametrize("value", ["yes", 1, "1", "on", None])
def test_a_boolean_field_rejects_values_that_are_not_true_or_false(ml_parameters, value):
    ml_parameters["enableManagedSpotTraining"] = value
    [problem] = validate_ml_parameters(ml_parameters)
    assert problem.path == "$.enableManagedSpotTraining"
    assert problem.message.startswith("must be true or false")


@pytest.mark.parametrize("value", [0, "0", -1, "1.5", 1.5, "", True])
def test_a_count_rejects_zero_fractions_and_booleans(ml_parameters, value):
    ml_parameters["model"]["hosting"]["initialInstanceCount"] = value
    ml_parameters.pop("autoscalingMinCapacity")
    ml_parameters.pop("autoscalingMaxCapacity")
    problems = validate_ml_parameters(ml_parameters)
    assert [problem.path for problem in problems] == ["$.model.hosting.initialInstanceCount"]
    assert problems[0].message.startswith("must be a whole number of at least 1")


def test_an_unknown_nested_key_is_reported_with_a_suggestion(ml_parameters):
    ml_parameters["model"]["hosting"]["instanceTyp"] = "ml.m5.large"
    del ml_parameters["model"]["hosting"]["instanceType"]
    problems = validate_ml_parameters(ml_parameters)
    assert messages(problems) == [
        "$.model.hosting: 'instanceType' is required",
        "$.model.hosting.instanceTyp: unknown key 'instanceTyp'; did you mean 'instanceType'?",
    ]


def test_names_must_follow_sagemaker_rules_and_leave_room_for_the_run_suffix(ml_parameters):
    ml_parameters["tuningJobName"] = "survival-tuning-2024"  # 20 > 19
    ml_parameters["model"]["name"] = "survival_model"
    problems = validate_ml_parameters(ml_parameters)
    assert at(problems, "$.tuningJobName") == [
        "'survival-tuning-2024' is 20 characters long; at most 19 are allowed: a run names its "
        "tuning job '<name>-<runId>', 13 characters more, and SageMaker allows 32"
    ]
    assert at(problems, "$.model.name") == [
        "must be letters and digits, optionally joined by hyphens, starting and ending with a "
        "letter or digit, got 'survival_model'"
    ]


def test_an_endpoint_name_too_long_for_its_endpoint_config_names_is_rejected(ml_parameters):
    ml_parameters["endpointName"] = "e" * 51
    [problem] = validate_ml_parameters(ml_parameters)
    assert problem.path == "$.endpointName"
    assert problem.message.endswith(
        "at most 50 are allowed: a run names its endpoint config '<name>-<runId>', 13 characters "
        "more, and SageMaker allows 63"
    )


def test_s3_uris_must_be_s3_uris(ml_parameters):
    ml_parameters["model"]["artifactsS3OutputPath"] = "/local/model-artifacts"
    [problem] = validate_ml_parameters(ml_parameters)
    assert str(problem) == (
        "$.model.artifactsS3OutputPath: must be an S3 URI such as s3://bucket/prefix/, "
        "got '/local/model-artifacts'"
    )


def test_a_document_that_is_not_an_object_is_one_clear_problem():
    assert messages(validate_ml_parameters(["not", "an", "object"])) == [
        '$: expected an object, got an array ["not", "an", "object"]'
    ]
    assert messages(validate_manifest(None)) == ["$: expected an object, got null"]


# ---------------------------------------------------------------------------------------------
# Rules across fields
# ---------------------------------------------------------------------------------------------


def test_algorithm_and_training_image_are_one_or_the_other(ml_parameters):
    ml_parameters["trainingImage"] = "image:1"
    assert messages(validate_ml_parameters(ml_parameters)) == [
        "$.trainingImage: give either 'algorithmARN' or 'trainingImage', not both"
    ]
    del ml_parameters["trainingImage"]
    del ml_parameters["algorithmARN"]
    assert messages(validate_ml_parameters(ml_parameters)) == [
        "$: 'algorithmARN' or 'trainingImage' is required"
    ]


def test_metric_definitions_belong_to_a_training_image(ml_parameters):
    ml_parameters["metricDefinitions"] = [{"Name": "auc", "Regex": "auc=(.*)"}]
    [problem] = validate_ml_parameters(ml_parameters)
    assert problem.path == "$.metricDefinitions"


def test_spot_training_needs_a_checkpoint_uri_and_a_long_enough_wait(ml_parameters):
    # GIVEN spot training on, no checkpoint URI, and a wait shorter than the runtime
    ml_parameters["enableManagedSpotTraining"] = "True"
    del ml_parameters["spotTrainingCheckpointS3Uri"]
    ml_parameters["maxRuntimeInSeconds"] = 7200
    ml_parameters["maxWaitTimeInSeconds"] = "3600"
    # THEN both are reported
    assert messages(validate_ml_parameters(ml_parameters)) == [
        "$: 'spotTrainingCheckpointS3Uri' is required when enableManagedSpotTraining is true",
        "$.maxWaitTimeInSeconds: 3600 is less than maxRuntimeInSeconds (7200); managed spot "
        "training needs maxWaitTimeInSeconds >= maxRuntimeInSeconds",
    ]


def test_spot_rules_do_not_apply_when_spot_is_off_even_as_the_string_false(ml_parameters):
    ml_parameters["enableManagedSpotTraining"] = "False"
    del ml_parameters["spotTrainingCheckpointS3Uri"]
    ml_parameters["maxWaitTimeInSeconds"] = 1
    assert validate_ml_parameters(ml_parameters) == []


@pytest.mark.parametrize(
    ("parent", "present", "missing", "path"),
    [
        (("model",), "trainingSubnets", "trainingSecurityGroupIds", "$.model"),
        (("model", "hosting"), "securityGroupIds", "subnets", "$.model.hosting"),
        ((), "autoscalingMaxCapacity", "autoscalingMinCapacity", "$"),
    ],
)
def test_pairs_are_both_or_neither(ml_parameters, parent, present, missing, path):
    node = ml_parameters
    for key in parent:
        node = node[key]
    del node[missing]
    assert f"{missing!r} is required when {present!r} is set (both or neither)" in at(
        validate_ml_parameters(ml_parameters), path
    )


def test_capacities_are_ordered_and_contain_the_initial_count(ml_parameters):
    ml_parameters["autoscalingMinCapacity"] = 5
    ml_parameters["autoscalingMaxCapacity"] = "2"
    assert messages(validate_ml_parameters(ml_parameters)) == [
        "$.autoscalingMinCapacity: 5 is greater than autoscalingMaxCapacity (2)"
    ]
    ml_parameters["autoscalingMinCapacity"] = 2
    ml_parameters["autoscalingMaxCapacity"] = 4
    ml_parameters["model"]["hosting"]["initialInstanceCount"] = "1"
    assert messages(validate_ml_parameters(ml_parameters)) == [
        "$.model.hosting.initialInstanceCount: 1 is outside the auto scaling range 2 to 4"
    ]


def test_auto_scaling_needs_a_policy_with_exactly_one_metric(ml_parameters):
    policy = ml_parameters.pop("targetTrackingScalingPolicyConfiguration")
    assert at(validate_ml_parameters(ml_parameters), "$")[0].startswith(
        "'targetTrackingScalingPolicyConfiguration' is required when auto scaling is configured"
    )
    policy["CustomizedMetricSpecification"] = {"MetricName": "Latency"}
    ml_parameters["targetTrackingScalingPolicyConfiguration"] = policy
    assert at(validate_ml_parameters(ml_parameters), "$.targetTrackingScalingPolicyConfiguration")


def test_tuning_limits_are_consistent(ml_parameters):
    ml_parameters["maxParallelTrainingJobs"] = 20
    ml_parameters["maxTuningRuntimeInSeconds"] = 60
    ml_parameters["completionCriteria"] = {"maxNumberOfTrainingJobsNotImproving": 2}
    assert messages(validate_ml_parameters(ml_parameters)) == [
        "$.completionCriteria.maxNumberOfTrainingJobsNotImproving: 2 is less than the minimum, 3",
        "$.maxParallelTrainingJobs: 20 is greater than maxNumberOfTrainingJobs (10)",
        "$.maxTuningRuntimeInSeconds: 60 is less than the minimum, 120",
    ]


def test_completion_criteria_must_say_something_that_can_happen(ml_parameters):
    ml_parameters["completionCriteria"] = {}
    assert messages(validate_ml_parameters(ml_parameters)) == [
        "$.completionCriteria: must not be empty"
    ]
    ml_parameters["completionCriteria"] = {"maxNumberOfTrainingJobsNotImproving": 11}
    assert at(
        validate_ml_parameters(ml_parameters),
        "$.completionCriteria.maxNumberOfTrainingJobsNotImproving",
    ) == ["11 is greater than maxNumberOfTrainingJobs (10), so it could never end the tuning job"]


def test_hyperband_configuration_only_with_hyperband_and_without_auto_early_stopping(
    ml_parameters,
):
    ml_parameters["hyperbandStrategyConfig"] = {"minResource": 10, "maxResource": 5}
    assert messages(validate_ml_parameters(ml_parameters)) == [
        "$.hyperbandStrategyConfig: is only used with tuningStrategy Hyperband, not Bayesian",
        "$.hyperbandStrategyConfig.minResource: 10 is greater than maxResource (5)",
    ]
    ml_parameters["tuningStrategy"] = "Hyperband"
    ml_parameters["hyperbandStrategyConfig"] = {"maxResource": 10}
    assert messages(validate_ml_parameters(ml_parameters)) == [
        "$.trainingJobEarlyStoppingType: must be Off with tuningStrategy Hyperband, which stops "
        "training jobs early itself"
    ]


def test_the_endpoint_wait_is_bounded_by_what_an_execution_history_holds(ml_parameters):
    ml_parameters["endpointWaitIntervalSeconds"] = 1
    ml_parameters["endpointWaitTimeoutSeconds"] = 86400
    [problem] = validate_ml_parameters(ml_parameters)
    assert problem.path == "$.endpointWaitIntervalSeconds"
    ml_parameters["endpointWaitIntervalSeconds"] = 600
    ml_parameters["endpointWaitTimeoutSeconds"] = 60
    assert messages(validate_ml_parameters(ml_parameters)) == [
        "$.endpointWaitTimeoutSeconds: 60 is shorter than endpointWaitIntervalSeconds (600)"
    ]


def test_fields_the_schema_rejected_are_not_reported_again_by_the_rules(ml_parameters):
    ml_parameters["autoscalingMinCapacity"] = "many"
    problems = validate_ml_parameters(ml_parameters)
    assert [problem.path for problem in problems] == ["$.autoscalingMinCapacity"]


# ---------------------------------------------------------------------------------------------
# hyperparameters.json
# ---------------------------------------------------------------------------------------------


def test_hyperparameter_ranges_are_checked_one_by_one(hyperparameters):
    ranges = hyperparameters["parameterRanges"]
    ranges["IntegerParameterRanges"][0]["MinValue"] = "200"  # > MaxValue 100
    ranges["IntegerParameterRanges"][1]["MaxValue"] = "3.5"
    ranges["ContinuousParameterRanges"][0]["MinValue"] = 0  # Logarithmic
    ranges["ContinuousParameterRanges"][1]["ScalingType"] = "Exponential"
    ranges["CategoricalParameterRanges"] = [{"Name": "max_depth", "Values": ["a", "a"]}]
    hyperparameters["staticHyperParameters"]["learn_rate"] = "0.1"

    assert messages(validate_hyperparameters(hyperparameters)) == [
        "$.parameterRanges.CategoricalParameterRanges[0].Name: 'max_depth' is already tuned at "
        "$.parameterRanges.IntegerParameterRanges[2]",
        "$.parameterRanges.CategoricalParameterRanges[0].Values: lists 'a' more than once",
        "$.parameterRanges.ContinuousParameterRanges[0].MinValue: Logarithmic scaling needs "
        "MinValue > 0, got 0.0",
        "$.parameterRanges.ContinuousParameterRanges[1].ScalingType: 'Exponential' is not one of "
        "Auto, Linear, Logarithmic, ReverseLogarithmic",
        "$.parameterRanges.IntegerParameterRanges[0].MinValue: 200 is greater than MaxValue (100)",
        "$.parameterRanges.IntegerParameterRanges[1].MaxValue: must be a whole number (a number, "
        "or a string such as \"10\"), got '3.5'",
        "$.staticHyperParameters.learn_rate: is also tuned at "
        "$.parameterRanges.ContinuousParameterRanges[0]; a hyperparameter is either static or tuned",
    ]


def test_a_categorical_range_needs_values(hyperparameters):
    hyperparameters["parameterRanges"]["CategoricalParameterRanges"] = [
        {"Name": "booster", "Values": []},
        {"Name": "objective"},
    ]
    assert messages(validate_hyperparameters(hyperparameters)) == [
        "$.parameterRanges.CategoricalParameterRanges[0].Values: needs at least 1 item, got 0",
        "$.parameterRanges.CategoricalParameterRanges[1]: 'Values' is required",
    ]


def test_something_must_be_tuned(hyperparameters):
    hyperparameters["parameterRanges"] = {"IntegerParameterRanges": []}
    assert messages(validate_hyperparameters(hyperparameters)) == [
        "$.parameterRanges: has no ranges; give at least one integer, continuous or categorical "
        "range to tune"
    ]


def test_static_hyperparameters_are_strings_or_numbers(hyperparameters):
    hyperparameters["staticHyperParameters"]["balance_classes"] = True
    hyperparameters["staticHyperParameters"]["n-folds"] = 5
    assert messages(validate_hyperparameters(hyperparameters)) == [
        "$.staticHyperParameters.balance_classes: must be a string of at most 2500 characters "
        "(numbers are accepted and sent as strings), got true"
    ]


def test_reverse_logarithmic_scaling_is_for_continuous_ranges_below_one(hyperparameters):
    ranges = hyperparameters["parameterRanges"]
    ranges["IntegerParameterRanges"][0]["ScalingType"] = "ReverseLogarithmic"
    ranges["ContinuousParameterRanges"][1]["ScalingType"] = "ReverseLogarithmic"  # 0.6 .. 1.0
    assert messages(validate_hyperparameters(hyperparameters)) == [
        "$.parameterRanges.ContinuousParameterRanges[1]: ReverseLogarithmic scaling needs "
        "0 <= MinValue <= MaxValue < 1",
        "$.parameterRanges.IntegerParameterRanges[0].ScalingType: ReverseLogarithmic scaling is "
        "only for continuous ranges",
    ]


# ---------------------------------------------------------------------------------------------
# manifest.json and the deployer's input
# ---------------------------------------------------------------------------------------------


def test_a_manifest_may_have_any_number_of_channels(manifest):
    one = {"channels": manifest["channels"][:1]}
    three = {
        "channels": [*manifest["channels"], {**manifest["channels"][0], "channelName": "test"}]
    }
    assert validate_manifest(one) == []
    assert validate_manifest(three) == []
    assert messages(validate_manifest({"channels": []})) == [
        "$.channels: needs at least 1 item, got 0"
    ]


def test_manifest_problems_point_into_the_channel_list(manifest):
    manifest["channels"][1]["channelName"] = "training"
    manifest["channels"][1]["s3DataSource"]["S3Uri"] = "titanic/validation.csv"
    manifest["channels"][0]["s3DataSource"]["S3DataDistributionType"] = "Replicated"
    assert messages(validate_manifest(manifest)) == [
        "$.channels[0].s3DataSource.S3DataDistributionType: 'Replicated' is not one of "
        "FullyReplicated, ShardedByS3Key",
        "$.channels[1].channelName: 'training' is already used by $.channels[0]; channel names "
        "must be unique",
        "$.channels[1].s3DataSource.S3Uri: must be an S3 URI such as s3://bucket/prefix/, got "
        "'titanic/validation.csv'",
    ]


def test_list_indexes_sort_numerically():
    problems = [Problem("$.channels[10].channelName", "b"), Problem("$.channels[2]", "a")]
    assert [problem.path for problem in sort_problems(problems)] == [
        "$.channels[2]",
        "$.channels[10].channelName",
    ]


def test_the_deployer_input_names_a_model_and_optionally_a_run():
    assert validate_deployer_input({"modelName": "survival-model-0123456789ab"}) == []
    assert (
        validate_deployer_input(
            {
                "modelName": "m",
                "runId": "0123456789ab",
                "AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID": "x",
            }
        )
        == []
    )
    assert messages(validate_deployer_input({"runId": "0123"})) == [
        "$: 'modelName' is required (the model to deploy), or 'endpointConfigName' to deploy an "
        "existing endpoint config of this deployment",
        "$.runId: must be 12 lowercase hexadecimal digits, as the tuner returns it, got '0123'",
    ]


def test_the_deployer_input_deploys_a_model_or_an_existing_config_not_both():
    assert validate_deployer_input({"endpointConfigName": "endpoint-0123456789ab"}) == []
    assert messages(validate_deployer_input({"modelName": "m", "endpointConfigName": "c"})) == [
        "$.endpointConfigName: give either 'modelName' (deploy a new model) or "
        "'endpointConfigName' (deploy an existing endpoint config), not both"
    ]


def test_the_deployer_input_carries_the_objective_and_force_deploy():
    objective = {"metricName": "validation:auc", "type": "Maximize", "value": 0.9}
    assert validate_deployer_input({"modelName": "m", "objective": objective}) == []
    assert validate_deployer_input({"modelName": "m", "objective": None}) == []
    problems = validate_deployer_input(
        {"modelName": "m", "objective": {"value": "high"}, "forceDeploy": "yes"}
    )
    assert [problem.path for problem in problems] == ["$.forceDeploy", "$.objective.value"]


# ---------------------------------------------------------------------------------------------
# Rules across documents
# ---------------------------------------------------------------------------------------------


def test_grid_search_takes_categorical_ranges_only(ml_parameters, hyperparameters, manifest):
    ml_parameters["tuningStrategy"] = "Grid"
    result = validate_run_documents(ml_parameters, hyperparameters, manifest)
    assert messages(result["hyperparameters"]) == [
        "$.parameterRanges.CategoricalParameterRanges: tuningStrategy Grid (in ml-parameters) "
        "needs at least one categorical range",
        "$.parameterRanges.ContinuousParameterRanges: tuningStrategy Grid (in ml-parameters) "
        "searches categorical ranges only",
        "$.parameterRanges.IntegerParameterRanges: tuningStrategy Grid (in ml-parameters) "
        "searches categorical ranges only",
    ]


def test_grid_search_runs_exactly_every_combination(ml_parameters, hyperparameters, manifest):
    ml_parameters["tuningStrategy"] = "Grid"
    hyperparameters["parameterRanges"] = {
        "CategoricalParameterRanges": [
            {"Name": "booster", "Values": ["gbtree", "dart"]},
            {"Name": "depth", "Values": ["3", "5", "7"]},
        ]
    }
    ml_parameters["maxNumberOfTrainingJobs"] = 4
    ml_parameters["maxParallelTrainingJobs"] = 2
    result = validate_run_documents(ml_parameters, hyperparameters, manifest)
    assert messages(result["ml-parameters"]) == [
        "$.maxNumberOfTrainingJobs: is 4, but tuningStrategy Grid runs every combination of the "
        "categorical values in hyperparameters' ranges, 6 here; SageMaker requires "
        "maxNumberOfTrainingJobs to equal that number: set it to 6"
    ]
    ml_parameters["maxNumberOfTrainingJobs"] = "6"
    result = validate_run_documents(ml_parameters, hyperparameters, manifest)
    assert result["ml-parameters"] == [] and result["hyperparameters"] == []


def test_hyperband_needs_a_max_resource_or_an_epochs_hyperparameter(
    ml_parameters, hyperparameters, manifest
):
    ml_parameters["tuningStrategy"] = "Hyperband"
    ml_parameters["trainingJobEarlyStoppingType"] = "Off"
    result = validate_run_documents(ml_parameters, hyperparameters, manifest)
    assert [problem.path for problem in result["ml-parameters"]] == ["$.hyperbandStrategyConfig"]
    hyperparameters["staticHyperParameters"]["epochs"] = "20"
    assert validate_run_documents(ml_parameters, hyperparameters, manifest)["ml-parameters"] == []


# ---------------------------------------------------------------------------------------------
# The schemas themselves
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", SCHEMA_NAMES)
def test_every_schema_is_a_valid_json_schema(name):
    Draft202012Validator.check_schema(load_schema(name))


def test_required_and_enums_sit_where_terraform_reads_them():
    schema = load_schema("ml-parameters")
    assert {"tuningJobName", "tuningStrategy", "endpointName", "model"} <= set(schema["required"])
    assert schema["properties"]["tuningStrategy"]["enum"] == [
        "Bayesian",
        "Random",
        "Hyperband",
        "Grid",
    ]
    model = schema["properties"]["model"]
    assert model["required"] == ["name", "artifactsS3OutputPath", "hosting"]
    assert model["properties"]["hosting"]["required"] == ["instanceType", "initialInstanceCount"]


def test_load_schema_returns_a_copy_and_rejects_unknown_names():
    load_schema("manifest")["required"].append("changed")
    assert load_schema("manifest")["required"] == ["channels"]
    with pytest.raises(ValueError, match="unknown schema 'nope'"):
        load_schema("nope")


@pytest.mark.parametrize(
    ("parts", "expected"),
    [
        ((), "$"),
        (("model", "hosting", "instanceType"), "$.model.hosting.instanceType"),
        (("channels", 1, "s3DataSource", "S3Uri"), "$.channels[1].s3DataSource.S3Uri"),
        (("staticHyperParameters", "n-epochs"), "$.staticHyperParameters['n-epochs']"),
    ],
)
def test_paths_are_jsonpath(parts: tuple[Any, ...], expected: str):
    assert json_path(parts) == expected


def test_a_problem_reads_as_path_colon_message():
    problem = Problem("$.model.name", "must not be empty")
    assert str(problem) == "$.model.name: must not be empty"
    assert problem.to_dict() == {"path": "$.model.name", "message": "must not be empty"}


# ---------------------------------------------------------------------------------------------
# The seed's keys: kept, and warned about when they no longer do anything
# ---------------------------------------------------------------------------------------------

SEED_DIR = EXAMPLES / "seed"


def test_the_seed_files_unchanged_have_no_problem_and_only_the_warnings_they_call_for():
    # GIVEN the seed's example files, exactly as the seed shipped them
    ml = read_json(SEED_DIR / "template-ml-parameters.json")
    hp = read_json(SEED_DIR / "hyperparameters.json")
    manifest = read_json(SEED_DIR / "manifest.json")

    # WHEN they are validated
    problems = validate_run_documents(ml, hp, manifest)
    warnings = ml_parameter_warnings(ml)

    # THEN nothing is wrong, and a warning comes only with the retired accelerator
    assert problems == {"ml-parameters": [], "hyperparameters": [], "manifest": []}
    carries_accelerator = "acceleratorType" in ml["model"]["hosting"]
    assert [w.path for w in warnings] == (
        ["$.model.hosting.acceleratorType"] if carries_accelerator else []
    )


def test_the_seeds_optional_hosting_keys_are_accepted_and_the_accelerator_is_a_warning(
    seed_documents,
):
    # GIVEN the seed's template with the seed's two optional hosting keys
    ml = seed_documents["ml-parameters"]
    ml["model"]["hosting"]["inferenceImage"] = "123456789012.dkr.ecr.us-east-1.amazonaws.com/gbm:1"
    ml["model"]["hosting"]["acceleratorType"] = "ml.eia2.medium"

    # WHEN it is validated
    problems = validate_ml_parameters(ml)
    warnings = ml_parameter_warnings(ml)

    # THEN it is valid, and the accelerator is reported as retired and ignored
    assert problems == []
    [warning] = warnings
    assert warning.path == "$.model.hosting.acceleratorType"
    assert "'ml.eia2.medium' is ignored" in warning.message
    assert "Elastic Inference was retired in April 2024" in warning.message


@pytest.mark.parametrize(
    "document",
    [None, [], "text", {"model": "not an object"}, {"model": {"hosting": []}}, {"a": [[[]]] * 2}],
)
def test_warnings_of_a_document_of_any_shape_are_a_list(document):
    assert ml_parameter_warnings(document) == []


def test_two_different_inference_images_are_a_problem(ml_parameters):
    ml_parameters["inferenceImage"] = "123456789012.dkr.ecr.us-east-1.amazonaws.com/serve:1"
    ml_parameters["model"]["hosting"]["inferenceImage"] = (
        "123456789012.dkr.ecr.us-east-1.amazonaws.com/serve:2"
    )
    assert at(validate_ml_parameters(ml_parameters), "$.model.hosting.inferenceImage") == [
        "'123456789012.dkr.ecr.us-east-1.amazonaws.com/serve:2' differs from inferenceImage "
        "('123456789012.dkr.ecr.us-east-1.amazonaws.com/serve:1'); both name the model's "
        "inference image: give it once, or the same in both places"
    ]

    ml_parameters["model"]["hosting"]["inferenceImage"] = ml_parameters["inferenceImage"]
    assert validate_ml_parameters(ml_parameters) == []


@pytest.mark.parametrize("value", [True, False, "True", "false"])
def test_network_isolation_is_a_boolean_in_any_spelling(ml_parameters, value):
    ml_parameters["enableNetworkIsolation"] = value
    assert validate_ml_parameters(ml_parameters) == []


def test_network_isolation_that_is_not_a_boolean_is_a_problem(ml_parameters):
    ml_parameters["enableNetworkIsolation"] = "yes"
    assert at(validate_ml_parameters(ml_parameters), "$.enableNetworkIsolation") == [
        'must be true or false (a boolean, or the string "true" or "false" in any case), '
        "got 'yes'"
    ]


def test_the_model_environment_is_a_map_of_strings_with_valid_names(ml_parameters):
    ml_parameters["model"]["environment"] = {"MODEL_TYPE": "MOJO", "_X1": ""}
    assert validate_ml_parameters(ml_parameters) == []

    ml_parameters["model"]["environment"] = {"1BAD": "x", "GOOD": 3}
    problems = validate_ml_parameters(ml_parameters)
    assert at(problems, "$.model.environment") == [
        "environment variable names are letters, digits and underscores, not starting with a "
        "digit, at most 1024 characters, got '1BAD'"
    ]
    assert at(problems, "$.model.environment.GOOD") == ["expected a string, got a number 3"]
