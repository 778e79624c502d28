"""Property-based: whatever a document holds, validation and the tuner's first step return data.

Each schema's documents are fuzzed three ways: mutations of the example files (values replaced by
something hostile, keys added or removed), arbitrary JSON, and one example value replaced (numbers
by numbers at and past every limit, where the schemas and the parsers must agree). For each: no
exception; every problem has a path starting with `$`; every path and message is one line without
control, format or separator characters, and bounded; a valid result is strict JSON.
"""

from __future__ import annotations

import copy
import json
import unicodedata
from typing import Any, Callable

import pytest
from botocore.exceptions import ClientError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tuning_workflow.events import MAX_SUMMARY_LENGTH
from tuning_workflow.prepare import prepare_tuning_run
from tuning_workflow.validation import (
    MAX_MESSAGE_LENGTH,
    MAX_PATH_LENGTH,
    Problem,
    validate_deployer_input,
    validate_hyperparameters,
    validate_manifest,
    validate_ml_parameters,
    validate_run_documents,
)

from .conftest import EXAMPLES, load_event, read_json

BUCKET = "sagemaker-tuner-demo"
MANIFEST_KEY = "manifests/run.json"
UNSAFE = {"Cc", "Cf", "Zl", "Zp", "Cs"}
FUZZ = settings(
    max_examples=200,
    deadline=None,
    database=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

EXAMPLE_DOCUMENTS = {
    "ml-parameters": [
        read_json(EXAMPLES / "params" / "ml-parameters.json"),
        read_json(EXAMPLES / "seed" / "template-ml-parameters.json"),
    ],
    "hyperparameters": [
        read_json(EXAMPLES / "params" / "hyperparameters.json"),
        read_json(EXAMPLES / "seed" / "hyperparameters.json"),
    ],
    "manifest": [
        read_json(EXAMPLES / "params" / "manifest.json"),
        read_json(EXAMPLES / "seed" / "manifest.json"),
    ],
    "deployer-input": [{"modelName": "survival-model-0123456789ab", "runId": "0123456789ab"}],
}
EVENT_FIELDS = {"ml-parameters": "mlParameters", "hyperparameters": "hyperparameters"}


# ---------------------------------------------------------------------------------------------
# Strategies


def _nest(depth: int, leaf: Any, as_object: bool) -> Any:
    for _ in range(depth):
        leaf = {"k": leaf} if as_object else [leaf]
    return leaf


hostile_text = st.text(
    alphabet=st.sampled_from(
        ["a", "'", "\\", "[", "\n", "\r", "\t", "\x00", "\x1b", "\x85", "\u2028", "\u2029",
         "\u202e", "\u200b", "\ufeff", "é", " ", "$"]
    ),
    max_size=40,
)  # fmt: skip
# Numbers at and past every limit, as numbers and as strings.
edge_numbers = st.sampled_from(
    [0, -1, 10**18 - 1, 10**18, 10**19, 10**309, 1e308, 1e300, -1e308, 0.5, float("inf"),
     float("nan"), "999999999999999999", "9" * 19, "9" * 20, "1e999", "-1e999", "0.5e400",
     "1e-999", "+" + "9" * 90 + "e300", "0" * 18 + "1", "0" * 5_000 + "1", "-" + "9" * 18]
)  # fmt: skip
hostile_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    edge_numbers,
    # Past Python's int-string limit: built, not listed, since such an int has no repr.
    st.integers(min_value=4_301, max_value=6_000).map(lambda digits: 10**digits),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from(["NaN", "Infinity", "0x10", " 1 ", "+1", "9" * 5_000]),
    st.sampled_from(["s3://other-bucket/x", "https://other.s3.amazonaws.com/x", "s3://"]),
    st.integers(min_value=1, max_value=4).map(lambda n: "x" * (10**n + 1)),
    hostile_text,
    st.text(max_size=30),
)
deep_values = st.builds(
    _nest, st.sampled_from([31, 33, 200, 1_000, 3_000]), hostile_scalars, st.booleans()
)
json_values = st.recursive(
    hostile_scalars,
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(st.one_of(hostile_text, st.text(max_size=10)), children, max_size=4),
    max_leaves=12,
)
hostile_values = st.one_of(hostile_scalars, deep_values, json_values)


def _paths(document: Any) -> list[tuple[Any, ...]]:
    found: list[tuple[Any, ...]] = [()]
    stack: list[tuple[tuple[Any, ...], Any]] = [((), document)]
    while stack:
        path, node = stack.pop()
        if isinstance(node, dict):
            children = list(node.items())
        elif isinstance(node, list):
            children = list(enumerate(node))
        else:
            children = []
        for key, child in children:
            found.append((*path, key))
            stack.append(((*path, key), child))
    return found


def _at(document: Any, path: tuple[Any, ...]) -> Any:
    for part in path:
        document = document[part]
    return document


def _is_number(value: Any) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, (int, float)):
        return True
    try:
        float(value)
    except (TypeError, ValueError):
        return False
    return True


@st.composite
def mutated(draw: Callable[..., Any], schema: str) -> Any:
    """An example document with one to three hostile changes, or arbitrary JSON."""
    if draw(st.integers(min_value=0, max_value=9)) == 0:
        return draw(hostile_values)
    document = copy.deepcopy(draw(st.sampled_from(EXAMPLE_DOCUMENTS[schema])))
    for _ in range(draw(st.integers(min_value=1, max_value=3))):
        path = draw(st.sampled_from(_paths(document)))
        if not path:
            if isinstance(document, dict):
                document[draw(hostile_text)] = draw(hostile_values)
            continue
        parent = _at(document, path[:-1])
        action = draw(st.sampled_from(["replace", "delete", "add"]))
        if action == "delete" and isinstance(parent, dict):
            del parent[path[-1]]
        elif action == "add" and isinstance(parent, dict):
            parent[draw(hostile_text)] = draw(hostile_values)
        else:
            parent[path[-1]] = draw(hostile_values)
    return document


@st.composite
def one_value_changed(draw: Callable[..., Any], schema: str, numbers_only: bool) -> Any:
    """An example document with one scalar replaced: any by anything hostile, or a number by
    a number at or past a limit."""
    document = copy.deepcopy(draw(st.sampled_from(EXAMPLE_DOCUMENTS[schema])))
    leaves = [
        path
        for path in _paths(document)
        if path and not isinstance(_at(document, path), (dict, list))
    ]
    if numbers_only:
        leaves = [path for path in leaves if _is_number(_at(document, path))]
    path = draw(st.sampled_from(leaves))
    values = edge_numbers if numbers_only else st.one_of(edge_numbers, hostile_scalars)
    _at(document, path[:-1])[path[-1]] = draw(values)
    return document


# ---------------------------------------------------------------------------------------------
# What must hold


def assert_safe_line(text: Any, limit: int) -> None:
    assert isinstance(text, str)
    assert len(text) <= limit
    assert not any(unicodedata.category(character) in UNSAFE for character in text), text


def assert_problems_are_safe(problems: list[Problem]) -> None:
    for problem in problems:
        assert problem.path.startswith("$")
        assert_safe_line(problem.path, MAX_PATH_LENGTH)
        assert_safe_line(problem.message, MAX_MESSAGE_LENGTH)


def assert_result_is_safe(result: dict[str, Any]) -> None:
    if result["valid"]:
        json.dumps(result, allow_nan=False)  # Step Functions takes strict JSON only
        return
    assert result["errors"]
    for error in result["errors"]:
        assert error["path"].startswith("$")
        assert_safe_line(error["path"], MAX_PATH_LENGTH)
        assert_safe_line(error["message"], MAX_MESSAGE_LENGTH)
        assert_safe_line(error["document"], MAX_SUMMARY_LENGTH)
    assert_safe_line(result["message"], MAX_SUMMARY_LENGTH)


class Body:
    def __init__(self, data: bytes) -> None:
        self.data = data

    def read(self, amount: int = -1) -> bytes:
        return self.data if amount < 0 else self.data[:amount]


class FakeS3:
    """get_object over a dict of objects; a missing key is S3's NoSuchKey."""

    def __init__(self, objects: dict[tuple[str, str], bytes]) -> None:
        self.objects = objects

    def get_object(self, *, Bucket: str, Key: str) -> dict[str, Any]:
        if (Bucket, Key) not in self.objects:
            raise ClientError(
                {"Error": {"Code": "NoSuchKey"}, "ResponseMetadata": {"HTTPStatusCode": 404}},
                "GetObject",
            )
        return {"Body": Body(self.objects[(Bucket, Key)])}


def as_s3_object(document: Any) -> bytes:
    """The manifest as S3 would hold it (NaN and Infinity included, as Python writes them)."""
    try:
        return json.dumps(document).encode()
    except (ValueError, RecursionError):  # too deep, or an int too long to write
        return b'{"channels": [' + b"[" * 2_000 + b"]" * 2_000 + b"]}"


def tuner_event(**documents: Any) -> dict[str, Any]:
    event = load_event("prepare_tuning_run")
    event["deployment"]["dataBuckets"] = [BUCKET]
    event.update(documents)
    return event


def prepared(schema: str, document: Any) -> dict[str, Any]:
    event = tuner_event(**{EVENT_FIELDS.get(schema, "input"): document})
    return prepare_tuning_run(event, s3=FakeS3({}))


# ---------------------------------------------------------------------------------------------
# The validator


@FUZZ
@given(mutated("ml-parameters"))
def test_any_ml_parameters_document_gives_safe_problems(document: Any) -> None:
    assert_problems_are_safe(validate_ml_parameters(document))


@FUZZ
@given(mutated("hyperparameters"))
def test_any_hyperparameters_document_gives_safe_problems(document: Any) -> None:
    assert_problems_are_safe(validate_hyperparameters(document))


@FUZZ
@given(mutated("manifest"), st.sampled_from([None, [], [BUCKET]]))
def test_any_manifest_gives_safe_problems(document: Any, buckets: list[str] | None) -> None:
    assert_problems_are_safe(validate_manifest(document, data_buckets=buckets))


@FUZZ
@given(mutated("deployer-input"))
def test_any_deployer_input_gives_safe_problems(document: Any) -> None:
    assert_problems_are_safe(validate_deployer_input(document))


@FUZZ
@given(mutated("ml-parameters"), mutated("hyperparameters"), mutated("manifest"))
def test_any_run_documents_give_safe_problems(ml: Any, hp: Any, manifest: Any) -> None:
    for problems in validate_run_documents(ml, hp, manifest, [BUCKET]).values():
        assert_problems_are_safe(problems)


# ---------------------------------------------------------------------------------------------
# The tuner's first step


@FUZZ
@given(mutated("ml-parameters"))
def test_any_ml_parameters_in_the_event_give_a_safe_result(document: Any) -> None:
    assert_result_is_safe(prepared("ml-parameters", document))


@FUZZ
@given(mutated("hyperparameters"))
def test_any_hyperparameters_in_the_event_give_a_safe_result(document: Any) -> None:
    assert_result_is_safe(prepared("hyperparameters", document))


@pytest.mark.parametrize("schema", ["ml-parameters", "hyperparameters", "manifest"])
@FUZZ
@given(data=st.data())
def test_any_value_in_place_of_an_example_value_gives_a_safe_result(
    schema: str, data: st.DataObject
) -> None:
    # GIVEN valid documents but for one value WHEN the run is prepared
    document = data.draw(one_value_changed(schema, numbers_only=False))

    # THEN it is prepared or refused, never a crash
    assert_result_is_safe(prepared(schema, document))


@pytest.mark.parametrize("schema", ["ml-parameters", "hyperparameters"])
@FUZZ
@given(data=st.data())
def test_any_number_the_schema_accepts_the_parser_converts(
    schema: str, data: st.DataObject
) -> None:
    # GIVEN valid documents but for one number at or past a limit
    document = data.draw(one_value_changed(schema, numbers_only=True))

    # WHEN the run is prepared THEN it is refused, or prepared with strict JSON
    assert_result_is_safe(prepared(schema, document))


@FUZZ
@given(mutated("manifest"), st.sampled_from(["inline", "wrapped", "s3", "parent"]))
def test_any_manifest_in_any_input_form_gives_a_safe_result(document: Any, form: str) -> None:
    # GIVEN the manifest as the input, under "manifest", in S3, or in S3 via the parent
    objects: dict[tuple[str, str], bytes] = {}
    if form == "inline":
        execution_input: Any = document
    elif form == "wrapped":
        execution_input = {"manifest": document}
    else:
        objects[(BUCKET, MANIFEST_KEY)] = as_s3_object(document)
        execution_input = {"manifestS3Uri": f"s3://{BUCKET}/{MANIFEST_KEY}"}
        if form == "parent":
            execution_input = {"request": execution_input, "runExecutionArn": "arn:parent"}

    # WHEN the run is prepared THEN it is a safe result, valid or not
    result = prepare_tuning_run(tuner_event(input=execution_input), s3=FakeS3(objects))
    assert_result_is_safe(result)


@FUZZ
@given(
    st.one_of(
        hostile_values,
        st.fixed_dictionaries({"manifestS3Uri": hostile_values}),
        st.fixed_dictionaries({"request": hostile_values, "runExecutionArn": hostile_values}),
    ),
    st.binary(max_size=200) | st.sampled_from([b"[" * 5_000, b"1" * 5_000, b"NaN", b"null"]),
)
def test_any_execution_input_gives_a_safe_result(execution_input: Any, body: bytes) -> None:
    objects = {(BUCKET, MANIFEST_KEY): body}
    result = prepare_tuning_run(tuner_event(input=execution_input), s3=FakeS3(objects))
    assert_result_is_safe(result)
