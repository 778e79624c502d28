"""`smtune runs`: a workflow's past runs, newest first, as a table or as JSON."""

from __future__ import annotations

import json
import re
import uuid
from typing import Any

import pytest

from smtune import runs as runs_module

# One worker runs all CLI tests in a row: the moto server they share lives in its process.
pytestmark = pytest.mark.xdist_group("cli")

# Output = input, so each execution's input is the output a run of the workflow would have; a
# run fails on {"fail": ...} and keeps running on {"wait": ...}.
ECHO_WORKFLOW = {
    "StartAt": "Route",
    "States": {
        "Route": {
            "Type": "Choice",
            "Choices": [
                {"Variable": "$.fail", "IsPresent": True, "Next": "Fail"},
                {"Variable": "$.wait", "IsPresent": True, "Next": "Wait"},
            ],
            "Default": "Done",
        },
        "Wait": {"Type": "Wait", "Seconds": 120, "Next": "Done"},
        "Fail": {"Type": "Fail", "Error": "Tuning.Failed", "Cause": "no training job completed"},
        "Done": {"Type": "Pass", "End": True},
    },
}
NO_CREDENTIALS = (
    "smtune: error: no AWS credentials found: set AWS_PROFILE, or AWS_ACCESS_KEY_ID and "
    "AWS_SECRET_ACCESS_KEY (any values work against a local emulator)\n"
)


def parent_output(job: str, value: float, outcome: str, config: str) -> dict[str, Any]:
    return {
        "tuning": {
            "runId": "0123456789ab",
            "modelName": f"model-{job}",
            "tuningJobName": job,
            "objective": {"metricName": "validation:auc", "type": "Maximize", "value": value},
        },
        "deployment": {
            "outcome": outcome,
            "endpointConfigName": config,
            "modelPackageArn": None,
            "promotion": {"decision": "deploy", "reason": "better", "liveObjective": None},
        },
    }


def run_to_end(aws, machine: str, payload: dict[str, Any]) -> str:
    execution = aws.start(machine, payload)
    assert aws.wait_until_done(execution)["status"] != "RUNNING"
    return execution


def cells(line: str) -> list[str]:
    return re.split(r"\s{2,}", line.strip())


@pytest.fixture
def workflow(aws) -> str:
    return aws.state_machine(ECHO_WORKFLOW, name=f"workflow-{uuid.uuid4().hex[:8]}")


@pytest.fixture
def history(aws, workflow) -> Any:
    """Seven runs of the workflow, oldest first: one per outcome; the last one still running."""
    sfn = aws.client("stepfunctions")
    executions = [
        run_to_end(aws, workflow, parent_output("tune-1", 0.81, "InService", "ep-1")),
        run_to_end(aws, workflow, parent_output("tune-2", 0.79, "KeptLive", "ep-1")),
        run_to_end(aws, workflow, parent_output("tune-3", 0.5, "Rejected", "ep-1")),
        run_to_end(aws, workflow, parent_output("tune-4", 0.9, "Superseded", "ep-4")),
        run_to_end(aws, workflow, {"fail": True}),
    ]
    aborted = aws.start(workflow, {"wait": True})
    sfn.stop_execution(executionArn=aborted)
    assert aws.wait_until_done(aborted)["status"] == "ABORTED"
    executions.append(aborted)
    running = aws.start(workflow, {"wait": True})
    executions.append(running)
    yield executions
    sfn.stop_execution(executionArn=running)


def test_help_explains_the_options(cli) -> None:
    result = cli("runs", "--help")

    assert result.code == 0
    assert "--state-machine-arn ARN" in result.out
    assert "--max-results N" in result.out
    assert "newest first" in result.out
    assert "print the runs as a JSON list" in result.out


def test_the_table_lists_the_runs_newest_first_with_their_outcome(cli, workflow, history) -> None:
    result = cli("runs", "--state-machine-arn", workflow)

    assert result.code == 0, result.err
    lines = result.out.splitlines()
    assert cells(lines[0]) == [
        "START",
        "DURATION",
        "STATUS",
        "TUNING JOB",
        "BEST OBJECTIVE",
        "OUTCOME",
        "ENDPOINT CONFIG",
    ]
    rows = [cells(line) for line in lines[1:]]
    # start and duration first, then what the run was and did
    assert [row[2:] for row in rows] == [
        ["RUNNING", "-", "-", "running", "-"],
        ["ABORTED", "-", "-", "aborted", "-"],
        ["FAILED", "-", "-", "failed: Tuning.Failed", "-"],
        ["SUCCEEDED", "tune-4", "validation:auc=0.9", "superseded", "ep-4"],
        ["SUCCEEDED", "tune-3", "validation:auc=0.5", "rejected", "ep-1"],
        ["SUCCEEDED", "tune-2", "validation:auc=0.79", "kept live", "ep-1"],
        ["SUCCEEDED", "tune-1", "validation:auc=0.81", "deployed", "ep-1"],
    ]
    for row in rows:
        assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC", row[0])
        assert re.fullmatch(r"\d+s|\d+m \d\ds|\d+h \d\dm", row[1])


def test_json_gives_each_run_in_full(cli, workflow, history) -> None:
    result = cli("runs", "--state-machine-arn", workflow, "--json")

    assert result.code == 0, result.err
    document = json.loads(result.out)
    assert [run["executionArn"] for run in document] == list(reversed(history))
    failed = document[2]
    assert failed["status"] == "FAILED"
    assert failed["outcome"] == "failed"
    assert failed["error"] == "Tuning.Failed"
    assert failed["cause"] == "no training job completed"
    assert failed["stopDate"] is not None
    deployed = document[-1]
    assert deployed["outcome"] == "deployed"
    assert deployed["deploymentOutcome"] == "InService"
    assert deployed["tuningJobName"] == "tune-1"
    assert deployed["objective"] == {
        "metricName": "validation:auc",
        "type": "Maximize",
        "value": 0.81,
    }
    assert deployed["endpointConfigName"] == "ep-1"
    assert deployed["durationSeconds"] >= 0
    assert document[0]["outcome"] == "running"
    assert document[0]["stopDate"] is None


def test_a_deployer_run_reads_its_input_and_output(cli, aws) -> None:
    deployer = aws.state_machine(ECHO_WORKFLOW, name=f"x-deployer-{uuid.uuid4().hex[:8]}")
    objective = {"metricName": "validation:rmse", "type": "Minimize", "value": 1.25}
    run_to_end(
        aws,
        deployer,
        {
            "modelName": "model-abc",
            "tuningJobName": "tune-9",
            "objective": objective,
            "runId": "abcdefabcdef",
            "endpointName": "ep",
            "endpointConfigName": "ep-abcdefabcdef",
            "outcome": "KeptLive",
            "action": "none",
        },
    )

    result = cli("runs", "--state-machine-arn", deployer, "--json")

    assert result.code == 0, result.err
    [run] = json.loads(result.out)
    assert run["tuningJobName"] == "tune-9"
    assert run["objective"] == objective
    assert run["outcome"] == "kept live"
    assert run["endpointConfigName"] == "ep-abcdefabcdef"


def test_max_results_pages_through_and_keeps_the_newest(cli, aws, workflow, monkeypatch) -> None:
    monkeypatch.setattr(runs_module, "PAGE_LIMIT", 2)  # five runs take three pages
    for number in range(1, 6):
        run_to_end(aws, workflow, parent_output(f"tune-{number}", 0.5, "InService", "ep"))

    every = cli("runs", "--state-machine-arn", workflow, "--max-results", "5", "--json")
    newest = cli("runs", "--state-machine-arn", workflow, "--max-results", "3", "--json")

    assert every.code == 0, every.err
    assert [run["tuningJobName"] for run in json.loads(every.out)] == [
        "tune-5",
        "tune-4",
        "tune-3",
        "tune-2",
        "tune-1",
    ]
    assert [run["tuningJobName"] for run in json.loads(newest.out)] == [
        "tune-5",
        "tune-4",
        "tune-3",
    ]


def test_a_state_machine_without_runs(cli, workflow) -> None:
    name = workflow.rsplit(":", 1)[1]

    assert cli("runs", "--state-machine-arn", workflow).out == f"no runs of {name}\n"
    assert json.loads(cli("runs", "--state-machine-arn", workflow, "--json").out) == []


@pytest.mark.parametrize("value", ["0", "-1", "many"])
def test_max_results_must_be_a_positive_whole_number(cli, value: str) -> None:
    arn = "arn:aws:states:us-east-1:123456789012:stateMachine:wf"

    result = cli("runs", "--state-machine-arn", arn, "--max-results", value)

    assert result.code == 2
    assert "--max-results" in result.err


def test_an_unknown_state_machine(cli, aws) -> None:
    arn = "arn:aws:states:us-east-1:123456789012:stateMachine:no-such-workflow"

    result = cli("runs", "--state-machine-arn", arn)

    assert result.code == 2
    assert result.err == f"smtune: error: state machine not found: {arn}\n"


def test_an_execution_arn_is_not_a_state_machine(cli) -> None:
    arn = "arn:aws:states:us-east-1:123456789012:execution:wf:run-1"

    result = cli("runs", "--state-machine-arn", arn)

    assert result.code == 2
    assert result.err == (
        f"smtune: error: --state-machine-arn: {arn!r} is not a Step Functions state machine ARN\n"
    )


def test_no_credentials(cli, aws, workflow, monkeypatch) -> None:
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")

    result = cli("runs", "--state-machine-arn", workflow)

    assert (result.code, result.out, result.err) == (2, "", NO_CREDENTIALS)
