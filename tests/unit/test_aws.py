"""Lazy clients and the line between transient and permanent AWS errors."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError

from tuning_workflow import aws
from tuning_workflow.exceptions import TransientAwsError


def client_error(code: str, status: int = 400, message: str = "message") -> ClientError:
    return ClientError(
        {
            "Error": {"Code": code, "Message": message},
            "ResponseMetadata": {"HTTPStatusCode": status},
        },
        "DescribeEndpoint",
    )


@pytest.mark.parametrize(
    "error",
    [
        client_error("ThrottlingException"),
        client_error("Throttling"),
        client_error("TooManyRequestsException", 429),
        client_error("ServiceUnavailable", 503),
        client_error("SomethingNew", 500),
        EndpointConnectionError(endpoint_url="https://api.sagemaker.us-east-1.amazonaws.com"),
    ],
)
def test_throttling_5xx_and_connection_failures_are_transient(error):
    assert aws.is_transient(error)


@pytest.mark.parametrize(
    "error",
    [
        client_error("AccessDeniedException", 403),
        client_error("ValidationException"),
        client_error("ResourceNotFound"),
        ValueError("not an AWS error"),
    ],
)
def test_everything_a_retry_would_not_fix_is_permanent(error):
    assert not aws.is_transient(error)


def test_transient_errors_are_re_raised_as_transient_aws_error_naming_the_call():
    with pytest.raises(TransientAwsError) as caught, aws.transient_errors_translated():
        raise client_error("ThrottlingException", message="Rate exceeded")
    assert str(caught.value) == "DescribeEndpoint: ThrottlingException: Rate exceeded"
    assert isinstance(caught.value.__cause__, ClientError)


def test_permanent_errors_pass_through_unchanged():
    original = client_error("AccessDeniedException", 403)
    with pytest.raises(ClientError) as caught, aws.transient_errors_translated():
        raise original
    assert caught.value is original


def test_clients_are_created_on_first_use_and_reused():
    assert aws._clients == {}
    first = aws.client("sagemaker")
    assert aws.client("sagemaker") is first
    assert first.meta.config.retries["mode"] == "standard"
    assert first.meta.config.retries["total_max_attempts"] == 6  # the first call and 5 retries
    aws.reset_clients()
    assert aws.client("sagemaker") is not first


def test_importing_the_handlers_creates_no_client():
    import importlib

    import tuning_workflow.handlers as handlers

    aws.reset_clients()
    importlib.reload(handlers)
    assert aws._clients == {}


def test_validation_errors_are_matched_by_code_and_message():
    error = client_error("ValidationException", message="Could not find endpoint configuration x")
    assert aws.is_validation_error(error, "could not find endpoint configuration")
    assert not aws.is_validation_error(client_error("Other", message="Could not find"), "Could not")
