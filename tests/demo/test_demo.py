"""`make demo` as a user runs it: deploy to the emulator, run, report; then run again on it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.terraform import ensure_toolchain

pytestmark = pytest.mark.emulator

REPO = Path(__file__).resolve().parents[2]


def demo(state_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    env.update(SMTUNE_DEMO_DIR=str(state_dir), TF_CLI_CONFIG_FILE=str(ensure_toolchain()))
    for name in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        env.pop(name, None)
    return subprocess.run(
        [sys.executable, "-m", "smtune.demo", *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


def test_demo_deploys_runs_and_reports_then_reuses_the_emulator(tmp_path: Path) -> None:
    try:
        first = demo(tmp_path)
        assert first.returncode == 0, first.stdout[-3000:] + first.stderr[-3000:]
        out = first.stdout
        assert "SageMaker is EMULATED" in out
        assert "Started the emulator on http://127.0.0.1:" in out
        assert (
            "aws --endpoint-url http://127.0.0.1:" in out and "stepfunctions start-execution" in out
        )
        assert "execution SUCCEEDED" in out
        for label in (
            "best training",
            "model",
            "endpoint config",
            "scaling target",
            "scaling policy",
        ):
            assert f"\n{label} " in out, label
        assert "make demo-stop" in out
        report = (tmp_path / "report.html").read_text()
        assert "<svg" in report and "validation:auc" in report

        second = demo(tmp_path)
        assert second.returncode == 0, second.stdout[-3000:] + second.stderr[-3000:]
        assert "Reusing the emulator" in second.stdout
        assert "execution SUCCEEDED" in second.stdout
    finally:
        stopped = demo(tmp_path, "--stop")
    assert stopped.stdout.strip() == "emulator stopped"
    assert not (tmp_path / "emulator.json").exists()


def test_stop_without_a_running_emulator_says_so(tmp_path: Path) -> None:
    result = demo(tmp_path, "--stop")
    assert result.returncode == 0
    assert result.stdout.strip() == "no emulator was running"
