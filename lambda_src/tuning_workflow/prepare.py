"""The tuner's first step: read and check every input, name the run, build the tuning job.

The execution input may be the manifest itself, `{"manifest": {...}}`, `{"manifestS3Uri": ...}`,
or any of those wrapped by the parent workflow as `{"request": ..., "runExecutionArn": ...}`.
Problems in any document, including a manifest that is missing from S3 or is not JSON, come
back as data (`{"valid": false, ...}`) so the state machine can report them; AWS faults raise.

With `deployment.dataBuckets` in the event (the Terraform module's data buckets), a manifest in
S3 and every channel must name one of those buckets: a foreign bucket is an input problem,
reported before the manifest is read and before any SageMaker call. Without it (or with an
empty list) any bucket is accepted.

What the input asks for that is accepted but not done (the seed's Elastic Inference
accelerator) is a warning: logged, and returned as `warnings` beside the result, valid or not.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from tuning_workflow import aws, naming
from tuning_workflow.events import invalid_result, optional_mapping, require_present, require_str
from tuning_workflow.exceptions import InvalidEventError
from tuning_workflow.lifecycle_tags import OWNER_TAG_KEY
from tuning_workflow.params import parse_hyperparameters, parse_manifest, parse_ml_parameters
from tuning_workflow.tuning import build_tags, build_tuning_job_request
from tuning_workflow.validation import (
    MAX_DEPTH,
    MAX_NUMBER,
    Problem,
    foreign_bucket_message,
    limit_problems,
    ml_parameter_warnings,
    validate_run_documents,
)

logger = logging.getLogger(__name__)

MAX_MANIFEST_BYTES = 1024 * 1024
MAX_MANIFEST_URI_LENGTH = 1024
# Digits of one integer literal in a manifest read from S3; longer ones are refused before
# Python converts them (a float holds at most 309 digits before the decimal point).
MAX_NUMBER_LITERAL_DIGITS = 400
EXECUTION_INPUT = "execution input"
# Bucket names as botocore accepts them; the key is one line.
_S3_URI = re.compile(r"s3://([a-zA-Z0-9.\-_]{1,255})/(.+)")
_JSON_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"')
_JSON_BRACKET = re.compile(r"[\[\]{}]")
_MISSING_OBJECT_CODES = {"NoSuchKey", "NoSuchBucket", "NotFound", "404"}
_ACCESS_DENIED_CODES = {"AccessDenied", "403", "Forbidden"}
_UNREADABLE_CODES = {"InvalidObjectState", "KeyTooLongError", "InvalidBucketName"}
_INPUT_FORMS = (
    'the manifest ({"channels": [...]}), {"manifest": {"channels": [...]}} or '
    '{"manifestS3Uri": "s3://bucket/key.json"}'
)


@dataclass(frozen=True)
class ResolvedManifest:
    """Where the manifest came from and what it holds; `problems` when it could not be had."""

    document: Any
    label: str
    path_prefix: tuple[str, ...] = ()
    problems: tuple[Problem, ...] = ()


def unwrap_request(execution_input: Any, execution_arn: str) -> tuple[Any, str]:
    """The user's request and the ARN that identifies the run (the parent's, when it has one)."""
    if isinstance(execution_input, Mapping) and "request" in execution_input:
        run_arn = execution_input.get("runExecutionArn") or execution_arn
        return execution_input["request"], str(run_arn)
    return execution_input, execution_arn


def resolve_manifest(
    request: Any, *, s3: Any = None, data_buckets: tuple[str, ...] = ()
) -> ResolvedManifest:
    """The manifest named by one of the accepted execution input forms."""
    if not isinstance(request, Mapping):
        return _input_problem("$", f"expected {_INPUT_FORMS}")
    forms = [key for key in ("channels", "manifest", "manifestS3Uri") if key in request]
    if len(forms) > 1:
        return _input_problem("$", f"give one of {', '.join(forms)}, not several")
    if not forms:
        return _input_problem("$", f"expected {_INPUT_FORMS}; found none of its keys")
    if forms[0] == "channels":
        return ResolvedManifest(request, "manifest")
    if forms[0] == "manifest":
        return ResolvedManifest(request["manifest"], "manifest", ("manifest",))
    return read_manifest_from_s3(request["manifestS3Uri"], s3=s3, data_buckets=data_buckets)


def read_manifest_from_s3(
    uri: Any, *, s3: Any = None, data_buckets: tuple[str, ...] = ()
) -> ResolvedManifest:
    """The parsed JSON at `uri`; a missing, unreadable or malformed object is an input problem.

    So is a URI on a bucket outside `data_buckets` (when given), refused before it is read.
    """
    path = "$.manifestS3Uri"
    if isinstance(uri, str) and len(uri) > MAX_MANIFEST_URI_LENGTH:
        return _input_problem(
            path, f"is {len(uri)} characters long; the limit is {MAX_MANIFEST_URI_LENGTH}"
        )
    match = _S3_URI.fullmatch(uri) if isinstance(uri, str) else None
    if not match:
        return _input_problem(path, f"must be an S3 URI such as s3://bucket/key.json, got {uri!r}")
    foreign = foreign_bucket_message(uri, data_buckets)
    if foreign is not None:
        return _input_problem(path, f"{uri}: {foreign}")
    bucket, key = match.groups()
    s3 = s3 or aws.client("s3")
    try:
        response = s3.get_object(Bucket=bucket, Key=key)
    except ClientError as error:
        code = aws.error_code(error)
        status = str(error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", ""))
        if code in _MISSING_OBJECT_CODES or status == "404":
            return _input_problem(path, f"{uri} does not exist")
        if code in _ACCESS_DENIED_CODES or status == "403":
            return _input_problem(path, f"access denied reading {uri}")
        if code in _UNREADABLE_CODES:
            return _input_problem(path, f"{uri} cannot be read: {code}")
        raise
    body = response["Body"].read(MAX_MANIFEST_BYTES + 1)
    if len(body) > MAX_MANIFEST_BYTES:
        return _input_problem(path, f"{uri} is larger than {MAX_MANIFEST_BYTES} bytes")
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError:
        return _input_problem(path, f"{uri} is not UTF-8 text")
    if json_nesting_depth(text, MAX_DEPTH) > MAX_DEPTH:
        return _input_problem(
            path,
            f"{uri} is nested deeper than the limit of {MAX_DEPTH} levels of objects and arrays",
        )
    try:
        document = json.loads(text, parse_int=_bounded_int)
    except json.JSONDecodeError as error:
        return _input_problem(
            path,
            f"{uri} is not valid JSON: {error.msg} at line {error.lineno} column {error.colno}",
        )
    except _NumberLiteralTooLong as error:
        return _input_problem(
            path,
            f"{uri} holds a number of {error.digits} digits; numbers are at most "
            f"{MAX_NUMBER:.4g} in magnitude",
        )
    except (RecursionError, ValueError) as error:  # a limit of the JSON parser itself
        return _input_problem(path, f"{uri} cannot be read as JSON: {error}")
    return ResolvedManifest(document, f"manifest {uri}")


def json_nesting_depth(text: str, limit: int) -> int:
    """How deeply `text` nests arrays and objects, counted without parsing or recursion.

    Brackets inside strings do not count. Stops as soon as the depth passes `limit`. Text that
    is not JSON gives some number; the parser that reads it next reports what is wrong.
    """
    depth = deepest = 0
    for match in _JSON_BRACKET.finditer(_JSON_STRING.sub('""', text)):
        if match.group() in "[{":
            depth += 1
            deepest = max(deepest, depth)
            if deepest > limit:
                break
        else:
            depth -= 1
    return deepest


class _NumberLiteralTooLong(ValueError):
    def __init__(self, digits: int) -> None:
        super().__init__(f"an integer literal of {digits} digits")
        self.digits = digits


def _run_option_problems(request: Any) -> list[Problem]:
    """The run's options beside the manifest: forceDeploy, a boolean."""
    if not isinstance(request, Mapping) or "forceDeploy" not in request:
        return []
    value = request["forceDeploy"]
    if isinstance(value, bool):
        return []
    return [Problem("$.forceDeploy", f"must be true or false, got {value!r}")]


def _bounded_int(literal: str) -> int:
    digits = len(literal.lstrip("-"))
    if digits > MAX_NUMBER_LITERAL_DIGITS:
        raise _NumberLiteralTooLong(digits)
    return int(literal)


def prepare_tuning_run(event: Mapping[str, Any], *, s3: Any = None) -> dict[str, Any]:
    """Validate everything, then return the run's names and its tuning job request."""
    execution_arn = require_str(event, "executionArn")
    ml_doc = require_present(event, "mlParameters")
    hp_doc = require_present(event, "hyperparameters")
    deployment = optional_mapping(event, "deployment")
    role_arn = require_str(deployment, "sagemakerRoleArn", where="event.deployment")
    data_buckets = _data_buckets(deployment)
    execution_input = require_present(event, "input")

    run_arn = execution_arn
    too_big = limit_problems(execution_input)
    if too_big:
        manifest = ResolvedManifest(None, EXECUTION_INPUT, problems=tuple(too_big))
    else:
        request, run_arn = unwrap_request(execution_input, execution_arn)
        manifest = resolve_manifest(request, s3=s3, data_buckets=data_buckets)
    problems = [(EXECUTION_INPUT, problem) for problem in manifest.problems]
    if not too_big:
        # Read by the deployer once tuning is done: a wrong value is refused before it starts.
        problems += [(EXECUTION_INPUT, problem) for problem in _run_option_problems(request)]
    by_document = validate_run_documents(
        ml_doc, hp_doc, {} if manifest.problems else manifest.document, data_buckets
    )
    problems += [
        (name, p) for name in ("ml-parameters", "hyperparameters") for p in by_document[name]
    ]
    if not manifest.problems:
        problems += [
            (manifest.label, _prefixed(problem, manifest.path_prefix))
            for problem in by_document["manifest"]
        ]
    warnings = _warnings(ml_doc)
    if problems:
        logger.info("input rejected: %d problems", len(problems))
        return {**invalid_result(problems), "warnings": warnings}

    ml = parse_ml_parameters(ml_doc)
    run_id = naming.run_id(run_arn)
    try:
        names = naming.run_names(
            tuning_job_base=ml.tuning_job_name,
            model_base=ml.model.name,
            endpoint_name=ml.endpoint_name,
            run_id_value=run_id,
        )
    except ValueError as error:
        return {
            **invalid_result([("ml-parameters", Problem("$", str(error)))]),
            "warnings": warnings,
        }

    tags = build_tags(deployment.get("tags"), run_id=run_id, artifact_type=ml.model.artifact_type)
    if deployment.get("name"):
        # The model (and tuning job) record their owner: retention and teardown find them by it.
        tags = sorted(
            [tag for tag in tags if tag["Key"] != OWNER_TAG_KEY]
            + [{"Key": OWNER_TAG_KEY, "Value": str(deployment["name"])}],
            key=lambda tag: tag["Key"],
        )
    tuning_job = build_tuning_job_request(
        ml,
        parse_hyperparameters(hp_doc),
        parse_manifest(manifest.document),
        tuning_job_name=names.tuning_job,
        role_arn=role_arn,
        tags=tags,
        volume_kms_key_id=deployment.get("volumeKmsKeyId"),
        output_kms_key_id=deployment.get("outputKmsKeyId"),
    )
    model: dict[str, Any] = {
        "inferenceImage": ml.inference_image or ml.training_image,
        "environment": dict(ml.model.environment),
    }
    if ml.model.hosting.vpc is not None:
        model["VpcConfig"] = ml.model.hosting.vpc.to_api()
    logger.info("run %s prepared: tuning job %s", run_id, names.tuning_job)
    return {
        "valid": True,
        "runId": run_id,
        "names": names.to_dict(),
        "tuningJob": tuning_job,
        "model": model,
        "qualityGate": ml.quality_gate.to_dict() if ml.quality_gate else None,
        "tags": tags,
        "warnings": warnings,
    }


def _warnings(ml_doc: Any) -> list[dict[str, str]]:
    """The ml-parameters document's warnings, each logged, as {"document", "path", "message"}."""
    warnings = []
    for warning in ml_parameter_warnings(ml_doc):
        logger.warning("ml-parameters %s", warning)
        warnings.append({"document": "ml-parameters", **warning.to_dict()})
    return warnings


def _data_buckets(deployment: Mapping[str, Any]) -> tuple[str, ...]:
    """The deployment's data buckets; () when the event names none (no restriction)."""
    buckets = deployment.get("dataBuckets")
    if buckets is None:
        return ()
    if not isinstance(buckets, list) or not all(isinstance(b, str) and b for b in buckets):
        raise InvalidEventError(
            "event.deployment.dataBuckets must be a list of bucket names, got "
            f"{type(buckets).__name__}"
        )
    return tuple(buckets)


def _input_problem(path: str, message: str) -> ResolvedManifest:
    return ResolvedManifest(None, EXECUTION_INPUT, problems=(Problem(path, message),))


def _prefixed(problem: Problem, prefix: tuple[str, ...]) -> Problem:
    """The problem's path as seen from the execution input (`$.manifest.channels[0]`)."""
    if not prefix:
        return problem
    return Problem("$" + "".join(f".{part}" for part in prefix) + problem.path[1:], problem.message)
