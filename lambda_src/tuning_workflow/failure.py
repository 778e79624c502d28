"""Every failure of a workflow told in one readable paragraph: for the Fail state and the alert.

The state machines catch errors of many shapes: Lambda's error envelope (with a Python stack
trace), a SageMaker service error, a child execution's description, a tuning job's description,
or a sentence the workflow wrote itself. `describe_failure` turns any of them into an error
name and a one-paragraph cause, and the alert text around them. Text that comes from input is
escaped (`safe_text`), so a crafted key cannot add lines to an alert; the full detail stays in
the execution history and the logs, and the message says where.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from tuning_workflow.safe_text import safe_text

ERROR_NAME_LIMIT = 128
CAUSE_LIMIT = 2_000
# A failed child has sent its own alert; the parent fails with the child's error, silently.
CHILD_FAILED = "FAILED"
_ERROR_NAME = re.compile(r"[^A-Za-z0-9._-]+")
_RESERVED_PREFIX = "States."


def _error_name(value: Any) -> str:
    name = _ERROR_NAME.sub("", str(value or ""))[:ERROR_NAME_LIMIT]
    return name or "UnknownError"


def _parsed(cause: Any) -> Any:
    if not isinstance(cause, str) or not cause.lstrip().startswith("{"):
        return None
    try:
        return json.loads(cause)
    except ValueError:
        return None


def _from_lambda_envelope(document: Mapping[str, Any]) -> str:
    """Lambda's {errorType, errorMessage, stackTrace, requestId}: the message, not the trace."""
    message = str(document.get("errorMessage") or "the function gave no message").rstrip(". ")
    request = document.get("requestId")
    where = f" (request {request})" if request else ""
    return f"{message}. The stack trace is in the function's log{where}"


def _from_child(document: Mapping[str, Any]) -> tuple[str | None, str, bool]:
    """A child execution's description: its own error when it failed (it has alerted)."""
    status = str(document.get("Status", ""))
    arn = document.get("ExecutionArn", "the child execution")
    if status == CHILD_FAILED and document.get("Error"):
        return str(document["Error"]), str(document.get("Cause") or ""), False
    if status == "TIMED_OUT":
        return "ChildWorkflowTimedOut", f"the child execution {arn} timed out", True
    if status == "ABORTED":
        return "ChildWorkflowStopped", f"the child execution {arn} was stopped", True
    return (
        "ChildWorkflowFailed",
        f"the child execution {arn} ended {status or 'with no status'}",
        True,
    )


def readable(error: Any, cause: Any) -> tuple[str, str, bool]:
    """(error name, one-paragraph cause, whether this machine should alert)."""
    name = _error_name(error)
    notify = True
    document = _parsed(cause)
    if isinstance(document, Mapping) and "errorMessage" in document:
        text = _from_lambda_envelope(document)
        name = _error_name(document.get("errorType") or name)
    elif isinstance(document, Mapping) and "ExecutionArn" in document and "Status" in document:
        child_error, text, notify = _from_child(document)
        name = _error_name(child_error) if child_error else name
        if not notify:
            # The child's cause was written by this project and made safe there; parse it
            # again in case it is itself an envelope.
            name, text, _ = readable(name, text)
    elif isinstance(document, Mapping):
        text = "; ".join(f"{key}: {value}" for key, value in list(document.items())[:8])
    else:
        text = str(cause) if cause not in (None, "") else "no cause was given"
    if name.startswith(_RESERVED_PREFIX):
        # Names beginning with "States." are reserved for Step Functions.
        text = f"{name}: {text}"
        name = "WorkflowStepFailed"
    return name, safe_text(text, CAUSE_LIMIT), notify


def describe_failure(event: Mapping[str, Any]) -> dict[str, Any]:
    """{Error, Cause, notify, message} for a caught error `event["error"]`."""
    caught = event.get("error")
    caught = caught if isinstance(caught, Mapping) else {}
    name, cause, notify = readable(caught.get("Error"), caught.get("Cause"))
    workflow = safe_text(event.get("workflow") or "The workflow", 100)
    execution = safe_text(event.get("executionArn") or "unknown", 300)
    state_machine = safe_text(event.get("stateMachineName") or "unknown", 100)
    logs = safe_text(event.get("lambdaLogGroups") or "/aws/lambda/<function>", 300)
    message = "\n".join(
        (
            f"{workflow} failed.",
            f"Error: {name}",
            f"Cause: {cause}",
            f"State machine: {state_machine}",
            f"Execution: {execution}",
            "",
            "Full detail: the execution's history (aws stepfunctions get-execution-history "
            f"--execution-arn {execution}) and the Lambda logs in {logs}.",
        )
    )
    return {"Error": name, "Cause": cause, "notify": notify, "message": message}
