"""Reading the JSON input documents and checking them with the Lambda's own validation."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any, Callable

from smtune.errors import CliError

KINDS = ("ml-parameters", "hyperparameters", "manifest")


def read_text(path: str) -> str:
    """The file's text, or a CliError that names the file and why it cannot be read."""
    file = Path(path)
    try:
        return file.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise CliError(f"{path}: file not found") from exc
    except IsADirectoryError as exc:
        raise CliError(f"{path}: is a directory, not a file") from exc
    except PermissionError as exc:
        raise CliError(f"{path}: permission denied") from exc
    except UnicodeDecodeError as exc:
        raise CliError(f"{path}: not UTF-8 text") from exc
    except OSError as exc:
        raise CliError(f"{path}: cannot read the file: {exc.strerror or exc}") from exc


def read_json(path: str) -> Any:
    """The parsed file, or a CliError that names the file and what is wrong with it."""
    text = read_text(path)
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise CliError(f"{path}: {describe_json_error(exc, text)}") from exc


# json's messages, some of which end in "at" and leave the position to a suffix, as sentences.
_JSON_ERRORS = {
    "Unterminated string starting at": "a string starts here and is never closed",
    "Expecting value": "a value was expected here",
    "Expecting ',' delimiter": "a ',' was expected here",
    "Expecting ':' delimiter": "a ':' was expected here",
    "Expecting property name enclosed in double quotes": (
        "a property name in double quotes was expected here"
    ),
    "Invalid control character at": (
        "a control character (a line break or a tab, say) is not allowed inside a string"
    ),
    "Invalid \\escape": "this backslash escape is not valid JSON",
    "Invalid \\uXXXX escape": "this \\u escape needs four hexadecimal digits",
    "Extra data": "more text follows the end of the JSON document",
}


def describe_json_error(error: json.JSONDecodeError, text: str) -> str:
    """One whole sentence: where the JSON breaks (line and column) and what is wrong there."""
    message = error.msg.removesuffix(" at")
    what = (
        _JSON_ERRORS.get(error.msg)
        or _JSON_ERRORS.get(message)
        or message[:1].lower() + message[1:]
    )
    sentence = f"invalid JSON at line {error.lineno} column {error.colno}: {what}"
    if error.msg.startswith("Unterminated string"):
        sentence += " (the file ends inside it: is it cut short?)"
    elif not text[error.pos :].strip() and error.msg != "Extra data":
        sentence += " (the file ends there: is it cut short?)"
    return sentence + "."


def write_text(path: str, text: str, overwrite: bool = True) -> None:
    """Write `text` to `path`, or fail with a CliError naming the file."""
    file = Path(path)
    if not overwrite and file.exists():
        raise CliError(f"{path} already exists; use --force to overwrite it")
    try:
        file.write_text(text, encoding="utf-8")
    except FileNotFoundError as exc:
        raise CliError(f"{path}: cannot write: the directory does not exist") from exc
    except IsADirectoryError as exc:
        raise CliError(f"{path}: cannot write: it is a directory") from exc
    except OSError as exc:
        raise CliError(f"{path}: cannot write: {exc.strerror or exc}") from exc


def _validator(kind: str) -> Callable[[Any], list[Any]]:
    from tuning_workflow import validation  # the Lambda's schemas are the one definition

    return {
        "ml-parameters": validation.validate_ml_parameters,
        "hyperparameters": validation.validate_hyperparameters,
        "manifest": validation.validate_manifest,
    }[kind]


def problems_in(kind: str, document: Any) -> list[tuple[str, str]]:
    """Every problem of `document` as (JSON path, message), in the validator's order."""
    return [(problem.path, problem.message) for problem in _validator(kind)(document)]


def warnings_in(kind: str, document: Any) -> list[tuple[str, str]]:
    """What `document` asks for that the workflow accepts but does not do, as (JSON path,
    message): the same warnings the PrepareTuningRun Lambda logs and returns."""
    if kind != "ml-parameters":
        return []
    from tuning_workflow.validation import ml_parameter_warnings

    return [(warning.path, warning.message) for warning in ml_parameter_warnings(document)]


# A placeholder of the seed's template: `<region>`, `<account-id>`, `<bucket-name>`, ...
_PLACEHOLDER = re.compile(r"<[A-Za-z][A-Za-z0-9_.-]{0,62}>")


def placeholder_warnings(document: Any) -> list[tuple[str, str]]:
    """Every string value that still holds a template placeholder (`<region>`), as (JSON path,
    message), in document order. The schemas accept them (the seed's own template validates),
    so they are warnings: the run would fail later, at SageMaker or S3."""
    from tuning_workflow.validation import json_path

    found: list[tuple[str, str]] = []

    def visit(node: Any, parts: tuple[str | int, ...]) -> None:
        if isinstance(node, str):
            names = list(dict.fromkeys(_PLACEHOLDER.findall(node)))
            if names:
                listed = ", ".join(names)
                noun = "placeholder" if len(names) == 1 else "placeholders"
                found.append(
                    (
                        json_path(parts),
                        f"still holds the template {noun} {listed}: fill in the value",
                    )
                )
        elif isinstance(node, dict):
            for key, value in node.items():
                visit(value, (*parts, str(key)))
        elif isinstance(node, list):
            for index, value in enumerate(node):
                visit(value, (*parts, index))

    visit(document, ())
    return found
