"""One place that makes boto3 clients, and turns AWS failures into one-line messages.

The options follow the AWS CLI: `--region`, `--profile`, `--endpoint-url`, and the environment
variables boto3 reads (AWS_PROFILE, AWS_DEFAULT_REGION, AWS_ENDPOINT_URL, AWS_MAX_ATTEMPTS,
credentials). AWS_REGION is honoured too, as the AWS CLI v2 does.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectionClosedError,
    EndpointConnectionError,
    NoCredentialsError,
    NoRegionError,
    ParamValidationError,
    PartialCredentialsError,
    ProfileNotFound,
    ReadTimeoutError,
)

from smtune.errors import CliError

_ARN = re.compile(
    r"^arn:(?P<partition>aws[a-z-]*):states:(?P<region>[a-z0-9-]+):(?P<account>\d{12}):"
    r"(?P<kind>execution|stateMachine|express):(?P<machine>[^:]+)(?::(?P<name>[^:]+))?$"
)

_ACCESS_DENIED = {"AccessDenied", "AccessDeniedException", "UnauthorizedOperation"}
_BAD_CREDENTIALS = {
    "UnrecognizedClientException",
    "InvalidClientTokenId",
    "InvalidSignatureException",
    "SignatureDoesNotMatch",
    "ExpiredToken",
    "ExpiredTokenException",
}


@dataclass(frozen=True)
class AwsOptions:
    """The AWS CLI's global options; None means "as boto3 resolves it"."""

    region: str | None = None
    profile: str | None = None
    endpoint_url: str | None = None


@dataclass(frozen=True)
class StatesArn:
    """The parts of a Step Functions execution or state machine ARN."""

    arn: str
    region: str
    account: str
    state_machine: str
    name: str | None


def parse_execution_arn(arn: str, what: str = "EXECUTION_ARN") -> StatesArn:
    """Split an execution ARN, or fail naming the argument."""
    match = _ARN.match(arn.strip())
    if not match or match["kind"] == "stateMachine" or not match["name"]:
        raise CliError(f"{what}: {arn!r} is not a Step Functions execution ARN")
    return StatesArn(
        arn.strip(), match["region"], match["account"], match["machine"], match["name"]
    )


def parse_state_machine_arn(arn: str, what: str = "--state-machine-arn") -> StatesArn:
    """Split a state machine ARN, or fail naming the argument."""
    match = _ARN.match(arn.strip())
    if not match or match["kind"] != "stateMachine" or match["name"]:
        raise CliError(f"{what}: {arn!r} is not a Step Functions state machine ARN")
    return StatesArn(arn.strip(), match["region"], match["account"], match["machine"], None)


class Aws:
    """Makes every client the CLI uses, lazily and once per service.

    `default_region` is used when neither `--region` nor AWS_REGION is set; commands pass the
    region of the ARN they were given, so `smtune status <arn>` works without configuration.
    """

    def __init__(self, options: AwsOptions, default_region: str | None = None) -> None:
        self.options = options
        self._default_region = default_region
        self._session: boto3.session.Session | None = None
        self._clients: dict[str, Any] = {}

    def for_region(self, region: str | None) -> Aws:
        """The same options, defaulting to `region` (typically the region of an ARN)."""
        return Aws(self.options, default_region=region)

    @property
    def session(self) -> boto3.session.Session:
        if self._session is None:
            region = self.options.region or os.environ.get("AWS_REGION") or self._default_region
            try:
                self._session = boto3.session.Session(
                    profile_name=self.options.profile, region_name=region or None
                )
            except ProfileNotFound as exc:
                raise CliError(f"AWS profile not found: {exc.kwargs.get('profile')}") from exc
        return self._session

    @property
    def region(self) -> str | None:
        return self.session.region_name

    def client(self, service: str) -> Any:
        if service not in self._clients:
            config = Config(
                retries={"mode": "standard"},
                connect_timeout=10,
                read_timeout=60,
                user_agent_extra="smtune",
            )
            try:
                self._clients[service] = self.session.client(
                    service, endpoint_url=self.options.endpoint_url, config=config
                )
            except NoRegionError as exc:
                raise CliError(
                    "no AWS region: use --region or set AWS_REGION or AWS_DEFAULT_REGION"
                ) from exc
            except ValueError as exc:  # a malformed --endpoint-url
                raise CliError(f"--endpoint-url: {exc}") from exc
        return self._clients[service]


def error_code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


def error_message(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Message", "")).strip()


def describe_aws_error(exc: BaseException) -> str | None:
    """One line that names an AWS failure; None when `exc` is not an AWS failure."""
    if isinstance(exc, (NoCredentialsError, PartialCredentialsError)):
        return (
            "no AWS credentials found: set AWS_PROFILE, or AWS_ACCESS_KEY_ID and "
            "AWS_SECRET_ACCESS_KEY (any values work against a local emulator)"
        )
    if isinstance(exc, NoRegionError):
        return "no AWS region: use --region or set AWS_REGION or AWS_DEFAULT_REGION"
    if isinstance(exc, ProfileNotFound):
        return f"AWS profile not found: {exc.kwargs.get('profile')}"
    if isinstance(exc, EndpointConnectionError):
        url = exc.kwargs.get("endpoint_url", "the endpoint")
        return f"cannot connect to {url}: is the service (or the local emulator) running?"
    if isinstance(exc, (ReadTimeoutError, ConnectionClosedError)):
        url = exc.kwargs.get("endpoint_url", "the endpoint")
        return f"no answer from {url}: the connection timed out or was closed"
    if isinstance(exc, ParamValidationError):
        report = " ".join(str(exc.kwargs.get("report", exc)).split())
        return f"invalid request: {report}"
    if isinstance(exc, ClientError):
        code = error_code(exc)
        message = " ".join(error_message(exc).split())
        operation = exc.operation_name
        if code in _ACCESS_DENIED:
            return f"access denied: {operation} was refused ({message or code})"
        if code in _BAD_CREDENTIALS:
            return f"the AWS credentials were rejected by {operation}: {message or code}"
        if code == "ExecutionDoesNotExist":
            return f"execution not found: {message or code}"
        if code == "StateMachineDoesNotExist":
            return f"state machine not found: {message or code}"
        return (
            f"{operation} failed: {code}: {message}" if message else f"{operation} failed: {code}"
        )
    if isinstance(exc, BotoCoreError):
        return " ".join(str(exc).split())
    return None
