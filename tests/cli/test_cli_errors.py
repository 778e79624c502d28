"""Bad environments end in one line naming the problem, never a traceback."""

from __future__ import annotations

import socket
from typing import Any

import pytest
from botocore.exceptions import ClientError

from smtune import cli as cli_module
from smtune.aws import Aws, describe_aws_error

# One worker runs all CLI tests in a row: the moto server they share lives in its process.
pytestmark = pytest.mark.xdist_group("cli")

EXECUTION = "arn:aws:states:us-east-1:123456789012:execution:demo-workflow:run-1"


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])  # nothing listens here once the socket is closed


def assert_one_error_line(result, expected: str) -> None:
    assert result.code == 2
    assert result.out == ""
    assert result.err == f"smtune: error: {expected}\n"


def test_emulator_not_running(cli) -> None:
    url = f"http://127.0.0.1:{closed_port()}"

    result = cli("status", EXECUTION, "--endpoint-url", url)

    assert_one_error_line(
        result, f"cannot connect to {url}/: is the service (or the local emulator) running?"
    )


def test_the_endpoint_option_wins_over_the_environment(cli, aws, monkeypatch) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://127.0.0.1:{closed_port()}")
    machine = aws.state_machine({"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}})

    result = cli("start", "--state-machine-arn", machine, "--manifest", "s3://bkt/m.json",
                 "--endpoint-url", aws.url)  # fmt: skip

    assert result.code == 0, result.err


def test_no_credentials(cli, aws, monkeypatch) -> None:
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")

    result = cli("status", EXECUTION)

    assert_one_error_line(
        result,
        "no AWS credentials found: set AWS_PROFILE, or AWS_ACCESS_KEY_ID and "
        "AWS_SECRET_ACCESS_KEY (any values work against a local emulator)",
    )


def test_an_unknown_profile(cli) -> None:
    result = cli("history", EXECUTION, "--profile", "no-such-profile")

    assert_one_error_line(result, "AWS profile not found: no-such-profile")


def test_no_region_for_a_name_only_command(cli, monkeypatch) -> None:
    monkeypatch.delenv("AWS_DEFAULT_REGION")

    result = cli("report", "--tuning-job", "t", "--output", "r.html")

    assert_one_error_line(
        result, "no AWS region: use --region or set AWS_REGION or AWS_DEFAULT_REGION"
    )


class DeniedStepFunctions:
    def describe_execution(self, **_: Any) -> dict[str, Any]:
        raise ClientError(
            {
                "Error": {
                    "Code": "AccessDeniedException",
                    "Message": "User: arn:aws:iam::123456789012:user/ops is not authorized to "
                    "perform: states:DescribeExecution",
                }
            },
            "DescribeExecution",
        )


def test_access_denied_names_the_operation(cli, monkeypatch) -> None:
    monkeypatch.setattr(Aws, "client", lambda self, service: DeniedStepFunctions())

    result = cli("status", EXECUTION)

    assert_one_error_line(
        result,
        "access denied: DescribeExecution was refused (User: arn:aws:iam::123456789012:user/ops "
        "is not authorized to perform: states:DescribeExecution)",
    )


def test_an_unexpected_fault_is_still_one_line(cli, monkeypatch) -> None:
    def broken(_definition: Any) -> Any:
        raise RuntimeError("layout exploded")

    monkeypatch.setattr(cli_module.graph, "build_flow", broken)

    result = cli("graph", "--template", "parent")

    assert_one_error_line(
        result, "unexpected RuntimeError: layout exploded (set SMTUNE_DEBUG=1 for details)"
    )
    assert "Traceback" not in result.err


@pytest.mark.parametrize(
    ("code", "message", "expected"),
    [
        ("ThrottlingException", "Rate exceeded", "GetExecutionHistory failed: ThrottlingException: Rate exceeded"),
        ("ExpiredTokenException", "The security token included in the request is expired",
         "the AWS credentials were rejected by GetExecutionHistory: The security token included "
         "in the request is expired"),
        ("ExecutionDoesNotExist", "Execution Does Not Exist: 'arn'",
         "execution not found: Execution Does Not Exist: 'arn'"),
    ],
)  # fmt: skip
def test_aws_errors_read_as_one_line(code: str, message: str, expected: str) -> None:
    error = ClientError({"Error": {"Code": code, "Message": message}}, "GetExecutionHistory")

    assert describe_aws_error(error) == expected


def test_other_exceptions_are_not_aws_errors() -> None:
    assert describe_aws_error(ValueError("x")) is None
