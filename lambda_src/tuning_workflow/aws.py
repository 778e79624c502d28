"""boto3 clients, created lazily, and the line between transient and permanent AWS errors."""

from __future__ import annotations

import functools
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any, Callable, TypeVar

import boto3
from botocore.config import Config
from botocore.exceptions import (
    ClientError,
    ConnectionClosedError,
    ConnectTimeoutError,
    EndpointConnectionError,
    ReadTimeoutError,
)

from tuning_workflow.exceptions import TransientAwsError

CLIENT_CONFIG = Config(
    retries={"mode": "standard", "max_attempts": 5},
    user_agent_extra="sagemaker-tuner-deployer",
)

# Codes AWS uses for "slow down" or "try again": retrying them is safe and often succeeds.
TRANSIENT_ERROR_CODES = frozenset(
    {
        "Throttling",
        "ThrottlingException",
        "ThrottledException",
        "RequestThrottled",
        "RequestThrottledException",
        "TooManyRequestsException",
        "RequestLimitExceeded",
        "ProvisionedThroughputExceededException",
        "SlowDown",
        "PriorRequestNotComplete",
        "RequestTimeout",
        "RequestTimeoutException",
        "ServiceUnavailable",
        "ServiceUnavailableException",
        "InternalError",
        "InternalFailure",
        "InternalServerError",
        "InternalServiceError",
        "InternalServiceException",
    }
)

_CONNECTION_ERRORS = (
    EndpointConnectionError,
    ConnectTimeoutError,
    ReadTimeoutError,
    ConnectionClosedError,
)

_clients: dict[str, Any] = {}

F = TypeVar("F", bound=Callable[..., Any])


def client(service_name: str) -> Any:
    """A boto3 client with standard retries, created on first use and reused while warm."""
    if service_name not in _clients:
        _clients[service_name] = boto3.client(service_name, config=CLIENT_CONFIG)
    return _clients[service_name]


def reset_clients() -> None:
    """Forget the cached clients (tests, or after changing the environment)."""
    _clients.clear()


def error_code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


def error_message(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Message", ""))


def is_transient(error: BaseException) -> bool:
    """True for throttling, 5xx and connection failures; False for everything a retry won't fix."""
    if isinstance(error, _CONNECTION_ERRORS):
        return True
    if not isinstance(error, ClientError):
        return False
    if error_code(error) in TRANSIENT_ERROR_CODES:
        return True
    status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
    return isinstance(status, int) and status >= 500


def is_validation_error(error: ClientError, message_fragment: str) -> bool:
    """A ValidationException whose message contains `message_fragment` (case-insensitive)."""
    return (
        error_code(error) == "ValidationException"
        and message_fragment.lower() in error_message(error).lower()
    )


@contextmanager
def transient_errors_translated() -> Iterator[None]:
    """Re-raise transient AWS failures as TransientAwsError; let every other error through."""
    try:
        yield
    except (ClientError, *_CONNECTION_ERRORS) as error:
        if not is_transient(error):
            raise
        if isinstance(error, ClientError):
            operation = getattr(error, "operation_name", "AWS call")
            detail = f"{operation}: {error_code(error)}: {error_message(error)}"
        else:
            detail = str(error)
        raise TransientAwsError(detail) from error


def translate_transient_errors(function: F) -> F:
    """Decorator form of transient_errors_translated, for Lambda handlers."""

    @functools.wraps(function)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        with transient_errors_translated():
            return function(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


def pages(
    call: Callable[..., Mapping[str, Any]],
    request: Mapping[str, Any],
    key: str,
    token: str = "NextToken",
) -> Iterator[Any]:
    """Every item under `key` of a paginated list call, page after page (`token`: the name of
    the service's pagination token, NextToken or nextToken)."""
    request = dict(request)
    while True:
        response = call(**request)
        yield from response.get(key) or []
        following = response.get(token)
        if not following:
            return
        request[token] = following
