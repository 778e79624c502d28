"""Service request rules: a task whose request the service would refuse fails as on AWS."""

from __future__ import annotations

import copy
import json
import uuid
from typing import Any, Callable

import botocore.session
import pytest

from smtune.emulator import request_rules
from tests.emulator.test_emulator_sagemaker import ROLE, TUNE_SYNC, tuning_request
from tests.support.emulator import caught, moto_as_released, output_of, wait_for_execution

pytestmark = pytest.mark.emulator

CREATE_MODEL = "arn:aws:states:::sagemaker:createModel"
NAME_PATTERN = "[a-zA-Z0-9](-*[a-zA-Z0-9]){0,31}"

Run = Callable[[dict[str, Any]], dict[str, Any]]


@pytest.fixture
def run(aws: Any) -> Run:
    """Run a state machine under a role allowed everything; DescribeExecution's answer."""
    iam = aws("iam")
    role = iam.create_role(
        RoleName=f"rules-{uuid.uuid4().hex[:8]}",
        AssumeRolePolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Principal": {"Service": "states.amazonaws.com"},
                        "Action": "sts:AssumeRole",
                    }
                ],
            }
        ),
    )["Role"]
    iam.put_role_policy(
        RoleName=role["RoleName"],
        PolicyName="all",
        PolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}],
            }
        ),
    )
    sfn = aws("stepfunctions")

    def execute(definition: dict[str, Any]) -> dict[str, Any]:
        machine = sfn.create_state_machine(
            name=f"rules-{uuid.uuid4().hex[:8]}",
            definition=json.dumps(definition),
            roleArn=role["Arn"],
        )
        started = sfn.start_execution(stateMachineArn=machine["stateMachineArn"], input="{}")
        return wait_for_execution(sfn, started["executionArn"])

    return execute


def error_of(run: Run, resource: str, parameters: dict[str, Any]) -> dict[str, str]:
    result = output_of(run(caught(resource, parameters)))
    assert "error" in result, result
    return dict(result["error"])


def model_request(name: str = "model") -> dict[str, Any]:
    return {"ModelName": name, "ExecutionRoleArn": ROLE, "PrimaryContainer": {"Image": "image"}}


# Shapes -----------------------------------------------------------------------------------------


def test_a_tuning_job_name_off_the_pattern_fails_the_task_as_sagemaker_answers(run, aws):
    error = error_of(run, TUNE_SYNC, tuning_request(name="my_job"))

    assert error["Error"] == "SageMaker.AmazonSageMakerException"
    assert error["Cause"].startswith(
        "1 validation error detected: Value 'my_job' at 'hyperParameterTuningJobName' failed "
        f"to satisfy constraint: Member must satisfy regular expression pattern: {NAME_PATTERN} "
        "(Service: AmazonSageMaker; Status Code: 400; Error Code: ValidationException; "
        "Request ID: "
    )
    jobs = aws("sagemaker").list_hyper_parameter_tuning_jobs()["HyperParameterTuningJobSummaries"]
    assert jobs == []


def test_a_tuning_job_name_longer_than_32_characters_is_refused(run):
    error = error_of(run, TUNE_SYNC, tuning_request(name="a" * 33))

    assert (
        "Value '" + "a" * 33 + "' at 'hyperParameterTuningJobName' failed to satisfy constraint: "
        "Member must have length less than or equal to 32" in error["Cause"]
    )


def tagged(request: dict[str, Any]) -> dict[str, Any]:
    return {**request, "Tags": [{"Key": "project", "Value": "request rules: caf\u00e9 1"}]}


def test_a_good_request_passes(run):
    description = run(caught(TUNE_SYNC, tagged(tuning_request(name="good-job-1"))))

    assert "error" not in output_of(description)


def test_the_refusal_is_catchable_by_its_error_name(run):
    definition = {
        "StartAt": "Create",
        "States": {
            "Create": {
                "Type": "Task",
                "Resource": CREATE_MODEL,
                "Parameters": model_request("bad_name"),
                "Catch": [
                    {
                        "ErrorEquals": ["SageMaker.AmazonSageMakerException"],
                        "ResultPath": "$.error",
                        "Next": "Refused",
                    }
                ],
                "End": True,
            },
            "Refused": {
                "Type": "Pass",
                "Result": "refused",
                "ResultPath": "$.outcome",
                "End": True,
            },
        },
    }

    assert output_of(run(definition))["outcome"] == "refused"


def test_several_problems_are_reported_together(run):
    request = tuning_request(name="two")
    request["HyperParameterTuningJobConfig"]["Strategy"] = "Exhaustive"
    request["HyperParameterTuningJobConfig"]["ResourceLimits"]["MaxParallelTrainingJobs"] = 0

    cause = error_of(run, TUNE_SYNC, request)["Cause"]

    assert cause.startswith("2 validation errors detected: ")
    assert (
        "Value '0' at 'hyperParameterTuningJobConfig.resourceLimits.maxParallelTrainingJobs' "
        "failed to satisfy constraint: Member must have value greater than or equal to 1" in cause
    )
    assert (
        "Value 'Exhaustive' at 'hyperParameterTuningJobConfig.strategy' failed to satisfy "
        "constraint: Member must satisfy enum value set: [Bayesian, Random, Hyperband, Grid]"
    ) in cause


def test_a_missing_required_member_is_null(run):
    request = model_request()
    del request["ModelName"]

    cause = error_of(run, CREATE_MODEL, request)["Cause"]

    assert cause.startswith(
        "1 validation error detected: Value null at 'modelName' failed to satisfy constraint: "
        "Member must not be null"
    )


def test_list_members_are_named_as_aws_names_them(run):
    request = tuning_request(name="channels")
    request["TrainingJobDefinition"]["InputDataConfig"][0]["ChannelName"] = "bad channel"

    cause = error_of(run, TUNE_SYNC, request)["Cause"]

    assert "at 'trainingJobDefinition.inputDataConfig.1.member.channelName'" in cause


def test_a_map_value_too_long_is_refused(run):
    request = model_request()
    request["PrimaryContainer"]["Environment"] = {"KEY": "v" * 1025}

    cause = error_of(run, CREATE_MODEL, request)["Cause"]

    assert (
        "at 'primaryContainer.environment' failed to satisfy constraint: Map value must satisfy "
        "constraint: [Member must have length less than or equal to 1024]" in cause
    )


def test_a_value_of_the_wrong_type_is_a_serialization_error(run):
    request = tuning_request(name="typed")
    request["HyperParameterTuningJobConfig"]["ResourceLimits"]["MaxParallelTrainingJobs"] = "2"

    error = error_of(run, TUNE_SYNC, request)

    assert error["Error"] == "SageMaker.AmazonSageMakerException"
    assert "Error Code: SerializationException" in error["Cause"]
    assert (
        "'hyperParameterTuningJobConfig.resourceLimits.maxParallelTrainingJobs'" in (error["Cause"])
    )


@pytest.mark.parametrize(
    ("resource", "parameters", "name", "cause"),
    [
        (
            "arn:aws:states:::aws-sdk:sagemaker:describeEndpoint",
            {"EndpointName": "bad_endpoint"},
            "SageMaker.SageMakerException",
            "Value 'bad_endpoint' at 'endpointName' failed to satisfy constraint: Member must "
            "satisfy regular expression pattern: [a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}",
        ),
        (
            "arn:aws:states:::aws-sdk:applicationautoscaling:registerScalableTarget",
            {
                "ServiceNamespace": "sagemakerx",
                "ResourceId": "endpoint/ep/variant/AllTraffic",
                "ScalableDimension": "sagemaker:variant:DesiredInstanceCount",
            },
            "ApplicationAutoScaling.ValidationException",
            "Value 'sagemakerx' at 'serviceNamespace' failed to satisfy constraint: Member must "
            "satisfy enum value set: [ecs, ",
        ),
        (
            "arn:aws:states:::sns:publish",
            {"TopicArn": "arn:aws:sns:us-east-1:123456789012:topic"},
            "SNS.ValidationErrorException",
            "Value null at 'message' failed to satisfy constraint: Member must not be null",
        ),
        (
            "arn:aws:states:::lambda:invoke",
            {"FunctionName": "no such function!", "Payload": {}},
            "Lambda.ValidationException",
            "Value 'no such function!' at 'functionName' failed to satisfy constraint: Member "
            "must satisfy regular expression pattern: ",
        ),
        (
            "arn:aws:states:::states:startExecution",
            {
                "StateMachineArn": "arn:aws:states:us-east-1:123456789012:stateMachine:child",
                "Name": "n" * 81,
            },
            "StepFunctions.ValidationExceptionException",
            "at 'name' failed to satisfy constraint: Member must have length less than or equal "
            "to 80",
        ),
    ],
)
def test_every_integration_is_validated(run, resource, parameters, name, cause):
    error = error_of(run, resource, parameters)

    assert error["Error"] == name
    assert cause in error["Cause"]


def test_moto_as_released_accepts_a_name_sagemaker_refuses(run, aws):
    with moto_as_released():
        output_of(run(caught(CREATE_MODEL, model_request("bad_name"))))
        models = aws("sagemaker").list_models()["Models"]

    assert [m["ModelName"] for m in models] == ["bad_name"]


# Service rules beyond the shapes ----------------------------------------------------------------


def grid_request(name: str, max_jobs: int | None) -> dict[str, Any]:
    request = copy.deepcopy(tuning_request(name=name))
    config = request["HyperParameterTuningJobConfig"]
    config["Strategy"] = "Grid"
    config["ParameterRanges"] = {
        "CategoricalParameterRanges": [
            {"Name": "booster", "Values": ["gbtree", "dart", "gblinear"]},
            {"Name": "max_depth", "Values": ["3", "6"]},
        ]
    }
    if max_jobs is None:
        del config["ResourceLimits"]["MaxNumberOfTrainingJobs"]
    else:
        config["ResourceLimits"]["MaxNumberOfTrainingJobs"] = max_jobs
    return request


def test_grid_refuses_integer_and_continuous_ranges(run):
    request = tuning_request(name="grid-ranges")
    request["HyperParameterTuningJobConfig"]["Strategy"] = "Grid"

    error = error_of(run, TUNE_SYNC, request)

    assert error["Error"] == "SageMaker.AmazonSageMakerException"
    assert "The Grid strategy supports categorical parameters only" in error["Cause"]
    assert "Error Code: ValidationException" in error["Cause"]


def test_grid_refuses_a_job_count_other_than_the_combinations(run):
    cause = error_of(run, TUNE_SYNC, grid_request("grid-count", 5))["Cause"]

    assert (
        "MaxNumberOfTrainingJobs (5) must equal the number of distinct categorical "
        "combinations (6)" in cause
    )


@pytest.mark.parametrize("max_jobs", [6, None])
def test_grid_accepts_the_combination_count_or_none(run, max_jobs):
    description = run(caught(TUNE_SYNC, tagged(grid_request(f"grid-{max_jobs}", max_jobs))))

    assert "error" not in output_of(description)


def test_create_endpoint_config_of_a_missing_model_is_refused(run):
    error = error_of(
        run,
        "arn:aws:states:::sagemaker:createEndpointConfig",
        {
            "EndpointConfigName": "config",
            "ProductionVariants": [
                {"VariantName": "AllTraffic", "ModelName": "missing", "InstanceType": "ml.m5.large"}
            ],
        },
    )

    assert error["Error"] == "SageMaker.AmazonSageMakerException"
    assert "Could not find model" in error["Cause"]


def test_update_endpoint_while_updating_is_refused(run, aws, emulator):
    sagemaker = aws("sagemaker")
    sagemaker.create_model(**model_request())
    for config in ("config-1", "config-2"):
        sagemaker.create_endpoint_config(
            EndpointConfigName=config,
            ProductionVariants=[
                {
                    "VariantName": "AllTraffic",
                    "ModelName": "model",
                    "InitialInstanceCount": 1,
                    "InstanceType": "ml.m5.large",
                }
            ],
        )
    sagemaker.create_endpoint(EndpointName="ep", EndpointConfigName="config-1")
    emulator.set_progression(50)
    sagemaker.update_endpoint(EndpointName="ep", EndpointConfigName="config-2")

    error = error_of(
        run,
        "arn:aws:states:::sagemaker:updateEndpoint",
        {"EndpointName": "ep", "EndpointConfigName": "config-1"},
    )

    assert error["Error"] == "SageMaker.AmazonSageMakerException"
    assert 'Cannot update in-progress endpoint "' in error["Cause"]


# The checks themselves --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "service", ["sagemaker", "sns", "lambda", "stepfunctions", "application-autoscaling"]
)
def test_every_pattern_of_the_workflows_services_is_checked(service):
    model = botocore.session.get_session().get_service_model(service)

    assert request_rules.uncheckable_patterns(model) == []


@pytest.mark.parametrize(
    ("pattern", "value", "matches"),
    [
        (NAME_PATTERN, "job-1", True),
        (NAME_PATTERN, "job_1", False),
        (r"arn:[\p{Alnum}\-]+:lambda:[\p{Alnum}\-]+:[0-9]{12}:function:.*", "arn:aws:x", False),
        (
            r"arn:[\p{Alnum}\-]+:lambda:[\p{Alnum}\-]+:[0-9]{12}:function:.*",
            "arn:aws:lambda:us-east-1:123456789012:function:f",
            True,
        ),
        (r"\p{ASCII}*", "plain", True),
        (r"\p{ASCII}*", "caf\u00e9", False),
        (r"[\u0020-\uD7FF\uE000-\uFFFD\uD800\uDC00-\uDBFF\uDFFF\t]*", "emoji \U0001f600", True),
        (r"[\p{L}\p{Z}\p{N}_.:/=+\-@]*", "Name: caf\u00e9 1", True),
        (r"[\p{L}\p{Z}\p{N}_.:/=+\-@]*", "semi;colon", False),
    ],
)
def test_java_patterns_match_whole_values(pattern, value, matches):
    check = request_rules.compiled_pattern(pattern)

    assert check is not None
    assert check(value) is matches
