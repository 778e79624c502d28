"""Task tokens of `.waitForTaskToken` tasks, as Step Functions answers them.

moto's engine runs `arn:aws:states:::lambda:invoke.waitForTaskToken` (the token is in the
context object as `$$.Task.Token`) and resumes the task on SendTaskSuccess/SendTaskFailure. What
it lacks, per the API reference
(https://docs.aws.amazon.com/step-functions/latest/apireference/API_SendTaskSuccess.html,
https://docs.aws.amazon.com/step-functions/latest/apireference/API_SendTaskFailure.html):

- a token whose task timed out or was already closed (answered, or its execution stopped or
  ended) answers `TaskTimedOut` ("The task token has either expired or the task associated with
  the token has already been closed"); moto accepted it silently while the execution ran, or
  answered InvalidToken once it ended;
- an output that is not JSON answers `InvalidOutput` (moto failed the execution instead);
- SendTaskFailure's `cause` reaches the task's failure (moto dropped it);
- stopping the execution ends the wait (moto's waiting thread slept until the task's timeout,
  99999999 seconds by default).

A token never issued answers `InvalidToken`, as before.
"""

from __future__ import annotations

import json
import time
from typing import Any

from moto.core.exceptions import AWSError
from moto.stepfunctions.parser.api import ExecutionStatus
from moto.stepfunctions.parser.asl.eval.callback.callback import (
    CallbackConsumerLeft,
    CallbackConsumerTimeout,
    CallbackEndpoint,
    CallbackOutcome,
    CallbackOutcomeFailure,
    CallbackOutcomeSuccess,
    CallbackOutcomeTimedOut,
)
from moto.stepfunctions.parser.asl.eval.program_state import ProgramStopped


class InvalidToken(AWSError):
    TYPE = "InvalidToken"
    STATUS = 400


class InvalidOutput(AWSError):
    TYPE = "InvalidOutput"
    STATUS = 400


class TaskTimedOut(AWSError):
    TYPE = "TaskTimedOut"
    STATUS = 400


WAIT_SLICE_SECONDS = 0.2
"""How often a waiting task checks that its execution still runs."""

_ENV_ATTRIBUTE = "_smtune_waiting_env"

TASK_TIMED_OUT_MESSAGE = "Task Timed Out: 'Provided task does not exist anymore'"
INVALID_TOKEN_MESSAGE = "Invalid Token: 'Invalid token'"


def wait_for_task_token(
    env: Any, timeout_seconds: float | None, endpoint: CallbackEndpoint
) -> CallbackOutcome | None:
    """Wait for SendTaskSuccess/SendTaskFailure on `endpoint` until the task's timeout, or until
    the task's frame stops running (the state timed out, or the execution was stopped).

    Returns the outcome, CallbackOutcomeTimedOut after the timeout, or None when the execution
    was stopped (the stopped program ignores the task's result). The endpoint is marked so
    later calls with its token answer TaskTimedOut.
    """
    setattr(endpoint, _ENV_ATTRIBUTE, env)
    deadline = None if timeout_seconds is None else time.monotonic() + float(timeout_seconds)
    while True:
        outcome = endpoint.get_outcome()
        if outcome is not None:
            return outcome
        if not env.is_running():
            if isinstance(env.program_state(), ProgramStopped):
                endpoint.report(CallbackConsumerLeft())
                return None
            endpoint.report(CallbackConsumerTimeout())
            return CallbackOutcomeTimedOut(callback_id=endpoint.callback_id)
        remaining = None if deadline is None else deadline - time.monotonic()
        if remaining is not None and remaining <= 0:
            endpoint.report(CallbackConsumerTimeout())
            return CallbackOutcomeTimedOut(callback_id=endpoint.callback_id)
        slice_seconds = WAIT_SLICE_SECONDS if remaining is None else min(remaining, 0.2)
        endpoint.wait(timeout=slice_seconds)


def _is_closed(execution: Any, endpoint: CallbackEndpoint) -> bool:
    if endpoint.get_outcome() is not None or endpoint.consumer_error is not None:
        return True
    if execution.exec_status != ExecutionStatus.RUNNING:
        return True
    env = getattr(endpoint, _ENV_ATTRIBUTE, None)
    return env is not None and not env.is_running()


def _find(backend: Any, task_token: str) -> tuple[Any, CallbackEndpoint] | None:
    for execution in backend._get_executions():
        worker = getattr(execution, "exec_worker", None)
        env = getattr(worker, "env", None)
        if env is None:
            continue
        endpoint = env.callback_pool_manager.get(task_token)
        if endpoint is not None:
            return execution, endpoint
    return None


def notify(backend: Any, task_token: str, outcome: CallbackOutcome) -> None:
    """Deliver SendTaskSuccess/SendTaskFailure, or raise the error Step Functions answers."""
    found = _find(backend, task_token) if task_token else None
    if found is None:
        raise InvalidToken(INVALID_TOKEN_MESSAGE)
    execution, endpoint = found
    if _is_closed(execution, endpoint):
        raise TaskTimedOut(TASK_TIMED_OUT_MESSAGE)
    endpoint.notify(outcome)


def send_task_success(backend: Any, task_token: str, output: str | None) -> None:
    try:
        json.loads(output or "")
    except ValueError:
        raise InvalidOutput("Invalid Output: the output must be a JSON document.") from None
    notify(backend, task_token, CallbackOutcomeSuccess(callback_id=task_token, output=output or ""))


def send_task_failure(backend: Any, task_token: str, error: str | None, cause: str | None) -> None:
    notify(
        backend,
        task_token,
        CallbackOutcomeFailure(callback_id=task_token, error=error, cause=cause),
    )
