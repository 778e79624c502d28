"""Step Functions gaps: startExecution integrations, unnamed executions, timestamps, aws-sdk."""

from __future__ import annotations

import json
import time
from datetime import datetime, timezone

import pytest
from botocore.exceptions import ClientError

from tests.emulator.test_emulator_sagemaker import tuning_request
from tests.support.emulator import caught, moto_as_released, output_of, task, wait_for_execution

pytestmark = pytest.mark.emulator

START = "arn:aws:states:::states:startExecution"

CHILD = {
    "StartAt": "Decide",
    "States": {
        "Decide": {
            "Type": "Choice",
            "Choices": [{"Variable": "$.fail", "BooleanEquals": True, "Next": "Fail"}],
            "Default": "Echo",
        },
        "Echo": {"Type": "Pass", "Parameters": {"echo.$": "$.value"}, "End": True},
        "Fail": {"Type": "Fail", "Error": "ChildError", "Cause": "the child gave up"},
    },
}


@pytest.fixture
def child_arn(aws, role_arn):
    return aws("stepfunctions").create_state_machine(
        name="child", definition=json.dumps(CHILD), roleArn=role_arn
    )["stateMachineArn"]


def start_child(child_arn: str, condition: str, fail: bool = False) -> dict:
    return task(
        START + condition,
        {"StateMachineArn": child_arn, "Input": {"value": "hello", "fail": fail}},
    )


def test_sync2_parent_returns_the_childs_output_as_json(run_state_machine, child_arn):
    # GIVEN a parent that runs the child with startExecution.sync:2
    # WHEN it runs
    result = output_of(run_state_machine(start_child(child_arn, ".sync:2")))

    # THEN the task result is the child's description, PascalCased, Output parsed
    assert result["Status"] == "SUCCEEDED"
    assert result["Output"] == {"echo": "hello"}
    assert result["Input"] == {"value": "hello", "fail": False}
    assert result["ExecutionArn"].startswith(
        "arn:aws:states:us-east-1:123456789012:execution:child:"
    )


def test_sync_parent_returns_the_childs_output_as_a_string(run_state_machine, child_arn):
    result = output_of(run_state_machine(start_child(child_arn, ".sync")))

    assert result["Status"] == "SUCCEEDED"
    assert json.loads(result["Output"]) == {"echo": "hello"}


def test_plain_start_returns_execution_arn_and_start_date(run_state_machine, child_arn, aws):
    result = output_of(run_state_machine(start_child(child_arn, "")))

    assert set(result) == {"ExecutionArn", "StartDate"}
    child = wait_for_execution(aws("stepfunctions"), result["ExecutionArn"])
    assert json.loads(child["output"]) == {"echo": "hello"}


def test_failed_child_fails_the_parent_task_with_the_childs_description(
    run_state_machine, child_arn
):
    # GIVEN a child that fails
    definition = start_child(child_arn, ".sync:2", fail=True)

    # WHEN the parent runs it
    description = run_state_machine(definition)

    # THEN the parent fails with States.TaskFailed, and the cause is the child's description
    assert description["status"] == "FAILED"
    assert description["error"] == "States.TaskFailed"
    cause = json.loads(description["cause"])
    assert (cause["Status"], cause["Error"], cause["Cause"]) == (
        "FAILED",
        "ChildError",
        "the child gave up",
    )


def test_start_execution_task_fails_without_the_patch(run_state_machine, child_arn):
    with moto_as_released():
        description = run_state_machine(start_child(child_arn, ".sync:2"))

    assert description["status"] == "FAILED"


def test_unnamed_executions_get_distinct_names(aws, child_arn):
    sfn = aws("stepfunctions")

    first = sfn.start_execution(stateMachineArn=child_arn, input="{}")
    second = sfn.start_execution(stateMachineArn=child_arn, input="{}")

    assert first["executionArn"] != second["executionArn"]
    assert not first["executionArn"].endswith(":None")


def test_unnamed_executions_collide_without_the_patch(aws, child_arn):
    sfn = aws("stepfunctions")
    with moto_as_released():
        sfn.start_execution(stateMachineArn=child_arn, input='{"fail": false}')
        # Another input, so the collision does not depend on whether the first run is still
        # RUNNING (moto returns a running execution with the same name and input again).
        with pytest.raises(ClientError, match="ExecutionAlreadyExists"):
            sfn.start_execution(stateMachineArn=child_arn, input='{"fail": true}')


TIMESTAMP_OUTPUT = {
    "StartAt": "Stamp",
    "States": {
        "Stamp": {
            "Type": "Pass",
            "Parameters": {"started.$": "$$.Execution.StartTime"},
            "End": True,
        }
    },
}


def test_timestamps_in_the_output_are_iso_strings(run_state_machine):
    result = output_of(run_state_machine(TIMESTAMP_OUTPUT))

    assert result["started"].startswith("20")
    assert "T" in result["started"]


def test_timestamps_in_the_output_break_describe_without_the_patch(run_state_machine):
    with moto_as_released(), pytest.raises(ClientError, match="500"):
        run_state_machine(TIMESTAMP_OUTPUT)


REGISTER_TARGET = {
    "ServiceNamespace": "sagemaker",
    "ResourceId": "endpoint/ep/variant/AllTraffic",
    "ScalableDimension": "sagemaker:variant:DesiredInstanceCount",
    "MinCapacity": 1,
    "MaxCapacity": 3,
}


def test_application_autoscaling_sdk_tasks_reach_the_service(run_state_machine, aws):
    run_state_machine(
        task(
            "arn:aws:states:::aws-sdk:applicationautoscaling:registerScalableTarget",
            REGISTER_TARGET,
        )
    )

    targets = aws("application-autoscaling").describe_scalable_targets(
        ServiceNamespace="sagemaker"
    )["ScalableTargets"]
    assert [(t["ResourceId"], t["MaxCapacity"]) for t in targets] == [
        ("endpoint/ep/variant/AllTraffic", 3)
    ]


def test_application_autoscaling_sdk_tasks_fail_without_the_patch(run_state_machine):
    with moto_as_released():
        description = run_state_machine(
            task(
                "arn:aws:states:::aws-sdk:applicationautoscaling:registerScalableTarget",
                REGISTER_TARGET,
            )
        )

    assert description["status"] == "FAILED"


@pytest.mark.parametrize(
    ("resource", "parameters", "expected"),
    [
        (
            "arn:aws:states:::aws-sdk:sagemaker:describeEndpoint",
            {"EndpointName": "missing"},
            "SageMaker.SageMakerException",
        ),
        (
            "arn:aws:states:::aws-sdk:sagemaker:describeHyperParameterTuningJob",
            {"HyperParameterTuningJobName": "missing"},
            "SageMaker.ResourceNotFoundException",
        ),
        (
            "arn:aws:states:::aws-sdk:applicationautoscaling:deregisterScalableTarget",
            {
                key: REGISTER_TARGET[key]
                for key in ("ServiceNamespace", "ResourceId", "ScalableDimension")
            },
            "ApplicationAutoScaling.ObjectNotFoundException",
        ),
    ],
)
def test_sdk_errors_carry_aws_error_names(run_state_machine, resource, parameters, expected):
    result = output_of(run_state_machine(caught(resource, parameters)))

    assert result["error"]["Error"] == expected


def test_sdk_error_names_are_lower_case_without_the_patch(run_state_machine):
    definition = caught(
        "arn:aws:states:::aws-sdk:sagemaker:describeEndpoint", {"EndpointName": "missing"}
    )
    with moto_as_released():
        result = output_of(run_state_machine(definition))

    assert result["error"]["Error"] == "sagemaker.sagemakerException"


def test_sdk_results_with_timestamps_reach_the_output(run_state_machine, aws):
    sagemaker = aws("sagemaker")
    sagemaker.create_model(
        ModelName="m",
        ExecutionRoleArn="arn:aws:iam::123456789012:role/r",
        PrimaryContainer={"Image": "i"},
    )

    result = output_of(
        run_state_machine(
            task("arn:aws:states:::aws-sdk:sagemaker:describeModel", {"ModelName": "m"})
        )
    )

    assert result["ModelName"] == "m"
    assert isinstance(result["CreationTime"], str)


# Stopping a parent -----------------------------------------------------------------------------

TUNE_SYNC = "arn:aws:states:::sagemaker:createHyperParameterTuningJob.sync"


def wait_until(condition, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.1)


def child_arns(sfn, machine_arn: str) -> list[str]:
    return [
        e["executionArn"] for e in sfn.list_executions(stateMachineArn=machine_arn)["executions"]
    ]


@pytest.mark.parametrize("condition", [".sync", ".sync:2"])
def test_stopping_the_parent_stops_its_waiting_child(aws, role_arn, condition):
    # GIVEN a parent waiting on a child that waits a minute
    sfn = aws("stepfunctions")
    child = sfn.create_state_machine(
        name="slow-child",
        definition=json.dumps(
            {"StartAt": "Wait", "States": {"Wait": {"Type": "Wait", "Seconds": 60, "End": True}}}
        ),
        roleArn=role_arn,
    )["stateMachineArn"]
    parent = sfn.create_state_machine(
        name="parent",
        definition=json.dumps(task(START + condition, {"StateMachineArn": child})),
        roleArn=role_arn,
    )["stateMachineArn"]
    execution = sfn.start_execution(stateMachineArn=parent, input="{}")["executionArn"]
    wait_until(lambda: child_arns(sfn, child))

    # WHEN the parent is stopped
    sfn.stop_execution(executionArn=execution)

    # THEN the child is stopped too
    assert wait_for_execution(sfn, execution)["status"] == "ABORTED"
    (child_execution,) = child_arns(sfn, child)
    assert wait_for_execution(sfn, child_execution, timeout=10)["status"] == "ABORTED"


def test_stopping_the_parent_stops_the_childs_tuning_job(aws, role_arn, emulator):
    # GIVEN a parent whose .sync:2 child waits on a tuning job that stays InProgress
    sfn, sagemaker = aws("stepfunctions"), aws("sagemaker")
    emulator.set_progression(100)
    child = sfn.create_state_machine(
        name="tuner", definition=json.dumps(task(TUNE_SYNC, tuning_request())), roleArn=role_arn
    )["stateMachineArn"]
    parent = sfn.create_state_machine(
        name="parent",
        definition=json.dumps(task(START + ".sync:2", {"StateMachineArn": child})),
        roleArn=role_arn,
    )["stateMachineArn"]
    execution = sfn.start_execution(stateMachineArn=parent, input="{}")["executionArn"]

    def tuning_status() -> str | None:
        jobs = sagemaker.list_hyper_parameter_tuning_jobs()["HyperParameterTuningJobSummaries"]
        return jobs[0]["HyperParameterTuningJobStatus"] if jobs else None

    wait_until(lambda: tuning_status() == "InProgress")

    # WHEN the parent is stopped
    sfn.stop_execution(executionArn=execution)

    # THEN the child ends ABORTED, and through its own .sync task the tuning job ends Stopped
    assert wait_for_execution(sfn, execution)["status"] == "ABORTED"
    (child_execution,) = child_arns(sfn, child)
    assert wait_for_execution(sfn, child_execution, timeout=10)["status"] == "ABORTED"
    wait_until(lambda: tuning_status() == "Stopped")


def test_a_child_that_ended_is_left_alone(run_state_machine, child_arn, aws):
    # GIVEN a parent whose .sync:2 child already succeeded
    description = run_state_machine(start_child(child_arn, ".sync:2"))

    # THEN the child keeps its SUCCEEDED status (the parent's finished task does not stop it)
    (child_execution,) = child_arns(aws("stepfunctions"), child_arn)
    assert description["status"] == "SUCCEEDED"
    assert aws("stepfunctions").describe_execution(executionArn=child_execution)["status"] == (
        "SUCCEEDED"
    )


WAIT_A_MINUTE = {
    "StartAt": "Wait",
    "States": {"Wait": {"Type": "Wait", "Seconds": 60, "End": True}},
}


def history_types(sfn, execution: str) -> list[str]:
    return [e["type"] for e in sfn.get_execution_history(executionArn=execution)["events"]]


def start_waiter(sfn, role_arn: str) -> str:
    """Start an execution that waits a minute; its ARN."""
    machine = sfn.create_state_machine(
        name="waiter", definition=json.dumps(WAIT_A_MINUTE), roleArn=role_arn
    )["stateMachineArn"]
    return sfn.start_execution(stateMachineArn=machine, input="{}")["executionArn"]


def aborted_history(sfn, execution: str) -> list[dict]:
    """The history of an execution once it ended, which must be ABORTED."""
    assert wait_for_execution(sfn, execution)["status"] == "ABORTED"
    return sfn.get_execution_history(executionArn=execution)["events"]


def aborted_event(aws, role_arn, **stop: str) -> dict:
    """Start a waiting execution, stop it once it waits, and return its ExecutionAborted event."""
    sfn = aws("stepfunctions")
    execution = start_waiter(sfn, role_arn)
    wait_until(lambda: "WaitStateEntered" in history_types(sfn, execution))
    sfn.stop_execution(executionArn=execution, **stop)
    events = aborted_history(sfn, execution)
    return next(e for e in events if e["type"] == "ExecutionAborted")


def test_stop_execution_records_error_and_cause(aws, role_arn):
    event = aborted_event(aws, role_arn, error="Operator.Stop", cause="wrong data set")

    assert event["executionAbortedEventDetails"] == {
        "error": "Operator.Stop",
        "cause": "wrong data set",
    }


def test_stop_execution_drops_error_and_cause_without_the_patch(aws, role_arn):
    with moto_as_released():
        event = aborted_event(aws, role_arn, error="Operator.Stop", cause="wrong data set")

    assert event["executionAbortedEventDetails"] == {"error": "", "cause": ""}


@pytest.fixture
def stopped_before_first_state(monkeypatch):
    """Executions are stopped once their program has started and before its first state: the
    moment a StopExecution can land in on a busy machine, and that moto does not record."""
    from moto.stepfunctions.parser.asl.eval.environment import Environment

    next_state_name = Environment.next_state_name

    def set_next_state_name(env, name: str) -> None:
        starting = env._program_state is None
        next_state_name.fset(env, name)
        if starting:
            env.set_stop(
                stop_date=datetime.now(timezone.utc), error="Operator.Stop", cause="too early"
            )

    monkeypatch.setattr(
        Environment, "next_state_name", property(next_state_name.fget, set_next_state_name)
    )


def run_stopped_before_first_state(aws, role_arn) -> list[dict]:
    sfn = aws("stepfunctions")
    return aborted_history(sfn, start_waiter(sfn, role_arn))


@pytest.mark.usefixtures("stopped_before_first_state")
def test_an_execution_stopped_before_its_first_state_records_how_it_ended(aws, role_arn):
    events = run_stopped_before_first_state(aws, role_arn)

    assert [e["type"] for e in events] == ["ExecutionStarted", "ExecutionAborted"]
    assert events[-1]["executionAbortedEventDetails"] == {
        "error": "Operator.Stop",
        "cause": "too early",
    }


@pytest.mark.usefixtures("stopped_before_first_state")
def test_an_execution_stopped_before_its_first_state_has_no_end_without_the_patch(aws, role_arn):
    with moto_as_released():
        events = run_stopped_before_first_state(aws, role_arn)

    assert [e["type"] for e in events] == ["ExecutionStarted"]
