"""`smtune stop`: the run, its child executions and their tuning jobs, from the top."""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

import pytest

from smtune.stop import what_it_started
from tests.support.emulator import control

# One worker runs all CLI tests in a row: the moto server they share lives in its process.
pytestmark = [pytest.mark.emulator, pytest.mark.xdist_group("cli")]

TUNE_SYNC = "arn:aws:states:::sagemaker:createHyperParameterTuningJob.sync"
WAIT_A_MINUTE = {
    "StartAt": "Wait",
    "States": {"Wait": {"Type": "Wait", "Seconds": 60, "End": True}},
}


@pytest.fixture
def emu(emulator_url: str, monkeypatch, aws_at) -> Any:
    """Clients of the emulator (the CLI points at it too); paced so tuning jobs keep running."""
    monkeypatch.setenv("AWS_ENDPOINT_URL", emulator_url)
    control(emulator_url, "reset", {})
    control(emulator_url, "progression", {"describes": 100})
    yield aws_at(emulator_url)
    control(emulator_url, "reset", {})


def wait_until(condition, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.1)


def start_task(machine: str, sync: str = ".sync:2") -> dict[str, Any]:
    return {
        "Type": "Task",
        "Resource": f"arn:aws:states:::states:startExecution{sync}",
        "Parameters": {
            "StateMachineArn": machine,
            "Input": {"AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID.$": "$$.Execution.Id"},
        },
    }


def children_of(aws, machine: str) -> list[str]:
    listed = aws.client("stepfunctions").list_executions(stateMachineArn=machine)["executions"]
    return [e["executionArn"] for e in listed]


def status(aws, execution: str) -> str:
    return aws.client("stepfunctions").describe_execution(executionArn=execution)["status"]


def tuning_status(aws, name: str) -> str | None:
    jobs = aws.client("sagemaker").list_hyper_parameter_tuning_jobs(NameContains=name)
    statuses = [
        job["HyperParameterTuningJobStatus"]
        for job in jobs["HyperParameterTuningJobSummaries"]
        if job["HyperParameterTuningJobName"] == name
    ]
    return statuses[0] if statuses else None


def build_run(aws, tuning_request, waits: bool) -> dict[str, str]:
    """workflow -> stage -> tuner -> a tuning job that stays InProgress; the ARNs and job name.

    `waits`: each parent waits in its task (`startExecution.sync:2`/`.sync`,
    `createHyperParameterTuningJob.sync`), as the project's workflows do. Otherwise each starts
    the next (plain startExecution, the aws-sdk CreateHyperParameterTuningJob) and then waits in a
    Wait state, so no parent notices its child ending before it is stopped itself.
    """
    suffix = uuid.uuid4().hex[:6]
    job = f"stop-{suffix}"

    def then_wait(state: dict[str, Any]) -> dict[str, Any]:
        if waits:
            return {"StartAt": "Run", "States": {"Run": {**state, "End": True}}}
        return {
            "StartAt": "Run",
            "States": {
                "Run": {**state, "Next": "Wait"},
                "Wait": {"Type": "Wait", "Seconds": 60, "End": True},
            },
        }

    tune = {
        "Type": "Task",
        "Resource": TUNE_SYNC
        if waits
        else "arn:aws:states:::aws-sdk:sagemaker:createHyperParameterTuningJob",
        "Parameters": tuning_request(job, aws.role()),
    }
    tuner = aws.state_machine(then_wait(tune), name=f"tuner-{suffix}")
    stage = aws.state_machine(
        then_wait(start_task(tuner, ".sync" if waits else "")), name=f"stage-{suffix}"
    )
    workflow = aws.state_machine(
        then_wait(start_task(stage, ".sync:2" if waits else "")), name=f"workflow-{suffix}"
    )
    execution = aws.start(workflow)
    wait_until(lambda: children_of(aws, tuner))
    wait_until(lambda: tuning_status(aws, job) == "InProgress")
    return {
        "workflow": execution,
        "stage": children_of(aws, stage)[0],
        "tuner": children_of(aws, tuner)[0],
        "job": job,
    }


@pytest.fixture
def tuning_run(emu, tuning_request) -> dict[str, str]:
    return build_run(emu, tuning_request, waits=False)


def aborted_details(aws, execution: str) -> dict[str, Any]:
    events = aws.client("stepfunctions").get_execution_history(executionArn=execution)["events"]
    return next(e for e in events if e["type"] == "ExecutionAborted")[
        "executionAbortedEventDetails"
    ]


def test_stop_stops_the_tree_from_the_top(cli, emu, tuning_run) -> None:
    # GIVEN a run two executions deep whose tuning job is in progress
    run = tuning_run

    # WHEN it is stopped with an error and a cause
    result = cli("stop", run["workflow"], "--error", "Operator.Stop", "--cause", "wrong data")

    # THEN the run, the stage, the tuner and the tuning job are stopped, in that order
    assert result.code == 0, result.err
    assert result.err == ""
    assert result.out.splitlines() == [
        f"stopped execution {run['workflow']} (was RUNNING)",
        f"stopped execution {run['stage']} (was RUNNING)",
        f"stopped execution {run['tuner']} (was RUNNING)",
        f"stopped tuning job {run['job']} (was InProgress)",
    ]
    # AND each execution ends ABORTED with the error and cause, the job Stopped
    for execution in (run["tuner"], run["stage"], run["workflow"]):
        wait_until(lambda execution=execution: status(emu, execution) == "ABORTED")
        assert aborted_details(emu, execution) == {"error": "Operator.Stop", "cause": "wrong data"}
    assert tuning_status(emu, run["job"]) == "Stopped"


def test_stop_stops_a_run_whose_tasks_wait_on_their_children(cli, emu, tuning_request) -> None:
    # GIVEN a run whose parents wait in .sync tasks, as the project's workflows do
    run = build_run(emu, tuning_request, waits=True)

    # WHEN it is stopped
    result = cli("stop", run["workflow"])

    # THEN the run is stopped first; Step Functions stops what its .sync tasks wait for, and
    # the command stops whatever is still running
    assert result.code == 0, result.err
    lines = result.out.splitlines()
    assert lines[0] == f"stopped execution {run['workflow']} (was RUNNING)"
    for kind, resource in (
        ("execution", run["stage"]),
        ("execution", run["tuner"]),
        ("tuning job", run["job"]),
    ):
        (line,) = [line for line in lines[1:] if resource in line.split()]
        assert line.startswith((f"stopped {kind} ", f"already ended: {kind} ")), line
    # AND every execution ends ABORTED: no parent saw its child end and took its failure path
    for execution in (run["tuner"], run["stage"], run["workflow"]):
        wait_until(lambda execution=execution: status(emu, execution) != "RUNNING")
        assert status(emu, execution) == "ABORTED"
    wait_until(lambda: tuning_status(emu, run["job"]) == "Stopped")


def test_a_second_stop_reports_everything_as_ended_in_json(cli, emu, tuning_run) -> None:
    run = tuning_run
    assert cli("stop", run["workflow"]).code == 0
    wait_until(lambda: status(emu, run["workflow"]) == "ABORTED")

    result = cli("stop", run["workflow"], "--json")

    assert result.code == 0, result.err
    assert json.loads(result.out) == [
        {
            "resource": "execution",
            "id": run["workflow"],
            "outcome": "alreadyEnded",
            "status": "ABORTED",
            "startedBy": None,
            "error": None,
        },
        {
            "resource": "execution",
            "id": run["stage"],
            "outcome": "alreadyEnded",
            "status": "ABORTED",
            "startedBy": run["workflow"],
            "error": None,
        },
        {
            "resource": "execution",
            "id": run["tuner"],
            "outcome": "alreadyEnded",
            "status": "ABORTED",
            "startedBy": run["stage"],
            "error": None,
        },
        {
            "resource": "tuningJob",
            "id": run["job"],
            "outcome": "alreadyEnded",
            "status": "Stopped",
            "startedBy": run["tuner"],
            "error": None,
        },
    ]


def test_children_named_only_by_their_input_are_stopped(cli, emu) -> None:
    # GIVEN a run that started a child and waits, a second child whose input names the run, and
    # an execution of the same state machine that the run did not start
    child = emu.state_machine(WAIT_A_MINUTE)
    parent = emu.state_machine(
        {
            "StartAt": "Start",
            "States": {
                "Start": {**start_task(child, ""), "Next": "Wait"},
                "Wait": {"Type": "Wait", "Seconds": 60, "End": True},
            },
        }
    )
    execution = emu.start(parent)
    wait_until(lambda: children_of(emu, child))
    (started,) = children_of(emu, child)
    named = emu.start(child, {"AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID": execution})
    stranger = emu.start(child, {"AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID": "someone-else"})

    # WHEN the run is stopped
    result = cli("stop", execution)

    # THEN both of its children and the run are stopped; the stranger keeps running
    assert result.code == 0, result.err
    assert result.out.splitlines() == [
        f"stopped execution {execution} (was RUNNING)",
        f"stopped execution {started} (was RUNNING)",
        f"stopped execution {named} (was RUNNING)",
    ]
    assert status(emu, stranger) == "RUNNING"


def test_an_ended_run_is_reported_not_stopped(cli, emu) -> None:
    execution = emu.start(
        emu.state_machine({"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}})
    )
    wait_until(lambda: status(emu, execution) == "SUCCEEDED")

    result = cli("stop", execution)

    assert (result.code, result.err) == (0, "")
    assert result.out == f"already ended: execution {execution} (SUCCEEDED)\n"


def test_a_refused_stop_is_retried_then_reported(cli, emu, emulator_url) -> None:
    # GIVEN a run with a waiting .sync:2 child, and StopExecution failing for a while
    child = emu.state_machine(WAIT_A_MINUTE)
    execution = emu.start(
        emu.state_machine({"StartAt": "Run", "States": {"Run": {**start_task(child), "End": True}}})
    )
    wait_until(lambda: children_of(emu, child))
    (started,) = children_of(emu, child)
    control(
        emulator_url,
        "api-errors",
        {"service": "stepfunctions", "operation": "StopExecution", "code": "InternalFailure",
         "times": 100},
    )  # fmt: skip

    # WHEN the run is stopped
    result = cli("stop", execution)

    # THEN each refusal is one line on stderr, and the exit code says an AWS error happened
    assert result.code == 2
    assert result.out == ""
    lines = result.err.splitlines()
    assert len(lines) == 2
    assert lines[0].startswith(
        f"smtune: error: could not stop execution {execution} (RUNNING): "
        "StopExecution failed: InternalFailure: "
    )
    assert lines[1].startswith(f"smtune: error: could not stop execution {started} (RUNNING):")
    assert status(emu, started) == "RUNNING"


def test_a_transient_refusal_is_retried(cli, emu, emulator_url) -> None:
    # GIVEN a run with a waiting child, and StopExecution failing once
    child = emu.state_machine(WAIT_A_MINUTE)
    execution = emu.start(
        emu.state_machine(
            {
                "StartAt": "Run",
                "States": {
                    "Run": {**start_task(child, ""), "Next": "Wait"},
                    "Wait": {"Type": "Wait", "Seconds": 60, "End": True},
                },
            }
        )
    )
    wait_until(lambda: children_of(emu, child))
    (started,) = children_of(emu, child)
    control(
        emulator_url,
        "api-errors",
        {"service": "stepfunctions", "operation": "StopExecution", "code": "ThrottlingException"},
    )

    # WHEN the run is stopped
    result = cli("stop", execution)

    # THEN the run, refused once, is stopped on the next round; its child on the first
    assert result.code == 0, result.err
    assert result.out.splitlines() == [
        f"stopped execution {execution} (was RUNNING)",
        f"stopped execution {started} (was RUNNING)",
    ]
    wait_until(lambda: status(emu, started) == "ABORTED")


def test_a_missing_execution_is_one_error_line(cli, aws) -> None:
    missing = "arn:aws:states:us-east-1:123456789012:execution:nothing:here"

    result = cli("stop", missing)

    assert (result.code, result.out) == (2, "")
    assert result.err == f"smtune: error: execution not found: {missing}\n"


def test_a_state_machine_arn_is_a_usage_error(cli) -> None:
    result = cli("stop", "arn:aws:states:us-east-1:123456789012:stateMachine:demo")

    assert result.code == 2
    assert result.err == (
        "smtune: error: EXECUTION_ARN: 'arn:aws:states:us-east-1:123456789012:stateMachine:demo'"
        " is not a Step Functions execution ARN\n"
    )


def test_a_tuning_job_named_by_parameters_and_arn_is_one_job() -> None:
    # GIVEN the events of a createHyperParameterTuningJob.sync task (SageMaker lowercases the ARN)
    scheduled = {"resource": "createHyperParameterTuningJob.sync", "resourceType": "sagemaker"}
    events = [
        {
            "id": 1,
            "type": "TaskScheduled",
            "taskScheduledEventDetails": {
                **scheduled,
                "parameters": json.dumps({"HyperParameterTuningJobName": "Tune-ABC"}),
            },
        },
        {
            "id": 2,
            "type": "TaskSubmitted",
            "taskSubmittedEventDetails": {
                **scheduled,
                "output": json.dumps(
                    {
                        "HyperParameterTuningJobArn": "arn:aws:sagemaker:us-east-1:123456789012:"
                        "hyper-parameter-tuning-job/tune-abc"
                    }
                ),
            },
        },
    ]

    # WHEN the history is read THEN the job is found once, by the name the task gave it
    assert what_it_started(events) == (["Tune-ABC"], [])
