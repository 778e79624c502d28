"""Run identity and the names of the resources a run creates.

A run's id is the first 12 hex digits of SHA-256 of the execution ARN that started it. Execution
ARNs are unique, so two runs started in the same second get different names, and a retried Lambda
computes the same names again.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

RUN_ID_LENGTH = 12
RUN_SUFFIX_LENGTH = RUN_ID_LENGTH + 1  # "-" + run id

TUNING_JOB_NAME_LIMIT = 32
NAME_LIMIT = 63
TRAINING_JOB_DEFINITION_NAME_LIMIT = 64

# SageMaker's name rule: letters and digits, hyphens only between them.
NAME_PATTERN = re.compile(r"[a-zA-Z0-9](?:-*[a-zA-Z0-9])*")
RUN_ID_PATTERN = re.compile(r"[0-9a-f]{12}")


def run_id(execution_arn: str) -> str:
    """The first 12 hex digits of SHA-256 of the execution ARN."""
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
        ("tuning job", names.tuning_job, TUNING_JOB_NAME_LIMIT),
        ("model", names.model, NAME_LIMIT),
        ("endpoint config", names.endpoint_config, NAME_LIMIT),
        ("endpoint", names.endpoint, NAME_LIMIT),
    )
    for what, name, limit in checks:
        problem = name_problem(name, limit)
        if problem:
            raise ValueError(f"{what} name: {problem}")
    return names
