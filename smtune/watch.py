"""`smtune watch`: follow a run live, one line per change, and end with a telling exit code."""

from __future__ import annotations

import json
import time
from datetime import datetime, timezone
from typing import Any, Callable, TextIO

from smtune.history import TERMINAL_STATUSES
from smtune.resources import format_number
from smtune.snapshot import RunSnapshot, SnapshotReader
from smtune.text import format_clock, format_duration, one_line

EXIT_BY_STATUS = {"SUCCEEDED": 0, "FAILED": 1, "TIMED_OUT": 3, "ABORTED": 4}
EXIT_WATCH_TIMEOUT = 5


def snapshot_lines(snapshot: RunSnapshot) -> list[tuple[str, str]]:
    """(key, text) per thing worth a line; a line is printed again only when its text changes."""
    view = snapshot.view
    lines: list[tuple[str, str]] = []
    path = view.current_path()
    if path:
        lines.append(("state", "state: " + " > ".join(path)))
    for progress in snapshot.tuning:
        lines.append(
            (f"tuning:{progress.name}", f"tuning job {progress.name}: {progress.summary()}")
        )
    best = snapshot.best_training_job
    if best:
        objective = best.get("objective") or {}
        value = objective.get("value")
        shown = format_number(float(value)) if isinstance(value, (int, float)) else "?"
        lines.append(
            (
                "best",
                f"best training job {best.get('trainingJobName')}: "
                f"{objective.get('metricName', 'objective')} = {shown}",
            )
        )
    for endpoint in snapshot.endpoints:
        lines.append(
            (f"endpoint:{endpoint.name}", f"endpoint {endpoint.name}: {endpoint.summary()}")
        )
    return lines


# The deployer's outcomes, as a person reads them.
OUTCOME_WORDS = {
    "InService": "deployed",
    "Superseded": "deployed, then superseded by a later run",
    "KeptLive": "kept the live model",
    "Rejected": "rejected in the model registry, the live model stays",
}


def deployment_outcome(output: Any) -> str | None:
    """What a succeeded run did with its model, from the workflow's or the deployer's output:
    "kept the live model (not better: ...)"; None when the output says nothing of it."""
    if not isinstance(output, dict):
        return None
    deployment = output.get("deployment") if "deployment" in output else output
    if not isinstance(deployment, dict) or deployment.get("outcome") not in OUTCOME_WORDS:
        return None
    text = OUTCOME_WORDS[str(deployment["outcome"])]
    promotion = deployment.get("promotion")
    if isinstance(promotion, dict) and promotion.get("reason"):
        text += f" ({one_line(str(promotion['reason']))})"
    return text


def final_line(snapshot: RunSnapshot) -> str:
    view = snapshot.view
    text = f"execution {view.status} after {format_duration(view.elapsed_seconds())}"
    if view.status != "SUCCEEDED" and (view.error or view.cause):
        text += f": {view.error or 'error'}"
        text += f": {one_line(view.cause)}" if view.cause else ""
    if view.status == "SUCCEEDED":
        try:
            outcome = deployment_outcome(json.loads(view.description.get("output") or "null"))
        except ValueError:
            outcome = None
        if outcome:
            text += f": {outcome}"
    return text


class _ChangePrinter:
    def __init__(self, out: TextIO) -> None:
        self._out = out
        self._last: dict[str, str] = {}

    def line(self, elapsed: float, text: str) -> None:
        self._out.write(f"[{format_clock(elapsed):>7}] {text}\n")
        self._out.flush()

    def update(self, elapsed: float, lines: list[tuple[str, str]]) -> None:
        for key, text in lines:
            if self._last.get(key) != text:
                self._last[key] = text
                self.line(elapsed, text)


def watch(
    reader: SnapshotReader,
    execution_arn: str,
    out: TextIO,
    interval: float = 5.0,
    timeout: float | None = None,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
    now: Callable[[], datetime] = lambda: datetime.now(timezone.utc),
) -> int:
    """Print the run's changes until it ends; the exit code says how it ended."""
    printer = _ChangePrinter(out)
    started = clock()
    first = True
    while True:
        snapshot = reader.read(execution_arn)
        view = snapshot.view
        elapsed = view.elapsed_seconds(now())
        if first:
            printer.line(
                elapsed,
                f"execution {view.name} of {view.state_machine_name}: {view.status}",
            )
            first = False
        printer.update(elapsed, snapshot_lines(snapshot))
        if view.status in TERMINAL_STATUSES:
            printer.line(elapsed, final_line(snapshot))
            return EXIT_BY_STATUS[view.status]
        waited = clock() - started
        if timeout is not None and waited >= timeout:
            printer.line(
                elapsed,
                f"stopped watching after {format_duration(waited)}; "
                f"the execution is still {view.status}",
            )
            return EXIT_WATCH_TIMEOUT
        pause = interval if timeout is None else min(interval, max(0.0, timeout - waited))
        sleep(pause)
