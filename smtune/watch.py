"""`smtune watch`: follow a run live, one line per change, and end with a telling exit code."""

from __future__ import annotations

import json
import time
from datetime import datetime, timezone
from typing import Any, Callable, TextIO

from smtune.follow import Line
from smtune.snapshot import RunSnapshot, SnapshotReader
from smtune.text import format_clock, format_duration, one_line

EXIT_BY_STATUS = {"SUCCEEDED": 0, "FAILED": 1, "TIMED_OUT": 3, "ABORTED": 4}
EXIT_WATCH_TIMEOUT = 5
# Between the last reads once the run has ended (each read still at most two calls).
WRAP_UP_PAUSE_SECONDS = 0.2


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
    """Prints lines with the time since the run started, never earlier than the line before."""

    def __init__(self, out: TextIO) -> None:
        self._out = out
        self._last: dict[str, str] = {}
        self._latest = 0.0

    def line(self, elapsed: float, text: str) -> None:
        self._latest = max(self._latest, elapsed)
        self._out.write(f"[{format_clock(self._latest):>7}] {text}\n")
        self._out.flush()

    def update(self, now: float, lines: list[Line]) -> None:
        for line in lines:
            if line.key is not None:
                if self._last.get(line.key) == line.text:
                    continue
                self._last[line.key] = line.text
            self.line(now if line.at is None else line.at, line.text)


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
    """Print every state the run enters and what its tuning jobs and endpoint do, until it
    ends; the exit code says how it ended. Each poll makes at most two API calls."""
    printer = _ChangePrinter(out)
    follower = reader.follow(execution_arn)
    started = clock()
    while True:
        lines = follower.poll()
        printer.update(follower.seconds_since_start(now()), lines)
        if follower.done:
            snapshot = follower.snapshot()
            view = snapshot.view
            printer.line(view.elapsed_seconds(now()), final_line(snapshot))
            return EXIT_BY_STATUS[view.status]
        waited = clock() - started
        if timeout is not None and waited >= timeout:
            printer.line(
                follower.seconds_since_start(now()),
                f"stopped watching after {format_duration(waited)}; "
                f"the execution is still {follower.view().status}",
            )
            return EXIT_WATCH_TIMEOUT
        pause = interval if timeout is None else min(interval, max(0.0, timeout - waited))
        if follower.ended:
            # Nothing changes any more: read what is left without waiting a whole interval.
            pause = min(pause, WRAP_UP_PAUSE_SECONDS)
        sleep(pause)
