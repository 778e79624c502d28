"""How long `make demo` takes: from a fresh clone (installs included), then a second run.

Clones this repository into a temporary directory, runs `make demo` twice there (the second run
reuses the emulator the first left running), stops the emulator, and prints the figures. The
targets are 3 minutes for the first run and 30 seconds for the second.

Usage: python benchmarks/demo_timing.py [--keep-clone]
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
TARGETS = {"first run (fresh clone, installs included)": 180.0, "second run": 30.0}


def timed(argv: list[str], cwd: Path, log: Path) -> float:
    started = time.monotonic()
    with log.open("w") as output:
        result = subprocess.run(argv, cwd=cwd, stdout=output, stderr=subprocess.STDOUT, check=False)
    elapsed = time.monotonic() - started
    if result.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} failed with {result.returncode}; see {log}")
    return elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keep-clone", action="store_true", help="keep the temporary clone")
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="demo-timing-"))
    clone = workdir / "clone"
    subprocess.run(["git", "clone", "-q", str(REPO), str(clone)], check=True)
    figures: dict[str, float] = {}
    try:
        for label in TARGETS:
            log = workdir / f"{len(figures) + 1}.log"
            figures[label] = timed(["make", "demo"], clone, log)
    finally:
        subprocess.run(["make", "demo-stop"], cwd=clone, capture_output=True, check=False)
        if not args.keep_clone:
            shutil.rmtree(workdir, ignore_errors=True)
    for label, seconds in figures.items():
        verdict = "within" if seconds <= TARGETS[label] else "OVER"
        print(f"{label:45s} {seconds:6.1f} s   ({verdict} the {TARGETS[label]:.0f} s target)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
