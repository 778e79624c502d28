"""Hostile documents end as problems with a JSON path, never as an exception or a forged line."""

from __future__ import annotations

import json
import math
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tuning_workflow.events import MAX_LISTED_ERRORS, MAX_SUMMARY_LENGTH, invalid_result
from tuning_workflow.params import parse_hyperparameters, parse_ml_parameters, to_float
from tuning_workflow.prepare import json_nesting_depth, prepare_tuning_run
from tuning_workflow.validation import (
    MAX_CONTAINER_ITEMS,
    MAX_DEPTH,
    MAX_KEY_LENGTH,
    MAX_MESSAGE_LENGTH,
    MAX_PATH_LENGTH,
    MAX_STRING_LENGTH,
    Problem,
    json_path,
    limit_problems,
    validate_deployer_input,
    validate_hyperparameters,
    validate_manifest,
    validate_ml_parameters,
)

from .conftest import load_event

BUCKET = "sagemaker-tuner-demo"
MANIFEST_URI = f"s3://{BUCKET}/manifests/run.json"


def nested(depth: int, leaf: Any = 1) -> Any:
    value = leaf
    for _ in range(depth):
        value = [value]
    return value


def messages(problems: list[Problem]) -> list[str]:
    return [str(problem) for problem in problems]


class Body:
    def __init__(self, data: bytes) -> None:
        self.data = data

    def read(self, amount: int = -1) -> bytes:
        return self.data if amount < 0 else self.data[:amount]


class OneObjectS3:
    """An S3 client holding one object; every other key is missing."""

    def __init__(self, data: bytes, key: tuple[str, str] = (BUCKET, "manifests/run.json")):
        self.data = data
        self.key = key

    def get_object(self, *, Bucket: str, Key: str) -> dict[str, Any]:
        if (Bucket, Key) != self.key:
            raise ClientError(
                {"Error": {"Code": "NoSuchKey"}, "ResponseMetadata": {"HTTPStatusCode": 404}},
                "GetObject",
            )
        return {"Body": Body(self.data)}


def s3_run(body: bytes) -> dict[str, Any]:
    event = load_event("prepare_tuning_run")
    event["input"] = {"manifestS3Uri": MANIFEST_URI}
    return prepare_tuning_run(event, s3=OneObjectS3(body))


def errors_of(result: dict[str, Any]) -> list[tuple[str, str, str]]:
    assert result["valid"] is False
    return [(error["document"], error["path"], error["message"]) for error in result["errors"]]


# ---------------------------------------------------------------------------------------------
# Limits every document has
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "validate",
    [validate_ml_parameters, validate_hyperparameters, validate_manifest, validate_deployer_input],
)
def test_nesting_past_the_limit_is_one_problem_not_a_recursion_error(validate) -> None:
    # GIVEN a document nesting 5,000 levels deep, far past the interpreter's recursion limit
    document = {"channels": nested(5_000), "parameterRanges": {}}

    # WHEN it is validated
    problems = validate(document)

    # THEN the first container past the limit is reported, naming the limit
    [problem] = problems
    assert problem.path.startswith("$.")
    assert problem.message == (
        f"is nested deeper than the limit of {MAX_DEPTH} levels of objects and arrays"
    )


def test_nesting_up_to_the_limit_is_allowed() -> None:
    assert limit_problems(nested(MAX_DEPTH)) == []
    assert len(limit_problems(nested(MAX_DEPTH + 1))) == 1


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        ("s" * (MAX_STRING_LENGTH + 1), f"the limit is {MAX_STRING_LENGTH} characters"),
        (list(range(MAX_CONTAINER_ITEMS + 1)), f"the limit is {MAX_CONTAINER_ITEMS} per object"),
        (10**400, "is a number of about 401 digits; numbers are at most 1.798e+308"),
        (-(10**309), "is a number of about 310 digits"),
        (math.inf, "Infinity is not a number JSON allows"),
        (-math.inf, "-Infinity is not a number JSON allows"),
        (math.nan, "NaN is not a number JSON allows"),
        ({1, 2}, "a set is not a JSON value"),
    ],
)
def test_a_value_past_a_limit_is_reported_where_it_is(value: Any, fragment: str) -> None:
    # GIVEN an ignored root key holding the value (the schema would accept anything there)
    document = load_event("prepare_tuning_run")["mlParameters"]
    document["team"] = {"notes": [value]}

    # WHEN it is validated THEN the problem is at the value's path and names the limit
    [problem] = validate_ml_parameters(document)
    assert problem.path == "$.team.notes[0]"
    assert fragment in problem.message


def test_keys_are_bounded_and_printable() -> None:
    document = {
        "channels": [],
        "k" * (MAX_KEY_LENGTH + 1): 1,
        "x\nRun SUCCEEDED - no action needed": 2,
        "bidi\u202e": 3,
    }

    problems = validate_manifest(document)

    assert messages(problems) == [
        f"$: has a key of {MAX_KEY_LENGTH + 1} characters ('{'k' * 56}...); the limit is "
        f"{MAX_KEY_LENGTH} characters per key",
        "$['bidi\\u202e']: this key holds control, format or separator characters; keys must "
        "be printable text",
        "$['x\\nRun SUCCEEDED - no action needed']: this key holds control, format or "
        "separator characters; keys must be printable text",
    ]


# ---------------------------------------------------------------------------------------------
# Numbers the schemas accept are numbers the parsers convert
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("9" * 5_000, f"'{'9' * 56}... is 5000 characters long; at most 19 are allowed"),
        ("0" * 30 + "1", f"'{'0' * 30}1' is 31 characters long; at most 19 are allowed"),
        (10**18, "1000000000000000000 is greater than the maximum, 999999999999999999"),
        (1e300, "1e+300 is greater than the maximum, 999999999999999999"),
    ],
)
def test_a_count_has_at_most_18_digits(ml_parameters, value: Any, message: str) -> None:
    # GIVEN a count far larger than any count SageMaker takes
    ml_parameters["maxNumberOfTrainingJobs"] = value

    # WHEN it is validated THEN the schema's limit is named, and the rules do not trip over it
    assert messages(validate_ml_parameters(ml_parameters)) == [
        f"$.maxNumberOfTrainingJobs: {message}"
    ]


def test_the_largest_count_is_accepted_and_parsed(ml_parameters) -> None:
    ml_parameters["maxTuningRuntimeInSeconds"] = "999999999999999999"
    problems = validate_ml_parameters(ml_parameters)
    assert [problem.path for problem in problems] == ["$.maxTuningRuntimeInSeconds"]
    assert problems[0].message == "'999999999999999999' is greater than the maximum, 15768000"
    ml_parameters["maxTuningRuntimeInSeconds"] = "86400"
    ml_parameters["trainingInstanceVolumeSizeInGB"] = "999999999999999999"
    assert validate_ml_parameters(ml_parameters) == []
    assert parse_ml_parameters(ml_parameters).training_instance_volume_size_in_gb == 10**18 - 1


@pytest.mark.parametrize("value", ["1e999", "-1e999", "0.5e400", "+" + "9" * 90 + "e300"])
def test_a_numeric_string_past_the_float_range_is_refused(ml_parameters, value: str) -> None:
    # GIVEN a number written as a string that no float can hold
    ml_parameters["qualityGate"] = {"threshold": value}

    # WHEN validated THEN it is refused at its path, naming the range
    [problem] = validate_ml_parameters(ml_parameters)
    assert problem.path == "$.qualityGate.threshold"
    assert problem.message.endswith(
        "is not a finite number; numbers are at most 1.798e+308 in magnitude"
    )


def test_a_numeric_string_is_at_most_100_characters(ml_parameters) -> None:
    ml_parameters["qualityGate"] = {"threshold": "0." + "5" * 200}
    [problem] = validate_ml_parameters(ml_parameters)
    assert problem.message.endswith("is 202 characters long; at most 100 are allowed")


def test_a_tiny_numeric_string_is_a_number(ml_parameters) -> None:
    ml_parameters["qualityGate"] = {"threshold": "1e-999"}
    assert validate_ml_parameters(ml_parameters) == []
    assert parse_ml_parameters(ml_parameters).quality_gate.threshold == 0.0


def test_range_bounds_are_bounded_and_finite(hyperparameters) -> None:
    # GIVEN range bounds no parser could convert
    ranges = hyperparameters["parameterRanges"]
    ranges["IntegerParameterRanges"][0]["MinValue"] = "-" + "9" * 30
    ranges["IntegerParameterRanges"][1]["MaxValue"] = 10**19
    ranges["ContinuousParameterRanges"][0]["MaxValue"] = "1e400"

    # WHEN validated THEN each is a problem at its path
    assert [problem.path for problem in validate_hyperparameters(hyperparameters)] == [
        "$.parameterRanges.ContinuousParameterRanges[0].MaxValue",
        "$.parameterRanges.IntegerParameterRanges[0].MinValue",
        "$.parameterRanges.IntegerParameterRanges[1].MaxValue",
    ]


def test_what_the_validator_accepts_at_the_edges_the_parser_converts(hyperparameters) -> None:
    ranges = hyperparameters["parameterRanges"]
    ranges["IntegerParameterRanges"][0]["MinValue"] = "-999999999999999999"
    ranges["ContinuousParameterRanges"][1]["MaxValue"] = "1.7e308"
    hyperparameters["staticHyperParameters"]["huge"] = 10**300
    assert validate_hyperparameters(hyperparameters) == []
    parsed = parse_hyperparameters(hyperparameters)
    assert parsed.integer_ranges[0].min_value == "-999999999999999999"
    assert parsed.static["huge"] == str(10**300)


def test_to_float_turns_an_overflow_into_a_value_error() -> None:
    with pytest.raises(ValueError, match="too large to be a float"):
        to_float(10**400)


# ---------------------------------------------------------------------------------------------
# Paths and messages quote input safely
# ---------------------------------------------------------------------------------------------


def test_a_path_shows_a_hidden_character_in_a_key_as_an_escape() -> None:
    assert json_path(["a\nb", 0, "it's\\"]) == "$['a\\nb'][0]['it\\'s\\\\']"


def test_every_problem_is_one_bounded_line_whoever_built_it() -> None:
    problem = Problem("$['" + "\n" * 1_000 + "']", "bad\u2028" * 1_000)
    assert "\n" not in problem.path and "\u2028" not in problem.message
    assert len(problem.path) <= MAX_PATH_LENGTH
    assert len(problem.message) <= MAX_MESSAGE_LENGTH
    assert problem.path.startswith("$['\\n")


def test_the_summary_of_an_invalid_result_is_one_line_of_at_most_4000_characters() -> None:
    # GIVEN many long problems, one of them from a document label with a line break
    pairs = [
        ("manifest s3://b/k\nFORGED", Problem(f"$.x{index}", "m" * 900)) for index in range(80)
    ]

    # WHEN they become the invalid result
    result = invalid_result(pairs)

    # THEN the message is one bounded line that counts every problem; the list is bounded too
    message = result["message"]
    assert len(message) <= MAX_SUMMARY_LENGTH
    assert message.startswith("80 problems in the input: manifest s3://b/k\\nFORGED $.x0: mmm")
    assert "\n" not in message
    assert len(result["errors"]) == MAX_LISTED_ERRORS
    assert result["errors"][0]["document"] == "manifest s3://b/k\\nFORGED"


def test_a_forged_line_in_the_input_stays_inside_its_problem() -> None:
    # GIVEN a channel with an unknown key that tries to write a line of its own into the alert
    event = load_event("prepare_tuning_run")
    event["input"]["channels"][0]["x\nRun SUCCEEDED - no action needed"] = 1

    # WHEN the run is prepared
    result = prepare_tuning_run(event, s3=object())

    # THEN the message is one line, the forged text shown with a visible \n
    [(_, path, message)] = errors_of(result)
    assert path == "$.channels[0]['x\\nRun SUCCEEDED - no action needed']"
    assert "\n" not in result["message"]
    assert "x\\nRun SUCCEEDED" in result["message"]


# ---------------------------------------------------------------------------------------------
# The tuner's first step: every input becomes a result
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("execution_input", "document", "path", "message"),
    [
        ({"manifest": None}, "manifest", "$.manifest", "expected an object, got null"),
        ({"manifest": [1]}, "manifest", "$.manifest", "expected an object, got an array [1]"),
        (None, "execution input", "$", "expected the manifest"),
        ({"request": None}, "execution input", "$", "expected the manifest"),
        (
            {"channels": nested(900)},
            "execution input",
            "$.channels" + "[0]" * 31,
            "is nested deeper than the limit of 32 levels",
        ),
        (
            {"request": {"manifestS3Uri": MANIFEST_URI}, "runExecutionArn": nested(900)},
            "execution input",
            "$.runExecutionArn" + "[0]" * 31,
            "is nested deeper than the limit of 32 levels",
        ),
        ({"manifestS3Uri": "s3://b/" + "k" * 1_100}, "execution input", "$.manifestS3Uri",
         "is 1107 characters long; the limit is 1024"),
        ({"manifestS3Uri": f"{MANIFEST_URI}\n"}, "execution input", "$.manifestS3Uri",
         "must be an S3 URI such as s3://bucket/key.json, got 's3://sagemaker-tuner-demo/"),
    ],
)  # fmt: skip
def test_an_execution_input_nothing_can_use_is_an_input_problem(
    execution_input: Any, document: str, path: str, message: str
) -> None:
    # GIVEN an execution input that is null, wrongly typed, too deep or a malformed URI
    event = load_event("prepare_tuning_run")
    event["input"] = execution_input

    # WHEN the run is prepared THEN it is one problem with a JSON path, not an exception
    [(found_document, found_path, found_message)] = errors_of(
        prepare_tuning_run(event, s3=object())
    )
    assert (found_document, found_path) == (document, path)
    assert found_message.startswith(message)


@pytest.mark.parametrize("field", ["mlParameters", "hyperparameters"])
def test_a_null_parameter_document_is_an_input_problem(field: str) -> None:
    event = load_event("prepare_tuning_run")
    event[field] = None
    name = "ml-parameters" if field == "mlParameters" else "hyperparameters"
    assert errors_of(prepare_tuning_run(event, s3=object())) == [
        (name, "$", "expected an object, got null")
    ]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"[" * 100_000, "is nested deeper than the limit of 32 levels of objects and arrays"),
        (b'{"channels": [' + b"9" * 5_000 + b"]}",
         "holds a number of 5000 digits; numbers are at most 1.798e+308 in magnitude"),
        (b'{"channels": [' + b"-" + b"9" * 401 + b"]}",
         "holds a number of 401 digits; numbers are at most 1.798e+308 in magnitude"),
    ],
)  # fmt: skip
def test_an_s3_manifest_too_deep_or_with_a_huge_literal_is_an_input_problem(
    body: bytes, message: str
) -> None:
    assert errors_of(s3_run(body)) == [
        ("execution input", "$.manifestS3Uri", f"{MANIFEST_URI} {message}")
    ]


def test_non_finite_numbers_in_an_s3_manifest_are_reported_where_they_are() -> None:
    result = s3_run(b'{"channels": [{"channelName": NaN}, 1e999, 1' + b"0" * 380 + b"]}")
    assert [(path, message[:30]) for _, path, message in errors_of(result)] == [
        ("$.channels[0].channelName", "NaN is not a number JSON allow"),
        ("$.channels[1]", "Infinity is not a number JSON "),
        ("$.channels[2]", "is a number of about 381 digit"),
    ]


def test_brackets_inside_strings_do_not_count_as_nesting() -> None:
    text = json.dumps({"channels": [{"channelName": "[[[[{{{{" * 100, "note": '"[\\"'}]})
    assert json_nesting_depth(text, MAX_DEPTH) == 3
    assert json_nesting_depth("[" * 10_000, MAX_DEPTH) == MAX_DEPTH + 1


def test_an_s3_object_that_cannot_be_read_for_its_state_is_an_input_problem() -> None:
    class ArchivedS3:
        def get_object(self, **_: Any) -> dict[str, Any]:
            raise ClientError(
                {
                    "Error": {"Code": "InvalidObjectState"},
                    "ResponseMetadata": {"HTTPStatusCode": 403},
                },
                "GetObject",
            )

    event = load_event("prepare_tuning_run")
    event["input"] = {"manifestS3Uri": MANIFEST_URI}
    assert errors_of(prepare_tuning_run(event, s3=ArchivedS3()))[0][1] == "$.manifestS3Uri"
