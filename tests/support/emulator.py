"""Helpers shared by the emulator tests (fixtures live in conftest.py)."""

from __future__ import annotations

import io
import json
import time
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import requests

from smtune.emulator import patches

TERMINAL = {"SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED"}


def wait_for_execution(sfn: Any, execution_arn: str, timeout: float = 30.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        description = sfn.describe_execution(executionArn=execution_arn)
        if description["status"] in TERMINAL:
            return description
        if time.monotonic() > deadline:
            raise AssertionError(f"execution still {description['status']} after {timeout} s")
        time.sleep(0.1)


def task(resource: str, parameters: dict[str, Any], **fields: Any) -> dict[str, Any]:
    """A one-state machine around a Task."""
    state = {"Type": "Task", "Resource": resource, "Parameters": parameters, "End": True}
    state.update(fields)
    return {"StartAt": "Task", "States": {"Task": state}}


def caught(resource: str, parameters: dict[str, Any]) -> dict[str, Any]:
    """A Task whose every error is caught into `$.error`, so the output shows its name."""
    return {
        "StartAt": "Task",
        "States": {
            "Task": {
                "Type": "Task",
                "Resource": resource,
                "Parameters": parameters,
                "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "Done"}],
                "End": True,
            },
            "Done": {"Type": "Pass", "End": True},
        },
    }


def output_of(description: dict[str, Any]) -> Any:
    assert description["status"] == "SUCCEEDED", description
    return json.loads(description["output"])


def zip_of(files: dict[str, str]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, text in files.items():
            archive.writestr(name, text)
    return buffer.getvalue()


@contextmanager
def moto_as_released() -> Iterator[None]:
    """Run a block without the emulation patches, to show the gap each one fills."""
    patches.revert()
    try:
        yield
    finally:
        patches.apply()


def control(url: str, route: str, body: dict[str, Any]) -> dict[str, Any]:
    """POST to an emulator's control route (`url` is its endpoint URL); its answer."""
    response = requests.post(f"{url}/smtune-emulator/{route}", json=body, timeout=10)
    response.raise_for_status()
    return dict(response.json())


def queue_best_objective(url: str, value: float) -> dict[str, Any]:
    """The next tuning job's best training job reports exactly `value` (`url`: the emulator's
    endpoint URL); the control state after queueing."""
    return control(url, "best-objectives", {"value": value})
