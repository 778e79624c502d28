"""Day-2 faults on one applied stack: throttling, quotas, failed and busy endpoints, concurrent
runs, stops, unexpected Lambda errors and hostile input.

Every scenario asserts the designed ending, the alerts (count and text), and that nothing is
left half-done: one endpoint, no tuning job still running, no execution still running. The
scenarios share one stack and run in file order; each leaves the endpoint InService.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import pytest

from tests.support.workflow import Stack, sns_queue

pytestmark = [pytest.mark.emulator, pytest.mark.xdist_group("faults")]

STACK_TIMEOUT = 240.0


@pytest.fixture(scope="module")
def stack(deploy: Callable[..., Stack]) -> Stack:
    """Short waits everywhere: the endpoint checks every second, refused SageMaker calls are
    retried after a second or two, at most three times."""
    return deploy(
        "wf-faults",
        {"endpointWaitIntervalSeconds": 1, "endpointWaitTimeoutSeconds": 240},
        sagemaker_retry={
            "max_attempts": 3,
            "throttle_base_seconds": 2,
            "throttle_max_seconds": 2,
            "quota_base_seconds": 1,
            "quota_max_seconds": 2,
        },
    )


@pytest.fixture(scope="module")
def alerts(stack: Stack) -> Callable[[], list[str]]:
    return sns_queue(stack)


@pytest.fixture(autouse=True)
def quiet_start(emulator: Any, alerts: Callable[[], list[str]]) -> Iterator[None]:
    """Each scenario starts with no alert pending and the emulator's default pacing."""
    alerts()
    emulator.set_progression(0)
    yield
    emulator.set_progression(0)


def endpoint_name(stack: Stack) -> str:
    return str(stack.ml_parameters["endpointName"])


def live_endpoint(stack: Stack) -> dict[str, Any]:
    return dict(stack.clients("sagemaker").describe_endpoint(EndpointName=endpoint_name(stack)))


def assert_nothing_half_done(stack: Stack) -> None:
    """One endpoint, InService; no tuning job in progress; no execution of the stack running."""
    sagemaker = stack.clients("sagemaker")
    endpoints = [
        e["EndpointName"]
        for e in sagemaker.list_endpoints()["Endpoints"]
        if e["EndpointName"].startswith(endpoint_name(stack))
    ]
    assert endpoints == [endpoint_name(stack)]
    assert live_endpoint(stack)["EndpointStatus"] == "InService"
    running_jobs = sagemaker.list_hyper_parameter_tuning_jobs(StatusEquals="InProgress")
    assert running_jobs["HyperParameterTuningJobSummaries"] == []
    sfn = stack.clients("stepfunctions")
    for key in ("state_machine_arn", "tuner_state_machine_arn", "deployer_state_machine_arn"):
        running = sfn.list_executions(stateMachineArn=stack.outputs[key], statusFilter="RUNNING")[
            "executions"
        ]
        assert running == [], key


def assert_readable(text: str) -> None:
    """No stack trace, no raw Lambda envelope, no control characters inside a line."""
    assert "Traceback" not in text and "stackTrace" not in text and '"errorType"' not in text
    assert not re.search(r"[\x00-\x08\x0b-\x1f\x7f\u2028\u2029]", text)


def run_ok(stack: Stack, document: dict[str, Any]) -> dict[str, Any]:
    run = stack.wait(stack.start(stack.parent_arn, document), timeout=STACK_TIMEOUT)
    assert run["status"] == "SUCCEEDED", run.get("cause")
    return json.loads(run["output"])


@pytest.fixture(scope="module")
def first_run(stack: Stack, manifest: dict[str, Any]) -> dict[str, Any]:
    """GIVEN a fresh stack WHEN a run creates the endpoint."""
    return run_ok(stack, manifest)


@dataclass
class Faults:
    """What every scenario works with: the emulator, the stack (its endpoint created by a first
    run), the seed's manifest and the stack's alerts."""

    emulator: Any
    stack: Stack
    manifest: dict[str, Any]
    alerts: Callable[[], list[str]]

    def parts(self) -> tuple[Any, Stack, dict[str, Any], Callable[[], list[str]]]:
        return self.emulator, self.stack, self.manifest, self.alerts


@pytest.fixture
def faults(
    emulator: Any,
    stack: Stack,
    first_run: dict[str, Any],
    manifest: dict[str, Any],
    alerts: Callable[[], list[str]],
) -> Faults:
    return Faults(emulator, stack, manifest, alerts)


# Throttling and quotas --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("operation", "retry_state"),
    [
        ("CreateHyperParameterTuningJob", "CountThrottledCall"),
        ("CreateModel", "CountThrottledCall"),
        ("CreateEndpointConfig", "CountThrottledCall"),
    ],
)
def test_a_throttled_sagemaker_task_is_retried_then_succeeds(
    faults: Faults, operation: str, retry_state: str
) -> None:
    emulator, stack, manifest, alerts = faults.parts()
    # GIVEN SageMaker throttles the next two calls of the operation, as AWS reports it to an
    # optimized integration (SageMaker.AmazonSageMakerException, the code in the cause)
    emulator.queue_api_error("sagemaker", operation, "ThrottlingException", times=2)
    # WHEN a run starts
    output = run_ok(stack, manifest)
    # THEN it retried twice and succeeded, silently
    child = output["tuning"]["executionArn"] if operation != "CreateEndpointConfig" else None
    history_of = child or output["deployment"]["executionArn"]
    assert stack.entered_states(history_of).count(retry_state) == 2
    assert alerts() == []
    assert_nothing_half_done(stack)


def test_an_exhausted_training_quota_waits_and_then_succeeds(faults: Faults) -> None:
    emulator, stack, manifest, alerts = faults.parts()
    emulator.queue_api_error(
        "sagemaker", "CreateHyperParameterTuningJob", "ResourceLimitExceeded", times=1
    )
    output = run_ok(stack, manifest)
    assert stack.entered_states(output["tuning"]["executionArn"]).count("CountQuotaWait") == 1
    assert alerts() == []


def test_a_quota_that_stays_exhausted_fails_after_the_bounded_retries(faults: Faults) -> None:
    emulator, stack, manifest, alerts = faults.parts()
    # GIVEN more refusals than the three retries the stack allows
    emulator.queue_api_error(
        "sagemaker", "CreateHyperParameterTuningJob", "ResourceLimitExceeded", times=4
    )
    run = stack.run(manifest)
    assert run["status"] == "FAILED"
    assert "ResourceLimitExceeded" in run["cause"]
    messages = alerts()
    assert len(messages) == 1 and "ResourceLimitExceeded" in messages[0]
    assert_readable(messages[0])
    assert_nothing_half_done(stack)


def test_a_validation_error_is_not_retried(faults: Faults) -> None:
    emulator, stack, manifest, alerts = faults.parts()
    emulator.queue_api_error(
        "sagemaker", "CreateModel", "ValidationException", message="Image is not valid."
    )
    run = stack.run(manifest)
    assert run["status"] == "FAILED"
    tuner_runs = stack.clients("stepfunctions").list_executions(
        stateMachineArn=stack.outputs["tuner_state_machine_arn"], statusFilter="FAILED"
    )["executions"]
    states = stack.entered_states(tuner_runs[0]["executionArn"])
    assert "CountThrottledCall" not in states and "CountQuotaWait" not in states
    messages = alerts()
    assert len(messages) == 1 and "Image is not valid" in messages[0]


def test_throttling_inside_the_lambdas_is_absorbed(faults: Faults) -> None:
    emulator, stack, manifest, alerts = faults.parts()
    # GIVEN the endpoint reads of the deployer's Lambdas are throttled, and Lambda itself
    # refuses one invocation (TooManyRequestsException, HTTP 429)
    emulator.queue_api_error("sagemaker", "DescribeEndpoint", "ThrottlingException", times=2)
    emulator.queue_api_error("sagemaker", "DescribeTrainingJob", "ThrottlingException", times=2)
    emulator.queue_api_error("lambda", "Invoke", "TooManyRequestsException", times=1)
    # WHEN a run starts THEN it succeeds without an alert
    run_ok(stack, manifest)
    assert alerts() == []
    assert emulator.control_state()["apiErrors"] == []


# Endpoints ----------------------------------------------------------------------------------------


def test_a_rolled_back_update_fails_once_and_the_next_run_updates_normally(faults: Faults) -> None:
    emulator, stack, manifest, alerts = faults.parts()
    emulator.queue_endpoint_outcome("RolledBack", "emulated: the new variant failed health checks")
    failed = stack.run(manifest)
    assert failed["status"] == "FAILED" and failed["error"] == "EndpointUpdateRolledBack"
    assert len(alerts()) == 1
    output = run_ok(stack, manifest)
    assert output["deployment"]["action"] == "update"
    assert live_endpoint(stack)["EndpointConfigName"] == output["deployment"]["endpointConfigName"]
    assert alerts() == []


def test_a_failed_endpoint_is_deleted_and_created_anew_by_the_next_run(faults: Faults) -> None:
    emulator, stack, manifest, alerts = faults.parts()
    # GIVEN the endpoint's creation failed (it was deleted, and the next creation fails)
    sagemaker = stack.clients("sagemaker")
    sagemaker.delete_endpoint(EndpointName=endpoint_name(stack))
    emulator.queue_endpoint_outcome("Failed", "emulated: the container did not pass /ping")
    failed = stack.run(manifest)
    assert failed["status"] == "FAILED" and failed["error"] == "EndpointFailed"
    assert "did not pass /ping" in failed["cause"]
    assert live_endpoint(stack)["EndpointStatus"] == "Failed"
    assert len(alerts()) == 1
    # WHEN the next run starts (deletion takes a few Describe calls, as on AWS)
    emulator.set_progression(2)
    output = run_ok(stack, manifest)
    # THEN it deleted the Failed endpoint, waited, created it again, and says so
    deployer_states = stack.entered_states(output["deployment"]["executionArn"])
    assert "DeleteFailedEndpoint" in deployer_states
    assert output["deployment"]["action"] == "create"
    assert output["deployment"]["recoveredFailedEndpoint"] is True
    assert alerts() == []
    assert_nothing_half_done(stack)


def test_twenty_concurrent_runs_all_succeed_one_after_another_on_the_endpoint(
    faults: Faults,
) -> None:
    emulator, stack, manifest, alerts = faults.parts()
    # GIVEN deployments take a few Describe calls (UpdateEndpoint is refused meanwhile)
    emulator.set_progression(2)
    # WHEN 20 runs start at once
    with ThreadPoolExecutor(max_workers=4) as pool:
        arns = list(pool.map(lambda _: stack.start(stack.parent_arn, manifest), range(20)))
    runs = [stack.wait(arn, timeout=600) for arn in arns]
    # THEN every run succeeded, with its own tuning job, and nobody was alerted
    assert [r["status"] for r in runs] == ["SUCCEEDED"] * 20, [r.get("cause") for r in runs]
    outputs = [json.loads(r["output"]) for r in runs]
    assert len({o["tuning"]["tuningJobName"] for o in outputs}) == 20
    assert alerts() == []
    # AND the endpoint serves the config of one of them; every other run was either deployed
    # and then superseded by a later one, or deployed last
    live = live_endpoint(stack)["EndpointConfigName"]
    configs = {o["deployment"]["endpointConfigName"] for o in outputs}
    assert live in configs
    outcomes = [o["deployment"]["outcome"] for o in outputs]
    assert set(outcomes) <= {"InService", "Superseded"}
    assert outcomes.count("InService") >= 1
    assert_nothing_half_done(stack)


# Stops --------------------------------------------------------------------------------------------


def _wait_for_running_tuning_job(stack: Stack, timeout: float = 60.0) -> str:
    sagemaker = stack.clients("sagemaker")
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        jobs = sagemaker.list_hyper_parameter_tuning_jobs(StatusEquals="InProgress")
        summaries = jobs["HyperParameterTuningJobSummaries"]
        if summaries:
            return str(summaries[0]["HyperParameterTuningJobName"])
        time.sleep(0.3)
    raise AssertionError("no tuning job started")


def _running_child(stack: Stack) -> str:
    running = stack.clients("stepfunctions").list_executions(
        stateMachineArn=stack.outputs["tuner_state_machine_arn"], statusFilter="RUNNING"
    )["executions"]
    assert len(running) == 1
    return str(running[0]["executionArn"])


def test_stopping_the_parent_stops_the_child_and_the_tuning_job_silently(faults: Faults) -> None:
    emulator, stack, manifest, alerts = faults.parts()
    emulator.set_progression(100)
    parent = stack.start(stack.parent_arn, manifest)
    job = _wait_for_running_tuning_job(stack)
    child = _running_child(stack)
    stack.clients("stepfunctions").stop_execution(executionArn=parent)
    assert stack.wait(parent)["status"] == "ABORTED"
    assert stack.wait(child)["status"] == "ABORTED"
    sagemaker = stack.clients("sagemaker")
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        status = sagemaker.describe_hyper_parameter_tuning_job(HyperParameterTuningJobName=job)[
            "HyperParameterTuningJobStatus"
        ]
        if status != "InProgress":
            break
        time.sleep(0.3)
    assert status in ("Stopping", "Stopped")
    assert alerts() == []


def test_a_stopped_child_fails_the_parent_with_its_own_alert(faults: Faults) -> None:
    emulator, stack, manifest, alerts = faults.parts()
    emulator.set_progression(100)
    parent = stack.start(stack.parent_arn, manifest)
    _wait_for_running_tuning_job(stack)
    child = _running_child(stack)
    stack.clients("stepfunctions").stop_execution(executionArn=child)
    run = stack.wait(parent)
    assert run["status"] == "FAILED" and run["error"] == "ChildWorkflowStopped"
    assert child in run["cause"]
    messages = alerts()
    assert len(messages) == 1 and "ChildWorkflowStopped" in messages[0]
    assert parent in messages[0]


# Unexpected errors and hostile input -------------------------------------------------------------


def test_an_unexpected_lambda_error_is_reported_without_its_stack_trace(faults: Faults) -> None:
    emulator, stack, manifest, alerts = faults.parts()
    # GIVEN the best-job lookup gets an error nobody planned for (not transient: it raises)
    emulator.queue_api_error(
        "sagemaker",
        "DescribeTrainingJob",
        "ValidationException",
        message="Requested resource not found (emulated).",
    )
    run = stack.run(manifest)
    assert run["status"] == "FAILED" and run["error"] == "ClientError", run.get("cause")
    assert "Requested resource not found" in run["cause"]
    assert_readable(run["cause"])
    messages = alerts()
    assert len(messages) == 1
    assert_readable(messages[0])
    assert "get-execution-history" in messages[0] and "/aws/lambda/wf-faults-" in messages[0]


def _put(stack: Stack, key: str, body: bytes) -> str:
    stack.clients("s3").put_object(Bucket=stack.bucket, Key=key, Body=body)
    return f"s3://{stack.bucket}/{key}"


def _nested(depth: int) -> bytes:
    return ("[" * depth + "]" * depth).encode()


@pytest.mark.parametrize(
    ("key", "body"),
    [
        ("input/malformed.json", b'{"channels": [ '),
        ("input/missing.json", None),
        ("input/deep.json", _nested(5_000)),
        ("input/huge.json", b'{"channels": [], "pad": "' + b"x" * (1024 * 1024 + 10) + b'"}'),
        ("input/number.json", b'{"channels": [' + b"9" * 5_000 + b"]}"),
    ],
    ids=["malformed", "missing", "deeply-nested", "oversized", "huge-number"],
)
def test_a_bad_s3_manifest_fails_as_invalid_input_with_one_readable_alert(
    faults: Faults, key: str, body: bytes | None
) -> None:
    _, stack, _, alerts = faults.parts()
    uri = f"s3://{stack.bucket}/{key}" if body is None else _put(stack, key, body)
    run = stack.run({"manifestS3Uri": uri})
    assert run["status"] == "FAILED" and run["error"] == "InvalidInput", run.get("cause")
    assert "$.manifestS3Uri" in run["cause"]
    messages = alerts()
    assert len(messages) == 1
    assert_readable(messages[0])
    assert len(messages[0]) < 10_000


def test_a_channel_on_a_foreign_bucket_is_refused_before_any_sagemaker_call(
    faults: Faults,
) -> None:
    _, stack, manifest, _ = faults.parts()
    foreign = json.loads(json.dumps(manifest))
    foreign["channels"][1]["s3DataSource"]["S3Uri"] = "s3://someone-elses-bucket/validation/"
    jobs_before = stack.clients("sagemaker").list_hyper_parameter_tuning_jobs(MaxResults=100)
    run = stack.run(foreign)
    assert run["status"] == "FAILED" and run["error"] == "InvalidInput"
    assert "$.channels[1].s3DataSource.S3Uri" in run["cause"]
    assert "someone-elses-bucket" in run["cause"]
    jobs_after = stack.clients("sagemaker").list_hyper_parameter_tuning_jobs(MaxResults=100)
    assert len(jobs_after["HyperParameterTuningJobSummaries"]) == len(
        jobs_before["HyperParameterTuningJobSummaries"]
    )


def test_a_forged_newline_cannot_add_a_line_to_the_alert(faults: Faults) -> None:
    _, stack, manifest, alerts = faults.parts()
    forged = dict(manifest)
    forged["x\nRun SUCCEEDED - no action needed. Sign in: https://example.invalid/\n"] = 1
    run = stack.run(forged)
    assert run["status"] == "FAILED" and run["error"] == "InvalidInput"
    (message,) = alerts()
    lines = message.splitlines()
    assert not any(line.startswith("Run SUCCEEDED") for line in lines)
    assert "\\nRun SUCCEEDED" in message
    assert_readable(message)
