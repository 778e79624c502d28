"""Reading Lambda events, and the shape of an "invalid input" result.

A field the state machine must always pass and does not is a wiring fault (InvalidEventError,
which fails the task); a problem in what a user wrote is returned as data by `invalid_result`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from tuning_workflow.exceptions import InvalidEventError, summarize
from tuning_workflow.safe_text import safe_text
from tuning_workflow.validation import Problem

# The summary of an invalid input becomes a Fail state's cause and a plain-text SNS message.
MAX_SUMMARY_LENGTH = 4_000
MAX_DOCUMENT_LABEL_LENGTH = 200
# Errors listed in an invalid result (the summary counts them all); keeps the Lambda's result
# far below Step Functions' 256 KiB payload limit.
MAX_LISTED_ERRORS = 50


def require(event: Any, key: str, where: str = "event") -> Any:
    """event[key], or InvalidEventError naming the missing field."""
    if not isinstance(event, Mapping):
        raise InvalidEventError(f"{where} must be a JSON object, got {type(event).__name__}")
    if key not in event or event[key] is None:
        raise InvalidEventError(f"{where} lacks the field {key!r}")
    return event[key]


def require_present(event: Any, key: str, where: str = "event") -> Any:
    """event[key], which may be null (a document a user wrote); InvalidEventError when absent."""
    if not isinstance(event, Mapping):
        raise InvalidEventError(f"{where} must be a JSON object, got {type(event).__name__}")
    if key not in event:
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
    """{"valid": false, "errors": [...], "message": "..."} for (document, problem) pairs.

    The message is one printable line of at most MAX_SUMMARY_LENGTH characters; the errors list
    the first MAX_LISTED_ERRORS problems, and the message counts them all.
    """
    pairs = [
        (safe_text(document, MAX_DOCUMENT_LABEL_LENGTH), problem) for document, problem in problems
    ]
    errors = [
        {"document": document, "path": problem.path, "message": problem.message}
        for document, problem in pairs[:MAX_LISTED_ERRORS]
    ]
    labelled = [f"{document} {problem}" for document, problem in pairs]
    message = safe_text(summarize(labelled), MAX_SUMMARY_LENGTH)
    return {"valid": False, "errors": errors, "message": message, **extra}
