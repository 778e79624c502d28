"""SageMaker's name limits and the run suffix are written once, in the ml-parameters schema
(`x-sagemakerNames`); Python and Terraform derive every name-length limit from there. A limit
written as a literal anywhere else in the module's sources fails here."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tuning_workflow import naming
from tuning_workflow.validation import load_schema

REPO = Path(__file__).resolve().parents[2]
SCHEMA_DIR = REPO / "lambda_src" / "tuning_workflow" / "schemas"
ML_SCHEMA = json.loads((SCHEMA_DIR / "ml-parameters.schema.json").read_text())
NAMES = ML_SCHEMA["x-sagemakerNames"]
RUN_SUFFIX = 1 + NAMES["runIdLength"]

# Lines that hold one of the numbers as another limit. Each says whose limit it is.
OTHER_LIMITS = {
    r"S3 bucket name: 3-63": "S3's own bucket-name limit",
    r"IAM allows 64": "IAM's role-name limit, which function and state machine names leave room in",
    r"name_prefix must be 2-32": "the module's name_prefix, sized so every function name fits IAM",
    r"font-size=": "SVG font sizes of the report and the graph",
}
# A line about names: where a name limit would be written.
NAME_CONTEXT = re.compile(r"(?i)name|run[ _]?id|suffix|tuning ?job|endpoint|model|hex|0-9a-f")
NUMBER = re.compile(r"(?<![\w.])(\d+)(?![\w.])")
# Regex quantifiers that write a limit as "at most N-1 more": {0,18}; and exactly N hex digits.
UP_TO = re.compile(r"\{\d*,(\d+)\}")
EXACTLY = re.compile(r"\{(\d+)\}")


def name_fields(node: Any, path: str = "$") -> Iterator[tuple[str, dict[str, Any]]]:
    """Every schema node that says which SageMaker names it becomes."""
    if isinstance(node, dict):
        if isinstance(node.get(naming.NAMES_KEYWORD), list):
            yield path, node
        for key, value in node.items():
            yield from name_fields(value, f"{path}/{key}")
    elif isinstance(node, list):
        for index, item in enumerate(node):
            yield from name_fields(item, f"{path}/{index}")


def derived_limit(uses: list[dict[str, Any]]) -> int:
    resources = NAMES["resources"]
    return min(
        resources[use["resource"]]["maxLength"] - (RUN_SUFFIX if use["runSuffix"] else 0)
        for use in uses
    )


def limits() -> set[int]:
    """SageMaker's limits, every base-name limit derived from them, the run id and its suffix."""
    found = {resource["maxLength"] for resource in NAMES["resources"].values()}
    for schema_file in SCHEMA_DIR.glob("*.schema.json"):
        for _, node in name_fields(json.loads(schema_file.read_text())):
            found.add(derived_limit(node[naming.NAMES_KEYWORD]))
    return found | {NAMES["runIdLength"], RUN_SUFFIX}


def sources() -> list[Path]:
    skip = {".terraform", ".toolchain", ".venv", "tests"}
    terraform = [p for p in REPO.glob("**/*.tf") if not skip & set(p.relative_to(REPO).parts)]
    python = [
        p
        for directory in ("lambda_src", "smtune", "tools")
        for p in (REPO / directory).glob("**/*.py")
    ]
    return sorted(terraform + python)


def literal_limits(text: str, numbers: set[int]) -> list[tuple[int, str]]:
    """(line number, line) of each line about names that writes one of the numbers."""
    found = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not NAME_CONTEXT.search(line) or any(re.search(p, line) for p in OTHER_LIMITS):
            continue
        written = {int(m.group(1)) for m in NUMBER.finditer(line)}
        written |= {int(m.group(1)) + 1 for m in UP_TO.finditer(line)}
        written |= {int(m.group(1)) for m in EXACTLY.finditer(line)}
        if "?" * NAMES["runIdLength"] in line:
            written.add(NAMES["runIdLength"])
        if written & numbers:
            found.append((number, line.strip()))
    return found


def test_the_limits_are_the_documented_ones() -> None:
    # GIVEN the schema THEN the limits are SageMaker's: 32 for a tuning job, 63 for the others,
    # and a 13-character run suffix; the base names leave room for it.
    assert limits() == {12, 13, 19, 32, 50, 63, 64}


def test_no_name_limit_is_written_outside_the_schemas() -> None:
    numbers = limits()

    found = {
        str(path.relative_to(REPO)): hits
        for path in sources()
        if (hits := literal_limits(path.read_text(), numbers))
    }

    assert found == {}, "name limits belong in x-sagemakerNames of ml-parameters.schema.json"


@pytest.mark.parametrize(
    "line",
    [
        '    "$.tuningJobName" = { value = local.name, max = 19 }',
        '    condition = can(regex("^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,49}$", var.model.name))',
        "TUNING_JOB_NAME_LIMIT = 32",
        'RUN_ID_PATTERN = re.compile(r"[0-9a-f]{12}")',
        '  model_arn = "${local.stem}:model/${local.model_base}-????????????"',
        '        help="base name of the tuning jobs, at most 19 characters",',
    ],
)
def test_a_limit_written_as_a_literal_is_found(line: str) -> None:
    assert literal_limits(line, limits()) == [(1, line.strip())]


def test_another_limit_with_the_same_number_is_not_a_name_limit() -> None:
    assert literal_limits('    error_message = "S3 bucket name: 3-63 letters"', limits()) == []
    assert literal_limits("MAX_DEPTH = 32  # levels of nested objects and arrays", limits()) == []


def test_every_name_field_gets_its_derived_limit_in_the_validator() -> None:
    # GIVEN each schema field that becomes a SageMaker name
    checked = 0
    for schema_name in ("ml-parameters", "deployer-input"):
        raw = json.loads((SCHEMA_DIR / f"{schema_name}.schema.json").read_text())
        loaded = dict(name_fields(load_schema(schema_name)))
        for path, node in name_fields(raw):
            # THEN the schema file does not write its maxLength; the validator derives it
            assert "maxLength" not in node, f"{schema_name}{path}"
            assert loaded[path]["maxLength"] == derived_limit(node[naming.NAMES_KEYWORD])
            checked += 1
    assert checked >= 7
    assert naming.RUN_SUFFIX_LENGTH == RUN_SUFFIX
    tuning_job_limit = NAMES["resources"]["tuningJob"]["maxLength"]
    assert tuning_job_limit == naming.TUNING_JOB_NAME_LIMIT
