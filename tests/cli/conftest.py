"""Fixtures for the CLI tests: a plain moto server on a free loopback port, and a CLI runner.

The server is moto as released (no emulation layer): state machines made of Pass, Wait, Fail
and Task states whose histories have the shapes `watch` and `status` read, SageMaker tuning and
training jobs created directly, and Lambda functions whose handler echoes its event (so a
Lambda task returns the payload it was given, with or without the emulation layer).

`emulator_url` is the project's emulator instead, in a separate process (`python -m
smtune.emulator`, as `make demo` runs it), so its patches never touch the plain moto server.
"""

from __future__ import annotations

import io
import json
import logging
import os
import signal
import socket
import subprocess
import sys
import uuid
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import boto3
import pytest
import requests
from moto.server import ThreadedMotoServer

from smtune.cli import main

REGION = "us-east-1"
ACCOUNT = "123456789012"
REPO = Path(__file__).resolve().parents[2]
DATA = Path(__file__).resolve().parent / "data"

ECHO_HANDLER = "def handler(event, context):\n    return event\n"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def fake_aws_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fake credentials, one region, no retries; nothing from the developer's own AWS setup."""
    for name in list(os.environ):
        if name.startswith("AWS_") or name == "SMTUNE_STATE_MACHINE_ARN":
            monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")
    monkeypatch.setenv("AWS_CONFIG_FILE", os.devnull)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", os.devnull)


@pytest.fixture(autouse=True)
def aws_env(monkeypatch: pytest.MonkeyPatch) -> None:
    fake_aws_environment(monkeypatch)


@pytest.fixture(scope="module")
def module_aws(moto_url: str) -> Iterator[Aws]:
    """Clients for module-scoped fixtures (which run before the per-test environment)."""
    with pytest.MonkeyPatch.context() as patch:
        fake_aws_environment(patch)
        yield Aws(moto_url)


@pytest.fixture(scope="session")
def moto_url() -> Iterator[str]:
    logging.getLogger("werkzeug").setLevel(logging.CRITICAL)
    port = free_port()
    saved = os.environ.get("MOTO_PORT")
    os.environ["MOTO_PORT"] = str(port)  # the ASL engine calls services back on this port
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    url = f"http://127.0.0.1:{port}"
    requests.post(
        f"{url}/moto-api/config",
        json={"stepfunctions": {"execute_state_machine": True}, "lambda": {"use_docker": False}},
        timeout=10,
    ).raise_for_status()
    yield url
    server.stop()
    if saved is None:
        os.environ.pop("MOTO_PORT", None)
    else:
        os.environ["MOTO_PORT"] = saved


@pytest.fixture(scope="module")
def emulator_url() -> Iterator[str]:
    """The project's emulator, one process per test module."""
    process = subprocess.Popen(
        [sys.executable, "-m", "smtune.emulator", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        url = process.stdout.readline().strip() if process.stdout else ""
        if not url.startswith("http://"):
            process.kill()
            raise AssertionError(f"the emulator did not start: {process.communicate()[1]}")
        yield url
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()


@dataclass
class Result:
    code: int
    out: str
    err: str


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str]) -> Callable[..., Result]:
    """Run `smtune ARGS...` in-process; returns the exit code and what it printed."""

    def run(*argv: str) -> Result:
        capsys.readouterr()
        code = main(list(argv))
        captured = capsys.readouterr()
        return Result(code, captured.out, captured.err)

    return run


@dataclass
class Aws:
    url: str

    def client(self, service: str) -> Any:
        return boto3.client(service, endpoint_url=self.url, region_name=REGION)

    def role(self) -> str:
        """A role that may do anything: the emulator holds functions and state machines to
        their role's policies, as an account does, and these tests are not about IAM."""
        iam = self.client("iam")
        name = "smtune-test-role"
        try:
            return str(iam.get_role(RoleName=name)["Role"]["Arn"])
        except iam.exceptions.NoSuchEntityException:
            arn = iam.create_role(RoleName=name, AssumeRolePolicyDocument="{}")["Role"]["Arn"]
            iam.put_role_policy(
                RoleName=name,
                PolicyName="allow-all",
                PolicyDocument=json.dumps(
                    {
                        "Version": "2012-10-17",
                        "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}],
                    }
                ),
            )
            return str(arn)

    def echo_lambda(self) -> str:
        client = self.client("lambda")
        name = "smtune-test-echo"
        try:
            return client.get_function(FunctionName=name)["Configuration"]["FunctionArn"]
        except client.exceptions.ResourceNotFoundException:
            buffer = io.BytesIO()
            with zipfile.ZipFile(buffer, "w") as archive:
                archive.writestr("echo.py", ECHO_HANDLER)
            return client.create_function(
                FunctionName=name,
                Runtime="python3.12",
                Role=self.role(),
                Handler="echo.handler",
                Code={"ZipFile": buffer.getvalue()},
            )["FunctionArn"]

    def state_machine(self, definition: dict[str, Any], name: str | None = None) -> str:
        return self.client("stepfunctions").create_state_machine(
            name=name or f"sm-{uuid.uuid4().hex[:10]}",
            roleArn=self.role(),
            definition=json.dumps(definition),
        )["stateMachineArn"]

    def start(self, machine_arn: str, payload: dict[str, Any] | None = None) -> str:
        return self.client("stepfunctions").start_execution(
            stateMachineArn=machine_arn,
            name=f"run-{uuid.uuid4().hex[:10]}",
            input=json.dumps(payload or {}),
        )["executionArn"]

    def wait_until_done(self, execution_arn: str, timeout: float = 20.0) -> dict[str, Any]:
        import time

        sfn = self.client("stepfunctions")
        deadline = time.monotonic() + timeout
        while True:
            described = sfn.describe_execution(executionArn=execution_arn)
            if described["status"] != "RUNNING" or time.monotonic() > deadline:
                return described
            time.sleep(0.05)


@pytest.fixture(scope="session")
def aws_at() -> Callable[[str], Aws]:
    """Clients of any endpoint, e.g. the emulator's."""
    return Aws


@pytest.fixture
def aws(moto_url: str, monkeypatch: pytest.MonkeyPatch) -> Aws:
    """Clients of the moto server; AWS_ENDPOINT_URL points the CLI at it too."""
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_url)
    return Aws(moto_url)


@pytest.fixture(scope="session")
def tuning_request() -> Callable[..., dict[str, Any]]:
    return tuning_job_request


def tuning_job_request(name: str, role_arn: str, max_jobs: int = 4) -> dict[str, Any]:
    """A CreateHyperParameterTuningJob request as the tuner sends it (PascalCase)."""
    return {
        "HyperParameterTuningJobName": name,
        "HyperParameterTuningJobConfig": {
            "Strategy": "Bayesian",
            "HyperParameterTuningJobObjective": {
                "Type": "Maximize",
                "MetricName": "validation:auc",
            },
            "ResourceLimits": {"MaxNumberOfTrainingJobs": max_jobs, "MaxParallelTrainingJobs": 2},
            "ParameterRanges": {
                "IntegerParameterRanges": [{"Name": "max_depth", "MinValue": "3", "MaxValue": "7"}],
                "ContinuousParameterRanges": [
                    {
                        "Name": "learn_rate",
                        "MinValue": "0.001",
                        "MaxValue": "0.01",
                        "ScalingType": "Logarithmic",
                    }
                ],
                "CategoricalParameterRanges": [
                    {"Name": "distribution", "Values": ["bernoulli", "gaussian"]}
                ],
            },
        },
        "TrainingJobDefinition": {
            "AlgorithmSpecification": {"TrainingImage": "image:1", "TrainingInputMode": "File"},
            "RoleArn": role_arn,
            "OutputDataConfig": {"S3OutputPath": "s3://bucket/output"},
            "ResourceConfig": {
                "InstanceType": "ml.m5.large",
                "InstanceCount": 1,
                "VolumeSizeInGB": 1,
            },
            "StoppingCondition": {"MaxRuntimeInSeconds": 60},
        },
    }
