"""Shared fixtures: fake AWS credentials, the example documents, sample events, moto clients."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from tuning_workflow import aws

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
EVENTS = ROOT / "tests" / "events"
REGION = "us-east-1"
ACCOUNT = "123456789012"
ROLE_ARN = f"arn:aws:iam::{ACCOUNT}:role/sagemaker-execution"
TUNER_EXECUTION_ARN = f"arn:aws:states:{REGION}:{ACCOUNT}:execution:model-tuner:run-1"


def read_json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def load_event(name: str) -> dict[str, Any]:
    """A sample event from tests/events/, fresh for each caller."""
    return read_json(EVENTS / f"{name}.json")


@pytest.fixture(autouse=True)
def aws_credentials(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Fake credentials and region, no endpoint override, no cached clients."""
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SECURITY_TOKEN": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": REGION,
        "AWS_REGION": REGION,
    }.items():
        monkeypatch.setenv(name, value)
    for name in (
        "AWS_ENDPOINT_URL",
        "AWS_PROFILE",
        "AWS_CONFIG_FILE",
        "AWS_SHARED_CREDENTIALS_FILE",
    ):
        monkeypatch.delenv(name, raising=False)
    aws.reset_clients()
    yield
    aws.reset_clients()


@pytest.fixture
def ml_parameters() -> dict[str, Any]:
    return copy.deepcopy(_documents()["ml-parameters"])


@pytest.fixture
def hyperparameters() -> dict[str, Any]:
    return copy.deepcopy(_documents()["hyperparameters"])


@pytest.fixture
def manifest() -> dict[str, Any]:
    return copy.deepcopy(_documents()["manifest"])


@pytest.fixture
def seed_documents() -> dict[str, Any]:
    """The old stack's example files, placeholders and all."""
    seed = EXAMPLES / "seed"
    return {
        "ml-parameters": read_json(seed / "template-ml-parameters.json"),
        "hyperparameters": read_json(seed / "hyperparameters.json"),
        "manifest": read_json(seed / "manifest.json"),
    }


def _documents() -> dict[str, Any]:
    params = EXAMPLES / "params"
    return {
        "ml-parameters": read_json(params / "ml-parameters.json"),
        "hyperparameters": read_json(params / "hyperparameters.json"),
        "manifest": read_json(params / "manifest.json"),
    }


@pytest.fixture
def mocked_aws() -> Iterator[None]:
    with mock_aws():
        yield


@pytest.fixture
def sagemaker(mocked_aws: None) -> Any:
    return boto3.client("sagemaker", region_name=REGION)


@pytest.fixture
def autoscaling(mocked_aws: None) -> Any:
    return boto3.client("application-autoscaling", region_name=REGION)


@pytest.fixture
def s3(mocked_aws: None) -> Any:
    return boto3.client("s3", region_name=REGION)


@pytest.fixture
def sfn(mocked_aws: None) -> Any:
    return boto3.client("stepfunctions", region_name=REGION)
