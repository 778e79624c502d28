"""`smtune watch`: one line per change while a run goes on; the exit code says how it ended."""

from __future__ import annotations

import io
import json
import re
import time
from datetime import datetime, timedelta, timezone
from typing import Any, Callable

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
    assert any(
        re.match(r"tuning job tj-w1: Completed, \d+ of \d+ training jobs completed", t)
        for t in texts
    ), result.out
    assert "best training job tj-w1-002-abcdef12: validation:auc = 0.91" in texts
    assert "endpoint endpoint-w1: InService (config config-w1)" in texts
    states = [t for t in texts if t.startswith("state: ")]
    assert states == [
        "state: PrepareTuningRun",
        "state: CreateTuningJob",
        "state: FindBestTrainingJob",
        "state: StartEndpointDeployment",
        "state: WaitForEndpoint",
        "state: DeploymentSucceeded",
    ]
    assert re.fullmatch(r"execution SUCCEEDED after \d+s", texts[-1])
    assert result.err == ""


def test_each_poll_of_a_run_on_the_server_makes_at_most_two_calls(aws, tuning_request) -> None:
    # GIVEN a running execution, and clients that count the calls they make
    from smtune.aws import Aws, AwsOptions

    execution = aws.start(aws.state_machine(happy_machine(aws, tuning_request, "w2")))
    clients = Aws(AwsOptions(endpoint_url=aws.url), default_region="us-east-1")
    calls: list[str] = []
    for service in ("stepfunctions", "sagemaker"):
        clients.client(service).meta.events.register(
            "before-call", lambda model, **_: calls.append(model.name)
        )
    per_poll: list[list[str]] = []

    def sleep(seconds: float) -> None:
        per_poll.append(calls[sum(map(len, per_poll)) :])
        time.sleep(seconds)

    # WHEN it is watched
    out = io.StringIO()
    code = watch(SnapshotReader(clients), execution, out, interval=0.1, timeout=30, sleep=sleep)
    per_poll.append(calls[sum(map(len, per_poll)) :])

    # THEN no poll made more than two calls, and every state shows up
    assert code == 0, out.getvalue()
    assert max(len(made) for made in per_poll) <= 2, per_poll
    assert per_poll[0] == ["DescribeExecution", "GetExecutionHistory"]
    texts = [LINE.sub("", line) for line in out.getvalue().splitlines()]
    assert [t for t in texts if t.startswith("state: ")][-2:] == [
        "state: WaitForEndpoint",
        "state: DeploymentSucceeded",
    ]
    assert "endpoint endpoint-w2: InService (config config-w2)" in texts


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


# --- following a run through the history's pages (histories shaped as AWS writes them, served
# --- as GetExecutionHistory pages them, growing while the run goes on)

START = datetime(2026, 1, 5, 9, 0, 0, tzinfo=timezone.utc)
PARENT = "arn:aws:states:us-east-1:123456789012:execution:demo-workflow:run-1"
TUNER = "arn:aws:states:us-east-1:123456789012:execution:demo-tuner:child-1"
TUNING_JOB = "demo-0123456789ab"
_END_EVENTS = {
    "ExecutionSucceeded": "SUCCEEDED",
    "ExecutionFailed": "FAILED",
    "ExecutionAborted": "ABORTED",
    "ExecutionTimedOut": "TIMED_OUT",
}


def event(event_id: int, kind: str, seconds: float, **details: Any) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "id": event_id,
        "type": kind,
        "timestamp": START + timedelta(seconds=seconds),
    }
    entry.update(details)
    return entry


class HistoryScript:
    """Builds one execution's events in order, numbering them."""

    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []

    def add(self, kind: str, seconds: float, **details: Any) -> HistoryScript:
        self.events.append(event(len(self.events) + 1, kind, seconds, **details))
        return self

    def state(self, kind: str, name: str, entered: float, exited: float | None) -> HistoryScript:
        self.add(f"{kind}StateEntered", entered, stateEnteredEventDetails={"name": name})
        if exited is not None:
            self.add(f"{kind}StateExited", exited, stateExitedEventDetails={"name": name})
        return self

    def start_child(self, seconds: float, child: str) -> HistoryScript:
        sync = {"resourceType": "states", "resource": "startExecution.sync:2"}
        self.add("TaskScheduled", seconds, taskScheduledEventDetails={**sync, "parameters": "{}"})
        self.add("TaskStarted", seconds, taskStartedEventDetails={"resourceType": "states"})
        output = json.dumps({"ExecutionArn": child})
        return self.add(
            "TaskSubmitted", seconds, taskSubmittedEventDetails={**sync, "output": output}
        )

    def child_succeeded(self, seconds: float, child: str) -> HistoryScript:
        output = json.dumps({"ExecutionArn": child, "Status": "SUCCEEDED"})
        return self.add(
            "TaskSucceeded",
            seconds,
            taskSucceededEventDetails={
                "resourceType": "states",
                "resource": "startExecution.sync:2",
                "output": output,
            },
        )

    def tuning_job(self, seconds: float, name: str) -> HistoryScript:
        return self.add(
            "TaskScheduled",
            seconds,
            taskScheduledEventDetails={
                "resourceType": "sagemaker",
                "resource": "createHyperParameterTuningJob.sync",
                "parameters": json.dumps({"HyperParameterTuningJobName": name}),
            },
        )


class ScriptedStepFunctions:
    """DescribeExecution and GetExecutionHistory over histories that grow with a simulated
    clock: an event exists from its timestamp on. Pages as AWS does: maxResults is an upper
    limit (at most `cap` events a page here), a nextToken only while more events exist, which
    continues where its page ended and must come with the same other arguments."""

    def __init__(self, histories: dict[str, list[dict[str, Any]]], cap: int = 1000) -> None:
        self.histories = histories
        self.cap = cap
        self.now = START
        self.calls = 0
        self.served = 0  # events returned, over all calls
        self.call_cost = timedelta(0)  # how far the clock moves during a call

    def _call(self) -> None:
        self.calls += 1
        self.now += self.call_cost

    def visible(self, arn: str) -> list[dict[str, Any]]:
        return [e for e in self.histories[arn] if e["timestamp"] <= self.now]

    def describe_execution(self, executionArn: str) -> dict[str, Any]:
        self._call()
        events = self.visible(executionArn)
        last = events[-1] if events else None
        ended = last is not None and last["type"] in _END_EVENTS
        return {
            "executionArn": executionArn,
            "name": executionArn.rsplit(":", 1)[1],
            "stateMachineArn": "arn:aws:states:us-east-1:123456789012:stateMachine:"
            + executionArn.split(":")[-2],
            "status": _END_EVENTS[last["type"]] if ended and last else "RUNNING",
            "startDate": START,
            **({"stopDate": last["timestamp"]} if ended and last else {}),
        }

    def get_execution_history(
        self,
        executionArn: str,
        maxResults: int = 100,
        reverseOrder: bool = False,
        nextToken: str | None = None,
    ) -> dict[str, Any]:
        self._call()
        events = self.visible(executionArn)
        if reverseOrder:
            events = events[::-1]
        if nextToken is not None:
            arn, reverse, size, next_id = nextToken.split("|")
            assert (arn, reverse, int(size)) == (executionArn, str(reverseOrder), maxResults)
            events = [
                e
                for e in events
                if (e["id"] <= int(next_id) if reverseOrder else e["id"] >= int(next_id))
            ]
        page_size = min(maxResults or 100, self.cap)
        page, rest = events[:page_size], events[page_size:]
        self.served += len(page)
        answer: dict[str, Any] = {"events": page}
        if rest:
            answer["nextToken"] = f"{executionArn}|{reverseOrder}|{maxResults}|{rest[0]['id']}"
        return answer


class ScriptedSageMaker:
    """DescribeHyperParameterTuningJob: `progress(seconds)` says the counters at a time."""

    def __init__(self, sfn: ScriptedStepFunctions, progress: Callable[[float], dict]) -> None:
        self.sfn = sfn
        self.progress = progress

    def describe_hyper_parameter_tuning_job(self, HyperParameterTuningJobName: str) -> dict:
        self.sfn._call()
        state = self.progress((self.sfn.now - START).total_seconds())
        return {
            "HyperParameterTuningJobName": HyperParameterTuningJobName,
            "HyperParameterTuningJobStatus": state["status"],
            "HyperParameterTuningJobConfig": {
                "HyperParameterTuningJobObjective": {
                    "Type": "Maximize",
                    "MetricName": "validation:auc",
                },
                "ResourceLimits": {"MaxNumberOfTrainingJobs": state["planned"]},
            },
            "TrainingJobStatusCounters": {
                "Completed": state["completed"],
                "InProgress": state["in_progress"],
                "RetryableError": 0,
                "NonRetryableError": state.get("failed", 0),
                "Stopped": 0,
            },
            "BestTrainingJob": {
                "TrainingJobName": state["best_job"],
                "FinalHyperParameterTuningJobObjectiveMetric": {
                    "MetricName": "validation:auc",
                    "Value": state["best"],
                },
            },
        }


class ScriptedAws:
    def __init__(self, sfn: ScriptedStepFunctions, sagemaker: ScriptedSageMaker) -> None:
        self.sfn, self.sagemaker = sfn, sagemaker

    def client(self, service: str) -> Any:
        return {"stepfunctions": self.sfn, "sagemaker": self.sagemaker}[service]


def follow(
    sfn: ScriptedStepFunctions, progress: Callable[[float], dict], interval: float
) -> tuple[int, list[str], list[int]]:
    """Watch the scripted run; the exit code, the lines printed and the calls of each poll."""
    out = io.StringIO()
    per_poll: list[int] = []

    def sleep(seconds: float) -> None:
        per_poll.append(sfn.calls - sum(per_poll))
        sfn.now += timedelta(seconds=seconds)

    code = watch(
        SnapshotReader(ScriptedAws(sfn, ScriptedSageMaker(sfn, progress))),  # type: ignore[arg-type]
        PARENT,
        out,
        interval=interval,
        sleep=sleep,
        now=lambda: sfn.now,
    )
    per_poll.append(sfn.calls - sum(per_poll))
    return code, out.getvalue().splitlines(), per_poll


def seconds_of(line: str) -> int:
    clock = line[1:].split("]", 1)[0].strip()
    total = 0
    for part in clock.split(":"):
        total = total * 60 + int(part)
    return total


def tuning_until(done_at: float, planned: int = 5) -> Callable[[float], dict]:
    def progress(seconds: float) -> dict:
        done = seconds >= done_at
        return {
            "status": "Completed" if done else "InProgress",
            "planned": planned,
            "completed": planned if done else 2,
            "in_progress": 0 if done else 3,
            "best": 0.93 if done else 0.88,
            "best_job": f"{TUNING_JOB}-004-1a2b3c4d" if done else f"{TUNING_JOB}-001-9f8e7d6c",
        }

    return progress


def test_follows_the_child_execution_a_parent_started() -> None:
    # GIVEN a parent whose Tune state started the tuner, which runs a tuning job
    parent = (
        HistoryScript()
        .add("ExecutionStarted", 0, executionStartedEventDetails={"input": "{}"})
        .state("Task", "Tune", 0, None)
        .start_child(1, TUNER)
        .child_succeeded(40, TUNER)
        .add("TaskStateExited", 40, stateExitedEventDetails={"name": "Tune"})
        .state("Succeed", "RunSucceeded", 40, 40)
        .add("ExecutionSucceeded", 41, executionSucceededEventDetails={"output": "{}"})
    )
    tuner = (
        HistoryScript()
        .add("ExecutionStarted", 1, executionStartedEventDetails={"input": "{}"})
        .state("Task", "PrepareTuningRun", 1, 2)
        .state("Task", "CreateTuningJob", 2, None)
        .tuning_job(2, TUNING_JOB)
        .add("TaskStateExited", 39, stateExitedEventDetails={"name": "CreateTuningJob"})
        .add("ExecutionSucceeded", 40, executionSucceededEventDetails={"output": "{}"})
    )
    sfn = ScriptedStepFunctions({PARENT: parent.events, TUNER: tuner.events})
    sfn.now = START + timedelta(seconds=3)

    # WHEN it is watched, a poll every 10 seconds
    code, lines, per_poll = follow(sfn, tuning_until(30), interval=10)

    # THEN every state shows up at the time it was entered, through the child, and the tuning
    # job's progress says what its numbers count
    assert code == 0
    assert lines == [
        "[   0:00] execution run-1 of demo-workflow: RUNNING",
        "[   0:00] state: Tune",
        "[   0:01] state: Tune > PrepareTuningRun",
        "[   0:02] state: Tune > CreateTuningJob",
        f"[   0:13] tuning job {TUNING_JOB}: InProgress, 2 of 5 training jobs completed, "
        f"3 in progress; best validation:auc 0.88 so far ({TUNING_JOB}-001-9f8e7d6c)",
        f"[   0:33] tuning job {TUNING_JOB}: Completed, 5 of 5 training jobs completed; "
        f"best validation:auc 0.93 ({TUNING_JOB}-004-1a2b3c4d)",
        "[   0:40] state: RunSucceeded",
        "[   0:41] execution SUCCEEDED after 41s",
    ]
    assert max(per_poll) <= 2


def long_run() -> tuple[dict[str, list[dict[str, Any]]], list[str], float]:
    """A parent that polls in a loop (a burst of 1,200 events in 2.4 s), starts a tuner that
    loops slowly for 400 s, then loops again: about 2,600 events. Also returns every state
    line the run must show, in order, and when the tuning job completes."""
    parent, tuner = HistoryScript(), HistoryScript()
    expected: list[str] = []
    visits: dict[str, int] = {}

    def entered(path: str) -> None:
        visits[path] = visits.get(path, 0) + 1
        expected.append(f"state: {path}" + (f" (visit {visits[path]})" if visits[path] > 1 else ""))

    parent.add("ExecutionStarted", 0, executionStartedEventDetails={"input": "{}"})
    parent.state("Task", "PrepareTuningRun", 0, 0.001)
    entered("PrepareTuningRun")
    clock = 0.002
    for _ in range(300):
        parent.state("Wait", "WaitForQuota", clock, clock + 0.001)
        parent.state("Choice", "QuotaFree", clock + 0.001, clock + 0.002)
        entered("WaitForQuota")
        entered("QuotaFree")
        clock += 0.008
    parent.state("Task", "Tune", clock, None).start_child(clock, TUNER)
    entered("Tune")
    tuner.add("ExecutionStarted", clock, executionStartedEventDetails={"input": "{}"})
    tuner.state("Task", "CreateTuningJob", clock, None).tuning_job(clock, TUNING_JOB)
    entered("Tune > CreateTuningJob")
    tuner.add("TaskStateExited", clock + 1, stateExitedEventDetails={"name": "CreateTuningJob"})
    child = clock + 1
    for _ in range(200):
        tuner.state("Wait", "WaitForTrainingJobs", child, child + 1)
        tuner.state("Choice", "TrainingJobsDone", child + 1, child + 1)
        entered("Tune > WaitForTrainingJobs")
        entered("Tune > TrainingJobsDone")
        child += 2
    tuning_done = child
    tuner.state("Succeed", "TuningSucceeded", child, child)
    entered("Tune > TuningSucceeded")
    tuner.add("ExecutionSucceeded", child, executionSucceededEventDetails={"output": "{}"})
    clock = child + 0.001
    parent.child_succeeded(clock, TUNER)
    parent.add("TaskStateExited", clock, stateExitedEventDetails={"name": "Tune"})
    for _ in range(150):
        parent.state("Wait", "WaitForEndpoint", clock, clock + 0.004)
        parent.state("Choice", "EndpointInService", clock + 0.004, clock + 0.005)
        entered("WaitForEndpoint")
        entered("EndpointInService")
        clock += 0.01
    parent.state("Succeed", "RunSucceeded", clock, clock)
    entered("RunSucceeded")
    parent.add("ExecutionSucceeded", clock, executionSucceededEventDetails={"output": "{}"})
    return {PARENT: parent.events, TUNER: tuner.events}, expected, tuning_done


def test_once_the_run_has_ended_what_is_left_is_read_without_waiting_whole_intervals() -> None:
    # GIVEN a run that has ended, with a child and a tuning job still to read
    histories, _, _ = long_run()
    sfn = ScriptedStepFunctions(histories)
    sfn.now = START + timedelta(days=1)
    pauses: list[float] = []
    out = io.StringIO()

    def sleep(seconds: float) -> None:
        pauses.append(seconds)
        sfn.now += timedelta(seconds=seconds)

    # WHEN it is watched with a long interval
    code = watch(
        SnapshotReader(ScriptedAws(sfn, ScriptedSageMaker(sfn, tuning_until(0)))),  # type: ignore[arg-type]
        PARENT,
        out,
        interval=30,
        sleep=sleep,
        now=lambda: sfn.now,
    )

    # THEN once its history has shown the end (the first poll reads only the first page), it
    # reads the rest in short pauses, still at most two calls each, and ends
    assert code == 0
    assert pauses[0] == 30
    assert len(pauses) > 1 and max(pauses[1:]) <= 0.2
    assert "execution SUCCEEDED" in out.getvalue().splitlines()[-1]


def test_a_long_history_costs_at_most_two_calls_a_poll_and_shows_every_state_once() -> None:
    # GIVEN a run of about 2,600 events, with bursts of more than a page between two polls,
    # a service that answers at most 400 events a page, and calls that take a while
    histories, expected, tuning_done = long_run()
    sfn = ScriptedStepFunctions(histories, cap=400)
    sfn.call_cost = timedelta(seconds=0.3)
    sfn.now = START + timedelta(seconds=0.5)

    def progress(seconds: float) -> dict:
        done = seconds >= tuning_done
        completed = 10 if done else min(9, int(seconds // 50))
        return {
            "status": "Completed" if done else "InProgress",
            "planned": 10,
            "completed": completed,
            "in_progress": 0 if done else 2,
            "failed": 1 if seconds >= 200 else 0,
            "best": 0.9,
            "best_job": f"{TUNING_JOB}-003-0a1b2c3d",
        }

    # WHEN it is watched, a poll every 5 seconds
    code, lines, per_poll = follow(sfn, progress, interval=5)

    # THEN no poll makes more than two calls, however long the history
    total_events = sum(len(events) for events in histories.values())
    assert total_events > 2000
    assert code == 0
    assert max(per_poll) <= 2, per_poll
    assert len(per_poll) > 60
    # AND the history is read about once: the already-read events that come again are those
    # of the short look at the newest that finds what is new, and of a look with a larger page
    assert sfn.served <= total_events + 25 * len(per_poll) + 1000 * 3, sfn.served

    # AND every state entered shows up once, in order, with times that never go backwards
    texts = [LINE.sub("", line) for line in lines]
    assert [text for text in texts if text.startswith("state: ")] == expected
    times = [seconds_of(line) for line in lines]
    assert times == sorted(times)
    assert re.fullmatch(r"execution SUCCEEDED after 6m 4\ds", texts[-1])

    # AND the tuning job's progress says what each number counts
    tuning = [text for text in texts if text.startswith(f"tuning job {TUNING_JOB}: ")]
    assert f"tuning job {TUNING_JOB}: InProgress, 2 of 10 training jobs completed, " in (
        text[: len(f"tuning job {TUNING_JOB}: InProgress, 2 of 10 training jobs completed, ")]
        for text in tuning
    )
    assert any(
        re.fullmatch(
            rf"tuning job {TUNING_JOB}: InProgress, \d of 10 training jobs completed, "
            rf"2 in progress, 1 failed; best validation:auc 0\.9 so far \({TUNING_JOB}-003-\w+\)",
            text,
        )
        for text in tuning
    ), tuning
    assert tuning[-1] == (
        f"tuning job {TUNING_JOB}: Completed, 10 of 10 training jobs completed, 1 failed; "
        f"best validation:auc 0.9 ({TUNING_JOB}-003-0a1b2c3d)"
    )


def test_a_child_that_ends_between_two_calls_is_shown_before_what_its_parent_did_next() -> None:
    # GIVEN a child that ends while the watch reads its parent (calls take 2 s each)
    parent = (
        HistoryScript()
        .add("ExecutionStarted", 0, executionStartedEventDetails={"input": "{}"})
        .state("Task", "Tune", 0, None)
        .start_child(0, TUNER)
        .child_succeeded(17, TUNER)
        .add("TaskStateExited", 17, stateExitedEventDetails={"name": "Tune"})
        .state("Pass", "Deploy", 17, 17)
        .state("Succeed", "RunSucceeded", 17, 17)
        .add("ExecutionSucceeded", 17, executionSucceededEventDetails={"output": "{}"})
    )
    tuner = (
        HistoryScript()
        .add("ExecutionStarted", 0, executionStartedEventDetails={"input": "{}"})
        .state("Task", "CreateTuningJob", 0, 16.5)
        .state("Pass", "Summarize", 16.5, 16.5)
        .add("ExecutionSucceeded", 16.5, executionSucceededEventDetails={"output": "{}"})
    )
    sfn = ScriptedStepFunctions({PARENT: parent.events, TUNER: tuner.events})
    sfn.call_cost = timedelta(seconds=2)

    # WHEN it is watched: the fifth poll reads the child at 0:16, before its end, then the
    # parent at 0:18, after it
    code, lines, per_poll = follow(sfn, tuning_until(5), interval=1)

    # THEN the child's last states come before the parent's next ones
    texts = [LINE.sub("", line) for line in lines]
    assert code == 0
    assert [text for text in texts if text.startswith("state: ")] == [
        "state: Tune",
        "state: Tune > CreateTuningJob",
        "state: Tune > Summarize",
        "state: Deploy",
        "state: RunSucceeded",
    ]
    assert max(per_poll) <= 2


def test_tuning_progress_says_what_its_numbers_count() -> None:
    from smtune.resources import tuning_progress

    def described(completed: int, in_progress: int, failed: int, stopped: int) -> dict:
        return {
            "HyperParameterTuningJobName": "tj",
            "HyperParameterTuningJobStatus": "InProgress",
            "HyperParameterTuningJobConfig": {"ResourceLimits": {"MaxNumberOfTrainingJobs": 10}},
            "TrainingJobStatusCounters": {
                "Completed": completed,
                "InProgress": in_progress,
                "RetryableError": 0,
                "NonRetryableError": failed,
                "Stopped": stopped,
            },
        }

    assert tuning_progress(described(5, 3, 1, 0)).progress_text() == (
        "InProgress, 5 of 10 training jobs completed, 3 in progress, 1 failed"
    )
    assert tuning_progress(described(0, 2, 0, 1)).progress_text() == (
        "InProgress, 0 of 10 training jobs completed, 2 in progress, 1 stopped"
    )
    unplanned = described(1, 0, 0, 0)
    unplanned["HyperParameterTuningJobConfig"] = {}
    assert tuning_progress(unplanned).progress_text() == "InProgress, 1 training job completed"


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
