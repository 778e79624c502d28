"""A stack of the module deployed into the emulator, and helpers for the workflow runs."""

from __future__ import annotations

import copy
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from tests.support.terraform import TerraformDir

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
