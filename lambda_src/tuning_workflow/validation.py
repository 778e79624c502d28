"""Validation of the input documents: the JSON Schemas, then the rules a schema cannot say well.

Every violation is reported, not just the first, as a Problem with a JSONPath-style path
(`$.model.hosting.instanceType`, `$.channels[1].s3DataSource.S3Uri`) and a message a person can
act on. Problems are sorted by path. The schemas in `schemas/` are the one definition of a valid
document; the Terraform module and the operator CLI read the same files.

Before any schema is applied, a document is checked against the limits below (nesting depth,
string and key lengths, container sizes, finite numbers) without recursion, so that hostile
input ends as problems rather than as a RecursionError or an OverflowError. Paths and messages
quote input only through `safe_text`: they are always one line, printable and bounded.
"""

from __future__ import annotations

import ast
import copy
import difflib
import json
import math
import re
import sys
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Union
from urllib.parse import urlsplit

from jsonschema import Draft202012Validator, FormatChecker, validators
from jsonschema.exceptions import ValidationError, best_match

from tuning_workflow import naming
from tuning_workflow.params import (
    DEFAULT_MANAGED_SPOT_TRAINING,
    DEFAULT_MAX_RUNTIME_SECONDS,
    DEFAULT_WAIT_INTERVAL_SECONDS,
    DEFAULT_WAIT_TIMEOUT_SECONDS,
    to_bool,
    to_float,
    to_int,
)
from tuning_workflow.safe_text import escape_unsafe, safe_text

SCHEMA_DIR = Path(__file__).resolve().parent / "schemas"
SCHEMA_NAMES = ("ml-parameters", "hyperparameters", "manifest", "deployer-input")

RANGE_KINDS = ("IntegerParameterRanges", "ContinuousParameterRanges", "CategoricalParameterRanges")
# The limits that the rules below apply are read from the schemas (`x-limits` of the
# hyperparameters schema, `x-maxChecks` of endpointWaitTimeoutSeconds); bounds of single fields
# are the schemas' own minimum/maximum, which apply to numbers written as strings too.
# A schema node marked with this keyword is an S3 location that must be on a deployment bucket.
DEPLOYMENT_BUCKET_KEYWORD = "x-deploymentBucket"

# Limits of every document, whatever its schema, checked before anything recursive reads it.
# Counts and range bounds have their own, tighter limits in the schemas (maximum, maxLength).
MAX_DEPTH = 32  # levels of nested objects and arrays
MAX_CONTAINER_ITEMS = 1_000  # entries of one object, items of one array
MAX_STRING_LENGTH = 10_000  # characters of one string value
MAX_KEY_LENGTH = 256  # characters of one object key
MAX_NUMBER = sys.float_info.max  # every number must convert to a finite float
# Problems quote input: their paths and messages are escaped and cut to these lengths.
MAX_PATH_LENGTH = 500
MAX_MESSAGE_LENGTH = 1_000
# The schemas' `"format": "finite-number"`: a number, or a numeric string, that is a finite float.
FINITE_NUMBER_FORMAT = "finite-number"

PathPart = Union[str, int]


@dataclass(frozen=True)
class Problem:
    """One violation: where (a JSONPath such as `$.model.name`) and what is wrong."""

    path: str
    message: str

    def __post_init__(self) -> None:
        # Whatever a path or message quotes, it stays one bounded line of printable text.
        object.__setattr__(self, "path", safe_text(self.path, MAX_PATH_LENGTH))
        object.__setattr__(self, "message", safe_text(self.message, MAX_MESSAGE_LENGTH))

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"

    def to_dict(self) -> dict[str, str]:
        return {"path": self.path, "message": self.message}


# ---------------------------------------------------------------------------------------------
# Public API
# ---------------------------------------------------------------------------------------------


def load_schema(name: str) -> dict[str, Any]:
    """A copy of the named schema (one of SCHEMA_NAMES)."""
    return copy.deepcopy(_schema(name))


def validate_ml_parameters(doc: Any, data_buckets: Collection[str] | None = None) -> list[Problem]:
    """Every problem of an ml-parameters document, sorted by path.

    With `data_buckets` (not empty), every S3 location of the document (the schema marks them
    x-deploymentBucket: the training output, the checkpoints) must be on one of those buckets.
    """

    def rules(document: Mapping[str, Any], fields: _Fields) -> Iterator[Problem]:
        yield from _ml_parameter_rules(document, fields)
        if data_buckets:
            yield from _location_bucket_rules(fields, data_buckets)

    return _validate("ml-parameters", doc, rules)


def validate_hyperparameters(doc: Any) -> list[Problem]:
    """Every problem of a hyperparameters document, sorted by path."""
    return _validate("hyperparameters", doc, _hyperparameter_rules)


def validate_manifest(doc: Any, data_buckets: Collection[str] | None = None) -> list[Problem]:
    """Every problem of a manifest, sorted by path.

    With `data_buckets` (not empty), every channel must read from one of those buckets.
    """

    def rules(document: Mapping[str, Any], fields: _Fields) -> Iterator[Problem]:
        yield from _manifest_rules(document, fields)
        if data_buckets:
            yield from _channel_bucket_rules(fields, data_buckets)

    return _validate("manifest", doc, rules)


def ml_parameter_warnings(doc: Any) -> list[Problem]:
    """What an ml-parameters document asks for that is accepted but not done, sorted by path.

    A warning does not make the document invalid: the run goes ahead without it. Today that is
    the seed's `model.hosting.acceleratorType`: Elastic Inference was retired in April 2024, so
    no accelerator is ever requested.
    """
    if limit_problems(doc) or not isinstance(doc, Mapping):
        return []
    hosting = _Fields(doc, set()).node("model", "hosting")
    if not isinstance(hosting, Mapping) or "acceleratorType" not in hosting:
        return []
    return [
        Problem(
            json_path(("model", "hosting", "acceleratorType")),
            f"{_show(hosting['acceleratorType'])} is ignored: Amazon Elastic Inference was "
            "retired in April 2024, so the endpoint gets no accelerator; choose an instance type "
            "with the inference hardware it needs (GPU or AWS Inferentia) instead",
        )
    ]


def validate_deployer_input(doc: Any) -> list[Problem]:
    """Every problem of the deployer's execution input, sorted by path."""
    return _validate("deployer-input", doc, _deployer_input_rules)


def _deployer_input_rules(doc: Mapping[str, Any], fields: _Fields) -> Iterator[Problem]:
    """A deployment names what it deploys: a new model, or an existing endpoint config."""
    has_model, has_config = "modelName" in doc, "endpointConfigName" in doc
    if has_model and has_config:
        yield Problem(
            "$.endpointConfigName",
            "give either 'modelName' (deploy a new model) or 'endpointConfigName' (deploy an "
            "existing endpoint config), not both",
        )
    elif not has_model and not has_config:
        yield Problem(
            "$",
            "'modelName' is required (the model to deploy), or 'endpointConfigName' to deploy an "
            "existing endpoint config of this deployment",
        )


def validate_run_documents(
    ml_parameters: Any,
    hyperparameters: Any,
    manifest: Any,
    data_buckets: Collection[str] | None = None,
) -> dict[str, list[Problem]]:
    """Each document alone, plus the rules that span documents, keyed by schema name.

    Cross-document problems are reported against the document that has to change: Grid's
    "categorical ranges only" against hyperparameters, Hyperband's missing maxResource against
    ml-parameters. `data_buckets` restricts the manifest's channels and the
    S3 locations of ml-parameters (see validate_manifest, validate_ml_parameters).
    """
    result = {
        "ml-parameters": validate_ml_parameters(ml_parameters, data_buckets),
        "hyperparameters": validate_hyperparameters(hyperparameters),
        "manifest": validate_manifest(manifest, data_buckets),
    }
    if isinstance(ml_parameters, Mapping) and isinstance(hyperparameters, Mapping):
        result["ml-parameters"] += _hyperband_resource_rule(ml_parameters, hyperparameters)
        result["hyperparameters"] += _grid_rules(ml_parameters, hyperparameters)
        result["ml-parameters"] += _grid_count_rule(ml_parameters, hyperparameters)
    return {name: sort_problems(problems) for name, problems in result.items()}


def json_path(parts: Iterable[PathPart]) -> str:
    """`$.model.hosting`, `$.channels[1]`, `$.staticHyperParameters['n-epochs']`."""
    text = "$"
    for part in parts:
        if isinstance(part, int):
            text += f"[{part}]"
        elif _IDENTIFIER.fullmatch(part):
            text += f".{part}"
        else:
            escaped = escape_unsafe(part.replace("\\", "\\\\").replace("'", "\\'"))
            text += f"['{escaped}']"
    return text


def limit_problems(document: Any) -> list[Problem]:
    """Where `document` breaks the limits every document has (MAX_DEPTH and the others), or
    has a key that is not printable text (a line break, a bidi override).

    Walks the document with an explicit stack, never recursively, and does not look inside a
    container that is nested too deeply or holds too many items. The problems are what makes a
    document unsafe to validate any further: `_validate` reports them alone.
    """
    problems: list[Problem] = []
    stack: list[tuple[tuple[PathPart, ...], Any, int]] = [((), document, 1)]
    while stack:
        parts, node, depth = stack.pop()
        message = _limit_broken(node, depth)
        if message is not None:
            problems.append(Problem(json_path(parts), message))
            continue
        if isinstance(node, Mapping):
            for key, value in node.items():
                if not isinstance(key, str):
                    problems.append(
                        Problem(json_path(parts), f"has the key {key!r}, which is not a string")
                    )
                elif len(key) > MAX_KEY_LENGTH:
                    problems.append(
                        Problem(
                            json_path(parts),
                            f"has a key of {len(key)} characters ({_show(key)}); the limit is "
                            f"{MAX_KEY_LENGTH} characters per key",
                        )
                    )
                elif escape_unsafe(key) != key:
                    problems.append(
                        Problem(
                            json_path((*parts, key)),
                            "this key holds control, format or separator characters; keys must "
                            "be printable text",
                        )
                    )
                else:
                    stack.append(((*parts, key), value, depth + 1))
        elif isinstance(node, list):
            stack.extend(((*parts, index), item, depth + 1) for index, item in enumerate(node))
    return problems


def s3_bucket_of(uri: str) -> str | None:
    """The bucket an S3 URI names, or None when it names none this code can tell.

    `s3://bucket/key`; `https://bucket.s3.region.amazonaws.com/key` and
    `https://bucket.s3.amazonaws.com/key` (virtual-hosted style);
    `https://s3.region.amazonaws.com/bucket/key` (path style).
    """
    if uri.startswith("s3://"):
        bucket = uri[len("s3://") :].split("/", 1)[0]
        return bucket or None
    if not uri.lower().startswith("https://"):
        return None
    try:
        parts = urlsplit(uri)
        host = parts.hostname
    except ValueError:
        return None
    match = _S3_HOST.fullmatch(host or "")
    if match is None:
        return None
    if match.group("bucket"):
        return match.group("bucket")
    bucket = parts.path.lstrip("/").split("/", 1)[0]
    return bucket or None


def foreign_bucket_message(uri: str, data_buckets: Collection[str]) -> str | None:
    """Why `uri` is outside `data_buckets`; None when it is inside, or when there is no limit."""
    if not data_buckets:
        return None
    allowed = ", ".join(sorted(data_buckets))
    bucket = s3_bucket_of(uri)
    if bucket is None:
        return (
            f"names no bucket this workflow can tell ({_show(uri)}); use s3://bucket/... with "
            f"one of this deployment's buckets: {allowed}"
        )
    if bucket in data_buckets:
        return None
    return f"bucket {bucket!r} is not one of this deployment's buckets: {allowed}"


def sort_problems(problems: Iterable[Problem]) -> list[Problem]:
    """Unique problems ordered by path (list indexes numerically), then message."""
    return sorted(set(problems), key=lambda problem: (_path_key(problem.path), problem.message))


# ---------------------------------------------------------------------------------------------
# Schema errors to problems
# ---------------------------------------------------------------------------------------------

_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
# Virtual-hosted style (bucket.s3.region.amazonaws.com) or path style (s3.region.amazonaws.com).
# Bucket names may hold dots; the greedy group makes the last "s3" label the service's.
_S3_HOST = re.compile(
    r"(?:(?P<bucket>[a-z0-9][a-z0-9.-]*)\.)?s3(?:[.-][a-z0-9-]+)*\.amazonaws\.com(?:\.cn)?"
)
_NUMBER_TEXT = re.compile(r"\s*[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?\s*")
_PATH_TOKEN = re.compile(r"\.([A-Za-z_][A-Za-z0-9_]*)|\[(\d+)\]|\['((?:[^'\\]|\\.)*)'\]")
_JSON_TYPES = {
    dict: "an object",
    list: "an array",
    str: "a string",
    bool: "a boolean",
    int: "a number",
    float: "a number",
    type(None): "null",
}
_EXPECTED = {
    "object": "an object",
    "array": "an array",
    "string": "a string",
    "boolean": "a boolean",
    "integer": "a whole number",
    "number": "a number",
    "null": "null",
}
# Keywords whose failure is best explained by the schema's own `errorMessage`.
_CUSTOM_MESSAGE_KEYWORDS = {"pattern", "anyOf", "oneOf"}


@lru_cache(maxsize=None)
def _schema(name: str) -> dict[str, Any]:
    if name not in SCHEMA_NAMES:
        raise ValueError(f"unknown schema {name!r}; expected one of {', '.join(SCHEMA_NAMES)}")
    schema: dict[str, Any] = json.loads(
        (SCHEMA_DIR / f"{name}.schema.json").read_text(encoding="utf-8")
    )
    _add_derived_keywords(schema)
    return schema


def _add_derived_keywords(node: Any) -> None:
    """Keywords the schema files derive rather than write: the maxLength of every name field
    from the resources it names (naming.base_name_limit), and the run id's pattern."""
    if isinstance(node, dict):
        uses = node.get(naming.NAMES_KEYWORD)
        if isinstance(uses, list):
            node["maxLength"] = naming.base_name_limit(uses).max_length
        if node.get(RUN_ID_KEYWORD) is True:
            node["pattern"] = f"^{naming.RUN_ID_PATTERN.pattern}$"
            node["errorMessage"] = (
                f"must be {naming.RUN_ID_LENGTH} lowercase hexadecimal digits, as the tuner "
                "returns it"
            )
        for value in node.values():
            _add_derived_keywords(value)
    elif isinstance(node, list):
        for item in node:
            _add_derived_keywords(item)


# A string schema marked with this keyword holds a run id.
RUN_ID_KEYWORD = "x-runId"


def schema_limit(name: str, *path: str) -> Any:
    """The value at `path` (keys) in the named schema: a limit the rules apply."""
    node: Any = _schema(name)
    for key in path:
        node = node[key]
    return node


_FORMATS = FormatChecker(formats=())


def _is_finite_number(instance: object) -> bool:
    """Numbers, and strings that hold one, convert to a finite float; other values pass here
    and are left to the schema's own type checks."""
    if isinstance(instance, bool) or not isinstance(instance, (int, float, str)):
        return True
    if isinstance(instance, str) and not _NUMBER_TEXT.fullmatch(instance):
        return True
    try:
        to_float(instance)
    except ValueError:
        return False
    return True


_FORMATS.checks(FINITE_NUMBER_FORMAT)(_is_finite_number)


@lru_cache(maxsize=None)
def _validator(name: str) -> Draft202012Validator:
    return _Validator(_schema(name), format_checker=_FORMATS)


def _as_number(instance: Any) -> Any:
    """A numeric string as the number it holds (an int when it is whole); anything else as it is."""
    if not isinstance(instance, str) or not _NUMBER_TEXT.fullmatch(instance):
        return instance
    try:
        return to_int(instance)
    except ValueError:
        pass
    try:
        return to_float(instance)
    except ValueError:
        return instance


def _numeric_strings_too(keyword: str) -> Callable[..., Iterator[ValidationError]]:
    """The keyword's check, applied to the number a numeric string holds as well: the schemas
    accept counts and bounds written as strings ("120"), and their minimum/maximum hold for those."""
    check = Draft202012Validator.VALIDATORS[keyword]

    def numeric(
        validator: Any, bound: Any, instance: Any, schema: Any
    ) -> Iterator[ValidationError]:
        if isinstance(instance, str) and len(instance) > schema.get("maxLength", len(instance)):
            return  # too long to be read as a number: maxLength says so
        yield from check(validator, bound, _as_number(instance), schema)

    return numeric


_Validator = validators.extend(
    Draft202012Validator,
    {keyword: _numeric_strings_too(keyword) for keyword in ("minimum", "maximum")},
)


if TYPE_CHECKING:  # collections.abc generics are subscriptable at run time from Python 3.9 only
    Rules = Callable[[Mapping[str, Any], "_Fields"], Iterator[Problem]]


def _validate(name: str, doc: Any, rules: Rules | None) -> list[Problem]:
    problems = limit_problems(doc)
    if problems:
        return sort_problems(problems)
    for error in _validator(name).iter_errors(doc):
        problems.extend(_describe(error))
    if rules is not None and isinstance(doc, Mapping):
        flagged = {problem.path for problem in problems}
        problems.extend(rules(doc, _Fields(doc, flagged)))
    return sort_problems(problems)


def _describe(error: ValidationError) -> list[Problem]:
    parts = list(error.absolute_path)
    path = json_path(parts)
    keyword = error.validator
    schema = error.schema if isinstance(error.schema, Mapping) else {}
    expected = error.validator_value
    instance = error.instance

    if keyword in _CUSTOM_MESSAGE_KEYWORDS and "errorMessage" in schema:
        return [Problem(path, f"{schema['errorMessage']}, got {_show(instance)}")]
    if keyword in ("anyOf", "oneOf"):
        if error.context:
            return _describe(best_match(error.context))
        return [Problem(path, error.message)]
    if keyword == "required":
        return [Problem(path, f"{_missing_property(error)!r} is required")]
    if keyword == "additionalProperties" and isinstance(instance, Mapping):
        known = sorted(schema.get("properties", {}))
        return [
            Problem(json_path([*parts, key]), _unknown_key_message(key, known))
            for key in instance
            if key not in known
        ]
    if keyword == "type":
        wanted: list[str] = expected if isinstance(expected, list) else [expected]
        expected_text = " or ".join(_EXPECTED.get(item, item) for item in wanted)
        found = "null" if instance is None else f"{_type_of(instance)} {_show(instance)}"
        return [Problem(path, f"expected {expected_text}, got {found}")]
    if keyword == "enum":
        choices = ", ".join(str(choice) for choice in expected)
        return [Problem(path, f"{_show(instance)} is not one of {choices}")]
    if keyword == "pattern":
        return [Problem(path, f"{_show(instance)} does not match the pattern {expected}")]
    if keyword == "maxLength":
        message = (
            f"{_show(instance)} is {len(instance)} characters long; at most {expected} are allowed"
        )
        uses = schema.get(naming.NAMES_KEYWORD)
        if isinstance(uses, list):
            message += f": {naming.base_name_limit(uses).reason}"
        return [Problem(path, message)]
    if keyword == "minLength":
        return [
            Problem(path, "must not be empty" if expected == 1 else f"needs {expected} characters")
        ]
    if keyword == "minItems":
        noun = "item" if expected == 1 else "items"
        return [Problem(path, f"needs at least {expected} {noun}, got {len(instance)}")]
    if keyword == "maxItems":
        return [Problem(path, f"has {len(instance)} items; at most {expected} are allowed")]
    if keyword == "uniqueItems":
        return [Problem(path, f"lists {_show(_first_duplicate(instance))} more than once")]
    if keyword == "minProperties":
        return [Problem(path, "must not be empty")]
    if keyword == "maxProperties":
        return [Problem(path, f"has {len(instance)} entries; at most {expected} are allowed")]
    if keyword == "minimum":
        return [Problem(path, f"{_show(instance)} is less than the minimum, {expected}")]
    if keyword == "maximum":
        return [Problem(path, f"{_show(instance)} is greater than the maximum, {expected}")]
    if keyword == "format" and expected == FINITE_NUMBER_FORMAT:
        return [
            Problem(
                path,
                f"{_show(instance)} is not a finite number; numbers are at most "
                f"{MAX_NUMBER:.4g} in magnitude",
            )
        ]
    return [Problem(path, error.message)]


def _limit_broken(node: Any, depth: int) -> str | None:
    """Which limit `node` breaks by itself (its children are looked at separately)."""
    if isinstance(node, (Mapping, list)):
        if depth > MAX_DEPTH:
            return f"is nested deeper than the limit of {MAX_DEPTH} levels of objects and arrays"
        if len(node) > MAX_CONTAINER_ITEMS:
            noun = "entries" if isinstance(node, Mapping) else "items"
            return f"has {len(node)} {noun}; the limit is {MAX_CONTAINER_ITEMS} per object or array"
        return None
    if isinstance(node, str):
        if len(node) > MAX_STRING_LENGTH:
            return (
                f"is a string of {len(node)} characters ({_show(node)}); the limit is "
                f"{MAX_STRING_LENGTH} characters"
            )
        return None
    if node is None or isinstance(node, bool):
        return None
    if isinstance(node, int):
        if abs(node) > MAX_NUMBER:
            digits = int(node.bit_length() * math.log10(2)) + 1
            return (
                f"is a number of about {digits} digits; numbers are at most {MAX_NUMBER:.4g} "
                "in magnitude"
            )
        return None
    if isinstance(node, float):
        if not math.isfinite(node):
            shown = "NaN" if math.isnan(node) else f"{'-' if node < 0 else ''}Infinity"
            return (
                f"{shown} is not a number JSON allows; numbers are finite and at most "
                f"{MAX_NUMBER:.4g} in magnitude"
            )
        return None
    return f"a {type(node).__name__} is not a JSON value"


def _missing_property(error: ValidationError) -> str:
    # jsonschema words it "'name' is a required property"; the quoted part is a Python repr.
    quoted: str = error.message.rsplit(" is a required property", 1)[0]
    try:
        return str(ast.literal_eval(quoted))
    except (ValueError, SyntaxError):
        return quoted


def _unknown_key_message(key: str, known: Sequence[str]) -> str:
    close = difflib.get_close_matches(key, known, n=1)
    if close:
        return f"unknown key {key!r}; did you mean {close[0]!r}?"
    return f"unknown key {key!r}; expected one of {', '.join(known)}"


def _type_of(value: Any) -> str:
    return _JSON_TYPES.get(type(value), type(value).__name__)


def _show(value: Any, limit: int = 60) -> str:
    text = repr(value) if isinstance(value, str) else json.dumps(value, default=str)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _first_duplicate(items: Sequence[Any]) -> Any:
    seen: list[Any] = []
    for item in items:
        if item in seen:
            return item
        seen.append(item)
    return None


def _path_key(path: str) -> tuple[tuple[int, Any], ...]:
    key: list[tuple[int, Any]] = []
    position = 1 if path.startswith("$") else 0
    while position < len(path):
        match = _PATH_TOKEN.match(path, position)
        if not match:
            key.append((2, path[position:]))
            break
        name, index, quoted = match.groups()
        key.append((0, int(index)) if index is not None else (1, name or quoted))
        position = match.end()
    return tuple(key)


# ---------------------------------------------------------------------------------------------
# Rules across fields
# ---------------------------------------------------------------------------------------------

_ABSENT = object()


class _Fields:
    """Read values by path, skipping the ones the schema already reported."""

    def __init__(self, doc: Mapping[str, Any], flagged: set[str]) -> None:
        self.doc = doc
        self.flagged = flagged

    def node(self, *parts: PathPart) -> Any:
        """The raw value at `parts`, or _ABSENT."""
        node: Any = self.doc
        for part in parts:
            if isinstance(part, int):
                if not isinstance(node, list) or part >= len(node):
                    return _ABSENT
            elif not isinstance(node, Mapping) or part not in node:
                return _ABSENT
            node = node[part]
        return node

    def get(
        self,
        *parts: PathPart,
        convert: Callable[[Any], Any] | None = None,
        default: Any = None,
    ) -> Any:
        """`default` when absent; None when present but invalid; else the (converted) value."""
        value = self.node(*parts)
        if value is _ABSENT:
            return default
        if json_path(parts) in self.flagged:
            return None
        if convert is None:
            return value
        try:
            return convert(value)
        except (TypeError, ValueError, OverflowError):
            return None


def _ml_parameter_rules(doc: Mapping[str, Any], fields: _Fields) -> Iterator[Problem]:
    yield from _image_rules(doc)
    yield from _inference_image_rules(fields)
    yield from _spot_rules(doc, fields)
    yield from _pair_rules(fields)
    yield from _autoscaling_rules(doc, fields)
    yield from _tuning_limit_rules(fields)
    yield from _strategy_rules(doc, fields)
    yield from _endpoint_wait_rules(fields)


def _image_rules(doc: Mapping[str, Any]) -> Iterator[Problem]:
    has_algorithm = "algorithmARN" in doc
    has_image = "trainingImage" in doc
    if has_algorithm and has_image:
        yield Problem("$.trainingImage", "give either 'algorithmARN' or 'trainingImage', not both")
    elif not has_algorithm and not has_image:
        yield Problem("$", "'algorithmARN' or 'trainingImage' is required")
    if has_algorithm and "metricDefinitions" in doc:
        yield Problem(
            "$.metricDefinitions",
            "is only used with 'trainingImage'; an algorithm resource defines its own metrics",
        )


def _inference_image_rules(fields: _Fields) -> Iterator[Problem]:
    """inferenceImage and the seed's model.hosting.inferenceImage name the same thing: either
    may be given, or both with the same value."""
    image = fields.get("inferenceImage")
    seed_image = fields.get("model", "hosting", "inferenceImage")
    if isinstance(image, str) and isinstance(seed_image, str) and image != seed_image:
        yield Problem(
            "$.model.hosting.inferenceImage",
            f"{_show(seed_image)} differs from inferenceImage ({_show(image)}); both name the "
            "model's inference image: give it once, or the same in both places",
        )


def _spot_rules(doc: Mapping[str, Any], fields: _Fields) -> Iterator[Problem]:
    spot = fields.get(
        "enableManagedSpotTraining", convert=to_bool, default=DEFAULT_MANAGED_SPOT_TRAINING
    )
    if not spot:
        return
    if "spotTrainingCheckpointS3Uri" not in doc:
        yield Problem(
            "$", "'spotTrainingCheckpointS3Uri' is required when enableManagedSpotTraining is true"
        )
    runtime = fields.get("maxRuntimeInSeconds", convert=to_int, default=DEFAULT_MAX_RUNTIME_SECONDS)
    wait = fields.get("maxWaitTimeInSeconds", convert=to_int)
    if runtime is not None and wait is not None and wait < runtime:
        yield Problem(
            "$.maxWaitTimeInSeconds",
            f"{wait} is less than maxRuntimeInSeconds ({runtime}); managed spot training needs "
            "maxWaitTimeInSeconds >= maxRuntimeInSeconds",
        )


_BOTH_OR_NEITHER: tuple[tuple[tuple[str, ...], str, str], ...] = (
    (("model",), "trainingSubnets", "trainingSecurityGroupIds"),
    (("model", "hosting"), "subnets", "securityGroupIds"),
    ((), "autoscalingMinCapacity", "autoscalingMaxCapacity"),
)


def _pair_rules(fields: _Fields) -> Iterator[Problem]:
    for parent, first, second in _BOTH_OR_NEITHER:
        node = fields.node(*parent)
        if not isinstance(node, Mapping) or (first in node) == (second in node):
            continue
        present, missing = (first, second) if first in node else (second, first)
        yield Problem(
            json_path(parent), f"{missing!r} is required when {present!r} is set (both or neither)"
        )


def _autoscaling_rules(doc: Mapping[str, Any], fields: _Fields) -> Iterator[Problem]:
    low = fields.get("autoscalingMinCapacity", convert=to_int)
    high = fields.get("autoscalingMaxCapacity", convert=to_int)
    if low is not None and high is not None:
        if low > high:
            yield Problem(
                "$.autoscalingMinCapacity", f"{low} is greater than autoscalingMaxCapacity ({high})"
            )
        else:
            initial = fields.get("model", "hosting", "initialInstanceCount", convert=to_int)
            if initial is not None and not low <= initial <= high:
                yield Problem(
                    "$.model.hosting.initialInstanceCount",
                    f"{initial} is outside the auto scaling range {low} to {high}",
                )
    scaling_configured = "autoscalingMinCapacity" in doc or "autoscalingMaxCapacity" in doc
    if scaling_configured and "targetTrackingScalingPolicyConfiguration" not in doc:
        yield Problem(
            "$",
            "'targetTrackingScalingPolicyConfiguration' is required when auto scaling is "
            "configured (autoscalingMinCapacity and autoscalingMaxCapacity)",
        )
    policy = fields.node("targetTrackingScalingPolicyConfiguration")
    if isinstance(policy, Mapping):
        specs = [
            key
            for key in ("PredefinedMetricSpecification", "CustomizedMetricSpecification")
            if key in policy
        ]
        if len(specs) != 1:
            how = "not both" if specs else "one is required"
            yield Problem(
                "$.targetTrackingScalingPolicyConfiguration",
                "give either 'PredefinedMetricSpecification' or "
                f"'CustomizedMetricSpecification' ({how})",
            )


def _tuning_limit_rules(fields: _Fields) -> Iterator[Problem]:
    parallel = fields.get("maxParallelTrainingJobs", convert=to_int)
    total = fields.get("maxNumberOfTrainingJobs", convert=to_int)
    if parallel is not None and total is not None and parallel > total:
        yield Problem(
            "$.maxParallelTrainingJobs",
            f"{parallel} is greater than maxNumberOfTrainingJobs ({total})",
        )
    path = ("completionCriteria", "maxNumberOfTrainingJobsNotImproving")
    not_improving = fields.get(*path, convert=to_int)
    if not_improving is not None and total is not None and not_improving > total:
        yield Problem(
            json_path(path),
            f"{not_improving} is greater than maxNumberOfTrainingJobs ({total}), so it could "
            "never end the tuning job",
        )


def _strategy_rules(doc: Mapping[str, Any], fields: _Fields) -> Iterator[Problem]:
    strategy = fields.get("tuningStrategy")
    if "hyperbandStrategyConfig" in doc and strategy is not None and strategy != "Hyperband":
        yield Problem(
            "$.hyperbandStrategyConfig",
            f"is only used with tuningStrategy Hyperband, not {strategy}",
        )
    low = fields.get("hyperbandStrategyConfig", "minResource", convert=to_int)
    high = fields.get("hyperbandStrategyConfig", "maxResource", convert=to_int)
    if low is not None and high is not None and low > high:
        yield Problem(
            "$.hyperbandStrategyConfig.minResource", f"{low} is greater than maxResource ({high})"
        )
    if strategy == "Hyperband" and fields.get("trainingJobEarlyStoppingType") == "Auto":
        yield Problem(
            "$.trainingJobEarlyStoppingType",
            "must be Off with tuningStrategy Hyperband, which stops training jobs early itself",
        )


def _endpoint_wait_rules(fields: _Fields) -> Iterator[Problem]:
    interval = fields.get(
        "endpointWaitIntervalSeconds", convert=to_int, default=DEFAULT_WAIT_INTERVAL_SECONDS
    )
    timeout = fields.get(
        "endpointWaitTimeoutSeconds", convert=to_int, default=DEFAULT_WAIT_TIMEOUT_SECONDS
    )
    if not interval or not timeout:
        return
    max_checks = schema_limit(
        "ml-parameters", "properties", "endpointWaitTimeoutSeconds", "x-maxChecks"
    )
    if timeout < interval:
        yield Problem(
            "$.endpointWaitTimeoutSeconds",
            f"{timeout} is shorter than endpointWaitIntervalSeconds ({interval})",
        )
    elif timeout // interval > max_checks:
        yield Problem(
            "$.endpointWaitIntervalSeconds",
            f"checking every {interval} s for {timeout} s makes {timeout // interval} checks; "
            f"at most {max_checks} fit in one execution's history, so check less "
            "often",
        )


def _hyperparameter_rules(doc: Mapping[str, Any], fields: _Fields) -> Iterator[Problem]:
    ranges = fields.node("parameterRanges")
    tuned: dict[str, str] = {}  # name -> where it is tuned
    total = 0
    if isinstance(ranges, Mapping):
        for kind in RANGE_KINDS:
            items = ranges.get(kind)
            if not isinstance(items, list):
                continue
            total += len(items)
            for index, item in enumerate(items):
                if isinstance(item, Mapping):
                    yield from _range_rules(fields, ("parameterRanges", kind, index), tuned)
        if total == 0:
            yield Problem(
                "$.parameterRanges",
                "has no ranges; give at least one integer, continuous or categorical range to tune",
            )
        elif total > schema_limit("hyperparameters", "x-limits", "maxTunedHyperparameters"):
            most_tuned = schema_limit("hyperparameters", "x-limits", "maxTunedHyperparameters")
            yield Problem(
                "$.parameterRanges",
                f"has {total} ranges; a tuning job searches at most {most_tuned} hyperparameters",
            )
    static = fields.node("staticHyperParameters")
    if isinstance(static, Mapping):
        most = schema_limit("hyperparameters", "x-limits", "maxHyperparameters")
        for key in static:
            if key in tuned:
                yield Problem(
                    json_path(("staticHyperParameters", key)),
                    f"is also tuned at {tuned[key]}; a hyperparameter is either static or tuned",
                )
        if len(static) + total > most:
            yield Problem(
                "$.staticHyperParameters",
                f"{len(static)} static and {total} tuned hyperparameters make "
                f"{len(static) + total}; SageMaker allows at most {most}",
            )


def _range_rules(
    fields: _Fields, base: tuple[PathPart, ...], tuned: dict[str, str]
) -> Iterator[Problem]:
    kind = base[1]
    name = fields.get(*base, "Name")
    if isinstance(name, str):
        if name in tuned:
            yield Problem(json_path((*base, "Name")), f"{name!r} is already tuned at {tuned[name]}")
        else:
            tuned[name] = json_path(base)
    if kind == "CategoricalParameterRanges":
        values = fields.get(*base, "Values")
        if isinstance(values, list):
            duplicate = _first_duplicate(values)
            if duplicate is not None:
                yield Problem(
                    json_path((*base, "Values")), f"lists {_show(duplicate)} more than once"
                )
        return
    convert = to_int if kind == "IntegerParameterRanges" else to_float
    low = fields.get(*base, "MinValue", convert=convert)
    high = fields.get(*base, "MaxValue", convert=convert)
    scaling = fields.get(*base, "ScalingType")
    if low is not None and high is not None and low > high:
        yield Problem(json_path((*base, "MinValue")), f"{low} is greater than MaxValue ({high})")
    if scaling == "Logarithmic" and low is not None and low <= 0:
        yield Problem(
            json_path((*base, "MinValue")), f"Logarithmic scaling needs MinValue > 0, got {low}"
        )
    if scaling == "ReverseLogarithmic":
        if kind == "IntegerParameterRanges":
            yield Problem(
                json_path((*base, "ScalingType")),
                "ReverseLogarithmic scaling is only for continuous ranges",
            )
        elif (low is not None and low < 0) or (high is not None and high >= 1):
            yield Problem(
                json_path(base), "ReverseLogarithmic scaling needs 0 <= MinValue <= MaxValue < 1"
            )


def _manifest_rules(doc: Mapping[str, Any], fields: _Fields) -> Iterator[Problem]:
    channels = fields.node("channels")
    if not isinstance(channels, list):
        return
    seen: dict[str, str] = {}
    for index in range(len(channels)):
        name = fields.get("channels", index, "channelName")
        if not isinstance(name, str):
            continue
        if name in seen:
            yield Problem(
                json_path(("channels", index, "channelName")),
                f"{name!r} is already used by {seen[name]}; channel names must be unique",
            )
        else:
            seen[name] = json_path(("channels", index))


def _channel_bucket_rules(fields: _Fields, data_buckets: Collection[str]) -> Iterator[Problem]:
    channels = fields.node("channels")
    if not isinstance(channels, list):
        return
    for index in range(len(channels)):
        path = ("channels", index, "s3DataSource", "S3Uri")
        uri = fields.get(*path)
        if not isinstance(uri, str):
            continue
        message = foreign_bucket_message(uri, data_buckets)
        if message is None:
            continue
        name = fields.get("channels", index, "channelName")
        channel = repr(name) if isinstance(name, str) else f"at channels[{index}]"
        yield Problem(json_path(path), f"channel {channel}: {message}")


def _grid_rules(
    ml_parameters: Mapping[str, Any], hyperparameters: Mapping[str, Any]
) -> list[Problem]:
    ranges = hyperparameters.get("parameterRanges")
    if ml_parameters.get("tuningStrategy") != "Grid" or not isinstance(ranges, Mapping):
        return []
    problems = [
        Problem(
            json_path(("parameterRanges", kind)),
            "tuningStrategy Grid (in ml-parameters) searches categorical ranges only",
        )
        for kind in RANGE_KINDS[:2]
        if ranges.get(kind)
    ]
    if not ranges.get("CategoricalParameterRanges"):
        problems.append(
            Problem(
                "$.parameterRanges.CategoricalParameterRanges",
                "tuningStrategy Grid (in ml-parameters) needs at least one categorical range",
            )
        )
    return problems


def _grid_count_rule(
    ml_parameters: Mapping[str, Any], hyperparameters: Mapping[str, Any]
) -> list[Problem]:
    """Grid search runs every combination of the categorical values: SageMaker's
    MaxNumberOfTrainingJobs, when given, must equal their number
    (https://docs.aws.amazon.com/sagemaker/latest/dg/automatic-model-tuning-how-it-works.html,
    Grid search)."""
    ranges = hyperparameters.get("parameterRanges")
    if ml_parameters.get("tuningStrategy") != "Grid" or not isinstance(ranges, Mapping):
        return []
    categorical = ranges.get("CategoricalParameterRanges")
    if not isinstance(categorical, list) or not categorical:
        return []  # _grid_rules reports it
    counts = [
        len({str(value) for value in entry.get("Values") or []})
        for entry in categorical
        if isinstance(entry, Mapping)
    ]
    combinations = math.prod(counts)
    limit = ml_parameters.get("maxNumberOfTrainingJobs")
    try:
        given = int(str(limit).strip().lstrip("+"))
    except ValueError:
        return []  # the schema reports it
    if given == combinations:
        return []
    return [
        Problem(
            "$.maxNumberOfTrainingJobs",
            f"is {given}, but tuningStrategy Grid runs every combination of the categorical "
            f"values in hyperparameters' ranges, {combinations} here; SageMaker requires "
            f"maxNumberOfTrainingJobs to equal that number: set it to {combinations}",
        )
    ]


def _hyperband_resource_rule(
    ml_parameters: Mapping[str, Any], hyperparameters: Mapping[str, Any]
) -> list[Problem]:
    if ml_parameters.get("tuningStrategy") != "Hyperband":
        return []
    config = ml_parameters.get("hyperbandStrategyConfig")
    if isinstance(config, Mapping) and "maxResource" in config:
        return []
    static = hyperparameters.get("staticHyperParameters")
    epoch_keys = hyperband_epoch_keys()
    if isinstance(static, Mapping) and any(key in static for key in epoch_keys):
        return []
    return [
        Problem(
            "$.hyperbandStrategyConfig",
            "tuningStrategy Hyperband needs 'maxResource' here, or one of the static "
            f"hyperparameters {', '.join(epoch_keys)} (in hyperparameters) to infer it",
        )
    ]


def hyperband_epoch_keys() -> tuple[str, ...]:
    """The static hyperparameters Hyperband infers maxResource from, the first found winning."""
    config = schema_limit("ml-parameters", "properties", "hyperbandStrategyConfig")
    return tuple(config["x-epochHyperparameters"])


def deployment_bucket_paths() -> list[tuple[str, ...]]:
    """The paths of the ml-parameters fields that are S3 locations on a deployment bucket."""
    schema = _schema("ml-parameters")
    found: list[tuple[str, ...]] = []
    pending: list[tuple[tuple[str, ...], Mapping[str, Any]]] = [((), schema)]
    while pending:
        path, node = pending.pop()
        reference = node.get("$ref")
        if isinstance(reference, str) and reference.startswith("#/$defs/"):
            node = {**schema["$defs"][reference[len("#/$defs/") :]], **node}
        if node.get(DEPLOYMENT_BUCKET_KEYWORD) is True:
            found.append(path)
        for key, child in (node.get("properties") or {}).items():
            if isinstance(child, Mapping):
                pending.append(((*path, key), child))
    return sorted(found)


def _location_bucket_rules(fields: _Fields, data_buckets: Collection[str]) -> Iterator[Problem]:
    for path in deployment_bucket_paths():
        uri = fields.get(*path)
        if not isinstance(uri, str):
            continue
        message = foreign_bucket_message(uri, data_buckets)
        if message is not None:
            yield Problem(json_path(path), f"{message}; the roles may use only those")
