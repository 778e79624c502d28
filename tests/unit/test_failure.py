"""Every caught error becomes a readable name, a one-paragraph cause and an alert text."""

from __future__ import annotations

import json

import pytest

from tuning_workflow import handlers
from tuning_workflow.failure import CAUSE_LIMIT, describe_failure, readable

EXECUTION = "arn:aws:states:us-east-1:123456789012:execution:demo-tuner:run-1"
CHILD = "arn:aws:states:us-east-1:123456789012:execution:demo-tuner:child-1"

LAMBDA_ENVELOPE = json.dumps(
    {
        "errorMessage": "An error occurred (AccessDeniedException) when calling the "
        "DescribeTrainingJob operation: not authorized",
        "errorType": "ClientError",
        "requestId": "6f1c-42",
        "stackTrace": ['  File "/var/task/tuning_workflow/handlers.py", line 40, in handler\n'],
    }
)


def event(error: str, cause: str) -> dict[str, object]:
    return {
        "error": {"Error": error, "Cause": cause},
        "executionArn": EXECUTION,
        "stateMachineName": "demo-tuner",
        "workflow": "Model tuning",
        "lambdaLogGroups": "/aws/lambda/demo-*",
    }


def test_a_lambda_error_keeps_its_message_and_drops_the_stack_trace():
    # GIVEN Lambda's error envelope WHEN it is described
    result = describe_failure(event("ClientError", LAMBDA_ENVELOPE))
    # THEN the name and message remain, and the trace is replaced by where to find it
    assert result["Error"] == "ClientError"
    assert "not authorized" in result["Cause"]
    assert "stackTrace" not in result["Cause"] and "handlers.py" not in result["Cause"]
    assert "6f1c-42" in result["Cause"]
    assert result["notify"] is True


def test_the_alert_says_where_the_detail_is():
    message = describe_failure(event("InvalidInput", "1 problem in the input: $.x: bad"))["message"]
    assert message.splitlines()[0] == "Model tuning failed."
    assert "Error: InvalidInput" in message
    assert f"--execution-arn {EXECUTION}" in message
    assert "/aws/lambda/demo-*" in message


def test_a_forged_line_in_the_cause_stays_on_its_line():
    forged = "$['x\nRun SUCCEEDED - no action needed.']: unknown key"
    message = describe_failure(event("InvalidInput", forged))["message"]
    assert not any(line.startswith("Run SUCCEEDED") for line in message.splitlines())
    assert "x\\nRun SUCCEEDED" in message


def test_a_failed_child_passes_its_error_on_and_the_parent_stays_silent():
    description = json.dumps(
        {
            "ExecutionArn": CHILD,
            "Status": "FAILED",
            "Error": "TuningJobFailed",
            "Cause": "Tuning job demo-1 ended Failed: AlgorithmError",
            "Input": "{}",
        }
    )
    name, cause, notify = readable("States.TaskFailed", description)
    assert (name, notify) == ("TuningJobFailed", False)
    assert cause == "Tuning job demo-1 ended Failed: AlgorithmError"


@pytest.mark.parametrize(
    ("status", "error"),
    [("ABORTED", "ChildWorkflowStopped"), ("TIMED_OUT", "ChildWorkflowTimedOut")],
)
def test_a_stopped_or_timed_out_child_makes_the_parent_alert(status, error):
    description = json.dumps({"ExecutionArn": CHILD, "Status": status})
    name, cause, notify = readable("States.TaskFailed", description)
    assert (name, notify) == (error, True)
    assert CHILD in cause


def test_reserved_error_names_become_workflow_step_failed():
    name, cause, _ = readable("States.Runtime", "The JSONPath '$.x' could not be found")
    assert name == "WorkflowStepFailed"
    assert cause.startswith("States.Runtime: ")


def test_error_names_and_causes_are_bounded_and_cleaned():
    name, cause, _ = readable("Bad\nName" * 100, "x" * 50_000)
    assert "\n" not in name and len(name) <= 128
    assert len(cause) <= CAUSE_LIMIT


@pytest.mark.parametrize("caught", [None, {}, {"Error": None, "Cause": None}, "text"])
def test_anything_caught_is_described(caught):
    result = describe_failure({"error": caught})
    assert result["Error"] == "UnknownError"
    assert result["Cause"] == "no cause was given"


def test_the_handler_describes_the_event():
    assert handlers.describe_failure(event("QualityGateNotMet", "0.61 < 0.7"), None)["Error"] == (
        "QualityGateNotMet"
    )
