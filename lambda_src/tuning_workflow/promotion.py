"""The promotion policy: does a run's best model replace the live one?

`always` (the default) deploys every run's model. `ifBetter` compares the run's best objective
value with the live model's, recorded on the live endpoint config when it was deployed
(lifecycle_tags), in the objective's direction: the new model deploys only when it is better by
more than `minImprovement`. Values measured on different validation data do not compare fairly;
the policy cannot know, so the README says so.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from tuning_workflow.params import Promotion

DEPLOY = "deploy"
KEEP = "keep"


@dataclass(frozen=True)
class Verdict:
    decision: str
    reason: str
    forced: bool = False

    def to_dict(
        self, policy: str, new: Mapping[str, Any] | None, live: Mapping[str, Any] | None
    ) -> dict[str, Any]:
        return {
            "policy": policy,
            "decision": self.decision,
            "reason": self.reason,
            "forced": self.forced,
            "newObjective": dict(new) if new else None,
            "liveObjective": dict(live) if live else None,
        }


def _value(objective: Mapping[str, Any] | None) -> float | None:
    if not isinstance(objective, Mapping):
        return None
    value = objective.get("value")
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value) if math.isfinite(float(value)) else None


def _show(objective: Mapping[str, Any]) -> str:
    return f"{objective.get('metricName') or 'objective'} {float(objective['value']):g}"


def decide(
    promotion: Promotion,
    new: Mapping[str, Any] | None,
    live: Mapping[str, Any] | None,
    *,
    live_config: str | None,
    force: bool = False,
) -> Verdict:
    """Deploy or keep the live model; the reason is one sentence for the run's output."""
    if force:
        return Verdict(DEPLOY, "forceDeploy: deployed whatever the promotion policy says", True)
    if promotion.policy != "ifBetter":
        return Verdict(DEPLOY, "promotion policy always: every run deploys its best model")
    if live_config is None:
        return Verdict(DEPLOY, "no model is live yet: the first model deploys")
    new_value, live_value = _value(new), _value(live)
    if new_value is None:
        return Verdict(
            KEEP,
            f"the run's best training job reported no objective value, so it cannot be shown "
            f"better than the live model ({live_config})",
        )
    assert new is not None
    if live_value is None or live is None:
        return Verdict(
            DEPLOY,
            f"the live endpoint config {live_config} records no objective (deployed before "
            "promotion was recorded): deployed",
        )
    if live.get("metricName") and new.get("metricName") != live.get("metricName"):
        return Verdict(
            DEPLOY,
            f"the objective metric changed ({live.get('metricName')} live, "
            f"{new.get('metricName')} now): values do not compare, deployed",
        )
    minimize = (new.get("type") or live.get("type")) == "Minimize"
    gain = live_value - new_value if minimize else new_value - live_value
    direction = "lower" if minimize else "higher"
    comparison = f"{_show(new)} against the live {_show(live)} ({live_config})"
    if gain > promotion.min_improvement:
        return Verdict(DEPLOY, f"better: {comparison}, {gain:g} {direction}")
    needed = (
        f"more than {promotion.min_improvement:g} {direction}"
        if promotion.min_improvement
        else direction
    )
    return Verdict(KEEP, f"not better: {comparison}; ifBetter needs {needed}")
