"""Asynchronous Lambda invocations (InvocationType Event, S3 notifications): retries per the
event invoke config, then the invocation record at the destination, as AWS documents
(https://docs.aws.amazon.com/lambda/latest/dg/invocation-async.html)."""

from __future__ import annotations

import json
import time
from typing import Any
from urllib.parse import unquote_plus

import pytest

from smtune.emulator import lambda_async
from tests.support.emulator import moto_as_released, zip_of

pytestmark = pytest.mark.emulator

HANDLERS = {
    "asyncapp/__init__.py": "",
    "asyncapp/handlers.py": """
import boto3


class NotReady(Exception):
    pass


def refuse(event, context):
    raise NotReady("not ready")


def second_time_lucky(event, context):
    s3 = boto3.client("s3")
    if "Contents" not in s3.list_objects_v2(Bucket="attempts"):
        s3.put_object(Bucket="attempts", Key="first", Body=b"")
        raise NotReady("first attempt")
    return {"ok": True}
""",
}


@pytest.fixture
def functions(aws: Any, role_arn: str) -> Any:
    lam = aws("lambda")
    for name, handler in [
        ("refuse", "asyncapp.handlers.refuse"),
        ("second-time-lucky", "asyncapp.handlers.second_time_lucky"),
    ]:
        lam.create_function(
            FunctionName=name,
            Runtime="python3.12",
            Role=role_arn,
            Handler=handler,
            Code={"ZipFile": zip_of(HANDLERS)},
            Timeout=30,
        )
    return lam


@pytest.fixture
def queue(aws: Any) -> dict[str, str]:
    sqs = aws("sqs")
    url = sqs.create_queue(QueueName="destination")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    return {"url": url, "arn": arn}


def next_record(aws: Any, queue_url: str, timeout: float = 20.0) -> dict[str, Any]:
    sqs = aws("sqs")
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        messages = sqs.receive_message(QueueUrl=queue_url, WaitTimeSeconds=1).get("Messages", [])
        if messages:
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=messages[0]["ReceiptHandle"])
            return dict(json.loads(messages[0]["Body"]))
    raise AssertionError(f"no invocation record reached {queue_url} within {timeout:.0f} s")


def log_lines(aws: Any, function_name: str, starting: str) -> list[str]:
    """The lines of the function's log that start with `starting` (none before it has one)."""
    logs = aws("logs")
    group = f"/aws/lambda/{function_name}"
    if not logs.describe_log_groups(logGroupNamePrefix=group)["logGroups"]:
        return []
    events = logs.filter_log_events(logGroupName=group)["events"]
    return [e["message"] for e in events if e["message"].startswith(starting)]


def started_request_ids(aws: Any, function_name: str) -> list[str]:
    return [line.split()[2] for line in log_lines(aws, function_name, "START RequestId:")]


def test_a_failing_event_is_retried_then_its_record_goes_to_the_on_failure_destination(
    functions: Any, aws: Any, queue: dict[str, str]
) -> None:
    # GIVEN a function that always fails, one retry, and an on-failure queue
    functions.put_function_event_invoke_config(
        FunctionName="refuse",
        MaximumRetryAttempts=1,
        DestinationConfig={"OnFailure": {"Destination": queue["arn"]}},
    )

    # WHEN it is invoked asynchronously
    response = functions.invoke(
        FunctionName="refuse", InvocationType="Event", Payload=json.dumps({"order": 7}).encode()
    )

    # THEN the caller is answered at once, and the record comes after two attempts
    assert response["StatusCode"] == 202
    record = next_record(aws, queue["url"])
    context = record["requestContext"]
    assert record["version"] == "1.0"
    assert record["timestamp"].endswith("Z")
    assert context["condition"] == "RetriesExhausted"
    assert context["approximateInvokeCount"] == 2
    assert context["functionArn"] == (
        functions.get_function(FunctionName="refuse")["Configuration"]["FunctionArn"] + ":$LATEST"
    )
    assert record["requestPayload"] == {"order": 7}
    assert record["responseContext"] == {
        "statusCode": 200,
        "executedVersion": "$LATEST",
        "functionError": "Unhandled",
    }
    assert record["responsePayload"]["errorType"] == "NotReady"
    # Every attempt ran under the invocation's request ID.
    assert started_request_ids(aws, "refuse") == [context["requestId"]] * 2


def test_an_s3_notification_is_asynchronous_with_two_retries_by_default(
    functions: Any, aws: Any, queue: dict[str, str]
) -> None:
    # GIVEN an upload bucket that notifies the failing function, whose config names only
    # a destination (so the retries are Lambda's default)
    s3 = aws("s3")
    s3.create_bucket(Bucket="uploads")
    arn = functions.get_function(FunctionName="refuse")["Configuration"]["FunctionArn"]
    functions.put_function_event_invoke_config(
        FunctionName="refuse", DestinationConfig={"OnFailure": {"Destination": queue["arn"]}}
    )
    s3.put_bucket_notification_configuration(
        Bucket="uploads",
        NotificationConfiguration={
            "LambdaFunctionConfigurations": [
                {"LambdaFunctionArn": arn, "Events": ["s3:ObjectCreated:*"]}
            ]
        },
    )

    # WHEN an object is uploaded
    s3.put_object(Bucket="uploads", Key="manifests/run 1.json", Body=b"{}")

    # THEN PutObject did not wait for the handler, and the record carries the S3 event
    assert started_request_ids(aws, "refuse") == []
    record = next_record(aws, queue["url"])
    assert record["requestContext"]["approximateInvokeCount"] == 3
    (s3_record,) = record["requestPayload"]["Records"]
    assert s3_record["eventName"] == "ObjectCreated:Put"
    assert s3_record["s3"]["bucket"]["name"] == "uploads"
    assert unquote_plus(s3_record["s3"]["object"]["key"]) == "manifests/run 1.json"


def test_a_retry_that_succeeds_goes_to_the_on_success_destination(
    functions: Any, aws: Any, queue: dict[str, str]
) -> None:
    aws("s3").create_bucket(Bucket="attempts")
    functions.put_function_event_invoke_config(
        FunctionName="second-time-lucky",
        DestinationConfig={"OnSuccess": {"Destination": queue["arn"]}},
    )

    functions.invoke(FunctionName="second-time-lucky", InvocationType="Event", Payload=b"{}")

    record = next_record(aws, queue["url"])
    assert record["requestContext"]["condition"] == "Success"
    assert record["requestContext"]["approximateInvokeCount"] == 2
    assert record["responseContext"] == {"statusCode": 200, "executedVersion": "$LATEST"}
    assert record["responsePayload"] == {"ok": True}


def test_an_undeliverable_record_is_named_in_the_functions_log(
    functions: Any, aws: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(lambda_async, "RETRY_DELAYS_SECONDS", (0.1, 0.1))
    missing = "arn:aws:sqs:us-east-1:123456789012:deleted-queue"
    functions.put_function_event_invoke_config(
        FunctionName="refuse",
        MaximumRetryAttempts=0,
        DestinationConfig={"OnFailure": {"Destination": missing}},
    )

    functions.invoke(FunctionName="refuse", InvocationType="Event", Payload=b"{}")

    deadline = time.monotonic() + 20
    while not (found := [x for x in log_lines(aws, "refuse", "RequestId:") if "deliver" in x]):
        assert time.monotonic() < deadline, "the undeliverable record was not logged"
        time.sleep(0.2)
    assert missing in found[0]


def test_put_replaces_the_event_invoke_config_and_update_changes_only_its_fields(
    functions: Any, queue: dict[str, str]
) -> None:
    functions.put_function_event_invoke_config(FunctionName="refuse", MaximumRetryAttempts=0)
    functions.put_function_event_invoke_config(
        FunctionName="refuse", MaximumRetryAttempts=1, MaximumEventAgeInSeconds=600
    )
    replaced = functions.get_function_event_invoke_config(FunctionName="refuse")
    functions.update_function_event_invoke_config(
        FunctionName="refuse", DestinationConfig={"OnFailure": {"Destination": queue["arn"]}}
    )
    updated = functions.get_function_event_invoke_config(FunctionName="refuse")

    assert (replaced["MaximumRetryAttempts"], replaced["MaximumEventAgeInSeconds"]) == (1, 600)
    assert (updated["MaximumRetryAttempts"], updated["MaximumEventAgeInSeconds"]) == (1, 600)
    assert updated["DestinationConfig"]["OnFailure"]["Destination"] == queue["arn"]


def test_moto_keeps_the_first_event_invoke_config_without_the_patch(functions: Any) -> None:
    with moto_as_released():
        functions.put_function_event_invoke_config(FunctionName="refuse", MaximumRetryAttempts=0)
        functions.put_function_event_invoke_config(FunctionName="refuse", MaximumRetryAttempts=1)
        config = functions.get_function_event_invoke_config(FunctionName="refuse")

    assert config["MaximumRetryAttempts"] == 0


def test_moto_sends_no_record_without_the_patch(
    functions: Any, aws: Any, queue: dict[str, str]
) -> None:
    functions.put_function_event_invoke_config(
        FunctionName="refuse",
        MaximumRetryAttempts=0,
        DestinationConfig={"OnFailure": {"Destination": queue["arn"]}},
    )

    with moto_as_released():
        response = functions.invoke(FunctionName="refuse", InvocationType="Event", Payload=b"{}")
        time.sleep(1.0)
        received = aws("sqs").receive_message(QueueUrl=queue["url"]).get("Messages", [])

    assert response["StatusCode"] == 202
    assert received == []
