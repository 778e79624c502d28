"""AWS-shaped API errors injected in front of moto: which request is which, and the answer.

The control queue (control.py) holds errors for a service's operation; the WSGI layer in
server.py asks `identify` which service and operation a request is, takes the next queued error
for it, and answers with `render`, in the protocol the service speaks, so that botocore raises
`ClientError` with the code and message, and the Step Functions engine (which calls services back
over HTTP) reports it the way its integration does.

Service names are botocore's; operations are API names (`CreateModel`, `Invoke`). A request is
identified from its SigV4 credential scope (the signing name), then X-Amz-Target (JSON
protocols), the `Action` parameter (query protocol) or the method and path (REST protocols).
"""

from __future__ import annotations

import functools
import io
import json
import re
import urllib.parse
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any
from xml.sax.saxutils import escape

SERVICES = ("sagemaker", "lambda", "stepfunctions", "application-autoscaling", "s3", "sns")

INTERNAL_ACCESS_KEY = "SMTUNEEMULATORSYNCPOLL"
"""Signs Step Functions' own `.sync` polling (sfn_tasks): queued errors are for the workflow's
calls, and a `.sync` task fails only when its job or child execution does."""


@dataclass(frozen=True)
class ErrorCode:
    """An error code every listed service can answer with, its HTTP status and usual message."""

    status: int
    message: str
    services: tuple[str, ...] = SERVICES


# Errors common to every AWS API, with their status codes and texts:
# https://docs.aws.amazon.com/sagemaker/latest/APIReference/CommonErrors.html
# (the same list for Lambda, https://docs.aws.amazon.com/lambda/latest/api/CommonErrors.html).
# "Rate exceeded" is the text a throttled SageMaker call carries:
# https://repost.aws/knowledge-center/sagemaker-python-throttlingexception
KNOWN_CODES: dict[str, ErrorCode] = {
    "ThrottlingException": ErrorCode(400, "Rate exceeded"),
    "ServiceUnavailable": ErrorCode(
        503, "The request has failed due to a temporary failure of the server."
    ),
    "InternalFailure": ErrorCode(
        500, "The request processing has failed because of an unknown error, exception or failure."
    ),
    # JSON-protocol services answer input errors with ValidationException (SageMaker's
    # "Could not find model ..." is one); Lambda and S3 have their own codes instead.
    "ValidationException": ErrorCode(
        400,
        "The input fails to satisfy the constraints specified by an AWS service.",
        ("sagemaker", "stepfunctions", "application-autoscaling", "sns"),
    ),
    # SageMaker's quota error ("You have exceeded an SageMaker resource limit"):
    # https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_CreateHyperParameterTuningJob.html#API_CreateHyperParameterTuningJob_Errors
    "ResourceLimitExceeded": ErrorCode(
        400,
        "The account-level service limit 'ml.m5.xlarge for training job usage' is 2 Instances, "
        "with current utilization of 2 Instances and a request delta of 1 Instances. Please use "
        "AWS Service Quotas to request an increase for this quota. If AWS Service Quotas is not "
        "available, contact AWS support to request an increase for this quota.",
        ("sagemaker",),
    ),
    # Invoke's throttling error, HTTP 429, with the throttle's Reason:
    # https://docs.aws.amazon.com/lambda/latest/api/API_Invoke.html#API_Invoke_Errors
    # https://docs.aws.amazon.com/lambda/latest/api/API_TooManyRequestsException.html
    "TooManyRequestsException": ErrorCode(429, "Rate Exceeded.", ("lambda",)),
    # S3's throttling error: https://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html
    "SlowDown": ErrorCode(503, "Please reduce your request rate.", ("s3",)),
}

LAMBDA_THROTTLE_REASON = "ConcurrentInvocationLimitExceeded"


@dataclass(frozen=True)
class ApiError:
    """One queued failure of a service's operation, as the service would answer it."""

    service: str
    operation: str
    code: str
    message: str
    status: int


@functools.cache
def _model(service: str) -> Any:
    import botocore.session

    return botocore.session.get_session().get_service_model(service)


@functools.cache
def operations(service: str) -> frozenset[str]:
    """The API operation names of a botocore service."""
    return frozenset(_model(service).operation_names)


@functools.cache
def modelled_codes(service: str) -> dict[str, int]:
    """Error codes the service's model declares, with their HTTP status (400 when unstated)."""
    codes: dict[str, int] = {}
    for shape in _model(service).error_shapes:
        error = shape.metadata.get("error") or {}
        codes[str(error.get("code", shape.name))] = int(error.get("httpStatusCode", 400))
    return codes


def accepted_codes(service: str) -> dict[str, int]:
    """Every code `service` can be made to answer with, and its HTTP status."""
    codes = dict(modelled_codes(service))
    for code, known in KNOWN_CODES.items():
        if service in known.services:
            codes[code] = known.status
    return codes


def default_message(service: str, code: str) -> str | None:
    known = KNOWN_CODES.get(code)
    return known.message if known is not None and service in known.services else None


# Identifying a request ---------------------------------------------------------------------------


@functools.cache
def _services_by_signing_name() -> dict[str, str]:
    return {_model(service).signing_name: service for service in SERVICES}


@functools.cache
def _services_by_target_prefix() -> dict[str, str]:
    prefixes: dict[str, str] = {}
    for service in SERVICES:
        prefix = _model(service).metadata.get("targetPrefix")
        if prefix:
            prefixes[str(prefix)] = service
    return prefixes


_CREDENTIAL = re.compile(
    r"Credential=(?P<key>[^/,\s]+)/\d{8}/[^/,\s]+/(?P<service>[^/,\s]+)/aws4_request"
)


def _service_of(environ: dict[str, Any]) -> str | None:
    """The botocore service name a request is signed for, or the one its X-Amz-Target names;
    None for Step Functions' own polling."""
    scope = environ.get("HTTP_AUTHORIZATION", "") or urllib.parse.unquote(
        environ.get("QUERY_STRING", "")
    )
    match = _CREDENTIAL.search(scope)
    if match:
        if match["key"].startswith(INTERNAL_ACCESS_KEY):
            return None
        return _services_by_signing_name().get(match["service"])
    target = environ.get("HTTP_X_AMZ_TARGET", "")
    return _services_by_target_prefix().get(target.split(".", 1)[0]) if target else None


@dataclass(frozen=True)
class _Route:
    operation: str
    method: str
    path: re.Pattern[str]
    query: tuple[tuple[str, str | None], ...]
    literal_length: int


@functools.cache
def _routes(service: str) -> tuple[_Route, ...]:
    """The REST routes of a service, most specific first."""
    model = _model(service)
    routes = []
    for name in model.operation_names:
        http = model.operation_model(name).http
        path, _, query = str(http.get("requestUri", "/")).partition("?")
        pattern = ""
        for part in re.split(r"(\{[^}]+\})", path):
            if part.startswith("{"):
                pattern += ".+" if part.endswith("+}") else "[^/]+"
            else:
                pattern += re.escape(part)
        required = tuple(
            (key, value if sep else None)
            for key, sep, value in (item.partition("=") for item in query.split("&") if item)
        )
        literal = len(re.sub(r"\{[^}]+\}", "", path))
        routes.append(
            _Route(
                name, str(http.get("method", "POST")), re.compile(pattern + "/?"), required, literal
            )
        )
    routes.sort(key=lambda r: (len(r.query), r.literal_length), reverse=True)
    return tuple(routes)


def _rest_operation(service: str, environ: dict[str, Any]) -> str | None:
    method = environ.get("REQUEST_METHOD", "GET")
    path = environ.get("PATH_INFO", "") or "/"
    query = urllib.parse.parse_qs(environ.get("QUERY_STRING", ""), keep_blank_values=True)
    for route in _routes(service):
        if route.method != method or not route.path.fullmatch(path):
            continue
        if all(
            key in query and (value is None or value in query[key]) for key, value in route.query
        ):
            return route.operation
    return None


def _query_operation(environ: dict[str, Any]) -> str | None:
    """The `Action` of a query-protocol request; the body is read and put back for moto."""
    query = urllib.parse.parse_qs(environ.get("QUERY_STRING", ""))
    if "Action" in query:
        return query["Action"][0]
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return None
    body = environ["wsgi.input"].read(length) if length > 0 else b""
    environ["wsgi.input"] = io.BytesIO(body)
    actions = urllib.parse.parse_qs(body.decode("utf-8", "replace")).get("Action")
    return actions[0] if actions else None


def identify(environ: dict[str, Any]) -> tuple[str, str] | None:
    """(botocore service name, API operation name) of a request, when it is one of SERVICES."""
    service = _service_of(environ)
    if service is None:
        return None
    protocol = _model(service).protocol
    if protocol == "json":
        target = environ.get("HTTP_X_AMZ_TARGET", "")
        prefix, _, operation = target.partition(".")
        if prefix != _model(service).metadata.get("targetPrefix"):
            return None
    elif protocol == "query":
        operation = _query_operation(environ) or ""
    else:
        operation = _rest_operation(service, environ) or ""
    return (service, operation) if operation in operations(service) else None


# Answering ---------------------------------------------------------------------------------------


def _message_key(service: str, code: str) -> str:
    """`message` or `Message`, as the service's model spells it for this error."""
    for shape in _model(service).error_shapes:
        error = shape.metadata.get("error") or {}
        if error.get("code", shape.name) == code:
            return "Message" if "Message" in shape.members else "message"
    return "message"


def render(error: ApiError, request_id: str, method: str = "POST") -> tuple[str, list, bytes]:
    """(status line, headers, body) of the error as `error.service` sends it."""
    model = _model(error.service)
    status = f"{error.status} {HTTPStatus(error.status).phrase}"
    sender = "Sender" if error.status < 500 else "Receiver"
    if model.protocol == "json":
        # awsJson: `__type` names the error, the header too.
        # https://smithy.io/2.0/aws/protocols/aws-json-1_1-protocol.html#operation-error-serialization
        headers = [
            ("Content-Type", f"application/x-amz-json-{model.metadata.get('jsonVersion', '1.1')}"),
            ("x-amzn-RequestId", request_id),
            ("x-amzn-ErrorType", error.code),
        ]
        document: dict[str, Any] = {"__type": error.code, "message": error.message}
        body = json.dumps(document).encode("utf-8")
    elif model.protocol == "rest-json":
        # Lambda: x-amzn-ErrorType names the error; the body carries Type and the message,
        # and a throttled Invoke its Reason.
        headers = [
            ("Content-Type", "application/json"),
            ("x-amzn-RequestId", request_id),
            ("x-amzn-ErrorType", error.code),
        ]
        document = {
            "Type": "User" if error.status < 500 else "Service",
            _message_key(error.service, error.code): error.message,
        }
        if error.code == "TooManyRequestsException":
            document["Reason"] = LAMBDA_THROTTLE_REASON
        body = json.dumps(document).encode("utf-8")
    elif model.protocol == "query":
        # https://docs.aws.amazon.com/sns/latest/api/CommonErrors.html (an ErrorResponse document)
        headers = [("Content-Type", "text/xml"), ("x-amzn-RequestId", request_id)]
        body = (
            f'<ErrorResponse xmlns="https://sns.amazonaws.com/doc/2010-03-31/"><Error>'
            f"<Type>{sender}</Type><Code>{escape(error.code)}</Code>"
            f"<Message>{escape(error.message)}</Message></Error>"
            f"<RequestId>{request_id}</RequestId></ErrorResponse>"
        ).encode()
    else:
        # https://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html#RESTErrorResponses
        headers = [("Content-Type", "application/xml"), ("x-amz-request-id", request_id)]
        body = (
            f'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>{escape(error.code)}</Code>'
            f"<Message>{escape(error.message)}</Message>"
            f"<RequestId>{request_id}</RequestId></Error>"
        ).encode()
    if method == "HEAD":
        body = b""
    headers.append(("Content-Length", str(len(body))))
    return status, headers, body
