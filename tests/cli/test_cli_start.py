"""`smtune start`: a manifest (inline or S3 URI) in, the execution ARN out."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

# One worker runs all CLI tests in a row: the moto server they share lives in its process.
pytestmark = pytest.mark.xdist_group("cli")

REPO = Path(__file__).resolve().parents[2]
MANIFEST = REPO / "examples" / "params" / "manifest.json"
PASS_MACHINE = {"StartAt": "Accept", "States": {"Accept": {"Type": "Pass", "End": True}}}
EXECUTION_ARN = re.compile(r"^arn:aws:states:us-east-1:123456789012:execution:[^:]+:[^:]+$")


@pytest.fixture
def machine(aws) -> str:
    return aws.state_machine(PASS_MACHINE)


def execution_input(aws, execution_arn: str) -> dict:
    described = aws.client("stepfunctions").describe_execution(executionArn=execution_arn)
    return json.loads(described["input"])


def test_a_local_manifest_is_sent_inline_and_only_the_arn_is_printed(cli, aws, machine) -> None:
    result = cli("start", "--state-machine-arn", machine, "--manifest", str(MANIFEST))

    assert result.code == 0
    assert result.err == ""
    execution_arn = result.out.strip()
    assert result.out == execution_arn + "\n"
    assert EXECUTION_ARN.match(execution_arn)
    assert execution_input(aws, execution_arn) == {"manifest": json.loads(MANIFEST.read_text())}


def test_an_s3_manifest_is_passed_by_uri(cli, aws, machine) -> None:
    uri = "s3://sagemaker-tuner-demo/manifests/run-1.json"

    result = cli("start", "--state-machine-arn", machine, "--manifest", uri, "--name", "by-uri")

    assert result.code == 0
    assert result.out.strip().endswith(":by-uri")
    assert execution_input(aws, result.out.strip()) == {"manifestS3Uri": uri}


def test_the_state_machine_may_come_from_the_environment(cli, aws, machine, monkeypatch) -> None:
    monkeypatch.setenv("SMTUNE_STATE_MACHINE_ARN", machine)

    result = cli("start", "--manifest", str(MANIFEST))

    assert result.code == 0
    assert result.out.startswith(machine.replace(":stateMachine:", ":execution:") + ":smtune-")


def test_two_starts_without_a_name_get_different_executions(cli, aws, machine) -> None:
    first = cli("start", "--state-machine-arn", machine, "--manifest", str(MANIFEST))
    second = cli("start", "--state-machine-arn", machine, "--manifest", str(MANIFEST))

    assert first.code == second.code == 0
    assert first.out != second.out


def test_a_name_already_used_is_reported(cli, aws, machine) -> None:
    assert cli("start", "--state-machine-arn", machine, "--manifest", str(MANIFEST), "--name", "n1")
    again = cli(
        "start", "--state-machine-arn", machine, "--manifest", str(MANIFEST), "--name", "n1"
    )

    assert again.code == 2
    assert again.err == "smtune: error: --name: an execution named 'n1' already exists\n"


def test_an_invalid_manifest_is_not_started(cli, aws, machine, tmp_path: Path) -> None:
    # GIVEN a manifest with two channels of the same name and no data source on one
    bad = tmp_path / "manifest.json"
    bad.write_text(json.dumps({"channels": [{"channelName": "a"}, {"channelName": "a"}]}))

    # WHEN it is started
    result = cli("start", "--state-machine-arn", machine, "--manifest", str(bad))

    # THEN nothing starts and the one error line lists the problems with their paths
    assert result.code == 1
    assert result.out == ""
    assert result.err.startswith(f"smtune: error: {bad}: not a valid manifest: $.channels[0]")
    assert "$.channels[1].channelName" in result.err
    assert result.err.count("\n") == 1
    executions = aws.client("stepfunctions").list_executions(stateMachineArn=machine)
    assert executions["executions"] == []


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--manifest", "m.json"], "start: no state machine: use --state-machine-arn or set "),
        (
            ["--state-machine-arn", "arn:aws:states:us-east-1:123456789012:stateMachine:x",
             "--manifest", "s3://only-a-bucket"],
            "--manifest: 's3://only-a-bucket' is not an S3 URI of the form s3://bucket/key",
        ),
        (
            ["--state-machine-arn", "my-machine", "--manifest", "s3://bkt/k.json"],
            "--state-machine-arn: 'my-machine' is not a Step Functions state machine ARN",
        ),
    ],
)  # fmt: skip
def test_usage_problems_are_named(cli, argv: list[str], message: str) -> None:
    result = cli("start", *argv)

    assert result.code == 2
    assert result.err.startswith(f"smtune: error: {message}")


def test_an_unknown_state_machine(cli, aws) -> None:
    arn = "arn:aws:states:us-east-1:123456789012:stateMachine:does-not-exist"

    result = cli("start", "--state-machine-arn", arn, "--manifest", "s3://bkt/k.json")

    assert result.code == 2
    assert result.err == f"smtune: error: state machine not found: {arn}\n"
