"""Reading Lambda events, and the shape of an "invalid input" result.

A field the state machine must always pass and does not is a wiring fault (InvalidEventError,
which fails the task); a problem in what a user wrote is returned as data by `invalid_result`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from tuning_workflow.exceptions import InvalidEventError, summarize
from tuning_workflow.validation import Problem


def require(event: Any, key: str, where: str = "event") -> Any:
    """event[key], or InvalidEventError naming the missing field."""
    if not isinstance(event, Mapping):
        raise InvalidEventError(f"{where} must be a JSON object, got {type(event).__name__}")
    if key not in event or event[key] is None:
        raise InvalidEventError(f"{where} lacks the field {key!r}")
    return event[key]


def require_str(event: Any, key: str, where: str = "event") -> str:
    value = require(event, key, where)
    if not isinstance(value, str) or not value:
        raise InvalidEventError(f"{where}.{key} must be a non-empty string, got {value!r}")
    return value


def require_int(event: Any, key: str, where: str = "event") -> int:
    value = require(event, key, where)
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidEventError(f"{where}.{key} must be an integer, got {value!r}")
    return value


def optional_mapping(event: Mapping[str, Any], key: str, where: str = "event") -> dict[str, Any]:
    """event[key] as a dict; {} when absent or null."""
    value = event.get(key)
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise InvalidEventError(f"{where}.{key} must be a JSON object, got {type(value).__name__}")
    return dict(value)


def invalid_result(problems: Iterable[tuple[str, Problem]], **extra: Any) -> dict[str, Any]:
    """{"valid": false, "errors": [...], "message": "..."} for (document, problem) pairs."""
    pairs = list(problems)
    errors = [
        {"document": document, "path": problem.path, "message": problem.message}
        for document, problem in pairs
    ]
    labelled = [f"{document} {problem}" for document, problem in pairs]
    return {"valid": False, "errors": errors, "message": summarize(labelled), **extra}
