"""Fixtures for the emulator tests: one emulator per test module, reset before every test.

moto keeps its state in process-wide globals, so the emulator is started per module (and
stopped at its end) rather than per session: other suites in the same pytest run then find
moto exactly as released.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any, Callable

import boto3
import pytest

from smtune.emulator import Emulator, start_emulator
from tests.support.emulator import wait_for_execution

REGION = "us-east-1"

Clients = Callable[[str], Any]


@pytest.fixture(scope="module")
def emulator() -> Iterator[Emulator]:
    running = start_emulator()
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture(autouse=True)
def _fresh_state(request: pytest.FixtureRequest) -> None:
    if "emulator" in request.fixturenames:
        request.getfixturevalue("emulator").reset()


@pytest.fixture
def aws(emulator: Emulator) -> Clients:
    """boto3 clients for the emulator: `aws("sagemaker")`."""

    def client(service: str) -> Any:
        return boto3.client(
            service,
            endpoint_url=emulator.endpoint_url,
            region_name=REGION,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )

    return client


@pytest.fixture
def role_arn(aws: Clients) -> str:
    """A role that may do anything: the emulator holds functions and state machines to their
    role's policies, and these tests are about the services, not about IAM (test_emulator_iam
    gives its roles least-privilege policies)."""
    iam = aws("iam")
    arn = iam.create_role(RoleName="emulator-test", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    iam.put_role_policy(
        RoleName="emulator-test",
        PolicyName="allow-all",
        PolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}],
            }
        ),
    )
    return str(arn)


@pytest.fixture
def run_state_machine(aws: Clients, role_arn: str) -> Callable[..., dict[str, Any]]:
    """Create a state machine, run it with `payload`, and return DescribeExecution's answer."""

    def run(definition: dict[str, Any], payload: Any = None, timeout: float = 30.0) -> dict:
        sfn = aws("stepfunctions")
        machine = sfn.create_state_machine(
            name=f"sm-{uuid.uuid4().hex[:8]}",
            definition=json.dumps(definition),
            roleArn=role_arn,
        )
        execution = sfn.start_execution(
            stateMachineArn=machine["stateMachineArn"], input=json.dumps(payload or {})
        )
        return wait_for_execution(sfn, execution["executionArn"], timeout)

    return run
