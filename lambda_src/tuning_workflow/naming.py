"""Run identity and the names of the resources a run creates.

A run's id is the first RUN_ID_LENGTH hex digits of SHA-256 of the execution ARN that started it.
Execution ARNs are unique, so two runs started in the same second get different names, and a
retried Lambda computes the same names again.

SageMaker's name limits and the run id's length are read from `x-sagemakerNames` of
schemas/ml-parameters.schema.json, the one place they are written: the Terraform module reads the
same block. A base name that a run extends with "-<runId>" may be at most its resource's limit
minus RUN_SUFFIX_LENGTH characters (base_name_limit).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SCHEMA_PATH = Path(__file__).resolve().parent / "schemas" / "ml-parameters.schema.json"
# The schema keyword that holds the limits (at the root) and, on a name field, the resources
# the field names.
NAMES_KEYWORD = "x-sagemakerNames"


_NAMES: dict[str, Any] = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))[NAMES_KEYWORD]

RUN_ID_LENGTH: int = _NAMES["runIdLength"]
RUN_SUFFIX_LENGTH = len("-") + RUN_ID_LENGTH
# SageMaker's longest name of each resource a run names, and what to call it, by the schema's
# resource key.
LIMITS: dict[str, int] = {key: item["maxLength"] for key, item in _NAMES["resources"].items()}
RESOURCE_NOUNS: dict[str, str] = {key: item["noun"] for key, item in _NAMES["resources"].items()}

TUNING_JOB_NAME_LIMIT = LIMITS["tuningJob"]
NAME_LIMIT = LIMITS["model"]
TRAINING_JOB_DEFINITION_NAME_LIMIT = LIMITS["trainingJobDefinition"]

# SageMaker's name rule: letters and digits, hyphens only between them.
NAME_PATTERN = re.compile(r"[a-zA-Z0-9](?:-*[a-zA-Z0-9])*")
RUN_ID_PATTERN = re.compile(f"[0-9a-f]{{{RUN_ID_LENGTH}}}")


@dataclass(frozen=True)
class NameLimit:
    """How long a name field may be, and why: the tightest of the names it becomes."""

    max_length: int
    reason: str


def base_name_limit(uses: Iterable[Mapping[str, Any]]) -> NameLimit:
    """The limit of a name field from its schema annotation (x-sagemakerNames): for each
    resource it names, SageMaker's limit, minus RUN_SUFFIX_LENGTH when a run adds its suffix."""
    limits = []
    for use in uses:
        resource = str(use["resource"])
        limit = LIMITS[resource]
        noun = RESOURCE_NOUNS[resource]
        if use.get("runSuffix"):
            reason = (
                f"a run names its {noun} '<name>-<runId>', {RUN_SUFFIX_LENGTH} characters more, "
                f"and SageMaker allows {limit}"
            )
            limits.append(NameLimit(limit - RUN_SUFFIX_LENGTH, reason))
        else:
            limits.append(NameLimit(limit, f"SageMaker allows {limit} in a {noun} name"))
    if not limits:
        raise ValueError("a name field names at least one resource")
    return min(limits, key=lambda item: item.max_length)


def run_id(execution_arn: str) -> str:
    """The first RUN_ID_LENGTH hex digits of SHA-256 of the execution ARN."""
    if not execution_arn:
        raise ValueError("an execution ARN is needed to derive the run id")
    return hashlib.sha256(execution_arn.encode("utf-8")).hexdigest()[:RUN_ID_LENGTH]


def run_name(base: str, run_id_value: str) -> str:
    return f"{base}-{run_id_value}"


def name_problem(name: str, limit: int = NAME_LIMIT) -> str | None:
    """Why `name` is not a valid SageMaker name of at most `limit` characters, or None."""
    if not isinstance(name, str) or not name:
        return "must not be empty"
    if not NAME_PATTERN.fullmatch(name):
        return (
            f"{name!r} is not a valid SageMaker name: use letters and digits, optionally joined "
            "by hyphens, starting and ending with a letter or digit"
        )
    if len(name) > limit:
        return f"{name!r} is {len(name)} characters long; SageMaker allows at most {limit}"
    return None


def max_base_length(limit: int) -> int:
    """The longest base name that still fits `limit` once the run suffix is added."""
    return limit - RUN_SUFFIX_LENGTH


@dataclass(frozen=True)
class RunNames:
    tuning_job: str
    model: str
    endpoint_config: str
    endpoint: str

    def to_dict(self) -> dict[str, str]:
        return {
            "tuningJob": self.tuning_job,
            "model": self.model,
            "endpointConfig": self.endpoint_config,
            "endpoint": self.endpoint,
        }


def run_names(
    *, tuning_job_base: str, model_base: str, endpoint_name: str, run_id_value: str
) -> RunNames:
    """The names of one run; ValueError naming the first that breaks SageMaker's rules."""
    names = RunNames(
        tuning_job=run_name(tuning_job_base, run_id_value),
        model=run_name(model_base, run_id_value),
        endpoint_config=run_name(endpoint_name, run_id_value),
        endpoint=endpoint_name,
    )
    checks = (
        ("tuning job", names.tuning_job, LIMITS["tuningJob"]),
        ("model", names.model, LIMITS["model"]),
        ("endpoint config", names.endpoint_config, LIMITS["endpointConfig"]),
        ("endpoint", names.endpoint, LIMITS["endpoint"]),
    )
    for what, name, limit in checks:
        problem = name_problem(name, limit)
        if problem:
            raise ValueError(f"{what} name: {problem}")
    return names
