"""Follow a run as it goes, with at most two API calls per poll however long its history is.

Each execution of the run (the parent and the child executions its `startExecution` tasks
started) has a `HistoryCursor` that reads only the events not read yet; the events are parsed
as they come, so every state entered is seen in order, with the time of its event. A poll
spends its two calls where something can change: one history read (the execution that has
unread pages, else the one read least recently, a parent waiting on its running child only
now and then) and one DescribeHyperParameterTuningJob / DescribeEndpoint of a tuning job still
running or an endpoint that may have changed (else a second history read). Finished tuning jobs
are not described again; the run's own status comes from the event that ends it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from botocore.exceptions import ClientError

from smtune.aws import Aws, error_code
from smtune.errors import CliError
from smtune.history import (
    MAX_CHILD_DEPTH,
    TERMINAL_STATUSES,
    ChildRef,
    ExecutionView,
    HistoryCursor,
    HistoryParser,
)
from smtune.resources import (
    EndpointState,
    TuningProgress,
    describe_tuning_job,
    endpoint_state,
    format_number,
    tuning_progress,
)
from smtune.snapshot import RunSnapshot

CALLS_PER_POLL = 2
# A parent waiting on its running child changes only when the child ends (read then), or when
# it is stopped or times out: it is read again after this many polls.
WAITING_PARENT_EVERY = 4
_ENDPOINT_SETTLED = {"InService", "Failed", "OutOfService", "absent"}
# Events that end a task: one that started a child execution ends after the child did.
_TASK_ENDS = {"TaskSucceeded", "TaskFailed", "TaskTimedOut", "TaskAborted"}


@dataclass(frozen=True)
class Line:
    """One thing to print: `at` is when it happened (seconds since the run started), None for
    "now"; a line with a `key` is printed again only when its text changes."""

    text: str
    at: float | None = None
    key: str | None = None


def tuning_line(progress: TuningProgress) -> str:
    return f"tuning job {progress.name}: {progress.progress_text()}"


def best_line(best: dict[str, Any]) -> str:
    objective = best.get("objective") or {}
    value = objective.get("value")
    shown = format_number(float(value)) if isinstance(value, (int, float)) else "?"
    return (
        f"best training job {best.get('trainingJobName')}: "
        f"{objective.get('metricName', 'objective')} = {shown}"
    )


def _machine_arn(execution_arn: str) -> str:
    """arn:...:execution:MACHINE:NAME -> arn:...:stateMachine:MACHINE."""
    head, _, machine_and_name = execution_arn.partition(":execution:")
    return f"{head}:stateMachine:{machine_and_name.rsplit(':', 1)[0]}"


@dataclass
class _Execution:
    """One execution of the run as read so far."""

    cursor: HistoryCursor
    depth: int
    prefix: list[str]  # the states of the ancestors that led to it: ["Tune"]
    ref: ChildRef | None = None  # how its parent started it
    parent: _Execution | None = None
    described: dict[str, Any] = field(default_factory=dict)
    parser: HistoryParser = field(default_factory=HistoryParser)
    children: list[_Execution] = field(default_factory=list)
    last_read: int = -1  # the poll of the last read
    read_after_run_ended: bool = False
    # Events held back until the children named in `hold_for` have been read to their end,
    # so that a child's states are shown before what its parent did after it.
    held: list[dict[str, Any]] = field(default_factory=list)
    hold_for: set[str] = field(default_factory=set)
    released_id: int = 0

    @property
    def arn(self) -> str:
        return self.cursor.execution_arn

    @property
    def ended(self) -> bool:
        """Its history says it ended, or DescribeExecution did and the history has been read
        since (an ended execution writes no more events)."""
        if self.held:
            return False
        if self.parser.facts.end_status is not None:
            return True
        return self.described.get("status") in TERMINAL_STATUSES and self.cursor.caught_up

    @property
    def pending_pages(self) -> bool:
        return self.cursor.reads == 0 or not self.cursor.caught_up

    def running_children(self) -> list[_Execution]:
        """The children the current state started that have not ended (as read so far)."""
        state = self.parser.facts.current_state
        if state is None or state.exited is not None:
            return []
        return [
            child
            for child in self.children
            if child.ref is not None
            and child.ref.state_name == state.name
            and child.ref.event_id > state.entered_event_id
            and not child.ended
        ]

    def waiting_on_child(self) -> bool:
        return bool(self.running_children())

    def walk(self) -> list[_Execution]:
        found = [self]
        for child in self.children:
            found.extend(child.walk())
        return found

    def view(self) -> ExecutionView:
        facts = self.parser.facts
        description = {
            "executionArn": self.arn,
            "name": self.arn.rsplit(":", 1)[-1],
            "stateMachineArn": _machine_arn(self.arn),
            "status": "RUNNING",
            **self.described,
        }
        if facts.states and "startDate" not in description:
            description["startDate"] = facts.states[0].entered
        if facts.end_status is not None:
            description["status"] = facts.end_status
            description.setdefault("stopDate", facts.ended)
            if facts.output is not None:
                description.setdefault("output", facts.output)
        return ExecutionView(
            description=description,
            facts=facts,
            children=[child.view() for child in self.children],
        )


class RunFollower:
    """Polls one run: `poll()` makes at most CALLS_PER_POLL calls and says what changed."""

    def __init__(self, aws: Aws, execution_arn: str) -> None:
        self._aws = aws
        sfn = aws.client("stepfunctions")
        self._sfn = sfn
        self._root = _Execution(HistoryCursor(sfn, execution_arn), depth=0, prefix=[])
        self._polls = 0
        self._events = 0  # events read so far, over all executions
        self._visits: dict[tuple[str, ...], int] = {}
        self._best: dict[str, Any] | None = None
        self._tuning: dict[str, TuningProgress | None] = {}
        self._endpoints: dict[str, EndpointState] = {}
        self._described_at: dict[str, int] = {}  # resource key -> poll of its last describe
        self._events_at: dict[str, int] = {}  # endpoint -> events read when last described
        self._wrapped: set[str] = set()  # resources described since the run ended

    @property
    def _sagemaker(self) -> Any:
        return self._aws.client("sagemaker")

    # --- what the run is

    def view(self) -> ExecutionView:
        return self._root.view()

    def start(self) -> datetime | None:
        """When the run started (from DescribeExecution, else its first event)."""
        started = self._root.described.get("startDate")
        if isinstance(started, datetime):
            return started
        states = self._root.parser.facts.states
        return states[0].entered if states else None

    def snapshot(self) -> RunSnapshot:
        view = self.view()
        tuning = [self._tuning[name] for name in view.all_names("tuning_jobs")]
        return RunSnapshot(
            view=view,
            tuning=[progress for progress in tuning if progress is not None],
            endpoints=[
                self._endpoints[name]
                for name in view.all_names("endpoints")
                if name in self._endpoints
            ],
        )

    @property
    def ended(self) -> bool:
        """The run itself ended (what it left to read may not all be read yet)."""
        return bool(self._root.ended)

    @property
    def done(self) -> bool:
        """The run ended and everything about it has been read."""
        if not self._root.ended:
            return False
        return self._next_execution(set()) is None and self._next_resource() is None

    # --- one poll

    def poll(self) -> list[Line]:
        self._polls += 1
        lines: list[Line] = []
        calls = 0
        if not self._root.described:
            self._root.described = self._describe_root()
            calls += 1
            view = self.view()
            lines.append(
                Line(f"execution {view.name} of {view.state_machine_name}: {view.status}", 0.0)
            )
        read: set[str] = set()
        execution = self._next_execution(read)
        if execution is not None and calls < CALLS_PER_POLL:
            lines.extend(self._read(execution))
            read.add(execution.arn)
            calls += 1
        while calls < CALLS_PER_POLL:
            resource = self._next_resource()
            if resource is not None:
                lines.extend(self._describe(resource))
            else:
                execution = self._next_execution(read)
                if execution is None:
                    break
                lines.extend(self._read(execution))
                read.add(execution.arn)
            calls += 1
        return lines

    def _describe_root(self) -> dict[str, Any]:
        try:
            return dict(self._sfn.describe_execution(executionArn=self._root.arn))
        except ClientError as exc:
            if error_code(exc) in ("ExecutionDoesNotExist", "ResourceNotFound"):
                raise CliError(f"execution not found: {self._root.arn}") from exc
            raise

    # --- the histories

    def _next_execution(self, read: set[str]) -> _Execution | None:
        """The execution whose history is worth a call now, or None."""
        run_ended = self._root.ended
        best: tuple[tuple[int, int, int], _Execution] | None = None
        for execution in self._root.walk():
            if execution.arn in read or execution.held:
                continue
            awaited = execution.parent is not None and execution.arn in execution.parent.hold_for
            if execution.ended and not execution.pending_pages and not awaited:
                continue
            if run_ended and execution is not self._root and execution.read_after_run_ended:
                continue  # left running by its parent: read once more, not followed further
            if execution.pending_pages or awaited:
                rank = 0
            elif execution.waiting_on_child():
                if self._polls - execution.last_read < WAITING_PARENT_EVERY:
                    continue
                rank = 2
            else:
                rank = 1
            key = (rank, execution.last_read, -execution.depth)
            if best is None or key < best[0]:
                best = (key, execution)
        return best[1] if best else None

    def _read(self, execution: _Execution) -> list[Line]:
        events = execution.cursor.read()
        execution.last_read = self._polls
        if self._root.ended:
            execution.read_after_run_ended = True
        lines = self._feed(execution, events)
        parent = execution.parent
        if parent is not None and execution.arn in parent.hold_for and execution.cursor.caught_up:
            parent.hold_for.discard(execution.arn)
            if not parent.hold_for:
                held, parent.held = parent.held, []
                parent.released_id = int(held[0].get("id", 0))
                lines.extend(self._feed(parent, held))
        return lines

    def _feed(self, execution: _Execution, events: list[dict[str, Any]]) -> list[Line]:
        lines: list[Line] = []
        for index, event in enumerate(events):
            if (
                event.get("type") in _TASK_ENDS
                and int(event.get("id", 0)) > execution.released_id
                and execution.waiting_on_child()
            ):
                execution.held = events[index:]
                execution.hold_for = {child.arn for child in execution.running_children()}
                break
            self._events += 1
            entered = execution.parser.feed(event)
            at = self._seconds(event.get("timestamp"))
            if entered is not None:
                path = (*execution.prefix, entered.name)
                visit = self._visits.get(path, 0) + 1
                self._visits[path] = visit
                again = f" (visit {visit})" if visit > 1 else ""
                lines.append(Line(f"state: {' > '.join(path)}{again}", at))
            best = execution.parser.facts.best_training_job
            if best is not None and best is not self._best:
                self._best = best
                lines.append(Line(best_line(best), at, key="best"))
            self._adopt_children(execution)
        return lines

    def _adopt_children(self, execution: _Execution) -> None:
        if execution.depth >= MAX_CHILD_DEPTH:
            return
        known = {child.arn for child in execution.children}
        for ref in execution.parser.facts.children:
            if ref.arn not in known:
                execution.children.append(
                    _Execution(
                        HistoryCursor(self._sfn, ref.arn),
                        depth=execution.depth + 1,
                        prefix=[*execution.prefix, ref.state_name],
                        ref=ref,
                        parent=execution,
                    )
                )

    def _seconds(self, timestamp: Any) -> float | None:
        start = self.start()
        if not isinstance(timestamp, datetime) or start is None:
            return None
        return max(0.0, (timestamp - start).total_seconds())

    def seconds_since_start(self, now: datetime) -> float:
        start = self.start()
        if start is None:
            return 0.0
        return max(0.0, (now.astimezone(timezone.utc) - start).total_seconds())

    # --- the tuning jobs and endpoints

    def _next_resource(self) -> str | None:
        """The tuning job or endpoint worth describing now ("tuning:NAME", "endpoint:NAME")."""
        view = self.view()
        stale: list[str] = []
        for name in view.all_names("tuning_jobs"):
            progress = self._tuning.get(name)
            if progress is None or not progress.done:
                stale.append(f"tuning:{name}")
        for name in view.all_names("endpoints"):
            endpoint = self._endpoints.get(name)
            if (
                endpoint is None
                or endpoint.status not in _ENDPOINT_SETTLED
                or self._events > self._events_at.get(name, 0)
            ):
                stale.append(f"endpoint:{name}")
        if self._root.ended:
            stale = [key for key in stale if key not in self._wrapped]
        if not stale:
            return None
        return min(stale, key=lambda key: self._described_at.get(key, -1))

    def _describe(self, key: str) -> list[Line]:
        kind, name = key.split(":", 1)
        self._described_at[key] = self._polls
        if self._root.ended:
            self._wrapped.add(key)
        if kind == "tuning":
            description = describe_tuning_job(self._sagemaker, name)
            progress = tuning_progress(description) if description is not None else None
            self._tuning[name] = progress
            if progress is None:
                return []
            return [Line(tuning_line(progress), key=key)]
        self._events_at[name] = self._events
        endpoint = endpoint_state(self._sagemaker, name)
        self._endpoints[name] = endpoint
        return [Line(f"endpoint {name}: {endpoint.summary()}", key=key)]
