"""How long `make demo` takes: from a fresh clone (installs included), then a second run.

Clones this repository into a temporary directory, runs `make demo` twice there (the second run
reuses the emulator the first left running), stops the emulator, and prints the figures with
the load average during each run (a busy machine makes every figure longer) and the size of what
the first run installed (.venv, .toolchain). The targets are 75 seconds for the first run on a
quiet 2-core machine and 30 seconds for the second.

Usage: python benchmarks/demo_timing.py [--keep-clone] [--worktree]
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
TARGETS = {"first run (fresh clone, installs included)": 75.0, "second run": 30.0}


def timed(argv: list[str], cwd: Path, log: Path) -> tuple[float, float]:
    """Seconds `argv` took, and the 1-minute load average at its end."""
    started = time.monotonic()
    with log.open("w") as output:
        result = subprocess.run(argv, cwd=cwd, stdout=output, stderr=subprocess.STDOUT, check=False)
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


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keep-clone", action="store_true", help="keep the temporary clone")
    parser.add_argument(
        "--worktree",
        action="store_true",
        help="measure the working tree as it is: its files, committed or not, over the clone",
    )
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="demo-timing-"))
    clone = workdir / "clone"
    subprocess.run(["git", "clone", "-q", str(REPO), str(clone)], check=True)
    if args.worktree:
        copy_worktree(clone)
    figures: dict[str, tuple[float, float, float]] = {}
    sizes: dict[str, float] = {}
    try:
        for label in TARGETS:
            log = workdir / f"{len(figures) + 1}.log"
            before = os.getloadavg()[0]
            seconds, after = timed(["make", "demo"], clone, log)
            figures[label] = (seconds, before, after)
            if not sizes:
                sizes = {name: size_mb(clone / name) for name in (".venv", ".toolchain")}
    finally:
        subprocess.run(["make", "demo-stop"], cwd=clone, capture_output=True, check=False)
        if not args.keep_clone:
            shutil.rmtree(workdir, ignore_errors=True)
    cores = os.cpu_count() or 1
    for label, (seconds, before, after) in figures.items():
        verdict = "within" if seconds <= TARGETS[label] else "OVER"
        print(
            f"{label:45s} {seconds:6.1f} s   ({verdict} the {TARGETS[label]:.0f} s target; "
            f"load average {before:.1f} -> {after:.1f} on {cores} cores)"
        )
    for name, megabytes in sizes.items():
        print(f"{name + ' after the first run':45s} {megabytes:6.0f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
