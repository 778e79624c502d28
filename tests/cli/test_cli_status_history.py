"""`smtune status` and `smtune history`: readable by a person, `--json` for scripts."""

from __future__ import annotations

import json
import re
import uuid
from typing import Any

import pytest

# One worker runs all CLI tests in a row: the moto server they share lives in its process.
pytestmark = pytest.mark.xdist_group("cli")

MISSING_ENDPOINT = "arn:aws:states:::aws-sdk:sagemaker:describeEndpoint"


@pytest.fixture(scope="module")
def finished_run(module_aws, tuning_request) -> str:
    """A run that named its resources, created a tuning job, then failed after a retry.

    Its resources are named `*-st1`; the tuning job name gets a unique suffix.
    """
    aws = module_aws
    echo, role = aws.echo_lambda(), aws.role()
    tuning_job = f"tj-st1-{uuid.uuid4().hex[:6]}"
    definition: dict[str, Any] = {
        "StartAt": "PrepareTuningRun",
        "States": {
            "PrepareTuningRun": {
                "Type": "Task",
                "Resource": "arn:aws:states:::lambda:invoke",
                "Parameters": {
                    "FunctionName": echo,
                    "Payload": {"names": {"tuningJob": tuning_job, "model": "model-st1"}},
                },
                "ResultPath": "$.prepare",
                "Next": "CreateTuningJob",
            },
            "CreateTuningJob": {
                "Type": "Task",
                "Resource": "arn:aws:states:::aws-sdk:sagemaker:createHyperParameterTuningJob",
                "Parameters": tuning_request(tuning_job, role),
                "ResultPath": "$.tuning",
                "Next": "CheckEndpoint",
            },
            "CheckEndpoint": {
                "Type": "Task",
                "Resource": MISSING_ENDPOINT,
                "Parameters": {"EndpointName": "endpoint-st1"},
                "Retry": [{"ErrorEquals": ["States.ALL"], "IntervalSeconds": 1, "MaxAttempts": 1}],
                "Catch": [
                    {"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "Failed"}
                ],
                "End": True,
            },
            "Failed": {"Type": "Fail", "Error": "EndpointFailed", "Cause": "no endpoint-st1 here"},
        },
    }
    execution = aws.start(aws.state_machine(definition))
    assert aws.wait_until_done(execution)["status"] == "FAILED"
    return execution


def test_status_for_a_person(cli, aws, finished_run: str) -> None:
    result = cli("status", finished_run)

    assert result.code == 0
    rows = dict(re.split(r"\s{2,}", line, maxsplit=1) for line in result.out.splitlines())
    assert rows["Execution"] == finished_run
    assert re.fullmatch(r"FAILED after \d+s", rows["Status"])
    assert rows["Last state"] == "Failed"
    assert re.match(r"tj-st1-\w{6}: Completed, training jobs: ", rows["Tuning job"])
    assert rows["Model"] == "model-st1"
    assert rows["Endpoint"] == "endpoint-st1: not created yet"
    assert rows["Error"] == "EndpointFailed"
    assert rows["Cause"] == "no endpoint-st1 here"


def test_status_as_json(cli, aws, finished_run: str) -> None:
    result = cli("status", finished_run, "--json")

    assert result.code == 0
    status = json.loads(result.out)
    assert status["executionArn"] == finished_run
    assert status["status"] == "FAILED"
    assert status["currentState"] == ["Failed"]
    assert [job["name"][:6] for job in status["tuningJobs"]] == ["tj-st1"]
    assert status["tuningJobs"][0]["trainingJobs"]["planned"] == 4
    assert status["endpoints"] == [
        {
            "name": "endpoint-st1",
            "status": "absent",
            "endpointConfigName": None,
            "failureReason": None,
        }
    ]
    assert status["error"] == "EndpointFailed"


def test_history_lists_the_states_in_order_with_the_retry_and_the_caught_error(
    cli, aws, finished_run: str
) -> None:
    result = cli("history", finished_run)

    assert result.code == 0
    lines = result.out.splitlines()
    assert lines[0].startswith(f"execution {finished_run.rsplit(':', 1)[1]} of sm-")
    assert "FAILED after" in lines[0]
    names = [line.split()[1] for line in lines[1:5]]
    assert names == ["PrepareTuningRun", "CreateTuningJob", "CheckEndpoint", "Failed"]
    check = next(line for line in lines if " CheckEndpoint " in line)
    assert re.search(r"(caught|failed) after 1 retry: ", check)
    assert lines[-1] == "  EndpointFailed: no endpoint-st1 here"


def test_history_as_json(cli, aws, finished_run: str) -> None:
    result = cli("history", finished_run, "--json")

    assert result.code == 0
    history = json.loads(result.out)
    states = history["states"]
    assert [s["name"] for s in states] == [
        "PrepareTuningRun",
        "CreateTuningJob",
        "CheckEndpoint",
        "Failed",
    ]
    assert states[0]["outcome"] == "succeeded"
    assert states[0]["durationSeconds"] >= 0
    assert states[2]["retries"] == 1
    assert states[2]["error"]
    assert states[3]["type"] == "Fail"


@pytest.mark.parametrize("command", ["status", "history"])
def test_an_unknown_execution(cli, aws, command: str) -> None:
    arn = "arn:aws:states:us-east-1:123456789012:execution:none:missing"

    result = cli(command, arn)

    assert result.code == 2
    assert result.err == f"smtune: error: execution not found: {arn}\n"


def test_the_region_of_the_arn_is_used_when_none_is_configured(
    cli, aws, finished_run: str, monkeypatch
) -> None:
    monkeypatch.delenv("AWS_DEFAULT_REGION")

    result = cli("status", finished_run, "--json")

    assert result.code == 0
    assert json.loads(result.out)["executionArn"] == finished_run
