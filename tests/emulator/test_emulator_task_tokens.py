"""`lambda:invoke.waitForTaskToken` tasks and SendTaskSuccess/SendTaskFailure, as Step Functions
documents them (https://docs.aws.amazon.com/step-functions/latest/apireference/API_SendTaskSuccess.html)."""

from __future__ import annotations

import json
import sys
import time
import uuid
from typing import Any, Callable

import pytest
from botocore.exceptions import ClientError

from tests.support.emulator import moto_as_released, output_of, wait_for_execution, zip_of

pytestmark = pytest.mark.emulator

WAIT = "arn:aws:states:::lambda:invoke.waitForTaskToken"

HANDLERS = {
    "tokenapp/__init__.py": "",
    "tokenapp/handlers.py": """
import boto3


def keep_token(event, context):
    boto3.client("s3").put_object(
        Bucket="tokens", Key=event["key"], Body=event["taskToken"].encode()
    )
    return {"kept": event["key"]}
""",
}


@pytest.fixture
def token_function(aws: Any, role_arn: str) -> str:
    aws("s3").create_bucket(Bucket="tokens")
    aws("lambda").create_function(
        FunctionName="keep-token",
        Runtime="python3.12",
        Role=role_arn,
        Handler="tokenapp.handlers.keep_token",
        Code={"ZipFile": zip_of(HANDLERS)},
        Timeout=30,
    )
    return "keep-token"


def waiting_machine(**task_fields: Any) -> dict[str, Any]:
    """Invoke keep-token with the task token, wait; errors are caught into `$.error`."""
    state = {
        "Type": "Task",
        "Resource": WAIT,
        "Parameters": {
            "FunctionName": "keep-token",
            "Payload": {"key.$": "$.key", "taskToken.$": "$$.Task.Token"},
        },
        "ResultPath": "$.approval",
        "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "Caught"}],
        "End": True,
    }
    state.update(task_fields)
    return {
        "StartAt": "Wait",
        "States": {"Wait": state, "Caught": {"Type": "Pass", "End": True}},
    }


@pytest.fixture
def start(aws: Any, role_arn: str, token_function: str) -> Callable[..., tuple[str, str]]:
    """Start a waiting machine; returns (execution ARN, the task token the Lambda received)."""

    def run(definition: dict[str, Any], payload: dict[str, Any] | None = None) -> tuple[str, str]:
        sfn = aws("stepfunctions")
        key = uuid.uuid4().hex
        machine = sfn.create_state_machine(
            name=f"wait-{key[:8]}", definition=json.dumps(definition), roleArn=role_arn
        )
        execution = sfn.start_execution(
            stateMachineArn=machine["stateMachineArn"],
            input=json.dumps({"key": key, **(payload or {})}),
        )
        return execution["executionArn"], token_for(aws, key)

    return run


def token_for(aws: Any, key: str, timeout: float = 30.0) -> str:
    s3 = aws("s3")
    deadline = time.monotonic() + timeout
    while True:
        try:
            return s3.get_object(Bucket="tokens", Key=key)["Body"].read().decode()
        except ClientError as error:
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"the Lambda did not receive a task token in {timeout} s"
                ) from error
            time.sleep(0.1)


def error_code(call: Callable[[], Any]) -> str:
    with pytest.raises(ClientError) as raised:
        call()
    return str(raised.value.response["Error"]["Code"])


def test_send_task_success_output_becomes_the_task_result(aws, start):
    # GIVEN a task waiting for its token, which the Lambda received
    execution_arn, token = start(waiting_machine())
    sfn = aws("stepfunctions")
    assert sfn.describe_execution(executionArn=execution_arn)["status"] == "RUNNING"

    # WHEN the token is answered with success
    sfn.send_task_success(taskToken=token, output=json.dumps({"approvalStatus": "Approved"}))

    # THEN the output is the task's result
    result = output_of(wait_for_execution(sfn, execution_arn))
    assert result["approval"] == {"approvalStatus": "Approved"}
    assert "error" not in result


def test_send_task_failure_is_catchable_with_its_error_and_cause(aws, start):
    execution_arn, token = start(waiting_machine())
    sfn = aws("stepfunctions")

    sfn.send_task_failure(taskToken=token, error="ModelRejected", cause="objective too low")

    result = output_of(wait_for_execution(sfn, execution_arn))
    assert result["error"] == {"Error": "ModelRejected", "Cause": "objective too low"}


def test_timeout_seconds_path_expiring_fails_the_task_with_states_timeout(aws, start):
    # GIVEN a task whose timeout comes from the input
    execution_arn, token = start(
        waiting_machine(TimeoutSecondsPath="$.timeoutSeconds"), {"timeoutSeconds": 2}
    )
    sfn = aws("stepfunctions")

    # WHEN nobody answers in time
    result = output_of(wait_for_execution(sfn, execution_arn))

    # THEN the task failed with States.Timeout, caught; its token is expired
    assert result["error"]["Error"] == "States.Timeout"
    assert error_code(lambda: sfn.send_task_success(taskToken=token, output="{}")) == (
        "TaskTimedOut"
    )


def test_timeout_seconds_expiring_is_states_timeout_too(aws, start):
    execution_arn, _ = start(waiting_machine(TimeoutSeconds=2))

    result = output_of(wait_for_execution(aws("stepfunctions"), execution_arn))

    assert result["error"]["Error"] == "States.Timeout"


def test_a_token_answered_once_is_closed(aws, start):
    execution_arn, token = start(waiting_machine())
    sfn = aws("stepfunctions")
    sfn.send_task_success(taskToken=token, output="{}")

    # A second answer, while the execution runs or after it ended, finds the task closed.
    assert error_code(lambda: sfn.send_task_failure(taskToken=token, error="Late")) == (
        "TaskTimedOut"
    )
    wait_for_execution(sfn, execution_arn)
    assert error_code(lambda: sfn.send_task_success(taskToken=token, output="{}")) == (
        "TaskTimedOut"
    )


def test_unknown_token_and_invalid_output_are_refused(aws, start):
    execution_arn, token = start(waiting_machine())
    sfn = aws("stepfunctions")

    assert error_code(lambda: sfn.send_task_success(taskToken="not-a-token", output="{}")) == (
        "InvalidToken"
    )
    assert error_code(lambda: sfn.send_task_failure(taskToken="not-a-token")) == "InvalidToken"
    assert error_code(lambda: sfn.send_task_success(taskToken=token, output="{not json")) == (
        "InvalidOutput"
    )
    # The refused calls left the task waiting.
    assert sfn.describe_execution(executionArn=execution_arn)["status"] == "RUNNING"
    sfn.stop_execution(executionArn=execution_arn)


def tasks_waiting_for_tokens() -> int:
    """Threads of the Step Functions engine now inside a `.waitForTaskToken` wait."""
    count = 0
    for frame in sys._current_frames().values():
        while frame is not None:
            if frame.f_code.co_name == "_eval_wait_for_task_token":
                count += 1
                break
            frame = frame.f_back
    return count


def wait_until(condition: Callable[[], bool], message: str, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, message
        time.sleep(0.05)


def test_stopping_the_execution_ends_the_wait(aws, start):
    # GIVEN a task that waits for its token without a timeout
    execution_arn, token = start(waiting_machine())
    sfn = aws("stepfunctions")
    wait_until(lambda: tasks_waiting_for_tokens() >= 1, "the task never started waiting")

    # WHEN the execution is stopped
    sfn.stop_execution(executionArn=execution_arn, error="Operator", cause="stop")

    # THEN nothing waits any more, and the token is closed
    wait_until(lambda: tasks_waiting_for_tokens() == 0, "the task still waits for its token")
    assert wait_for_execution(sfn, execution_arn)["status"] == "ABORTED"
    assert error_code(lambda: sfn.send_task_success(taskToken=token, output="{}")) == (
        "TaskTimedOut"
    )


def test_moto_drops_the_cause_and_answers_invalid_token_after_a_timeout(aws, start):
    # moto as released: an expired token of an ended execution is "InvalidToken".
    execution_arn, token = start(waiting_machine(TimeoutSeconds=1))
    sfn = aws("stepfunctions")
    wait_for_execution(sfn, execution_arn)

    with moto_as_released():
        assert error_code(lambda: sfn.send_task_success(taskToken=token, output="{}")) == (
            "InvalidToken"
        )


APPROVAL_HANDLERS = {
    "approvalapp/__init__.py": "",
    "approvalapp/handlers.py": """
import json
import boto3


def register(event, context):
    boto3.client("ssm").put_parameter(
        Name=event["parameter"], Value=event["taskToken"], Type="String", Overwrite=True
    )
    arn = boto3.client("sagemaker").create_model_package(
        ModelPackageGroupName="Churn",
        InferenceSpecification={
            "Containers": [{"Image": "img:1"}],
            "SupportedContentTypes": ["text/csv"],
            "SupportedResponseMIMETypes": ["text/csv"],
        },
        ModelApprovalStatus="PendingManualApproval",
        CustomerMetadataProperties={"taskTokenParameter": event["parameter"]},
    )["ModelPackageArn"]
    return {"modelPackageArn": arn}


def approval_callback(event, context):
    detail = event["detail"]
    described = boto3.client("sagemaker").describe_model_package(
        ModelPackageName=detail["ModelPackageArn"]
    )
    parameter = described["CustomerMetadataProperties"]["taskTokenParameter"]
    token = boto3.client("ssm").get_parameter(Name=parameter)["Parameter"]["Value"]
    boto3.client("stepfunctions").send_task_success(
        taskToken=token,
        output=json.dumps(
            {
                "approvalStatus": detail["ModelApprovalStatus"],
                "modelPackageArn": detail["ModelPackageArn"],
            }
        ),
    )
""",
}


def test_an_approval_event_resumes_the_waiting_task(aws, role_arn):
    # GIVEN a registry group, a rule sending approval decisions to a callback function, and a
    # machine whose task registers a version with its token and waits
    lam, sm, sfn = aws("lambda"), aws("sagemaker"), aws("stepfunctions")
    sm.create_model_package_group(ModelPackageGroupName="Churn")
    for name, handler in [("register", "register"), ("approval", "approval_callback")]:
        lam.create_function(
            FunctionName=name,
            Runtime="python3.12",
            Role=role_arn,
            Handler=f"approvalapp.handlers.{handler}",
            Code={"ZipFile": zip_of(APPROVAL_HANDLERS)},
            Timeout=30,
        )
    events = aws("events")
    events.put_rule(
        Name="approvals",
        EventPattern=json.dumps(
            {
                "source": ["aws.sagemaker"],
                "detail-type": ["SageMaker Model Package State Change"],
                "detail": {"ModelApprovalStatus": ["Approved", "Rejected"]},
            }
        ),
    )
    approval_arn = lam.get_function(FunctionName="approval")["Configuration"]["FunctionArn"]
    events.put_targets(Rule="approvals", Targets=[{"Id": "approval", "Arn": approval_arn}])
    definition = {
        "StartAt": "Register",
        "States": {
            "Register": {
                "Type": "Task",
                "Resource": WAIT,
                "Parameters": {
                    "FunctionName": "register",
                    "Payload": {"parameter": "/approvals/run-1", "taskToken.$": "$$.Task.Token"},
                },
                "TimeoutSeconds": 60,
                "End": True,
            }
        },
    }
    machine = sfn.create_state_machine(
        name="approve", definition=json.dumps(definition), roleArn=role_arn
    )
    execution_arn = sfn.start_execution(stateMachineArn=machine["stateMachineArn"])["executionArn"]

    # WHEN the registered version is approved
    deadline = time.monotonic() + 30
    while not (
        versions := sm.list_model_packages(ModelPackageGroupName="Churn")["ModelPackageSummaryList"]
    ):
        assert time.monotonic() < deadline, "no model package version was registered"
        time.sleep(0.1)
    [version] = versions
    sm.update_model_package(
        ModelPackageArn=version["ModelPackageArn"], ModelApprovalStatus="Approved"
    )

    # THEN the callback's SendTaskSuccess is the task's result
    result = output_of(wait_for_execution(sfn, execution_arn))
    assert result == {
        "approvalStatus": "Approved",
        "modelPackageArn": version["ModelPackageArn"],
    }
