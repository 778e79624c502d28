"""`smtune status` and `smtune history`: an execution for a person, or as JSON for a script."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from smtune.history import ExecutionView, StateRun
from smtune.resources import format_number
from smtune.snapshot import RunSnapshot
from smtune.text import format_clock, format_duration, format_time, iso, one_line


def _timing(view: ExecutionView) -> str:
    elapsed = format_duration(view.elapsed_seconds())
    return (
        f"{view.status} ({elapsed} so far)"
        if view.status == "RUNNING"
        else (f"{view.status} after {elapsed}")
    )


def _best_text(best: dict[str, Any]) -> str:
    objective = best.get("objective") or {}
    value = objective.get("value")
    text = str(best.get("trainingJobName"))
    if isinstance(value, (int, float)):
        text += f": {objective.get('metricName', 'objective')} = {format_number(float(value))}"
    gate = best.get("qualityGate") or {}
    if gate.get("evaluated"):
        text += f" (quality gate {'passed' if gate.get('passed') else 'NOT met'})"
    return text


def status_text(snapshot: RunSnapshot) -> str:
    view = snapshot.view
    rows: list[tuple[str, str]] = [
        ("Execution", view.arn),
        ("State machine", view.state_machine_name),
        ("Status", _timing(view)),
        ("Started", format_time(view.started)),
    ]
    if view.stopped:
        rows.append(("Stopped", format_time(view.stopped)))
    path = view.current_path()
    if path:
        rows.append(
            ("Current state" if view.status == "RUNNING" else "Last state", " > ".join(path))
        )
    for progress in snapshot.tuning:
        rows.append(("Tuning job", f"{progress.name}: {progress.summary()}"))
    if snapshot.best_training_job:
        rows.append(("Best training job", _best_text(snapshot.best_training_job)))
    for model in view.all_names("models"):
        rows.append(("Model", model))
    for endpoint in snapshot.endpoints:
        rows.append(("Endpoint", f"{endpoint.name}: {endpoint.summary()}"))
    for child in view.walk()[1:]:
        rows.append(("Child execution", f"{child.arn} ({_timing(child)})"))
    if view.error:
        rows.append(("Error", str(view.error)))
    if view.cause:
        rows.append(("Cause", one_line(view.cause, 1000)))
    width = max(len(label) for label, _ in rows)
    return "\n".join(f"{label:<{width}}  {value}" for label, value in rows) + "\n"


def _execution_fields(view: ExecutionView) -> dict[str, Any]:
    return {
        "executionArn": view.arn,
        "name": view.name,
        "stateMachineArn": view.description.get("stateMachineArn"),
        "status": view.status,
        "startDate": iso(view.started),
        "stopDate": iso(view.stopped),
        "elapsedSeconds": round(view.elapsed_seconds(), 3),
        "error": view.error,
        "cause": view.cause,
    }


def status_document(snapshot: RunSnapshot) -> dict[str, Any]:
    view = snapshot.view
    return {
        **_execution_fields(view),
        "currentState": view.current_path(),
        "tuningJobs": [progress.as_dict() for progress in snapshot.tuning],
        "bestTrainingJob": snapshot.best_training_job,
        "models": view.all_names("models"),
        "endpoints": [endpoint.as_dict() for endpoint in snapshot.endpoints],
        "childExecutions": [_execution_fields(child) for child in view.walk()[1:]],
    }


def _state_outcome(run: StateRun) -> str:
    outcome = run.outcome
    if run.retries:
        outcome += f" after {run.retries} {'retry' if run.retries == 1 else 'retries'}"
    if run.error:
        outcome += f": {run.error}"
        outcome += f": {one_line(run.cause, 160)}" if run.cause else ""
    return outcome


def _seconds_between(start: datetime | None, end: datetime | None) -> float | None:
    if start is None or end is None:
        return None
    return (end - start).total_seconds()


def history_text(view: ExecutionView) -> str:
    lines: list[str] = []
    _history_lines(view, view.started, 0, lines)
    return "\n".join(lines) + "\n"


def _history_lines(
    view: ExecutionView, origin: datetime | None, indent: int, lines: list[str]
) -> None:
    pad = "  " * indent
    lines.append(f"{pad}execution {view.name} of {view.state_machine_name}: {_timing(view)}")
    children = {child.arn: child for child in view.children}
    runs = view.facts.states
    width = max((len(run.name) for run in runs), default=0)
    kind_width = max((len(run.type) for run in runs), default=0)
    for run in runs:
        offset = _seconds_between(origin, run.entered)
        took = _seconds_between(run.entered, run.exited)
        lines.append(
            f"{pad}  {'+' + format_clock(offset or 0.0):<8} {run.name:<{width}}  "
            f"{run.type:<{kind_width}}  {format_duration(took) if took is not None else '-':>7}  "
            f"{_state_outcome(run)}"
        )
        for arn in run.children:
            if arn in children:
                _history_lines(children[arn], origin, indent + 2, lines)
    if view.error and view.status != "SUCCEEDED":
        lines.append(f"{pad}  {view.error}: {one_line(view.cause, 300)}")


def history_document(view: ExecutionView) -> dict[str, Any]:
    children = {child.arn: child for child in view.children}
    return {
        **_execution_fields(view),
        "states": [
            {
                "name": run.name,
                "type": run.type,
                "enteredAt": iso(run.entered),
                "exitedAt": iso(run.exited),
                "durationSeconds": _seconds_between(run.entered, run.exited),
                "outcome": run.outcome,
                "retries": run.retries,
                "error": run.error,
                "cause": run.cause,
                "childExecutions": [
                    history_document(children[arn]) for arn in run.children if arn in children
                ],
            }
            for run in view.facts.states
        ],
    }
