"""How long `make demo` takes: from a fresh clone (installs included), then second runs.

Clones this repository into a temporary directory, runs `make demo` there once, then `--runs`
more times (default 5; each reuses the emulator the first left running, as a second `make demo`
does), stops the emulator, and prints the figures with the load average during each run (a busy
machine makes every figure longer), the median and spread of the second runs, and the size of
what the first run installed (.venv, .toolchain). The targets are 75 seconds for the first run on
a quiet 2-core machine and a median of 10 seconds for the second runs.

`--reuse-venv` skips the installs: the clone borrows this repository's .venv and .toolchain and
each run is `python -m smtune.demo` (what `make demo` runs once its setup is done), so the first
run's figure then leaves the installs out.

Usage: python benchmarks/demo_timing.py [--runs N] [--reuse-venv] [--worktree] [--keep-clone]
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
FIRST_RUN_TARGET = 75.0
"""Seconds, from a fresh clone, installs included."""
SECOND_RUN_TARGET = 10.0
"""Seconds, the median of the second runs."""


def timed(
    argv: list[str], cwd: Path, log: Path, env: dict[str, str] | None = None
) -> tuple[float, float]:
    """Seconds `argv` took, and the 1-minute load average at its end."""
    started = time.monotonic()
    with log.open("w") as output:
        result = subprocess.run(
            argv, cwd=cwd, env=env, stdout=output, stderr=subprocess.STDOUT, check=False
        )
    elapsed = time.monotonic() - started
    if result.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} failed with {result.returncode}; see {log}")
    return elapsed, os.getloadavg()[0]


def size_mb(path: Path) -> float:
    """Disk usage of a directory tree in MB (what `du -s` counts, not apparent sizes)."""
    total = 0
    for root, _, files in os.walk(path):
        for name in files:
            with contextlib.suppress(OSError):
                total += os.lstat(os.path.join(root, name)).st_blocks * 512
    return total / 1e6


def copy_worktree(clone: Path) -> None:
    """The working tree's version of every file git would see (tracked, or new and not
    ignored), over the clone's."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=REPO,
        capture_output=True,
        check=True,
    ).stdout.decode()
    for name in filter(None, listed.split("\0")):
        source, target = REPO / name, clone / name
        if source.is_file():
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
        elif target.exists():
            target.unlink()


def borrow_installs(clone: Path) -> dict[str, str]:
    """Link this repository's .venv and .toolchain into the clone; the environment `make demo`
    gives `python -m smtune.demo`."""
    for name in (".venv", ".toolchain"):
        (clone / name).symlink_to(REPO / name)
    env = dict(os.environ)
    env["TF_CLI_CONFIG_FILE"] = str(clone / ".toolchain" / "terraform.rc")
    env["PATH"] = os.pathsep.join(
        [str(clone / ".venv" / "bin"), env.get("PATH", ""), str(clone / ".toolchain" / "bin")]
    )
    env["TF_IN_AUTOMATION"] = "1"
    # As the Makefile's demo target: Python keeps the bytecode it compiles between runs.
    env["PYTHONDONTWRITEBYTECODE"] = ""
    env.pop("SMTUNE_DEMO_DIR", None)
    return env


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="second runs to time (default 5)")
    parser.add_argument("--keep-clone", action="store_true", help="keep the temporary clone")
    parser.add_argument(
        "--worktree",
        action="store_true",
        help="measure the working tree as it is: its files, committed or not, over the clone",
    )
    parser.add_argument(
        "--reuse-venv",
        action="store_true",
        help="use this repository's .venv and .toolchain instead of installing (no fresh-clone figure)",
    )
    args = parser.parse_args()
    if args.runs < 1:
        parser.error("--runs must be 1 or more")
    workdir = Path(tempfile.mkdtemp(prefix="demo-timing-"))
    clone = workdir / "clone"
    subprocess.run(["git", "clone", "-q", str(REPO), str(clone)], check=True)
    if args.worktree:
        copy_worktree(clone)
    env: dict[str, str] | None = None
    demo = ["make", "demo"]
    stop = ["make", "demo-stop"]
    if args.reuse_venv:
        env = borrow_installs(clone)
        python = str(clone / ".venv" / "bin" / "python")
        demo = [python, "-m", "smtune.demo"]
        stop = [python, "-m", "smtune.demo", "--stop"]
    first: tuple[float, float, float] | None = None
    seconds_runs: list[tuple[float, float, float]] = []
    sizes: dict[str, float] = {}
    try:
        for index in range(args.runs + 1):
            log = workdir / f"{index + 1}.log"
            before = os.getloadavg()[0]
            seconds, after = timed(demo, clone, log, env)
            if first is None:
                first = (seconds, before, after)
                if not args.reuse_venv:
                    sizes = {name: size_mb(clone / name) for name in (".venv", ".toolchain")}
            else:
                seconds_runs.append((seconds, before, after))
            print(f"run {index + 1}: {seconds:.1f} s", file=sys.stderr, flush=True)
    finally:
        subprocess.run(stop, cwd=clone, env=env, capture_output=True, check=False)
        if not args.keep_clone:
            shutil.rmtree(workdir, ignore_errors=True)
    cores = os.cpu_count() or 1
    assert first is not None
    seconds, before, after = first
    if args.reuse_venv:
        label = "first run (installs excluded)"
        verdict = "no target"
    else:
        label = "first run (fresh clone, installs included)"
        verdict = ("within" if seconds <= FIRST_RUN_TARGET else "OVER") + (
            f" the {FIRST_RUN_TARGET:.0f} s target"
        )
    print(
        f"{label:45s} {seconds:6.1f} s   ({verdict}; "
        f"load average {before:.1f} -> {after:.1f} on {cores} cores)"
    )
    for number, (seconds, before, after) in enumerate(seconds_runs, start=1):
        print(
            f"{f'second run {number}':45s} {seconds:6.1f} s   "
            f"(load average {before:.1f} -> {after:.1f})"
        )
    values = [seconds for seconds, _, _ in seconds_runs]
    median = statistics.median(values)
    verdict = "within" if median <= SECOND_RUN_TARGET else "OVER"
    print(
        f"{f'second run, median of {len(values)}':45s} {median:6.1f} s   "
        f"(spread {min(values):.1f}-{max(values):.1f} s; "
        f"{verdict} the {SECOND_RUN_TARGET:.0f} s target)"
    )
    for name, megabytes in sizes.items():
        print(f"{name + ' after the first run':45s} {megabytes:6.0f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
