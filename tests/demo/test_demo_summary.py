"""What `make demo` prints about a run's promotion, and the parameters it deploys with."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from smtune.demo import ML_PARAMETERS, live_summary, promotion_summary, write_ml_parameters


def output(outcome: str, reason: str | None, config: str = "ep-0123456789ab") -> dict[str, Any]:
    promotion = (
        None if reason is None else {"policy": "ifBetter", "decision": "x", "reason": reason}
    )
    return {
        "runId": "0123456789ab",
        "deployment": {
            "outcome": outcome,
            "endpointName": "ep",
            "endpointConfigName": config,
            "promotion": promotion,
        },
    }


def test_a_kept_model_reads_as_kept_with_the_policy_reason() -> None:
    reason = "not better: validation:auc 0.71 against the live validation:auc 0.83 (ep-a); ..."
    assert (
        promotion_summary("second run", output("KeptLive", reason))
        == f"second run: kept the live model — {reason}"
    )


def test_a_deployed_model_reads_as_deployed() -> None:
    line = promotion_summary("first run", output("InService", "better: validation:auc 0.9"))
    assert line == "first run: deployed — better: validation:auc 0.9"


def test_other_outcomes_are_named_and_a_missing_reason_is_said() -> None:
    assert promotion_summary("run", output("Superseded", "r")).startswith(
        "run: deployed, then superseded by a later run — r"
    )
    assert promotion_summary("run", output("Mystery", None)) == "run: Mystery — no reason given"


def test_the_live_summary_names_the_endpoint_and_its_config() -> None:
    assert (
        live_summary(output("KeptLive", "r", "ep-aaaaaaaaaaaa")) == "ep now serves ep-aaaaaaaaaaaa"
    )


def test_the_demo_parameters_are_the_example_with_if_better(tmp_path: Path) -> None:
    example = ML_PARAMETERS.read_text()
    target = write_ml_parameters(target=tmp_path / "state" / "ml-parameters.json")
    assert target == tmp_path / "state" / "ml-parameters.json"
    assert json.loads(target.read_text()) == {
        **json.loads(example),
        "promotion": {"policy": "ifBetter"},
    }
    assert ML_PARAMETERS.read_text() == example
