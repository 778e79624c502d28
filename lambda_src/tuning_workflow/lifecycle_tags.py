"""The tags that record a deployment's models and endpoint configs across runs.

Every model and endpoint config a run creates carries its owner deployment (OWNER_TAG_KEY, the
deployment's Terraform `name_prefix`) and its run id; an endpoint config also records the config
it replaced (the rollback target) and the objective of the model it serves (the promotion
policy's yardstick). Retention, rollback and
teardown find a deployment's resources by these tags, never by name alone.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from typing import Any

PREFIX = "sagemaker-tuner-deployer:"
# The deployment that owns a resource: its name_prefix, unique among the deployments of an account
# and region (two with the same prefix collide on every resource name) and stable across applies.
OWNER_TAG_KEY = PREFIX + "deployment"
REPLACES_TAG_KEY = PREFIX + "replaces"
OBJECTIVE_METRIC_TAG_KEY = PREFIX + "objective-metric"
OBJECTIVE_TYPE_TAG_KEY = PREFIX + "objective-type"
OBJECTIVE_VALUE_TAG_KEY = PREFIX + "objective-value"

# SageMaker tag values: at most 256 characters of letters, digits, spaces and _.:/=+-@
# (https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_Tag.html).
TAG_VALUE_LIMIT = 256
_TAG_VALUE_UNSAFE = re.compile(r"[^\w .:/=+\-@]", re.ASCII)


def tag_value(text: str) -> str:
    """`text` as a valid SageMaker tag value: unsafe characters become "_", then truncated."""
    return _TAG_VALUE_UNSAFE.sub("_", text)[:TAG_VALUE_LIMIT]


def tags_to_dict(tags: Iterable[Mapping[str, Any]] | None) -> dict[str, str]:
    return {str(tag.get("Key")): str(tag.get("Value") or "") for tag in tags or ()}


def objective_tags(objective: Mapping[str, Any] | None) -> list[dict[str, str]]:
    """The objective tags of a config, or none when the objective is unknown or not finite."""
    if not isinstance(objective, Mapping):
        return []
    value = objective.get("value")
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return []
    if not math.isfinite(float(value)):
        return []
    return [
        {
            "Key": OBJECTIVE_METRIC_TAG_KEY,
            "Value": tag_value(str(objective.get("metricName") or "")),
        },
        {"Key": OBJECTIVE_TYPE_TAG_KEY, "Value": tag_value(str(objective.get("type") or ""))},
        {"Key": OBJECTIVE_VALUE_TAG_KEY, "Value": repr(float(value))},
    ]


def objective_from_tags(tags: Mapping[str, str]) -> dict[str, Any] | None:
    """The objective recorded on a config by objective_tags, or None when absent or unreadable."""
    raw = tags.get(OBJECTIVE_VALUE_TAG_KEY)
    if raw is None:
        return None
    try:
        value = float(raw)
    except ValueError:
        return None
    if not math.isfinite(value):
        return None
    return {
        "metricName": tags.get(OBJECTIVE_METRIC_TAG_KEY) or None,
        "type": tags.get(OBJECTIVE_TYPE_TAG_KEY) or None,
        "value": value,
    }
