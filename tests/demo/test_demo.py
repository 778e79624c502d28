"""`make demo` as a user runs it: deploy to the emulator, run twice under the promotion policy
ifBetter, report; then the whole demo again on the same emulator."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.emulator import queue_best_objective
from tests.support.terraform import ensure_toolchain

pytestmark = pytest.mark.emulator

REPO = Path(__file__).resolve().parents[2]
EXAMPLE_PARAMETERS = REPO / "examples" / "params" / "ml-parameters.json"
SECOND_RUN = re.compile(
    r"^second run: (?P<outcome>deployed|kept the live model) — (?P<verdict>better|not better): "
    r"validation:auc (?P<new>[0-9.e-]+) against the live validation:auc (?P<live>[0-9.e-]+) ",
    re.MULTILINE,
)


def line_value(out: str, label: str) -> str:
    """The value of the demo's summary line `label` (the first token after the label)."""
    found = re.search(rf"^{re.escape(label)} +(\S+)", out, re.MULTILINE)
    assert found, label
    return found.group(1)


def line_value_after(out: str, label: str, marker: str) -> str:
    """What follows `marker` on the demo's summary line `label`."""
    found = re.search(rf"^{re.escape(label)} .*{re.escape(marker)}(\S+)$", out, re.MULTILINE)
    assert found, label
    return found.group(1)


def served_after_second_run(out: str) -> str:
    found = re.search(r"^survival-endpoint now serves (\S+)$", out, re.MULTILINE)
    assert found, out[-2000:]
    return found.group(1)


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


def test_demo_deploys_runs_twice_under_if_better_and_reports_then_reuses_the_emulator(
    tmp_path: Path,
) -> None:
    example = EXAMPLE_PARAMETERS.read_text()
    try:
        first = demo(tmp_path)
        assert first.returncode == 0, first.stdout[-3000:] + first.stderr[-3000:]
        out = first.stdout
        assert "SageMaker is EMULATED" in out
        assert "Started the emulator on http://127.0.0.1:" in out
        assert (
            "aws --endpoint-url http://127.0.0.1:" in out and "stepfunctions start-execution" in out
        )
        # The module is applied with the demo's copy of the parameters: ifBetter, the rest as is.
        derived = tmp_path / "ml-parameters.json"
        assert f"-var=ml_parameters_file={derived}" in out
        assert json.loads(derived.read_text()) == {
            **json.loads(example),
            "promotion": {"policy": "ifBetter"},
        }
        assert EXAMPLE_PARAMETERS.read_text() == example
        # Two runs, both started with the AWS CLI, both followed to SUCCEEDED.
        assert out.count("stepfunctions start-execution") == 2
        assert out.count("execution SUCCEEDED") == 2
        for label in (
            "best training",
            "model",
            "endpoint config",
            "scaling target",
            "scaling policy",
        ):
            assert f"\n{label} " in out, label
        report = (tmp_path / "report.html").read_text()
        assert "<svg" in report and "validation:auc" in report
        # The second run's outcome follows from its objective against the first run's.
        second_run = SECOND_RUN.search(out)
        assert second_run, out[-2000:]
        first_config = line_value(out, "endpoint config")
        best = float(line_value_after(out, "best training", "= "))
        assert float(second_run["live"]) == pytest.approx(best, rel=1e-5)
        better = float(second_run["new"]) > float(second_run["live"])
        assert (second_run["outcome"], second_run["verdict"]) == (
            ("deployed", "better") if better else ("kept the live model", "not better")
        )
        assert (served_after_second_run(out) == first_config) is not better
        assert "make demo-stop" in out
        assert out.rstrip().splitlines()[-1].startswith("Demo finished in ")

        # Again on the same emulator, with objectives set: the first run beats the live model,
        # the second does not.
        url = json.loads((tmp_path / "emulator.json").read_text())["url"]
        queue_best_objective(url, 0.99)
        queue_best_objective(url, 0.6)
        again = demo(tmp_path)
        assert again.returncode == 0, again.stdout[-3000:] + again.stderr[-3000:]
        out = again.stdout
        assert "Reusing the emulator" in out
        assert out.count("execution SUCCEEDED") == 2
        assert float(line_value_after(out, "best training", "= ")) == 0.99
        live = line_value(out, "endpoint config")
        assert (
            "\nsecond run: kept the live model — not better: validation:auc 0.6 against the "
            f"live validation:auc 0.99 ({live}); ifBetter needs higher\n"
        ) in out, out[-3000:]
        assert served_after_second_run(out) == live
    finally:
        stopped = demo(tmp_path, "--stop")
    assert stopped.stdout.strip() == "emulator stopped"
    assert not (tmp_path / "emulator.json").exists()


def test_stop_without_a_running_emulator_says_so(tmp_path: Path) -> None:
    result = demo(tmp_path, "--stop")
    assert result.returncode == 0
    assert result.stdout.strip() == "no emulator was running"
