"""Starting the workflow from a manifest upload."""

from __future__ import annotations

import copy
import json
import re
from typing import Any

import pytest

from tuning_workflow.trigger import execution_arn_for, execution_name, start_from_manifest

from .conftest import ROLE_ARN, load_event

DEFINITION = json.dumps({"StartAt": "Done", "States": {"Done": {"Type": "Succeed"}}})


@pytest.fixture
def state_machine_arn(sfn: Any) -> str:
    response = sfn.create_state_machine(
        name="tuning-with-deployment", definition=DEFINITION, roleArn=ROLE_ARN
    )
    return response["stateMachineArn"]


def executions(sfn: Any, arn: str) -> list[dict[str, Any]]:
    return sfn.list_executions(stateMachineArn=arn)["executions"]


def test_an_uploaded_manifest_starts_one_run_with_its_s3_uri(sfn, state_machine_arn):
    result = start_from_manifest(load_event("s3_put_manifest"), state_machine_arn, sfn=sfn)
    [started] = result["started"]
    # the key arrives URL-encoded in S3 events
    assert started["manifestS3Uri"] == "s3://sagemaker-tuner-demo/manifests/titanic run (2024).json"
    execution = sfn.describe_execution(executionArn=started["executionArn"])
    assert json.loads(execution["input"]) == {"manifestS3Uri": started["manifestS3Uri"]}
    assert result["alreadyStarted"] == []
    assert result["skipped"] == []


def test_a_duplicated_event_starts_one_run(sfn, state_machine_arn):
    event = load_event("s3_put_manifest")
    first = start_from_manifest(event, state_machine_arn, sfn=sfn)
    second = start_from_manifest(event, state_machine_arn, sfn=sfn)
    assert len(executions(sfn, state_machine_arn)) == 1
    # a running execution with the same name and input is returned again (counted as started);
    # a finished one is refused with ExecutionAlreadyExists (counted as already started)
    assert (second["started"] + second["alreadyStarted"])[0]["executionArn"] == first["started"][0][
        "executionArn"
    ]


def test_a_finished_run_is_not_started_again_for_the_same_object(sfn, state_machine_arn):
    event = load_event("s3_put_manifest")
    first = start_from_manifest(event, state_machine_arn, sfn=sfn)
    sfn.stop_execution(executionArn=first["started"][0]["executionArn"])
    second = start_from_manifest(event, state_machine_arn, sfn=sfn)
    assert second["started"] == []
    assert second["alreadyStarted"][0]["executionArn"] == first["started"][0]["executionArn"]


def test_new_content_under_the_same_key_starts_a_new_run(sfn, state_machine_arn):
    event = load_event("s3_put_manifest")
    start_from_manifest(event, state_machine_arn, sfn=sfn)
    changed = copy.deepcopy(event)
    changed["Records"][0]["s3"]["object"]["eTag"] = "ffffffffffffffffffffffffffffffff"
    start_from_manifest(changed, state_machine_arn, sfn=sfn)
    assert len(executions(sfn, state_machine_arn)) == 2


@pytest.mark.parametrize(
    ("key", "event_name", "reason"),
    [
        ("other/titanic.json", "ObjectCreated:Put", "outside the manifest prefix 'manifests/'"),
        ("manifests/notes.txt", "ObjectCreated:Put", "not a .json file"),
        ("manifests/titanic.json", "ObjectRemoved:Delete", "not an object creation"),
    ],
)
def test_records_that_are_not_new_manifests_are_skipped(
    sfn, state_machine_arn, key, event_name, reason
):
    event = load_event("s3_put_manifest")
    event["Records"][0]["eventName"] = event_name
    event["Records"][0]["s3"]["object"]["key"] = key
    result = start_from_manifest(event, state_machine_arn, sfn=sfn, manifest_prefix="manifests/")
    assert result["started"] == []
    assert result["skipped"][0]["reason"].startswith(reason)
    assert executions(sfn, state_machine_arn) == []


def test_an_s3_test_event_without_records_does_nothing(sfn, state_machine_arn):
    assert start_from_manifest({"Event": "s3:TestEvent"}, state_machine_arn, sfn=sfn) == {
        "started": [],
        "alreadyStarted": [],
        "skipped": [],
    }


def test_execution_names_are_valid_bounded_and_deterministic():
    long_key = "manifests/" + "very long key with spaces & symbols!" * 5 + ".json"
    name = execution_name("bucket", long_key, "etag-1")
    assert len(name) <= 80
    assert re.fullmatch(r"[A-Za-z0-9_-]+", name)
    assert name == execution_name("bucket", long_key, "etag-1")
    assert name != execution_name("bucket", long_key, "etag-2")
    assert name != execution_name("other-bucket", long_key, "etag-1")
    assert execution_name("b", "manifests/titanic.json", "e").startswith("titanic-")


def test_execution_arns_are_derived_from_the_state_machine_arn():
    machine = "arn:aws:states:us-east-1:123456789012:stateMachine:tuning-with-deployment"
    assert execution_arn_for(machine, "run-1") == (
        "arn:aws:states:us-east-1:123456789012:execution:tuning-with-deployment:run-1"
    )
