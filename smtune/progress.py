"""Long-running commands of `make demo`, condensed: a few lines of progress instead of silence.

`ApplyProgress` reads `terraform apply` output line by line and says, at most every few
seconds, how many of the planned resources are done (by resource type) and which ones it is
still waiting on; `stream` runs a command, feeds its output to such a condenser and prints a
heartbeat with the elapsed time whenever the command has been quiet for a while.
"""

from __future__ import annotations

import queue
import re
import subprocess
import threading
import time
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Callable, Protocol

from smtune.text import format_clock

_PLAN = re.compile(
    r"^Plan: (?P<add>\d+) to add, (?P<change>\d+) to change, (?P<destroy>\d+) to destroy"
)
_NO_CHANGES = re.compile(r"^No changes\.")
_EVENT = re.compile(
    r"^(?P<address>\S.*?): (?P<event>Creating\.\.\.|Modifying\.\.\.|Destroying\.\.\."
    r"|Creation complete|Modifications complete|Destruction complete"
    r"|Still (?:creating|modifying|destroying)\.\.\.)"
)
_SUMMARY = re.compile(r"^(Apply complete!|Destroy complete!)")
_TYPE = re.compile(r"(?:^|\.)(?P<type>[a-z][a-z0-9]*_[a-z0-9_]+)\.[A-Za-z_][\w-]*(?:\[[^\]]*\])?$")


def resource_type(address: str) -> str:
    """`module.x.aws_iam_role.lambda["a"]` -> `aws_iam_role`; data sources keep `data.`."""
    match = _TYPE.search(address)
    if not match:
        return address
    kind = match.group("type")
    return f"data.{kind}" if address[: match.start("type")].endswith("data.") else kind


def by_type(addresses: Sequence[str] | Counter[str], limit: int = 4) -> str:
    """`8 aws_iam_role, 3 aws_lambda_function, ...` (most first, then by name)."""
    counts = addresses if isinstance(addresses, Counter) else Counter(map(resource_type, addresses))
    ordered = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    shown = [f"{count} {kind}" for kind, count in ordered[:limit]]
    rest = sum(count for _, count in ordered[limit:])
    return ", ".join(shown + ([f"{rest} more"] if rest else []))


class Condenser(Protocol):
    def feed(self, line: str, now: float) -> list[str]: ...

    def tick(self, now: float) -> list[str]: ...


class ApplyProgress:
    """Condenses `terraform apply -no-color` output.

    Says the plan's totals, then, whenever a resource completes and `every` seconds have
    passed since the last line, how many are done (by type); when nothing completes for
    `quiet` seconds, which resources it is still waiting on; and terraform's own summary.
    Lines are prefixed with the time since `started` (0:07).
    """

    def __init__(self, started: float, every: float = 3.0, quiet: float = 5.0) -> None:
        self.started = started
        self.every = every
        self.quiet = quiet
        self.total: int | None = None
        self.done = 0
        self.latest: Counter[str] = Counter()  # completed since the last line, by type
        self.pending: dict[str, float] = {}  # address -> when it started
        self.last_said = started

    def _line(self, now: float, text: str) -> str:
        self.last_said = now
        return f"  [{format_clock(now - self.started)}] {text}"

    def _status(self, now: float) -> str:
        parts = [
            f"{self.done}/{self.total} done" if self.total is not None else f"{self.done} done"
        ]
        if self.latest:
            parts.append(f"latest: {by_type(self.latest)}")
            self.latest = Counter()
        if self.pending:
            waiting = sorted(self.pending, key=lambda address: self.pending[address])
            longest = now - self.pending[waiting[0]]
            parts.append(f"waiting on {by_type(waiting)} (the longest for {longest:.0f}s)")
        return "; ".join(parts)

    def feed(self, line: str, now: float) -> list[str]:
        line = line.rstrip()
        plan = _PLAN.match(line)
        if plan:
            self.total = int(plan["add"]) + int(plan["change"]) + int(plan["destroy"])
            return [self._line(now, f"terraform plan: {plan.group(0).removeprefix('Plan: ')}")]
        if _NO_CHANGES.match(line):
            self.total = 0
            return [self._line(now, "terraform plan: no changes")]
        if _SUMMARY.match(line):
            return [self._line(now, line)]
        event = _EVENT.match(line)
        if not event:
            return []
        address, what = event["address"], event["event"]
        if what.endswith("ing..."):  # Creating..., Modifying..., Destroying...
            self.pending.setdefault(address, now)
            return []
        if what.startswith("Still"):
            return []  # the heartbeat of tick() says the same, once for all of them
        self.pending.pop(address, None)
        self.done += 1
        self.latest[resource_type(address)] += 1
        finished = self.total is not None and self.done >= self.total
        if now - self.last_said >= self.every or finished:
            return [self._line(now, self._status(now))]
        return []

    def tick(self, now: float) -> list[str]:
        if now - self.last_said < self.quiet:
            return []
        if self.pending or self.latest:
            return [self._line(now, self._status(now))]
        return [self._line(now, "terraform is working (reading the configuration and state)")]


class Ticker:
    """For a quiet command: a line with the elapsed time every `quiet` seconds of silence."""

    def __init__(self, started: float, what: str, quiet: float = 5.0) -> None:
        self.started, self.what, self.quiet = started, what, quiet
        self.last_said = started

    def feed(self, line: str, now: float) -> list[str]:
        return []

    def tick(self, now: float) -> list[str]:
        if now - self.last_said < self.quiet:
            return []
        self.last_said = now
        return [f"  [{format_clock(now - self.started)}] {self.what}"]


def stream(
    argv: Sequence[str],
    env: dict[str, str],
    cwd: Path,
    make: Callable[[float], Condenser],
    say: Callable[[str], None],
    clock: Callable[[], float] = time.monotonic,
) -> tuple[int, list[str]]:
    """Run `argv` (stdout and stderr together), print what the condenser makes of its output
    and its heartbeats; returns the exit code and every line the command printed."""
    started = clock()
    condenser = make(started)
    process = subprocess.Popen(
        list(argv),
        cwd=cwd,
        env=env,
        text=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
    )
    lines: queue.Queue[str | None] = queue.Queue()

    def read() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            lines.put(line)
        lines.put(None)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    seen: list[str] = []
    while True:
        try:
            line = lines.get(timeout=1.0)
        except queue.Empty:
            for text in condenser.tick(clock()):
                say(text)
            continue
        if line is None:
            break
        seen.append(line.rstrip("\n"))
        for text in condenser.feed(line, clock()):
            say(text)
    reader.join()
    return process.wait(), seen
