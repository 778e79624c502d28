"""An upload that cannot start a run is not lost.

S3 invokes the manifest trigger asynchronously. When StartExecution keeps failing, Lambda
retries twice, then sends its invocation record to the failure queue of the parameter provider
module; the record's requestPayload is the S3 event, with the manifest's bucket and key. Once the
cause is fixed, sending that payload to the function again starts the run; a second replay
starts no second run.

The parameter provider is applied on its own (one function, not the whole workflow), pointed at
a workflow state machine that does not exist yet: the failure every attempt meets.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import unquote_plus

import pytest

from tests.support.terraform import (
    ACCOUNT_ID,
    BUNDLED_PACKAGE,
    REGION,
    REPO_ROOT,
    TerraformDir,
    terraform_binary,
    terraform_environment,
    write_root,
)

pytestmark = [pytest.mark.emulator, pytest.mark.xdist_group("workflow-trigger-failure")]

NAME = "wf-trigger"
BUCKET = f"{NAME}-data"
KEY = "manifests/lost run.json"
MACHINE = f"{NAME}-workflow"
MACHINE_ARN = f"arn:aws:states:{REGION}:{ACCOUNT_ID}:stateMachine:{MACHINE}"


@pytest.fixture(scope="module")
def trigger(
    emulator: Any, clients: Callable[[str], Any], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, Any]]:
    """The parameter provider with the manifest trigger and its bucket notification, applied
    into the emulator; its outputs."""
    clients("s3").create_bucket(Bucket=BUCKET)
    root = write_root(
        tmp_path_factory.mktemp(NAME) / "root",
        REPO_ROOT / "modules" / "ml-parameter-provider",
        {
            "name_prefix": NAME,
            "parameter_store_path": f"/{NAME}",
            "parameters": {"endpointName": "survival-endpoint"},
            "enable_manifest_trigger": True,
            "manage_bucket_notification": True,
            "manifest_bucket_name": BUCKET,
            "state_machine_arn": MACHINE_ARN,
            # The settings the root module gives every component.
            "lambda_settings": {
                "package_path": str(BUNDLED_PACKAGE),
                "runtime": "python3.8",
                "tracing": False,
            },
            "logging": {"level": "ERROR", "include_execution_data": False, "retention_days": 1},
            "aws_context": {
                "partition": "aws",
                "dns_suffix": "amazonaws.com",
                "account_id": ACCOUNT_ID,
                "region": REGION,
            },
        },
    )
    # A module source given as an absolute path is a package of its own: name the repository
    # as the package and the module as its subdirectory, so the module may reach its sibling
    # ../lambda-function.
    config = json.loads((root / "main.tf.json").read_text())
    config["module"]["under_test"]["source"] = f"{REPO_ROOT}//modules/ml-parameter-provider"
    (root / "main.tf.json").write_text(json.dumps(config, indent=2))
    terraform = TerraformDir(root, terraform_binary(), terraform_environment())
    terraform.init()
    terraform.apply({"endpoint_url": emulator.endpoint_url}, parallelism=20)
    yield terraform.outputs()["module"]


def receive_record(
    clients: Callable[[str], Any], queue_url: str, timeout: float = 60.0
) -> dict[str, Any]:
    sqs = clients("sqs")
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        messages = sqs.receive_message(QueueUrl=queue_url, WaitTimeSeconds=1).get("Messages", [])
        if messages:
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=messages[0]["ReceiptHandle"])
            return dict(json.loads(messages[0]["Body"]))
    raise AssertionError(f"nothing reached the failure queue within {timeout:.0f} s")


def executions(clients: Callable[[str], Any]) -> list[str]:
    listed = clients("stepfunctions").list_executions(stateMachineArn=MACHINE_ARN)
    return [e["executionArn"] for e in listed["executions"]]


@pytest.fixture(scope="module")
def lost_upload(
    trigger: dict[str, Any], clients: Callable[[str], Any], manifest: dict[str, Any]
) -> dict[str, Any]:
    """GIVEN a trigger whose workflow does not exist WHEN a manifest is uploaded: the record
    that reaches the failure queue."""
    clients("s3").put_object(Bucket=BUCKET, Key=KEY, Body=json.dumps(manifest).encode())
    return receive_record(clients, trigger["manifest_trigger_failure_queue_url"])


def test_the_failure_queue_gets_the_bucket_and_key_after_the_retries(
    trigger: dict[str, Any], lost_upload: dict[str, Any]
) -> None:
    context = lost_upload["requestContext"]
    (event,) = lost_upload["requestPayload"]["Records"]

    assert context["condition"] == "RetriesExhausted"
    assert context["approximateInvokeCount"] == 3
    assert context["functionArn"] == f"{trigger['manifest_trigger_lambda_arn']}:$LATEST"
    assert event["s3"]["bucket"]["name"] == BUCKET
    assert unquote_plus(event["s3"]["object"]["key"]) == KEY
    assert lost_upload["responseContext"]["functionError"] == "Unhandled"
    assert lost_upload["responsePayload"]["errorType"] == "StateMachineDoesNotExist"


def test_replaying_the_record_starts_the_run_once(
    trigger: dict[str, Any], clients: Callable[[str], Any], lost_upload: dict[str, Any]
) -> None:
    # GIVEN the workflow now exists
    role = clients("iam").create_role(RoleName=f"{MACHINE}-replay", AssumeRolePolicyDocument="{}")
    clients("stepfunctions").create_state_machine(
        name=MACHINE,
        definition=json.dumps({"StartAt": "Run", "States": {"Run": {"Type": "Pass", "End": True}}}),
        roleArn=role["Role"]["Arn"],
    )
    payload = json.dumps(lost_upload["requestPayload"]).encode()

    # WHEN an operator sends the record's payload to the trigger, twice
    replies = [
        json.loads(
            clients("lambda")
            .invoke(FunctionName=trigger["manifest_trigger_lambda_arn"], Payload=payload)["Payload"]
            .read()
        )
        for _ in range(2)
    ]

    # THEN one run started, for the lost manifest
    (started,) = replies[0]["started"]
    # The same execution again: StartExecution is idempotent for the same name and input while
    # the run is going, and refused as ExecutionAlreadyExists once it has ended.
    (again,) = replies[1]["started"] + replies[1]["alreadyStarted"]
    assert again["executionArn"] == started["executionArn"]
    assert started["manifestS3Uri"] == f"s3://{BUCKET}/{KEY}"
    assert executions(clients) == [started["executionArn"]]
