"""Injected API errors: AWS-shaped answers for boto3, the Lambda code and the state machines."""

from __future__ import annotations

import json
import re
import time
import urllib.error
import urllib.request
from typing import Any, Callable

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from tests.emulator.test_emulator_sagemaker import TUNE_SYNC, tuning_request
from tests.support.emulator import caught, output_of, task, zip_of

pytestmark = pytest.mark.emulator

ROLE = "arn:aws:iam::123456789012:role/sagemaker"
MODEL = {"ModelName": "model", "ExecutionRoleArn": ROLE, "PrimaryContainer": {"Image": "image:1"}}
CAUSE = re.compile(
    r"^(?P<message>.+) \(Service: (?P<service>\w+); Status Code: (?P<status>\d+); "
    r"Error Code: (?P<code>\w+); Request ID: (?P<request_id>[0-9a-f-]{36}); Proxy: null\)$"
)


@pytest.fixture
def once(emulator) -> Callable[[str], Any]:
    """boto3 clients that do not retry: every injected error reaches the caller."""

    def client(service: str) -> Any:
        return boto3.client(
            service,
            endpoint_url=emulator.endpoint_url,
            region_name="us-east-1",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
            config=Config(retries={"total_max_attempts": 1}),
        )

    return client


def post(url: str, document: object) -> tuple[int, dict]:
    request = urllib.request.Request(
        url, data=json.dumps(document).encode(), method="POST", headers={"Content-Type": "json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


# What boto3 sees ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("service", "operation", "code", "call", "status", "message"),
    [
        (
            "sagemaker",
            "CreateModel",
            "ThrottlingException",
            lambda c: c("sagemaker").create_model(**MODEL),
            400,
            "Rate exceeded",
        ),
        (
            "sagemaker",
            "CreateHyperParameterTuningJob",
            "ResourceLimitExceeded",
            lambda c: c("sagemaker").create_hyper_parameter_tuning_job(
                HyperParameterTuningJobName="t",
                HyperParameterTuningJobConfig={
                    "Strategy": "Bayesian",
                    "ResourceLimits": {"MaxParallelTrainingJobs": 1},
                },
            ),
            400,
            "The account-level service limit 'ml.m5.xlarge for training job usage' is 2 Instances",
        ),
        (
            "application-autoscaling",
            "RegisterScalableTarget",
            "ServiceUnavailable",
            lambda c: c("application-autoscaling").register_scalable_target(
                ServiceNamespace="sagemaker",
                ResourceId="endpoint/e/variant/v",
                ScalableDimension="sagemaker:variant:DesiredInstanceCount",
            ),
            503,
            "The request has failed due to a temporary failure of the server.",
        ),
        (
            "stepfunctions",
            "ListStateMachines",
            "InternalFailure",
            lambda c: c("stepfunctions").list_state_machines(),
            500,
            "The request processing has failed because of an unknown error",
        ),
        (
            "sns",
            "Publish",
            "ThrottlingException",
            lambda c: c("sns").publish(
                TopicArn="arn:aws:sns:us-east-1:123456789012:t", Message="m"
            ),
            400,
            "Rate exceeded",
        ),
        (
            "s3",
            "GetObject",
            "SlowDown",
            lambda c: c("s3").get_object(Bucket="bucket", Key="a/b.json"),
            503,
            "Please reduce your request rate.",
        ),
    ],
)
def test_boto3_raises_the_injected_code(
    emulator, once, service, operation, code, call, status, message
):
    # GIVEN an error queued for one operation
    emulator.queue_api_error(service, operation, code)

    # WHEN boto3 calls it THEN ClientError carries the code, the message and AWS's HTTP status
    with pytest.raises(ClientError) as raised:
        call(once)
    response = raised.value.response
    assert response["Error"]["Code"] == code
    assert response["Error"]["Message"].startswith(message)
    assert response["ResponseMetadata"]["HTTPStatusCode"] == status
    assert raised.value.operation_name == operation
    assert emulator.control_state()["apiErrors"] == []


def test_lambda_throttle_is_429_with_its_reason(emulator, once):
    emulator.queue_api_error("lambda", "Invoke", "TooManyRequestsException")

    with pytest.raises(once("lambda").exceptions.TooManyRequestsException) as raised:
        once("lambda").invoke(FunctionName="arn:aws:lambda:us-east-1:123456789012:function:f")

    response = raised.value.response
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 429
    assert (response["Type"], response["message"], response["Reason"]) == (
        "User",
        "Rate Exceeded.",
        "ConcurrentInvocationLimitExceeded",
    )


def test_only_the_named_operation_fails_and_times_is_honoured(emulator, once):
    # GIVEN two throttles queued for CreateModel
    sagemaker = once("sagemaker")
    emulator.queue_api_error("sagemaker", "CreateModel", "ThrottlingException", times=2)

    # WHEN other operations run, THEN they are untouched
    assert sagemaker.list_models()["Models"] == []

    # AND CreateModel fails twice, then succeeds
    for _ in range(2):
        with pytest.raises(ClientError, match="ThrottlingException"):
            sagemaker.create_model(**MODEL)
    assert sagemaker.create_model(**MODEL)["ModelArn"].endswith(":model/model")


def test_a_message_replaces_the_usual_text(emulator, once):
    emulator.queue_api_error(
        "sagemaker", "DescribeEndpoint", "ValidationException", message="Could not find endpoint"
    )

    with pytest.raises(ClientError, match=r"\(ValidationException\).*Could not find endpoint"):
        once("sagemaker").describe_endpoint(EndpointName="ep")


def test_the_lambda_code_sees_the_injected_error(emulator, aws, role_arn):
    # GIVEN a handler that calls SageMaker once, and a throttle queued for that call
    code = """
import boto3
from botocore.config import Config
from botocore.exceptions import ClientError


def handler(event, context):
    client = boto3.client("sagemaker", config=Config(retries={"total_max_attempts": 1}))
    try:
        client.list_models()
    except ClientError as error:
        return error.response["Error"]
    return {"Code": None}
"""
    aws("lambda").create_function(
        FunctionName="caller",
        Runtime="python3.12",
        Role=role_arn,
        Handler="caller.handler",
        Code={"ZipFile": zip_of({"caller.py": code})},
    )
    emulator.queue_api_error("sagemaker", "ListModels", "ThrottlingException")

    # WHEN the function runs THEN its boto3 call raised the throttle
    result = json.loads(aws("lambda").invoke(FunctionName="caller")["Payload"].read())
    assert result == {"Code": "ThrottlingException", "Message": "Rate exceeded"}


# What a state machine sees -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "error", "status"),
    [
        # Not in SageMaker's API model: the integration's catch-all name.
        ("ThrottlingException", "SageMaker.AmazonSageMakerException", "400"),
        ("ServiceUnavailable", "SageMaker.AmazonSageMakerException", "503"),
        # Modelled: its own name, as connect-sagemaker.html's example retries it.
        ("ResourceLimitExceeded", "SageMaker.ResourceLimitExceededException", "400"),
    ],
)
def test_optimised_sagemaker_task_sees_the_aws_error_name_and_cause(
    emulator, run_state_machine, code, error, status
):
    # GIVEN an error queued for CreateModel
    emulator.queue_api_error("sagemaker", "CreateModel", code)

    # WHEN a sagemaker:createModel task runs
    result = output_of(run_state_machine(caught("arn:aws:states:::sagemaker:createModel", MODEL)))

    # THEN it fails with the AWS error name and AWS's cause format
    assert result["error"]["Error"] == error
    cause = CAUSE.match(result["error"]["Cause"])
    assert cause is not None, result["error"]["Cause"]
    assert (cause["service"], cause["status"], cause["code"]) == ("AmazonSageMaker", status, code)
    if code == "ThrottlingException":
        assert cause["message"] == "Rate exceeded"


def test_a_retry_on_the_aws_name_outlasts_the_queue(emulator, run_state_machine, aws):
    # GIVEN two throttles on CreateModel and a task that retries AmazonSageMakerException
    emulator.queue_api_error("sagemaker", "CreateModel", "ThrottlingException", times=2)
    retry = [
        {
            "ErrorEquals": ["SageMaker.AmazonSageMakerException"],
            "IntervalSeconds": 1,
            "MaxAttempts": 2,
            "BackoffRate": 1,
        }
    ]

    # WHEN it runs
    result = output_of(
        run_state_machine(task("arn:aws:states:::sagemaker:createModel", MODEL, Retry=retry))
    )

    # THEN the third attempt creates the model
    assert result["ModelArn"].endswith(":model/model")
    assert [m["ModelName"] for m in aws("sagemaker").list_models()["Models"]] == ["model"]


def test_lambda_invoke_task_sees_too_many_requests(emulator, run_state_machine, aws, role_arn):
    arn = aws("lambda").create_function(
        FunctionName="echo",
        Runtime="python3.12",
        Role=role_arn,
        Handler="echo.handler",
        Code={"ZipFile": zip_of({"echo.py": "def handler(event, context):\n    return event\n"})},
    )["FunctionArn"]
    emulator.queue_api_error("lambda", "Invoke", "TooManyRequestsException")

    result = output_of(
        run_state_machine(
            caught("arn:aws:states:::lambda:invoke", {"FunctionName": arn, "Payload": {}})
        )
    )

    assert result["error"]["Error"] == "Lambda.TooManyRequestsException"
    cause = CAUSE.match(result["error"]["Cause"])
    assert cause is not None, result["error"]["Cause"]
    assert (cause["message"], cause["service"], cause["status"]) == (
        "Rate Exceeded.",
        "AWSLambda",
        "429",
    )


def test_sync_polling_is_not_the_workflows_call(emulator, once, aws, role_arn):
    # GIVEN errors queued for the Describe calls that .sync tasks poll with
    sfn = aws("stepfunctions")
    emulator.set_progression(2)
    child = sfn.create_state_machine(
        name="child",
        definition=json.dumps({"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}),
        roleArn=role_arn,
    )["stateMachineArn"]
    definition = {
        "StartAt": "Tune",
        "States": {
            "Tune": {
                "Type": "Task",
                "Resource": TUNE_SYNC,
                "Parameters": tuning_request(),
                "ResultPath": None,
                "Next": "Child",
            },
            "Child": {
                "Type": "Task",
                "Resource": "arn:aws:states:::states:startExecution.sync:2",
                "Parameters": {"StateMachineArn": child},
                "End": True,
            },
        },
    }
    machine = sfn.create_state_machine(
        name="parent", definition=json.dumps(definition), roleArn=role_arn
    )["stateMachineArn"]
    emulator.queue_api_error("sagemaker", "DescribeHyperParameterTuningJob", "ThrottlingException")
    emulator.queue_api_error("stepfunctions", "DescribeExecution", "ThrottlingException")

    # WHEN .sync tasks poll their job and their child (the test watches with ListExecutions)
    sfn.start_execution(stateMachineArn=machine, input="{}")
    deadline = time.monotonic() + 30
    while (status := sfn.list_executions(stateMachineArn=machine)["executions"][0]["status"]) == (
        "RUNNING"
    ):
        assert time.monotonic() < deadline
        time.sleep(0.1)

    # THEN Step Functions' own polling did not take the errors: the run succeeded, and they wait
    # for the workflow's own calls
    assert status == "SUCCEEDED"
    assert [e["operation"] for e in emulator.control_state()["apiErrors"]] == [
        "DescribeHyperParameterTuningJob",
        "DescribeExecution",
    ]
    with pytest.raises(ClientError, match="ThrottlingException"):
        once("sagemaker").describe_hyper_parameter_tuning_job(HyperParameterTuningJobName="tune")


# The control route -------------------------------------------------------------------------------


def test_http_route_queues_errors(emulator, once):
    status, state = post(
        emulator.endpoint_url + "/smtune-emulator/api-errors",
        {
            "service": "sagemaker",
            "operation": "CreateModel",
            "code": "ThrottlingException",
            "times": 2,
        },
    )

    assert status == 200
    assert [(e["operation"], e["code"], e["httpStatus"]) for e in state["apiErrors"]] == [
        ("CreateModel", "ThrottlingException", 400)
    ] * 2
    with pytest.raises(ClientError, match="ThrottlingException"):
        once("sagemaker").create_model(**MODEL)
    assert len(emulator.control_state()["apiErrors"]) == 1


def test_reset_clears_queued_errors(emulator, once):
    emulator.queue_api_error("sagemaker", "CreateModel", "ThrottlingException", times=3)
    emulator.queue_api_error("lambda", "Invoke", "TooManyRequestsException")

    assert post(emulator.endpoint_url + "/smtune-emulator/reset", {})[0] == 200

    assert emulator.control_state()["apiErrors"] == []
    assert once("sagemaker").create_model(**MODEL)["ModelArn"].endswith(":model/model")


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (
            {"service": "ec2", "operation": "RunInstances", "code": "ThrottlingException"},
            "service: must be one of sagemaker, lambda, stepfunctions",
        ),
        (
            {"service": "sagemaker", "operation": "createModel", "code": "ThrottlingException"},
            "operation: 'createModel' is not an operation of sagemaker",
        ),
        ({"service": "sagemaker", "code": "ThrottlingException"}, "operation: is required"),
        (
            {"service": "lambda", "operation": "Invoke", "code": "ResourceLimitExceeded"},
            "code: lambda does not answer with 'ResourceLimitExceeded'",
        ),
        (
            {"service": "sagemaker", "operation": "CreateModel", "code": "ResourceNotFound"},
            "message: is required for ResourceNotFound",
        ),
        (
            {
                "service": "sagemaker",
                "operation": "CreateModel",
                "code": "ThrottlingException",
                "times": 0,
            },
            "times: must be between 1 and 100",
        ),
        (
            {
                "service": "sagemaker",
                "operation": "CreateModel",
                "code": "ThrottlingException",
                "status": 418,
            },
            "status: unknown field",
        ),
    ],
)
def test_bad_fields_are_400_naming_the_field(emulator, body, message):
    status, answer = post(emulator.endpoint_url + "/smtune-emulator/api-errors", body)

    assert status == 400
    assert message in answer["message"]
    assert emulator.control_state()["apiErrors"] == []
