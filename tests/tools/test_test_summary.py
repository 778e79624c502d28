"""tools/test_summary.py: one closing line for several JUnit reports."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def report(name: str, tests: int, failures: int = 0, errors: int = 0, skipped: int = 0) -> str:
    return (
        f'<testsuites><testsuite name="{name}" tests="{tests}" failures="{failures}" '
        f'errors="{errors}" skipped="{skipped}"></testsuite></testsuites>'
    )


def summarise(directory: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(REPO / "tools" / "test_summary.py"), str(directory)],
        capture_output=True,
        text=True,
        check=False,
    )


def test_adds_up_every_report(tmp_path: Path) -> None:
    (tmp_path / "a.xml").write_text(report("a", 10, skipped=2))
    (tmp_path / "b.xml").write_text(report("b", 5))
    result = summarise(tmp_path)
    assert result.returncode == 0
    assert result.stdout.strip() == "13 passed, 0 failed, 2 skipped"


def test_a_failure_or_an_error_fails_the_summary(tmp_path: Path) -> None:
    (tmp_path / "a.xml").write_text(report("a", 10, failures=1, errors=1))
    result = summarise(tmp_path)
    assert result.returncode == 1
    assert result.stdout.strip() == "8 passed, 2 failed, 0 skipped"


def test_no_test_at_all_fails(tmp_path: Path) -> None:
    assert summarise(tmp_path).returncode == 1
