"""Fixtures for the workflow runs: the emulator, and stacks deployed into it with Terraform.

Each stack is this module applied by a root outside the repository (as another repository
would use it) into the local emulator, so the runs execute the rendered state machines with the
real Lambda packages behind the Lambda tasks.
"""

from __future__ import annotations

import copy
import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import boto3
import pytest

from tests.support.terraform import (
    PARAMS_DIR,
    REGION,
    REPO_ROOT,
    TerraformDir,
    ensure_toolchain,
    terraform_binary,
    write_root,
)

pytestmark = pytest.mark.emulator

TERMINAL = {"SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED"}


def deep_merge(base: dict[str, Any], overrides: dict[str, Any]) -> dict[str, Any]:
    merged = copy.deepcopy(base)
    for key, value in overrides.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


@dataclass
class Stack:
    """One deployment of the module in the emulator."""

    name: str
    bucket: str
    outputs: dict[str, Any]
    ml_parameters: dict[str, Any]
    terraform: TerraformDir
    variables: dict[str, Any]
    clients: Callable[[str], Any] = field(repr=False)

    @property
    def parent_arn(self) -> str:
        return str(self.outputs["state_machine_arn"])

    def start(self, state_machine_arn: str, document: dict[str, Any]) -> str:
        response = self.clients("stepfunctions").start_execution(
            stateMachineArn=state_machine_arn, input=json.dumps(document)
        )
        return str(response["executionArn"])

    def wait(self, execution_arn: str, timeout: float = 120.0) -> dict[str, Any]:
        sfn = self.clients("stepfunctions")
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            description = sfn.describe_execution(executionArn=execution_arn)
            if description["status"] in TERMINAL:
                return dict(description)
            time.sleep(0.5)
        raise AssertionError(f"{execution_arn} did not end within {timeout:.0f} s")

    def run(self, document: dict[str, Any], state_machine_arn: str | None = None) -> dict[str, Any]:
        return self.wait(self.start(state_machine_arn or self.parent_arn, document))

    def history(self, execution_arn: str) -> list[dict[str, Any]]:
        paginator = self.clients("stepfunctions").get_paginator("get_execution_history")
        return [
            e for page in paginator.paginate(executionArn=execution_arn) for e in page["events"]
        ]

    def entered_states(self, execution_arn: str) -> list[str]:
        return [
            e["stateEnteredEventDetails"]["name"]
            for e in self.history(execution_arn)
            if "stateEnteredEventDetails" in e
        ]


@pytest.fixture(scope="module")
def emulator() -> Iterator[Any]:
    from smtune.emulator.server import start_emulator

    running = start_emulator(port=0)
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture(scope="module")
def clients(emulator: Any) -> Callable[[str], Any]:
    session = boto3.Session(
        aws_access_key_id="test", aws_secret_access_key="test", region_name=REGION
    )

    def client(service: str) -> Any:
        return session.client(service, endpoint_url=emulator.endpoint_url)

    return client


@pytest.fixture(scope="module")
def deploy(
    emulator: Any, clients: Callable[[str], Any], tmp_path_factory: pytest.TempPathFactory
) -> Callable[..., Stack]:
    """Apply the module into the emulator: `deploy("name", {ml-parameter overrides}, **inputs)`."""
    env = {
        "TF_CLI_CONFIG_FILE": str(ensure_toolchain()),
        "TF_IN_AUTOMATION": "1",
        "TF_INPUT": "0",
        "CHECKPOINT_DISABLE": "1",
        "AWS_ACCESS_KEY_ID": "test",
        "AWS_SECRET_ACCESS_KEY": "test",
        "AWS_DEFAULT_REGION": REGION,
    }
    binary = terraform_binary()
    hyperparameters = PARAMS_DIR / "hyperparameters.json"

    def apply(name: str, ml_overrides: dict[str, Any] | None = None, **inputs: Any) -> Stack:
        directory = tmp_path_factory.mktemp(name)
        bucket = f"{name}-data"
        base = json.loads((PARAMS_DIR / "ml-parameters.json").read_text())
        text = json.dumps(base).replace("sagemaker-tuner-demo", bucket)
        ml_parameters = deep_merge(json.loads(text), ml_overrides or {})
        params_file = directory / "ml-parameters.json"
        params_file.write_text(json.dumps(ml_parameters, indent=2))
        clients("s3").create_bucket(Bucket=bucket)
        module_inputs = {
            "name_prefix": name,
            "s3_bucket": bucket,
            "parameter_store_path": f"/{name}",
            "ml_parameters_file": str(params_file),
            "hyperparameters_file": str(hyperparameters),
            "lambda_runtime": "python3.8",
            **inputs,
        }
        write_root(directory / "root", REPO_ROOT, module_inputs)
        terraform = TerraformDir(directory / "root", binary, env)
        terraform.init()
        variables = {"endpoint_url": emulator.endpoint_url}
        terraform.apply(variables, parallelism=20)
        return Stack(
            name=name,
            bucket=bucket,
            outputs=terraform.outputs()["module"],
            ml_parameters=ml_parameters,
            terraform=terraform,
            variables=variables,
            clients=clients,
        )

    return apply


@pytest.fixture(scope="module")
def manifest() -> dict[str, Any]:
    return json.loads((PARAMS_DIR / "manifest.json").read_text())


def sns_queue(stack: Stack) -> Callable[[], list[str]]:
    """Subscribe a queue to the stack's topic; the returned function drains its messages."""
    sqs = stack.clients("sqs")
    queue_url = sqs.create_queue(QueueName=f"{stack.name}-notifications")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])[
        "Attributes"
    ]["QueueArn"]
    stack.clients("sns").subscribe(
        TopicArn=stack.outputs["sns_topic_arn"],
        Protocol="sqs",
        Endpoint=queue_arn,
        Attributes={"RawMessageDelivery": "true"},
    )

    def drain() -> list[str]:
        messages: list[str] = []
        while True:
            received = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10)
            batch = received.get("Messages", [])
            if not batch:
                return messages
            for message in batch:
                messages.append(message["Body"])
                sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])

    return drain


@pytest.fixture(scope="module")
def main_stack(deploy: Callable[..., Stack]) -> Stack:
    """The seed's parameters, with a short endpoint wait and the S3 manifest trigger on."""
    return deploy(
        "wf-main",
        {"endpointWaitIntervalSeconds": 1},
        enable_manifest_trigger=True,
        manage_bucket_notification=True,
    )


@pytest.fixture(scope="module")
def main_notifications(main_stack: Stack) -> Callable[[], list[str]]:
    return sns_queue(main_stack)
