"""`smtune watch`: one line per change while a run goes on; the exit code says how it ended."""

from __future__ import annotations

import io
import json
import re
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from smtune.snapshot import SnapshotReader
from smtune.watch import watch

# One worker runs all CLI tests in a row: the moto server they share lives in its process.
pytestmark = pytest.mark.xdist_group("cli")

LINE = re.compile(r"^\[ *\d+:\d\d\] ")


def happy_machine(aws, tuning_request, suffix: str) -> dict[str, Any]:
    """A run shaped like the real one: names from a Lambda, a tuning job, an endpoint."""
    echo, role = aws.echo_lambda(), aws.role()
    sagemaker = aws.client("sagemaker")
    sagemaker.create_model(
        ModelName=f"model-{suffix}", ExecutionRoleArn=role, PrimaryContainer={"Image": "img"}
    )
    sagemaker.create_endpoint_config(
        EndpointConfigName=f"config-{suffix}",
        ProductionVariants=[
            {
                "VariantName": "AllTraffic",
                "ModelName": f"model-{suffix}",
                "InitialInstanceCount": 1,
                "InstanceType": "ml.m5.large",
            }
        ],
    )
    return {
        "StartAt": "PrepareTuningRun",
        "States": {
            "PrepareTuningRun": {
                "Type": "Task",
                "Resource": "arn:aws:states:::lambda:invoke",
                "Parameters": {
                    "FunctionName": echo,
                    "Payload": {"names": {"tuningJob": f"tj-{suffix}", "model": f"model-{suffix}"}},
                },
                "ResultPath": "$.prepare",
                "Next": "CreateTuningJob",
            },
            "CreateTuningJob": {
                "Type": "Task",
                "Resource": "arn:aws:states:::aws-sdk:sagemaker:createHyperParameterTuningJob",
                "Parameters": tuning_request(f"tj-{suffix}", role),
                "ResultPath": "$.tuning",
                "Next": "FindBestTrainingJob",
            },
            "FindBestTrainingJob": {
                "Type": "Task",
                "Resource": "arn:aws:states:::lambda:invoke",
                "Parameters": {
                    "FunctionName": echo,
                    "Payload": {
                        "trainingJobName": f"tj-{suffix}-002-abcdef12",
                        "objective": {
                            "metricName": "validation:auc",
                            "type": "Maximize",
                            "value": 0.91,
                        },
                    },
                },
                "ResultPath": "$.best",
                "Next": "StartEndpointDeployment",
            },
            "StartEndpointDeployment": {
                "Type": "Task",
                "Resource": "arn:aws:states:::aws-sdk:sagemaker:createEndpoint",
                "Parameters": {
                    "EndpointName": f"endpoint-{suffix}",
                    "EndpointConfigName": f"config-{suffix}",
                },
                "ResultPath": "$.endpoint",
                "Next": "WaitForEndpoint",
            },
            "WaitForEndpoint": {"Type": "Wait", "Seconds": 1, "Next": "DeploymentSucceeded"},
            "DeploymentSucceeded": {"Type": "Succeed"},
        },
    }


def test_follows_a_run_to_success(cli, aws, tuning_request) -> None:
    # GIVEN a running execution that tunes, picks a best job and deploys an endpoint
    execution = aws.start(aws.state_machine(happy_machine(aws, tuning_request, "w1")))

    # WHEN it is watched
    result = cli("watch", execution, "--interval", "0.2", "--timeout", "30")

    # THEN every line is time-stamped, nothing repeats, and each part of the run shows up
    assert result.code == 0
    lines = result.out.splitlines()
    assert all(LINE.match(line) for line in lines)
    texts = [LINE.sub("", line) for line in lines]
    assert len(texts) == len(set(texts))
    assert texts[0].startswith(f"execution {execution.rsplit(':', 1)[1]} of sm-")
    assert any(t.startswith("tuning job tj-w1: Completed, training jobs: ") for t in texts)
    assert "best training job tj-w1-002-abcdef12: validation:auc = 0.91" in texts
    assert "endpoint endpoint-w1: InService (config config-w1)" in texts
    assert "state: DeploymentSucceeded" in texts
    assert re.fullmatch(r"execution SUCCEEDED after \d+s", texts[-1])
    assert result.err == ""


def test_a_failed_run_ends_with_exit_1_and_its_error(cli, aws) -> None:
    machine = aws.state_machine(
        {
            "StartAt": "CheckEndpoint",
            "States": {
                "CheckEndpoint": {"Type": "Pass", "Next": "DeploymentFailed"},
                "DeploymentFailed": {
                    "Type": "Fail",
                    "Error": "EndpointUpdateRolledBack",
                    "Cause": "SageMaker rolled the update of endpoint e1 back",
                },
            },
        }
    )
    execution = aws.start(machine)
    aws.wait_until_done(execution)

    result = cli("watch", execution, "--interval", "0.1")

    assert result.code == 1
    last = LINE.sub("", result.out.splitlines()[-1])
    assert re.fullmatch(
        r"execution FAILED after \d+s: EndpointUpdateRolledBack: "
        r"SageMaker rolled the update of endpoint e1 back",
        last,
    )
    assert "state: DeploymentFailed" in result.out


def waiting_machine(aws, seconds: int = 30, timeout: int | None = None) -> str:
    definition: dict[str, Any] = {
        "StartAt": "WaitForEndpoint",
        "States": {"WaitForEndpoint": {"Type": "Wait", "Seconds": seconds, "End": True}},
    }
    if timeout:
        definition["TimeoutSeconds"] = timeout
    return aws.state_machine(definition)


def test_watch_gives_up_after_its_timeout_with_exit_5(cli, aws) -> None:
    execution = aws.start(waiting_machine(aws))
    try:
        result = cli("watch", execution, "--interval", "0.1", "--timeout", "0.4")
    finally:
        aws.client("stepfunctions").stop_execution(executionArn=execution)

    assert result.code == 5
    assert "state: WaitForEndpoint" in result.out
    # The elapsed time is rounded to whole seconds; a busy machine may take longer than 0.4 s.
    assert re.search(r"stopped watching after \d+s; the execution is still RUNNING", result.out)


def test_an_aborted_run_exits_4(cli, aws) -> None:
    execution = aws.start(waiting_machine(aws))
    aws.client("stepfunctions").stop_execution(executionArn=execution, error="Operator")

    result = cli("watch", execution, "--interval", "0.1", "--timeout", "10")

    assert result.code == 4
    assert "execution ABORTED after" in result.out


def test_a_timed_out_run_exits_3(cli, aws) -> None:
    execution = aws.start(waiting_machine(aws, seconds=5, timeout=1))

    result = cli("watch", execution, "--interval", "0.2", "--timeout", "15")

    assert result.code == 3
    assert "execution TIMED_OUT after" in result.out


def test_an_unknown_execution_is_one_line(cli, aws) -> None:
    arn = "arn:aws:states:us-east-1:123456789012:execution:nothing:here"

    result = cli("watch", arn, "--interval", "0.1")

    assert result.code == 2
    assert result.err == f"smtune: error: execution not found: {arn}\n"
    assert result.out == ""


def test_not_an_execution_arn(cli) -> None:
    result = cli("watch", "run-1")

    assert result.code == 2
    assert (
        result.err
        == "smtune: error: EXECUTION_ARN: 'run-1' is not a Step Functions execution ARN\n"
    )


def test_a_bad_interval_is_a_usage_error(cli) -> None:
    result = cli("watch", "arn:aws:states:us-east-1:123456789012:execution:m:r", "--interval", "0")

    assert result.code == 2
    assert "'0' must be greater than 0" in result.err


# --- following child executions (histories shaped as AWS writes them for startExecution.sync:2)

START = datetime(2026, 1, 5, 9, 0, 0, tzinfo=timezone.utc)
PARENT = "arn:aws:states:us-east-1:123456789012:execution:demo-workflow:run-1"
TUNER = "arn:aws:states:us-east-1:123456789012:execution:demo-tuner:child-1"


def event(event_id: int, kind: str, seconds: float, **details: Any) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "id": event_id,
        "type": kind,
        "timestamp": START + timedelta(seconds=seconds),
    }
    entry.update(details)
    return entry


def parent_history(child_done: bool) -> list[dict[str, Any]]:
    events = [
        event(1, "ExecutionStarted", 0, executionStartedEventDetails={"input": "{}"}),
        event(2, "TaskStateEntered", 0, stateEnteredEventDetails={"name": "Tune"}),
        event(
            3,
            "TaskScheduled",
            0,
            taskScheduledEventDetails={
                "resourceType": "states",
                "resource": "startExecution.sync:2",
                "parameters": json.dumps({"StateMachineArn": "arn:...:demo-tuner"}),
            },
        ),
        event(4, "TaskStarted", 0, taskStartedEventDetails={"resourceType": "states"}),
        event(
            5,
            "TaskSubmitted",
            1,
            taskSubmittedEventDetails={
                "resourceType": "states",
                "resource": "startExecution.sync:2",
                "output": json.dumps({"ExecutionArn": TUNER, "StartDate": 1767603601.0}),
            },
        ),
    ]
    if child_done:
        events.append(
            event(
                6,
                "TaskSucceeded",
                40,
                taskSucceededEventDetails={
                    "resourceType": "states",
                    "resource": "startExecution.sync:2",
                    "output": json.dumps({"ExecutionArn": TUNER, "Status": "SUCCEEDED"}),
                },
            )
        )
    return events


def tuner_history(step: int) -> list[dict[str, Any]]:
    events = [
        event(1, "ExecutionStarted", 1, executionStartedEventDetails={"input": "{}"}),
        event(2, "TaskStateEntered", 1, stateEnteredEventDetails={"name": "PrepareTuningRun"}),
        event(3, "TaskStateExited", 2, stateExitedEventDetails={"name": "PrepareTuningRun"}),
        event(4, "TaskStateEntered", 2, stateEnteredEventDetails={"name": "CreateTuningJob"}),
        event(
            5,
            "TaskScheduled",
            2,
            taskScheduledEventDetails={
                "resourceType": "sagemaker",
                "resource": "createHyperParameterTuningJob.sync",
                "parameters": json.dumps({"HyperParameterTuningJobName": "demo-0123456789ab"}),
            },
        ),
    ]
    if step >= 2:
        events.append(
            event(6, "TaskStateExited", 39, stateExitedEventDetails={"name": "CreateTuningJob"})
        )
        events.append(event(7, "ExecutionSucceeded", 40, executionSucceededEventDetails={}))
    return events


class FakeStepFunctions:
    """Answers DescribeExecution / GetExecutionHistory from a script of poll rounds."""

    def __init__(self) -> None:
        self.round = 0

    def describe_execution(self, executionArn: str) -> dict[str, Any]:
        done = self.round >= 2
        machine = executionArn.split(":")[-2]
        return {
            "executionArn": executionArn,
            "name": executionArn.rsplit(":", 1)[1],
            "stateMachineArn": f"arn:aws:states:us-east-1:123456789012:stateMachine:{machine}",
            "status": "SUCCEEDED" if done else "RUNNING",
            "startDate": START,
            **({"stopDate": START + timedelta(seconds=41)} if done else {}),
        }

    def get_paginator(self, name: str) -> FakeStepFunctions:
        assert name == "get_execution_history"
        return self

    def paginate(self, executionArn: str, **_: Any) -> list[dict[str, Any]]:
        if executionArn == PARENT:
            return [{"events": parent_history(child_done=self.round >= 2)}]
        return [{"events": tuner_history(self.round)}]


class FakeSageMaker:
    def __init__(self, script: FakeStepFunctions) -> None:
        self.script = script

    def describe_hyper_parameter_tuning_job(self, HyperParameterTuningJobName: str) -> dict:
        done = self.script.round >= 1
        return {
            "HyperParameterTuningJobName": HyperParameterTuningJobName,
            "HyperParameterTuningJobStatus": "Completed" if done else "InProgress",
            "HyperParameterTuningJobConfig": {
                "HyperParameterTuningJobObjective": {
                    "Type": "Maximize",
                    "MetricName": "validation:auc",
                },
                "ResourceLimits": {"MaxNumberOfTrainingJobs": 5},
            },
            "TrainingJobStatusCounters": {
                "Completed": 5 if done else 2,
                "InProgress": 0 if done else 3,
                "RetryableError": 0,
                "NonRetryableError": 0,
                "Stopped": 0,
            },
            "BestTrainingJob": {
                "TrainingJobName": "demo-0123456789ab-004-1a2b3c4d"
                if done
                else "demo-0123456789ab-001-9f8e7d6c",
                "FinalHyperParameterTuningJobObjectiveMetric": {
                    "MetricName": "validation:auc",
                    "Value": 0.93 if done else 0.88,
                },
            },
        }


class FakeAws:
    def __init__(self) -> None:
        self.sfn = FakeStepFunctions()
        self.sagemaker = FakeSageMaker(self.sfn)

    def client(self, service: str) -> Any:
        return {"stepfunctions": self.sfn, "sagemaker": self.sagemaker}[service]


def test_follows_the_child_execution_a_parent_started() -> None:
    # GIVEN a parent whose Tune state started the tuner, which runs a tuning job
    fake = FakeAws()
    out = io.StringIO()

    def next_round(_seconds: float) -> None:
        fake.sfn.round += 1

    # WHEN it is watched over three polls
    code = watch(
        SnapshotReader(fake),  # type: ignore[arg-type]
        PARENT,
        out,
        interval=5,
        sleep=next_round,
        now=lambda: START + timedelta(seconds=12),
    )

    # THEN the state path goes through the child and the tuning job's progress is shown
    assert code == 0
    texts = [LINE.sub("", line) for line in out.getvalue().splitlines()]
    assert texts == [
        "execution run-1 of demo-workflow: RUNNING",
        "state: Tune > CreateTuningJob",
        "tuning job demo-0123456789ab: InProgress, training jobs: 2/5 completed, 3 in progress, "
        "0 failed, 0 stopped; best validation:auc 0.88 (demo-0123456789ab-001-9f8e7d6c)",
        "tuning job demo-0123456789ab: Completed, training jobs: 5/5 completed, 0 in progress, "
        "0 failed, 0 stopped; best validation:auc 0.93 (demo-0123456789ab-004-1a2b3c4d)",
        "execution SUCCEEDED after 41s",
    ]
    assert out.getvalue().startswith("[   0:12] ")


def test_the_final_line_says_what_the_run_did_with_its_model() -> None:
    from smtune.watch import deployment_outcome

    kept = {
        "deployment": {
            "outcome": "KeptLive",
            "promotion": {"reason": "not better: auc 0.7 against the live auc 0.8"},
        }
    }
    assert deployment_outcome(kept) == (
        "kept the live model (not better: auc 0.7 against the live auc 0.8)"
    )
    assert deployment_outcome({"outcome": "InService"}) == "deployed"  # the deployer's own
    assert deployment_outcome({"outcome": "Rejected"}).startswith("rejected")
    assert deployment_outcome({"tuning": {}}) is None
    assert deployment_outcome([1]) is None
