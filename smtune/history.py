"""Read a Step Functions execution: its description, its history, and its child executions.

What the workflow did is recovered from the history alone, the same way on AWS and in the
emulator: the states entered and left, the names the tasks used (the tuning job from the
`createHyperParameterTuningJob` parameters, the endpoint from the deployment tasks, the best
training job from the `find_best_training_job` result) and the child executions that the
parent's `startExecution` tasks started.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from botocore.exceptions import ClientError

from smtune.aws import error_code
from smtune.errors import CliError

TERMINAL_STATUSES = ("SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED")
MAX_CHILD_DEPTH = 4

_ENDPOINT_TASKS = {"createEndpoint", "updateEndpoint", "describeEndpoint", "deleteEndpoint"}
_TASK_DETAIL_KEYS = {
    "TaskScheduled": "taskScheduledEventDetails",
    "TaskSubmitted": "taskSubmittedEventDetails",
    "TaskSucceeded": "taskSucceededEventDetails",
    "TaskFailed": "taskFailedEventDetails",
    "TaskTimedOut": "taskTimedOutEventDetails",
    "TaskStartFailed": "taskStartFailedEventDetails",
    "TaskSubmitFailed": "taskSubmitFailedEventDetails",
    "LambdaFunctionScheduled": "lambdaFunctionScheduledEventDetails",
    "LambdaFunctionSucceeded": "lambdaFunctionSucceededEventDetails",
    "LambdaFunctionFailed": "lambdaFunctionFailedEventDetails",
    "LambdaFunctionTimedOut": "lambdaFunctionTimedOutEventDetails",
    "LambdaFunctionStartFailed": "lambdaFunctionStartFailedEventDetails",
}
_FAILURE_KINDS = {
    "TaskFailed",
    "TaskTimedOut",
    "TaskStartFailed",
    "TaskSubmitFailed",
    "LambdaFunctionFailed",
    "LambdaFunctionTimedOut",
    "LambdaFunctionStartFailed",
}
# The event that ends an execution, and the status it ends with.
EXECUTION_END_STATUS = {
    "ExecutionSucceeded": "SUCCEEDED",
    "ExecutionFailed": "FAILED",
    "ExecutionAborted": "ABORTED",
    "ExecutionTimedOut": "TIMED_OUT",
}
_EXECUTION_END_KEYS = {
    "ExecutionFailed": "executionFailedEventDetails",
    "ExecutionAborted": "executionAbortedEventDetails",
    "ExecutionTimedOut": "executionTimedOutEventDetails",
}


@dataclass
class StateRun:
    """One visit of a state (a state in a loop is visited several times)."""

    name: str
    type: str
    entered: datetime
    entered_event_id: int
    exited: datetime | None = None
    error: str | None = None
    cause: str | None = None
    retries: int = 0
    children: list[str] = field(default_factory=list)

    @property
    def outcome(self) -> str:
        if self.error and self.exited is None:
            return "failed"
        if self.error:
            return "caught"
        return "running" if self.exited is None else "succeeded"


@dataclass(frozen=True)
class ChildRef:
    """A child execution and the visit of the state that started it."""

    arn: str
    state_name: str
    event_id: int


@dataclass
class HistoryFacts:
    """What one execution's history says, in the order things happened."""

    states: list[StateRun] = field(default_factory=list)
    tuning_jobs: list[str] = field(default_factory=list)
    models: list[str] = field(default_factory=list)
    endpoints: list[str] = field(default_factory=list)
    children: list[ChildRef] = field(default_factory=list)
    best_training_job: dict[str, Any] | None = None
    error: str | None = None
    cause: str | None = None
    end_status: str | None = None  # from the event that ended the execution, if read
    ended: datetime | None = None
    output: str | None = None  # the output of ExecutionSucceeded

    @property
    def current_state(self) -> StateRun | None:
        """The state entered last: where the execution is (or where it ended)."""
        return self.states[-1] if self.states else None


def _add(names: list[str], value: Any) -> None:
    if isinstance(value, str) and value and value not in names:
        names.append(value)


def _json(text: Any) -> Any:
    if not isinstance(text, str):
        return None
    try:
        return json.loads(text)
    except ValueError:  # truncated or not JSON: nothing to learn from it
        return None


def _base_resource(details: dict[str, Any]) -> str:
    """`createHyperParameterTuningJob.sync` -> `createHyperParameterTuningJob`."""
    return str(details.get("resource", "")).split(".", 1)[0]


def _lambda_result(details: dict[str, Any], event_type: str) -> Any:
    output = _json(details.get("output"))
    if event_type.startswith("LambdaFunction"):
        return output
    if details.get("resourceType") == "lambda" and isinstance(output, dict):
        return output.get("Payload")
    return None


def _state_type(event_type: str) -> str:
    for suffix in ("StateEntered", "StateExited"):
        if event_type.endswith(suffix):
            return event_type[: -len(suffix)]
    return ""


def parse_history(events: list[dict[str, Any]]) -> HistoryFacts:
    """Everything `status`, `history` and `watch` need, from the events in order."""
    parser = HistoryParser()
    for event in sorted(events, key=lambda e: e.get("id", 0)):
        parser.feed(event)
    return parser.facts


class HistoryParser:
    """Reads events one at a time, in id order, into `facts` (what `parse_history` returns)."""

    def __init__(self) -> None:
        self.facts = HistoryFacts()
        self._open_states: dict[str, StateRun] = {}
        self._current: StateRun | None = None

    def feed(self, event: dict[str, Any]) -> StateRun | None:
        """Reads the next event; returns the state it entered, if it entered one."""
        facts = self.facts
        kind = str(event.get("type", ""))
        timestamp: Any = event.get("timestamp")
        if kind.endswith("StateEntered"):
            details = event.get("stateEnteredEventDetails", {})
            current = StateRun(
                name=str(details.get("name", "?")),
                type=_state_type(kind),
                entered=timestamp,
                entered_event_id=int(event.get("id", 0)),
            )
            self._current = current
            facts.states.append(current)
            self._open_states[current.name] = current
            return current
        if kind.endswith("StateExited"):
            name = str(event.get("stateExitedEventDetails", {}).get("name", ""))
            run = self._open_states.pop(name, None)
            if run is not None:
                run.exited = timestamp
        elif kind in _TASK_DETAIL_KEYS:
            details = event.get(_TASK_DETAIL_KEYS[kind], {})
            _read_task_event(facts, self._current, kind, details, int(event.get("id", 0)))
        elif kind in _EXECUTION_END_KEYS:
            details = event.get(_EXECUTION_END_KEYS[kind], {})
            facts.error = details.get("error") or kind
            facts.cause = details.get("cause")
        if kind in EXECUTION_END_STATUS:
            facts.end_status = EXECUTION_END_STATUS[kind]
            facts.ended = timestamp
            if kind == "ExecutionSucceeded":
                facts.output = event.get("executionSucceededEventDetails", {}).get("output")
        return None


def _read_task_event(
    facts: HistoryFacts,
    state: StateRun | None,
    kind: str,
    details: dict[str, Any],
    event_id: int,
) -> None:
    resource = _base_resource(details)
    if kind in ("TaskScheduled", "LambdaFunctionScheduled"):
        if state is not None and state.error:
            state.retries += 1
            state.error = state.cause = None
        parameters = _json(details.get("parameters")) or _json(details.get("input"))
        if not isinstance(parameters, dict):
            return
        if resource == "createHyperParameterTuningJob":
            _add(facts.tuning_jobs, parameters.get("HyperParameterTuningJobName"))
        elif resource == "createModel":
            _add(facts.models, parameters.get("ModelName"))
        elif resource in _ENDPOINT_TASKS:
            _add(facts.endpoints, parameters.get("EndpointName"))
        payload = parameters.get("Payload") if resource == "invoke" else None
        if kind == "LambdaFunctionScheduled":
            payload = parameters
        if isinstance(payload, dict):
            _add(facts.tuning_jobs, payload.get("tuningJobName"))
            _add(facts.endpoints, payload.get("endpointName"))
    elif kind in ("TaskSubmitted", "TaskSucceeded") and resource == "startExecution":
        output = _json(details.get("output"))
        if isinstance(output, dict):
            child = output.get("ExecutionArn") or output.get("executionArn")
            if isinstance(child, str) and all(ref.arn != child for ref in facts.children):
                name = state.name if state is not None else ""
                facts.children.append(ChildRef(child, name, event_id))
                if state is not None:
                    state.children.append(child)
    elif kind in ("TaskSucceeded", "LambdaFunctionSucceeded"):
        result = _lambda_result(details, kind)
        if isinstance(result, dict):
            names = result.get("names")
            if isinstance(names, dict):
                _add(facts.tuning_jobs, names.get("tuningJob"))
                _add(facts.models, names.get("model"))
            _add(facts.endpoints, result.get("endpointName"))
            if "trainingJobName" in result and "objective" in result:
                facts.best_training_job = result
    elif kind in _FAILURE_KINDS and state is not None:
        state.error = details.get("error") or kind
        state.cause = details.get("cause")


@dataclass
class ExecutionView:
    """An execution as described, with its parsed history and its loaded child executions."""

    description: dict[str, Any]
    facts: HistoryFacts
    children: list[ExecutionView] = field(default_factory=list)

    @property
    def arn(self) -> str:
        return str(self.description["executionArn"])

    @property
    def name(self) -> str:
        return str(self.description.get("name") or self.arn.rsplit(":", 1)[-1])

    @property
    def state_machine_name(self) -> str:
        return str(self.description.get("stateMachineArn", "")).rsplit(":", 1)[-1]

    @property
    def status(self) -> str:
        return str(self.description.get("status", "UNKNOWN"))

    @property
    def started(self) -> datetime | None:
        return self.description.get("startDate")

    @property
    def stopped(self) -> datetime | None:
        return self.description.get("stopDate")

    @property
    def error(self) -> str | None:
        return self.description.get("error") or self.facts.error

    @property
    def cause(self) -> str | None:
        return self.description.get("cause") or self.facts.cause

    def elapsed_seconds(self, now: datetime | None = None) -> float:
        if self.started is None:
            return 0.0
        end = self.stopped or now or datetime.now(timezone.utc)
        return max(0.0, (end - self.started).total_seconds())

    def walk(self) -> list[ExecutionView]:
        """This execution and every loaded descendant, parents first."""
        views = [self]
        for child in self.children:
            views.extend(child.walk())
        return views

    def current_path(self) -> list[str]:
        """The state the run is in, through the child executions: ["Tune", "CreateTuningJob"]."""
        state = self.facts.current_state
        if state is None:
            return []
        path = [state.name]
        by_arn = {child.arn: child for child in self.children}
        started_here = [
            ref
            for ref in self.facts.children
            if ref.state_name == state.name and ref.event_id > state.entered_event_id
        ]
        if started_here and started_here[-1].arn in by_arn:
            path.extend(by_arn[started_here[-1].arn].current_path())
        return path

    def all_names(self, kind: str) -> list[str]:
        """Every tuning job / model / endpoint name seen in this run, in order."""
        names: list[str] = []
        for view in self.walk():
            for name in getattr(view.facts, kind):
                _add(names, name)
        return names

    @property
    def best_training_job(self) -> dict[str, Any] | None:
        found = [view.facts.best_training_job for view in self.walk()]
        return next((best for best in reversed(found) if best), None)


def fetch_events(sfn: Any, execution_arn: str) -> list[dict[str, Any]]:
    paginator = sfn.get_paginator("get_execution_history")
    events: list[dict[str, Any]] = []
    for page in paginator.paginate(executionArn=execution_arn):
        events.extend(page.get("events", []))
    return events


class ExecutionLoader:
    """Loads an execution with its children; finished executions are read once and kept."""

    def __init__(self, sfn: Any) -> None:
        self._sfn = sfn
        self._finished: dict[str, ExecutionView] = {}

    def load(self, execution_arn: str, depth: int = 0) -> ExecutionView:
        if execution_arn in self._finished:
            return self._finished[execution_arn]
        try:
            description = self._sfn.describe_execution(executionArn=execution_arn)
            events = fetch_events(self._sfn, execution_arn)
        except ClientError as exc:
            if error_code(exc) in ("ExecutionDoesNotExist", "ResourceNotFound"):
                raise CliError(f"execution not found: {execution_arn}") from exc
            raise
        view = ExecutionView(description=description, facts=parse_history(events))
        if depth < MAX_CHILD_DEPTH:
            view.children = [self.load(ref.arn, depth + 1) for ref in view.facts.children]
        if view.status in TERMINAL_STATUSES and all(
            child.status in TERMINAL_STATUSES for child in view.walk()
        ):
            self._finished[execution_arn] = view
        return view


class HistoryCursor:
    """Reads one execution's history a page at a time, each event once, oldest first.

    Every `read()` is exactly one GetExecutionHistory call. A pagination token is returned only
    while there are more events ("If nextToken is returned, there are more results available",
    https://docs.aws.amazon.com/step-functions/latest/apireference/API_GetExecutionHistory.html),
    so the history is read forward page by page until a page comes without one; after that the
    events that came later are read from the newest back (`reverseOrder`) until an event already
    seen: one call of `tail_size` events when little happened. A longer gap is read backwards
    over the next calls with the token (keeping the other arguments unchanged, as the page says)
    and the events are handed out only once the gap is closed, so they always come in order.
    """

    PAGE = 1000  # the largest page GetExecutionHistory returns
    TAIL = 25

    def __init__(self, sfn: Any, execution_arn: str) -> None:
        self._sfn = sfn
        self.execution_arn = execution_arn
        self.last_event_id = 0
        self.reads = 0
        self._forward = True  # reading the history forward until a page comes without a token
        self._token: str | None = None
        self._tail_size = self.TAIL
        self._gap: dict[int, dict[str, Any]] = {}  # newer events read while closing a gap
        self._gap_size = self.PAGE

    @property
    def caught_up(self) -> bool:
        """True when the last read returned everything the history held when it was made."""
        return self.reads > 0 and not self._forward and self._token is None and not self._gap

    def read(self) -> list[dict[str, Any]]:
        """One GetExecutionHistory call; the events not handed out yet, in id order."""
        request: dict[str, Any] = {"executionArn": self.execution_arn}
        if self._forward:
            request.update(maxResults=self.PAGE, reverseOrder=False)
        elif self._token is not None:
            request.update(maxResults=self._gap_size, reverseOrder=True)
        else:
            request.update(maxResults=self._tail_size, reverseOrder=True)
        if self._token is not None:
            request["nextToken"] = self._token
        try:
            page = self._sfn.get_execution_history(**request)
        except ClientError as exc:
            if error_code(exc) in ("ExecutionDoesNotExist", "ResourceNotFound"):
                raise CliError(f"execution not found: {self.execution_arn}") from exc
            raise
        finally:
            self.reads += 1
        events = list(page.get("events", []))
        token = page.get("nextToken") or None
        if self._forward:
            self._token = token
            self._forward = token is not None
            return self._take({int(e.get("id", 0)): e for e in events})
        ids = [int(event.get("id", 0)) for event in events]
        for event_id, event in zip(ids, events):
            if event_id > self.last_event_id:
                self._gap[event_id] = event
        closed = token is None or any(event_id <= self.last_event_id + 1 for event_id in ids)
        if closed:
            self._token = None
            found = self._take(self._gap)
            self._gap = {}
            # Many new events: the next look at the newest reads more of them at once.
            self._tail_size = min(self.PAGE, max(self.TAIL, 2 * len(found)))
            return found
        if request["maxResults"] < self.PAGE:
            self._token, self._tail_size = None, self.PAGE  # look again, with the largest page
        else:
            self._token, self._gap_size = token, request["maxResults"]
        return []

    def _take(self, events: dict[int, dict[str, Any]]) -> list[dict[str, Any]]:
        found = [events[event_id] for event_id in sorted(events) if event_id > self.last_event_id]
        if found:
            self.last_event_id = int(found[-1].get("id", 0))
        return found
