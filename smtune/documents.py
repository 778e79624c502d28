"""Reading the JSON input documents and checking them with the Lambda's own validation."""

from __future__ import annotations

import json
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
        raise CliError(
            f"{path}: invalid JSON at line {exc.lineno} column {exc.colno}: {exc.msg}"
        ) from exc


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
