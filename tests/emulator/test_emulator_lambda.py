"""Lambda without Docker: the real handler runs, from the zip, against the emulator."""

from __future__ import annotations

import base64
import json
import time

import pytest

from tests.support.emulator import moto_as_released, output_of, zip_of

pytestmark = pytest.mark.emulator

HANDLERS = {
    "tinyapp/__init__.py": "",
    "tinyapp/handlers.py": """
import os

import boto3


def describe(event, context):
    print("describing", event)
    buckets = [b["Name"] for b in boto3.client("s3").list_buckets()["Buckets"]]
    return {
        "event": event,
        "buckets": buckets,
        "function": context.function_name,
        "setting": os.environ.get("SETTING"),
        "region": os.environ["AWS_REGION"],
        "remaining_ms_positive": context.get_remaining_time_in_millis() > 0,
    }


class NotReady(Exception):
    pass


def refuse(event, context):
    raise NotReady("not ready: " + event["why"])


def on_upload(event, context):
    record = event["Records"][0]["s3"]
    boto3.client("s3").put_object(
        Bucket="marks",
        Key=record["bucket"]["name"] + "/" + record["object"]["key"],
        Body=b"seen",
    )
    return {"ok": True}


def sleepy(event, context):
    import time

    time.sleep(30)
""",
}


@pytest.fixture
def functions(aws, role_arn):
    lam = aws("lambda")
    code = zip_of(HANDLERS)
    for name, handler, timeout in [
        ("describe", "tinyapp.handlers.describe", 30),
        ("refuse", "tinyapp.handlers.refuse", 30),
        ("on-upload", "tinyapp.handlers.on_upload", 30),
        ("sleepy", "tinyapp.handlers.sleepy", 1),
    ]:
        lam.create_function(
            FunctionName=name,
            Runtime="python3.12",
            Role=role_arn,
            Handler=handler,
            Code={"ZipFile": code},
            Timeout=timeout,
            Environment={"Variables": {"SETTING": "from-the-function"}},
        )
    return lam


def invoke(lam, name: str, event: dict, **extra) -> tuple[str | None, dict, dict]:
    response = lam.invoke(FunctionName=name, Payload=json.dumps(event).encode(), **extra)
    return response.get("FunctionError"), json.loads(response["Payload"].read()), response


def test_invoke_runs_the_handler_with_the_functions_environment(functions, aws):
    # GIVEN a bucket the handler can see only through the emulator
    aws("s3").create_bucket(Bucket="visible")

    # WHEN the function is invoked
    error, payload, _ = invoke(functions, "describe", {"n": 1})

    # THEN the handler ran against the emulator with the function's settings
    assert error is None
    assert payload == {
        "event": {"n": 1},
        "buckets": ["visible"],
        "function": "describe",
        "setting": "from-the-function",
        "region": "us-east-1",
        "remaining_ms_positive": True,
    }


def test_handler_output_goes_to_the_log(functions, aws):
    _, _, response = invoke(functions, "describe", {"n": 2}, LogType="Tail")

    assert "describing {'n': 2}" in base64.b64decode(response["LogResult"]).decode()
    streams = aws("logs").describe_log_streams(logGroupName="/aws/lambda/describe")["logStreams"]
    assert streams


def test_an_exception_becomes_an_unhandled_function_error(functions):
    error, payload, _ = invoke(functions, "refuse", {"why": "warming up"})

    assert error == "Unhandled"
    assert payload["errorType"] == "NotReady"
    assert payload["errorMessage"] == "not ready: warming up"
    assert any("handlers.py" in line for line in payload["stackTrace"])


@pytest.mark.parametrize(
    ("handler", "error_type"),
    [
        ("tinyapp.handlers.missing", "Runtime.HandlerNotFound"),
        ("tinyapp.absent.handler", "Runtime.ImportModuleError"),
    ],
)
def test_a_broken_handler_setting_is_reported_like_lambda(functions, role_arn, handler, error_type):
    functions.create_function(
        FunctionName="broken",
        Runtime="python3.12",
        Role=role_arn,
        Handler=handler,
        Code={"ZipFile": zip_of(HANDLERS)},
    )

    error, payload, _ = invoke(functions, "broken", {})

    assert (error, payload["errorType"]) == ("Unhandled", error_type)


def test_a_handler_past_its_timeout_is_stopped(functions, monkeypatch):
    from smtune.emulator import lambda_runtime

    monkeypatch.setattr(lambda_runtime, "STARTUP_ALLOWANCE_SECONDS", 1.0)

    error, payload, _ = invoke(functions, "sleepy", {})

    assert error == "Unhandled"
    assert payload["errorType"] == "Sandbox.Timedout"


def test_step_functions_sees_the_error_type_as_the_error_name(functions, run_state_machine):
    definition = {
        "StartAt": "Describe",
        "States": {
            "Describe": {
                "Type": "Task",
                "Resource": "arn:aws:states:::lambda:invoke",
                "Parameters": {"FunctionName": "describe", "Payload": {"why": "late"}},
                "ResultSelector": {"function.$": "$.Payload.function"},
                "ResultPath": "$.described",
                "Next": "Refuse",
            },
            "Refuse": {
                "Type": "Task",
                "Resource": "arn:aws:states:::lambda:invoke",
                "Parameters": {"FunctionName": "refuse", "Payload": {"why": "late"}},
                "Catch": [{"ErrorEquals": ["NotReady"], "ResultPath": "$.error", "Next": "Caught"}],
                "End": True,
            },
            "Caught": {"Type": "Pass", "End": True},
        },
    }

    result = output_of(run_state_machine(definition))

    assert result["described"] == {"function": "describe"}
    assert result["error"]["Error"] == "NotReady"
    assert json.loads(result["error"]["Cause"])["errorMessage"] == "not ready: late"


def test_a_function_arn_as_task_resource_runs_the_handler(functions, run_state_machine):
    arn = functions.get_function(FunctionName="describe")["Configuration"]["FunctionArn"]
    definition = {
        "StartAt": "Describe",
        "States": {"Describe": {"Type": "Task", "Resource": arn, "End": True}},
    }

    result = output_of(run_state_machine(definition, {"legacy": True}))

    assert (result["event"], result["function"]) == ({"legacy": True}, "describe")


def test_s3_notification_runs_the_handler(functions, aws):
    # GIVEN a bucket that notifies the function of uploads
    s3 = aws("s3")
    s3.create_bucket(Bucket="uploads")
    s3.create_bucket(Bucket="marks")
    arn = functions.get_function(FunctionName="on-upload")["Configuration"]["FunctionArn"]
    s3.put_bucket_notification_configuration(
        Bucket="uploads",
        NotificationConfiguration={
            "LambdaFunctionConfigurations": [
                {"LambdaFunctionArn": arn, "Events": ["s3:ObjectCreated:*"]}
            ]
        },
    )

    # WHEN an object is uploaded
    s3.put_object(Bucket="uploads", Key="manifest.json", Body=b"{}")

    # THEN the handler runs (asynchronously, as S3 invokes functions) and leaves its mark
    deadline = time.monotonic() + 20
    while "Contents" not in s3.list_objects_v2(Bucket="marks", Prefix="uploads/"):
        assert time.monotonic() < deadline, "the S3 notification never ran the handler"
        time.sleep(0.1)
    assert s3.get_object(Bucket="marks", Key="uploads/manifest.json")["Body"].read() == b"seen"


def test_event_invocations_run_in_the_background(functions, aws):
    s3 = aws("s3")
    s3.create_bucket(Bucket="marks")
    event = {"Records": [{"s3": {"bucket": {"name": "async"}, "object": {"key": "k"}}}]}

    response = functions.invoke(
        FunctionName="on-upload", InvocationType="Event", Payload=json.dumps(event).encode()
    )

    assert response["StatusCode"] == 202
    deadline = time.monotonic() + 20
    while "Contents" not in s3.list_objects_v2(Bucket="marks", Prefix="async/"):
        assert time.monotonic() < deadline, "the Event invocation never ran"
        time.sleep(0.1)


def test_moto_echoes_the_payload_without_the_patch(functions):
    with moto_as_released():
        error, payload, _ = invoke(functions, "refuse", {"why": "echo"})

    assert error is None
    assert payload == {"why": "echo"}
