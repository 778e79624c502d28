"""The services' request rules, applied to every request a state machine task sends.

moto's Step Functions engine calls services with botocore clients that skip parameter
validation, and moto's backends accept almost anything, so a definition whose request AWS
would refuse ran in the emulator. Here each task's request is checked before it leaves the
engine, as the service checks it on arrival, and a refused request is answered with the error
the service returns, so each integration turns it into the task error it gives on AWS
(`SageMaker.AmazonSageMakerException` for an optimised SageMaker task, with
`Error Code: ValidationException` in the cause):

1. The operation's input shape in botocore's service model: required members, types and
   minimums with botocore's own `ParamValidator`; then what botocore leaves to the service
   (maximum lengths and values, enums, regular-expression patterns, map sizes). The answer is
   the constraint report AWS services give ("1 validation error detected: Value 'x' at
   'hyperParameterTuningJobName' failed to satisfy constraint: Member must satisfy regular
   expression pattern: ..."), code `ValidationException` (`ValidationError` for query-protocol
   services such as SNS), HTTP 400
   (https://docs.aws.amazon.com/sagemaker/latest/APIReference/CommonErrors.html). A value of
   the wrong JSON type is `SerializationException` for JSON services, as they answer a body
   they cannot read.
2. Rules the services document beyond the shapes (`service_rule_problems`): a Grid tuning job
   searches categorical ranges only, and its MaxNumberOfTrainingJobs, when given, equals the
   number of distinct categorical combinations
   (https://docs.aws.amazon.com/sagemaker/latest/dg/automatic-model-tuning-how-it-works.html,
   Grid search;
   https://docs.aws.amazon.com/sagemaker/latest/dg/automatic-model-tuning-define-ranges.html).
   The endpoint rules that depend on state (UpdateEndpoint of an endpoint in progress,
   CreateEndpointConfig of a model that does not exist) are the backend's: sagemaker_sim and
   moto.

Patterns are the service model's, written for Java: they are matched against the whole value,
as the services match them. Java-only syntax (`\\p{L}`, surrogate-pair ranges, a quantified
`$`) is translated; a pattern that still does not compile is not checked (`uncheckable_patterns`
lists them).
"""

from __future__ import annotations

import functools
import json
import logging
import math
import re
import uuid
from dataclasses import dataclass
from typing import Any, Callable, Final

from botocore.exceptions import ClientError
from botocore.model import ListShape, MapShape, OperationModel, Shape, StructureShape
from botocore.validate import ParamValidator

LOG = logging.getLogger(__name__)

_SERIALIZATION_ERROR: Final = "SerializationException"

# Java regex syntax in the service models that Python's re lacks.
_JAVA_CLASSES: Final[dict[str, str]] = {
    r"\p{Alnum}": "a-zA-Z0-9",
    r"\p{ASCII}": r"\x00-\x7F",
    r"\p{Print}": r"\x20-\x7E",
}
# A UTF-16 surrogate pair range in Java: every supplementary code point in Python.
_SURROGATE_RANGE: Final = re.compile(r"\\uD800\\uDC00-\\uDBFF\\uDFFF", re.IGNORECASE)
_QUANTIFIED_END: Final = re.compile(r"\$\{\d+(,\d*)?\}")


@dataclass(frozen=True)
class Rejection:
    """How the service refuses a request: its error code, HTTP status and message."""

    code: str
    message: str
    status: int = 400


# Patterns ---------------------------------------------------------------------------------------


def _java_to_python(pattern: str) -> str:
    translated = _SURROGATE_RANGE.sub(r"\\U00010000-\\U0010FFFF", pattern)
    translated = _QUANTIFIED_END.sub("$", translated)
    for java, python in _JAVA_CLASSES.items():
        if java in translated:
            inside = re.search(r"\[[^\]]*" + re.escape(java), translated) is not None
            translated = translated.replace(java, python if inside else f"[{python}]")
    return translated


@functools.cache
def compiled_pattern(pattern: str) -> Callable[[str], bool] | None:
    """A full-match test for a service-model pattern, or None when it cannot be compiled."""
    translated = _java_to_python(pattern)
    try:
        python = re.compile(translated)
        return lambda value: python.fullmatch(value) is not None
    except re.error:
        pass
    try:  # Unicode property classes (\p{L}, \p{N}, ...): the regex package knows them.
        import regex

        unicode_aware = regex.compile(translated)
        return lambda value: unicode_aware.fullmatch(value) is not None
    except Exception:
        LOG.info("Not checking the service-model pattern %r: it does not compile.", pattern)
        return None


def uncheckable_patterns(service_model: Any) -> list[str]:
    """The patterns of a service model that are not checked (they do not compile)."""
    found = set()
    for name in service_model.shape_names:
        pattern = service_model.shape_for(name).metadata.get("pattern")
        if pattern is not None and compiled_pattern(pattern) is None:
            found.add(pattern)
    return sorted(found)


# Shape constraints ------------------------------------------------------------------------------


def _lower_first(name: str) -> str:
    return name[:1].lower() + name[1:]


def _shown(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, str):
        return f"'{value}'"
    if isinstance(value, bool):
        return f"'{str(value).lower()}'"
    if isinstance(value, (int, float)):
        return f"'{value}'"
    try:
        return f"'{json.dumps(value, separators=(',', ':'), default=str)}'"
    except (TypeError, ValueError):
        return f"'{value}'"


def _problem(value: Any, path: str, constraint: str) -> str:
    return f"Value {_shown(value)} at '{path}' failed to satisfy constraint: {constraint}"


class _Walk:
    """One pass over a request: the constraints botocore's validator leaves to the service, and
    the service's path (`trainingJobDefinition.inputDataConfig.1.member.channelName`) of every
    botocore name (`TrainingJobDefinition.InputDataConfig[0].ChannelName`)."""

    def __init__(self) -> None:
        self.problems: list[str] = []
        self.paths: dict[str, str] = {"": ""}

    def value(self, value: Any, shape: Shape, name: str, path: str) -> None:
        self.paths[name] = path
        if value is None:
            return
        if isinstance(shape, StructureShape):
            if isinstance(value, dict):
                for key, item in value.items():
                    member = shape.members.get(key)
                    if member is not None:
                        child_path = f"{path}.{_lower_first(key)}" if path else _lower_first(key)
                        self.value(item, member, f"{name}.{key}" if name else key, child_path)
            return
        if isinstance(shape, ListShape):
            if isinstance(value, (list, tuple)):
                self._size(value, shape, path, "length")
                for index, item in enumerate(value):
                    self.value(item, shape.member, f"{name}[{index}]", f"{path}.{index + 1}.member")
            return
        if isinstance(shape, MapShape):
            if isinstance(value, dict):
                self._map(value, shape, name, path)
            return
        self._scalar(value, shape, path)

    def _map(self, value: dict[Any, Any], shape: MapShape, name: str, path: str) -> None:
        self._size(value, shape, path, "length", check_min=True)
        key_problems: list[str] = []
        value_problems: list[str] = []
        for key, item in value.items():
            self.paths[f"{name} (key: {key})"] = path
            self.paths[f"{name}.{key}"] = path
            key_problems += _scalar_constraints(key, shape.key)
            value_problems += _scalar_constraints(item, shape.value)
        for label, found in (("Map keys", key_problems), ("Map value", value_problems)):
            if found:
                unique = list(dict.fromkeys(found))
                self.problems.append(
                    _problem(value, path, f"{label} must satisfy constraint: [{', '.join(unique)}]")
                )

    def _size(
        self, value: Any, shape: Shape, path: str, what: str, *, check_min: bool = False
    ) -> None:
        size = len(value)
        maximum = shape.metadata.get("max")
        minimum = shape.metadata.get("min")
        if maximum is not None and size > maximum:
            self.problems.append(
                _problem(value, path, f"Member must have {what} less than or equal to {maximum}")
            )
        if check_min and minimum is not None and size < minimum:
            self.problems.append(
                _problem(value, path, f"Member must have {what} greater than or equal to {minimum}")
            )

    def _scalar(self, value: Any, shape: Shape, path: str) -> None:
        self.problems += [_problem(value, path, c) for c in _scalar_constraints(value, shape)]


def _scalar_constraints(value: Any, shape: Shape) -> list[str]:
    """What a string or number breaks beyond botocore's checks (its minimums and types)."""
    found: list[str] = []
    maximum = shape.metadata.get("max")
    if isinstance(value, str) and shape.type_name == "string":
        if maximum is not None and len(value) > maximum:
            found.append(f"Member must have length less than or equal to {maximum}")
        enum = list(getattr(shape, "enum", None) or [])
        if enum and value not in enum:
            found.append(f"Member must satisfy enum value set: [{', '.join(enum)}]")
        pattern = shape.metadata.get("pattern")
        matches = compiled_pattern(pattern) if pattern is not None else None
        if matches is not None and not matches(value):
            found.append(f"Member must satisfy regular expression pattern: {pattern}")
    elif (
        isinstance(value, (int, float))
        and not isinstance(value, bool)
        and shape.type_name in ("integer", "long", "float", "double")
        and maximum is not None
        and value > maximum
    ):
        found.append(f"Member must have value less than or equal to {maximum}")
    return found


def _path_of(walk: _Walk, name: str) -> str:
    if name.startswith("."):
        name = name[1:]
    if name in walk.paths:
        return walk.paths[name]
    parent, _, last = name.rpartition(".")
    base = walk.paths.get(parent, "")
    return f"{base}.{_lower_first(last)}" if base else _lower_first(last)


def shape_problems(
    operation: OperationModel, params: dict[str, Any]
) -> tuple[list[str], list[str]]:
    """The request's constraint violations, worded as AWS words them, and apart from them the
    values a service cannot even read (a wrong type, a field the request does not have)."""
    shape = operation.input_shape
    if shape is None:
        return [], []
    walk = _Walk()
    walk.value(params, shape, "", "")
    report = ParamValidator().validate(params, shape)
    problems: list[str] = []
    unreadable: list[str] = []
    for reason, name, extra in report._errors:
        if reason == "missing required field":
            parent = _path_of(walk, name) if name else ""
            member = _lower_first(extra["required_name"])
            problems.append(
                _problem(
                    None, f"{parent}.{member}" if parent else member, "Member must not be null"
                )
            )
        elif reason == "invalid length":
            problems.append(
                _problem(
                    extra.get("param"),
                    _path_of(walk, name),
                    f"Member must have length greater than or equal to {extra['min_allowed']}",
                )
            )
        elif reason == "invalid range":
            problems.append(
                _problem(
                    extra.get("param"),
                    _path_of(walk, name),
                    f"Member must have value greater than or equal to {extra['min_allowed']}",
                )
            )
        elif reason == "invalid type":
            expected = ", ".join(extra.get("valid_types", []))
            unreadable.append(
                f"Value {_shown(extra.get('param'))} at '{_path_of(walk, name)}' cannot be "
                f"read as the member's type ({expected})"
            )
        elif reason == "unknown field":
            parent = _path_of(walk, name)
            field = extra["unknown_param"]
            unreadable.append(
                f"Unknown field '{field}' at '{parent or 'input'}': it is not a member of "
                f"{operation.name}'s request"
            )
        else:
            problems.append(f"{_path_of(walk, name) or 'input'}: {reason}")
    return problems + walk.problems, unreadable


# Rules beyond the shapes ------------------------------------------------------------------------


def _grid_problems(params: dict[str, Any]) -> list[str]:
    """Grid search (https://docs.aws.amazon.com/sagemaker/latest/dg/automatic-model-tuning-how-it-works.html):
    "Only categorical parameters are supported when using the grid search strategy. You do not
    need to specify the MaxNumberOfTrainingJobs. [...] If specified, the value of
    MaxNumberOfTrainingJobs should equal the total number of distinct categorical combinations
    possible." The define-ranges page says the same of a Grid tuning job.
    """
    config = params.get("HyperParameterTuningJobConfig")
    if not isinstance(config, dict) or config.get("Strategy") != "Grid":
        return []
    problems: list[str] = []
    ranges = config.get("ParameterRanges") or {}
    definitions = [
        params.get("TrainingJobDefinition"),
        *(params.get("TrainingJobDefinitions") or []),
    ]
    all_ranges = [
        ranges,
        *(d.get("HyperParameterRanges") or {} for d in definitions if isinstance(d, dict)),
    ]
    for found in all_ranges:
        for kind in ("IntegerParameterRanges", "ContinuousParameterRanges", "AutoParameters"):
            if found.get(kind):
                problems.append(
                    f"The Grid strategy supports categorical parameters only; {kind} is not "
                    "allowed."
                )
    categorical = [r for found in all_ranges for r in found.get("CategoricalParameterRanges") or []]
    if not categorical:
        problems.append("The Grid strategy needs at least one categorical parameter range.")
    if problems:
        return list(dict.fromkeys(problems))
    combinations = math.prod(len(set(r.get("Values") or [])) for r in categorical)
    limit = (config.get("ResourceLimits") or {}).get("MaxNumberOfTrainingJobs")
    if limit is not None and limit != combinations:
        problems.append(
            f"With the Grid strategy, MaxNumberOfTrainingJobs ({limit}) must equal the number "
            f"of distinct categorical combinations ({combinations}), or be omitted."
        )
    return problems


_SERVICE_RULES: Final[dict[tuple[str, str], Callable[[dict[str, Any]], list[str]]]] = {
    ("sagemaker", "CreateHyperParameterTuningJob"): _grid_problems,
}


def service_rule_problems(service: str, operation: str, params: dict[str, Any]) -> list[str]:
    """The documented rules beyond the shapes that `params` breaks (empty: none)."""
    rule = _SERVICE_RULES.get((service, operation))
    return rule(params) if rule is not None else []


# The answer -------------------------------------------------------------------------------------


def validation_code(protocol: str) -> str:
    """Query-protocol services (SNS) answer ValidationError; JSON ones ValidationException."""
    return "ValidationError" if protocol in ("query", "ec2") else "ValidationException"


def check_request(
    service: str, operation: OperationModel, params: dict[str, Any]
) -> Rejection | None:
    """How the service refuses `params` for `operation`, or None when it accepts them."""
    protocol = str(operation.metadata.get("protocol", "json"))
    problems, unreadable = shape_problems(operation, params)
    if unreadable and protocol in ("json", "rest-json"):
        # The body is read before it is validated: what cannot be read is all the answer says.
        return Rejection(_SERIALIZATION_ERROR, "; ".join(unreadable))
    problems = unreadable + problems
    if problems:
        count = len(problems)
        noun = "error" if count == 1 else "errors"
        return Rejection(
            validation_code(protocol), f"{count} validation {noun} detected: {'; '.join(problems)}"
        )
    rules = service_rule_problems(service, operation.name, params)
    if rules:
        return Rejection(validation_code(protocol), " ".join(rules))
    return None


def client_error(client: Any, operation_name: str, rejection: Rejection) -> ClientError:
    """The ClientError botocore raises for the service's answer (the modelled class when the
    code is modelled), with a request ID as every AWS answer has."""
    response: dict[str, Any] = {
        "Error": {"Code": rejection.code, "Message": rejection.message},
        "ResponseMetadata": {
            "RequestId": str(uuid.uuid4()),
            "HTTPStatusCode": rejection.status,
            "HTTPHeaders": {"x-amzn-errortype": rejection.code},
            "RetryAttempts": 0,
        },
        "message": rejection.message,
    }
    error_class = client.exceptions.from_code(rejection.code)
    error: ClientError = error_class(response, operation_name)
    return error


def enforce_on(client: Any) -> Any:
    """Make `client` refuse, before sending, what its service would refuse (returns it)."""
    service = client.meta.service_model.service_name

    def before_parameter_build(params: dict[str, Any], model: OperationModel, **_: Any) -> None:
        rejection = check_request(service, model, params)
        if rejection is not None:
            raise client_error(client, model.name, rejection)

    client.meta.events.register_last("before-parameter-build", before_parameter_build)
    return client
