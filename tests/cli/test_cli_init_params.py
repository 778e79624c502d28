"""`smtune init-params`: the seed template from flags, validated, never silently overwritten."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tuning_workflow.validation import validate_ml_parameters

# One worker runs all CLI tests in a row: the moto server they share lives in its process.
pytestmark = pytest.mark.xdist_group("cli")

REPO = Path(__file__).resolve().parents[2]

FLAGS = [
    "--account",
    "123456789012",
    "--bucket",
    "ml-bucket",
    "--training-subnets",
    "subnet-aaa,subnet-bbb,subnet-ccc",
    "--training-security-groups",
    "sg-train",
    "--hosting-subnets",
    "subnet-aaa, subnet-bbb, subnet-ccc",
    "--hosting-security-groups",
    "sg-host",
]


def seed_template_filled() -> dict:
    """What the seed's jq scripts produced: the template with its placeholders replaced."""
    text = (REPO / "examples" / "seed" / "template-ml-parameters.json").read_text()
    document = json.loads(
        text.replace("<region>", "eu-west-1")
        .replace("<account-id>", "123456789012")
        .replace("<bucket-name>", "ml-bucket")
        .replace("<subnet-1>", "subnet-aaa")
        .replace("<subnet-2>", "subnet-bbb")
        .replace("<subnet-3>", "subnet-ccc")
    )
    document["model"]["trainingSecurityGroupIds"] = ["sg-train"]
    document["model"]["hosting"]["securityGroupIds"] = ["sg-host"]
    return document


def test_writes_the_seed_template_with_the_flags_filled_in(cli, tmp_path: Path) -> None:
    output = tmp_path / "ml-parameters.json"

    result = cli("init-params", *FLAGS, "--region", "eu-west-1", "--output", str(output))

    assert result.code == 0
    assert result.out == f"wrote {output}\n"
    written = json.loads(output.read_text())
    assert written == seed_template_filled()
    assert validate_ml_parameters(written) == []


def test_refuses_to_overwrite_without_force(cli, tmp_path: Path) -> None:
    output = tmp_path / "ml-parameters.json"
    output.write_text("{}")

    refused = cli("init-params", *FLAGS, "--region", "eu-west-1", "--output", str(output))
    assert refused.code == 2
    assert refused.err == f"smtune: error: {output} already exists; use --force to overwrite it\n"
    assert output.read_text() == "{}"

    forced = cli("init-params", *FLAGS, "--region", "eu-west-1", "--output", str(output), "--force")
    assert forced.code == 0
    assert json.loads(output.read_text())["endpointName"] == "survival-endpoint"


def test_writes_to_stdout_and_takes_the_names(cli) -> None:
    result = cli(
        "init-params",
        *FLAGS,
        "--region",
        "us-west-2",
        "--tuning-job-name",
        "churn",
        "--endpoint-name",
        "churn-endpoint",
        "--algorithm-arn",
        "arn:aws:sagemaker:us-west-2:123456789012:algorithm/xgb",
        "--output",
        "-",
    )

    assert result.code == 0
    document = json.loads(result.out)
    assert document["tuningJobName"] == "churn"
    assert document["endpointName"] == "churn-endpoint"
    assert document["algorithmARN"] == "arn:aws:sagemaker:us-west-2:123456789012:algorithm/xgb"


def test_vpc_settings_are_optional(cli) -> None:
    result = cli(
        "init-params", "--account", "123456789012", "--bucket", "b-1", "--region", "us-east-1",
        "--output", "-",
    )  # fmt: skip

    assert result.code == 0
    document = json.loads(result.out)
    assert "trainingSubnets" not in document["model"]
    assert "subnets" not in document["model"]["hosting"]
    assert validate_ml_parameters(document) == []


def test_the_region_comes_from_the_environment_like_the_aws_cli(cli, monkeypatch) -> None:
    monkeypatch.setenv("AWS_REGION", "ap-southeast-2")

    result = cli("init-params", *FLAGS, "--output", "-")

    assert result.code == 0
    assert ":ap-southeast-2:" in json.loads(result.out)["algorithmARN"]


def test_the_global_region_option_may_come_first(cli) -> None:
    result = cli("--region", "ca-central-1", "init-params", *FLAGS, "--output", "-")

    assert result.code == 0
    assert ":ca-central-1:" in json.loads(result.out)["algorithmARN"]


@pytest.mark.parametrize(
    ("flag", "value", "message"),
    [
        ("--account", "12345", "--account: '12345' is not a 12-digit AWS account id"),
        ("--bucket", "Bad_Bucket", "--bucket: 'Bad_Bucket' is not an S3 bucket name"),
        ("--region", "mars", "--region: 'mars' is not an AWS region name such as us-east-1"),
    ],
)
def test_bad_flags_are_named(cli, flag: str, value: str, message: str) -> None:
    argv = ["init-params", *FLAGS, "--region", "eu-west-1", "--output", "-"]
    argv[argv.index(flag) + 1] = value

    result = cli(*argv)

    assert result.code == 2
    assert result.err == f"smtune: error: {message}\n"
    assert result.out == ""


def test_an_invalid_combination_is_refused_with_the_field(cli, tmp_path: Path) -> None:
    output = tmp_path / "ml-parameters.json"

    result = cli(
        "init-params", "--account", "123456789012", "--bucket", "b-1", "--region", "us-east-1",
        "--hosting-subnets", "subnet-1", "--output", str(output),
    )  # fmt: skip

    assert result.code == 2
    assert "$.model.hosting" in result.err
    assert "securityGroupIds" in result.err
    assert not output.exists()


def test_a_too_long_tuning_job_name_is_refused(cli) -> None:
    result = cli(
        "init-params", *FLAGS, "--region", "eu-west-1", "--tuning-job-name", "x" * 25,
        "--output", "-",
    )  # fmt: skip

    assert result.code == 2
    assert "$.tuningJobName" in result.err


def test_without_any_region_it_says_which_flag(cli, monkeypatch) -> None:
    monkeypatch.delenv("AWS_DEFAULT_REGION")

    result = cli("init-params", *FLAGS, "--output", "-")

    assert result.code == 2
    assert result.err == "smtune: error: init-params: the region is required: use --region\n"


def test_required_flags(cli) -> None:
    result = cli("init-params", "--bucket", "b-1")

    assert result.code == 2
    assert "the following arguments are required: --account" in result.err
