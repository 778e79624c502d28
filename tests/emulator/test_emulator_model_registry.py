"""The SageMaker model registry (groups, versions, approval) and its EventBridge events, Lambda
targets of EventBridge rules, and the best-objective control."""

from __future__ import annotations

import json
import math
import time
from typing import Any

import pytest
from botocore.exceptions import ClientError

from smtune.emulator import ControlError
from tests.emulator.test_emulator_sagemaker import tuning_request
from tests.support.emulator import moto_as_released, queue_best_objective, zip_of

pytestmark = pytest.mark.emulator

ACCOUNT = "123456789012"
INFERENCE = {
    "Containers": [{"Image": "img:1", "ModelDataUrl": "s3://models/model.tar.gz"}],
    "SupportedContentTypes": ["text/csv"],
    "SupportedResponseMIMETypes": ["text/csv"],
}
STATE_CHANGE = {
    "source": ["aws.sagemaker"],
    "detail-type": ["SageMaker Model Package State Change"],
}


def error_of(call: Any) -> tuple[str, str]:
    with pytest.raises(ClientError) as raised:
        call()
    error = raised.value.response["Error"]
    return str(error["Code"]), str(error["Message"])


def create_version(sm: Any, group: str = "Churn", **fields: Any) -> str:
    request = {"ModelPackageGroupName": group, "InferenceSpecification": INFERENCE, **fields}
    return str(sm.create_model_package(**request)["ModelPackageArn"])


# Groups ----------------------------------------------------------------------------------------


def test_group_lifecycle_create_describe_list_tags_delete(aws):
    sm = aws("sagemaker")

    arn = sm.create_model_package_group(
        ModelPackageGroupName="Churn",
        ModelPackageGroupDescription="churn models",
        Tags=[{"Key": "owner", "Value": "team"}],
    )["ModelPackageGroupArn"]

    assert arn == f"arn:aws:sagemaker:us-east-1:{ACCOUNT}:model-package-group/churn"
    described = sm.describe_model_package_group(ModelPackageGroupName="Churn")
    assert described["ModelPackageGroupName"] == "Churn"
    assert described["ModelPackageGroupStatus"] == "Completed"
    assert described["ModelPackageGroupDescription"] == "churn models"
    assert "CreatedBy" in described
    # The request pattern accepts the group's ARN too.
    assert sm.describe_model_package_group(ModelPackageGroupName=arn)["ModelPackageGroupArn"] == arn
    assert [
        g["ModelPackageGroupName"]
        for g in sm.list_model_package_groups()["ModelPackageGroupSummaryList"]
    ] == ["Churn"]
    assert sm.list_tags(ResourceArn=arn)["Tags"] == [{"Key": "owner", "Value": "team"}]

    sm.delete_model_package_group(ModelPackageGroupName="Churn")

    assert sm.list_model_package_groups()["ModelPackageGroupSummaryList"] == []
    assert error_of(lambda: sm.describe_model_package_group(ModelPackageGroupName="Churn"))[0] == (
        "ValidationException"
    )


def test_a_group_name_in_use_is_refused(aws):
    sm = aws("sagemaker")
    sm.create_model_package_group(ModelPackageGroupName="Churn", ModelPackageGroupDescription="a")

    code, message = error_of(
        lambda: sm.create_model_package_group(
            ModelPackageGroupName="Churn", ModelPackageGroupDescription="b"
        )
    )

    assert code == "ValidationException"
    assert "already exists" in message
    assert (
        sm.describe_model_package_group(ModelPackageGroupName="Churn")[
            "ModelPackageGroupDescription"
        ]
        == "a"
    )


def test_a_group_with_versions_cannot_be_deleted_until_they_are(aws):
    sm = aws("sagemaker")
    sm.create_model_package_group(ModelPackageGroupName="Churn")
    version = create_version(sm)

    assert error_of(lambda: sm.delete_model_package_group(ModelPackageGroupName="Churn"))[0] == (
        "ConflictException"
    )
    sm.delete_model_package(ModelPackageName=version)
    sm.delete_model_package_group(ModelPackageGroupName="Churn")

    assert sm.list_model_package_groups()["ModelPackageGroupSummaryList"] == []


def test_moto_cannot_delete_a_group(aws):
    sm = aws("sagemaker")
    sm.create_model_package_group(ModelPackageGroupName="Churn")

    with moto_as_released(), pytest.raises(ClientError) as raised:
        sm.delete_model_package_group(ModelPackageGroupName="Churn")

    assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == 500


# Versions --------------------------------------------------------------------------------------


def test_versions_are_numbered_per_group_and_described_by_arn(aws):
    sm = aws("sagemaker")
    for group in ("Churn", "Fraud"):
        sm.create_model_package_group(ModelPackageGroupName=group)

    arns = [
        create_version(
            sm,
            ModelPackageDescription=f"run {i}",
            ModelApprovalStatus="PendingManualApproval",
            CustomerMetadataProperties={"objective": str(i)},
            Tags=[{"Key": "run-id", "Value": f"r{i}"}],
        )
        for i in (1, 2, 3)
    ]
    other = create_version(sm, group="Fraud")

    prefix = f"arn:aws:sagemaker:us-east-1:{ACCOUNT}:model-package/"
    assert arns == [f"{prefix}churn/1", f"{prefix}churn/2", f"{prefix}churn/3"]
    assert other == f"{prefix}fraud/1"
    described = sm.describe_model_package(ModelPackageName=arns[1])
    assert described["ModelPackageGroupName"] == "Churn"
    assert described["ModelPackageVersion"] == 2
    assert described["ModelPackageDescription"] == "run 2"
    assert described["ModelApprovalStatus"] == "PendingManualApproval"
    assert described["CustomerMetadataProperties"] == {"objective": "2"}
    assert described["InferenceSpecification"] == INFERENCE
    assert sm.list_tags(ResourceArn=arns[1])["Tags"] == [{"Key": "run-id", "Value": "r2"}]


def test_a_version_without_approval_status_is_pending_manual_approval(aws):
    sm = aws("sagemaker")
    sm.create_model_package_group(ModelPackageGroupName="Churn")

    arn = create_version(sm)

    assert sm.describe_model_package(ModelPackageName=arn)["ModelApprovalStatus"] == (
        "PendingManualApproval"
    )


def test_version_numbers_are_not_reused_after_a_deletion(aws):
    sm = aws("sagemaker")
    sm.create_model_package_group(ModelPackageGroupName="Churn")
    first, second = create_version(sm), create_version(sm)
    sm.delete_model_package(ModelPackageName=first)

    third = create_version(sm)

    assert third.endswith("/churn/3")
    assert sm.describe_model_package(ModelPackageName=second)["ModelPackageVersion"] == 2


def test_list_model_packages_filters_and_sorts(aws):
    sm = aws("sagemaker")
    sm.create_model_package_group(ModelPackageGroupName="Churn")
    sm.create_model_package_group(ModelPackageGroupName="Fraud")
    arns = [create_version(sm, ModelApprovalStatus=s) for s in ("Approved", "Rejected", "Approved")]
    create_version(sm, group="Fraud", ModelApprovalStatus="Approved")

    def listed(**filters: Any) -> list[str]:
        answer = sm.list_model_packages(ModelPackageGroupName="Churn", **filters)
        return [p["ModelPackageArn"] for p in answer["ModelPackageSummaryList"]]

    assert listed(SortBy="CreationTime", SortOrder="Descending") == arns[::-1]
    assert listed(SortBy="CreationTime", SortOrder="Ascending") == arns
    assert listed(
        ModelApprovalStatus="Approved", SortBy="CreationTime", SortOrder="Descending"
    ) == [
        arns[2],
        arns[0],
    ]


def test_update_changes_only_the_given_fields(aws):
    sm = aws("sagemaker")
    sm.create_model_package_group(ModelPackageGroupName="Churn")
    arn = create_version(
        sm, ModelApprovalStatus="PendingManualApproval", CustomerMetadataProperties={"a": "1"}
    )

    sm.update_model_package(
        ModelPackageArn=arn, ModelApprovalStatus="Approved", ApprovalDescription="looks good"
    )
    sm.update_model_package(ModelPackageArn=arn, CustomerMetadataProperties={"b": "2"})

    described = sm.describe_model_package(ModelPackageName=arn)
    assert described["ModelApprovalStatus"] == "Approved"
    assert described["ApprovalDescription"] == "looks good"
    assert described["CustomerMetadataProperties"] == {"a": "1", "b": "2"}
    assert "LastModifiedTime" in described


def test_moto_erases_the_fields_an_update_does_not_give(aws):
    sm = aws("sagemaker")
    sm.create_model_package_group(ModelPackageGroupName="Churn")
    arn = create_version(sm, ModelApprovalStatus="Approved", CustomerMetadataProperties={"a": "1"})

    with moto_as_released():
        sm.update_model_package(ModelPackageArn=arn, ApprovalDescription="note")
        described = sm.describe_model_package(ModelPackageName=arn)

    assert "ModelApprovalStatus" not in described
    assert "CustomerMetadataProperties" not in described


# EventBridge -----------------------------------------------------------------------------------

HANDLERS = {
    "eventapp/__init__.py": "",
    "eventapp/handlers.py": """
import json
import boto3


def record(event, context):
    sqs = boto3.client("sqs")
    url = sqs.get_queue_url(QueueName="seen")["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody=json.dumps(event))
    return {"ok": True}


def refuse(event, context):
    raise RuntimeError("not now")
""",
}


@pytest.fixture
def seen(aws: Any) -> str:
    return str(aws("sqs").create_queue(QueueName="seen")["QueueUrl"])


@pytest.fixture
def lambda_target(aws: Any, role_arn: str, seen: str) -> str:
    """A function that sends every event it gets to the `seen` queue; its ARN."""
    return str(
        aws("lambda").create_function(
            FunctionName="record-event",
            Runtime="python3.12",
            Role=role_arn,
            Handler="eventapp.handlers.record",
            Code={"ZipFile": zip_of(HANDLERS)},
            Timeout=30,
        )["FunctionArn"]
    )


def route(aws: Any, target_arn: str, pattern: dict[str, Any], name: str = "rule") -> None:
    events = aws("events")
    events.put_rule(Name=name, EventPattern=json.dumps(pattern))
    events.put_targets(Rule=name, Targets=[{"Id": "1", "Arn": target_arn}])


def received(aws: Any, queue_url: str, count: int, timeout: float = 30.0) -> list[dict]:
    sqs = aws("sqs")
    bodies: list[dict] = []
    deadline = time.monotonic() + timeout
    while len(bodies) < count:
        assert time.monotonic() < deadline, f"{len(bodies)} of {count} events arrived"
        answer = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=1)
        for message in answer.get("Messages", []):
            bodies.append(json.loads(message["Body"]))
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
    return bodies


def test_put_events_reaches_a_lambda_target_asynchronously(aws, lambda_target, seen):
    route(aws, lambda_target, {"source": ["app.test"]})

    answer = aws("events").put_events(
        Entries=[
            {"Source": "app.test", "DetailType": "Thing", "Detail": json.dumps({"n": 1})},
            {"Source": "other", "DetailType": "Thing", "Detail": json.dumps({"n": 2})},
        ]
    )

    assert answer["FailedEntryCount"] == 0
    [event] = received(aws, seen, 1)
    assert event["source"] == "app.test"
    assert event["detail-type"] == "Thing"
    assert event["detail"] == {"n": 1}
    assert event["account"] == ACCOUNT
    assert event["time"].endswith("Z")
    assert event["id"] == answer["Entries"][0]["EventId"]


def test_a_disabled_rule_delivers_nothing(aws, seen):
    # An SQS target is delivered to inside PutEvents, so the queue shows it at once.
    queue_arn = aws("sqs").get_queue_attributes(QueueUrl=seen, AttributeNames=["QueueArn"])[
        "Attributes"
    ]["QueueArn"]
    route(aws, queue_arn, {"source": ["app.test"]}, name="off")
    aws("events").disable_rule(Name="off")

    aws("events").put_events(Entries=[{"Source": "app.test", "DetailType": "T", "Detail": "{}"}])

    attributes = aws("sqs").get_queue_attributes(
        QueueUrl=seen, AttributeNames=["ApproximateNumberOfMessages"]
    )["Attributes"]
    assert attributes["ApproximateNumberOfMessages"] == "0"
    aws("events").enable_rule(Name="off")
    aws("events").put_events(Entries=[{"Source": "app.test", "DetailType": "T", "Detail": "{}"}])
    assert received(aws, seen, 1)[0]["source"] == "app.test"


def test_moto_fails_put_events_for_a_lambda_target(aws, lambda_target):
    route(aws, lambda_target, {"source": ["app.test"]})
    events = aws("events")

    with moto_as_released(), pytest.raises(ClientError) as raised:
        events.put_events(Entries=[{"Source": "app.test", "DetailType": "T", "Detail": "{}"}])

    assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == 500


def test_failing_lambda_target_is_retried_like_any_asynchronous_invocation(aws, role_arn):
    # GIVEN a rule whose function fails, with an on-failure destination
    lam = aws("lambda")
    fn = lam.create_function(
        FunctionName="refuse-event",
        Runtime="python3.12",
        Role=role_arn,
        Handler="eventapp.handlers.refuse",
        Code={"ZipFile": zip_of(HANDLERS)},
        Timeout=30,
    )["FunctionArn"]
    failures = aws("sqs").create_queue(QueueName="failures")["QueueUrl"]
    failures_arn = aws("sqs").get_queue_attributes(QueueUrl=failures, AttributeNames=["QueueArn"])[
        "Attributes"
    ]["QueueArn"]
    lam.put_function_event_invoke_config(
        FunctionName="refuse-event",
        MaximumRetryAttempts=1,
        DestinationConfig={"OnFailure": {"Destination": failures_arn}},
    )
    route(aws, fn, {"source": ["app.test"]})

    # WHEN an event matches
    aws("events").put_events(Entries=[{"Source": "app.test", "DetailType": "T", "Detail": "{}"}])

    # THEN after the retry the invocation record reaches the destination
    [record] = received(aws, failures, 1)
    assert record["requestContext"]["condition"] == "RetriesExhausted"
    assert record["requestContext"]["approximateInvokeCount"] == 2
    assert record["requestPayload"]["source"] == "app.test"


def test_model_package_state_changes_reach_the_rules_lambda(aws, lambda_target, seen):
    # GIVEN a rule for approved or rejected versions of the Churn group
    route(
        aws,
        lambda_target,
        {**STATE_CHANGE, "detail": {"ModelPackageGroupName": ["Churn"]}},
    )
    sm = aws("sagemaker")
    sm.create_model_package_group(ModelPackageGroupName="Churn")

    # WHEN a version is created, approved, "approved" again (no change) and rejected
    arn = create_version(sm, ModelApprovalStatus="PendingManualApproval")
    [created] = received(aws, seen, 1)
    sm.update_model_package(ModelPackageArn=arn, ModelApprovalStatus="Approved")
    [approved] = received(aws, seen, 1)
    sm.update_model_package(ModelPackageArn=arn, ApprovalDescription="same status")
    sm.update_model_package(ModelPackageArn=arn, ModelApprovalStatus="Rejected")
    [rejected] = received(aws, seen, 1)

    # THEN one event per creation and per status change, shaped as SageMaker sends it
    assert created["source"] == "aws.sagemaker"
    assert created["detail-type"] == "SageMaker Model Package State Change"
    assert created["resources"] == [arn]
    detail = created["detail"]
    assert detail["ModelPackageGroupName"] == "Churn"
    assert detail["ModelPackageVersion"] == 1
    assert detail["ModelPackageArn"] == arn
    assert detail["ModelApprovalStatus"] == "PendingManualApproval"
    assert isinstance(detail["CreationTime"], int)
    assert approved["detail"]["ModelApprovalStatus"] == "Approved"
    assert rejected["detail"]["ModelApprovalStatus"] == "Rejected"
    assert rejected["detail"]["ApprovalDescription"] == "same status"


def test_state_change_events_follow_the_rules_pattern(aws, lambda_target, seen):
    route(aws, lambda_target, {**STATE_CHANGE, "detail": {"ModelApprovalStatus": ["Approved"]}})
    sm = aws("sagemaker")
    sm.create_model_package_group(ModelPackageGroupName="Churn")
    arn = create_version(sm, ModelApprovalStatus="PendingManualApproval")

    sm.update_model_package(ModelPackageArn=arn, ModelApprovalStatus="Approved")

    [event] = received(aws, seen, 1)
    assert event["detail"]["ModelApprovalStatus"] == "Approved"


# Best objective --------------------------------------------------------------------------------


@pytest.mark.parametrize(("objective", "value"), [("Maximize", 0.42), ("Minimize", 7.5)])
def test_queued_best_objective_is_the_next_tuning_jobs_best(aws, emulator, objective, value):
    sm = aws("sagemaker")
    queue_best_objective(emulator.endpoint_url, value)

    sm.create_hyper_parameter_tuning_job(**tuning_request("tune-a", objective, max_jobs=5))
    sm.create_hyper_parameter_tuning_job(**tuning_request("tune-b", objective, max_jobs=5))

    best = sm.describe_hyper_parameter_tuning_job(HyperParameterTuningJobName="tune-a")[
        "BestTrainingJob"
    ]
    assert best["FinalHyperParameterTuningJobObjectiveMetric"]["Value"] == value
    jobs = sm.list_training_jobs_for_hyper_parameter_tuning_job(
        HyperParameterTuningJobName="tune-a"
    )["TrainingJobSummaries"]
    others = [
        j["FinalHyperParameterTuningJobObjectiveMetric"]["Value"]
        for j in jobs
        if j["TrainingJobName"] != best["TrainingJobName"]
    ]
    assert len(others) == 4
    assert all((v < value) if objective == "Maximize" else (v > value) for v in others)
    reported = sm.describe_training_job(TrainingJobName=best["TrainingJobName"])
    assert reported["FinalMetricDataList"][0]["Value"] == value
    # Only the next tuning job: the one after it is as usual.
    following = sm.describe_hyper_parameter_tuning_job(HyperParameterTuningJobName="tune-b")
    assert (
        following["BestTrainingJob"]["FinalHyperParameterTuningJobObjectiveMetric"]["Value"]
        != value
    )
    assert emulator.control_state()["bestObjectives"] == []


def test_a_huge_best_objective_still_leaves_the_others_strictly_worse(aws, emulator):
    emulator.queue_best_objective(1e300)

    aws("sagemaker").create_hyper_parameter_tuning_job(**tuning_request("tune-c", max_jobs=4))

    jobs = aws("sagemaker").list_training_jobs_for_hyper_parameter_tuning_job(
        HyperParameterTuningJobName="tune-c",
        SortBy="FinalObjectiveMetricValue",
        SortOrder="Descending",
    )["TrainingJobSummaries"]
    values = [j["FinalHyperParameterTuningJobObjectiveMetric"]["Value"] for j in jobs]
    assert values[0] == 1e300
    assert len(set(values)) == 4


@pytest.mark.parametrize("value", [math.nan, math.inf, "0.5", True, None])
def test_best_objective_must_be_a_finite_number(emulator, value):
    with pytest.raises(ControlError, match="value: must be a finite number"):
        emulator.queue_best_objective(value)


def test_best_objective_route_names_the_field(emulator):
    import requests

    answer = requests.post(
        f"{emulator.endpoint_url}/smtune-emulator/best-objectives",
        json={"value": "high"},
        timeout=10,
    )

    assert answer.status_code == 400
    assert answer.json()["message"].startswith("value: must be a finite number")
    state = queue_best_objective(emulator.endpoint_url, 0.9)
    assert state["bestObjectives"] == [0.9]
