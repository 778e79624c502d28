"""Usage 1: `smtune init-params`, then `terraform apply -var-file=...` of examples/complete,
from a fresh copy of the repository's files, as its README says. The only addition is a
Terraform override file that points the example's provider at the local moto server; the tfvars
pick, through the example's lambda_runtime variable, a runtime that provider 3.39 knows. The
example itself is used unchanged."""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from python_terraform import IsNotFlagged

from smtune.cli import main as smtune
from tests.support.terraform import (
    ACCOUNT_ID,
    REGION,
    REPO_ROOT,
    TEST_RUNTIME,
    TerraformDir,
    as_list,
    emulator_provider,
    policy_statements,
)

pytestmark = [pytest.mark.terraform, pytest.mark.xdist_group("terraform-usage-tfvars")]

# What a checkout holds that the example needs (tests, tools and the Python sources do not).
CHECKOUT = [
    "main.tf",
    "variables.tf",
    "outputs.tf",
    "versions.tf",
    "iam.tf",
    "parameters.tf",
    "sns.tf",
    "modules",
    "statemachine",
    "lambda_src/dist",
    "lambda_src/tuning_workflow/schemas",
    "examples/complete",
    "examples/params",
]


def fresh_checkout(target: Path) -> Path:
    for relative in CHECKOUT:
        source = REPO_ROOT / relative
        destination = target / relative
        destination.parent.mkdir(parents=True, exist_ok=True)
        if source.is_dir():
            shutil.copytree(source, destination, ignore=shutil.ignore_patterns(".terraform*"))
        else:
            shutil.copy2(source, destination)
    return target


def test_apply_with_a_var_file_then_destroy(
    tmp_path: Path,
    terraform_dir: Callable[..., TerraformDir],
    moto_endpoint: str,
    aws: Callable[[str], Any],
) -> None:
    checkout = fresh_checkout(tmp_path / "checkout")
    example = checkout / "examples" / "complete"
    override = {"provider": {"aws": emulator_provider(moto_endpoint)}}
    (example / "emulator_override.tf.json").write_text(json.dumps(override, indent=2))
    # The user's parameter file, from their account, region and bucket, in the checkout's root
    # where the example's tfvars look for it.
    assert (
        smtune(
            [
                "init-params",
                "--account",
                ACCOUNT_ID,
                "--region",
                REGION,
                "--bucket",
                "usage-one-data",
                "--output",
                str(checkout / "ml-parameters.json"),
            ]
        )
        == 0
    )
    # The user's tfvars: the shipped example, with their bucket and the runtime their provider
    # (3.39 here) accepts.
    tfvars = tmp_path / "my.tfvars"
    example_vars = (example / "terraform.tfvars.example").read_text()
    assert re.search(r'(?m)^lambda_runtime\s*=\s*"python3\.12"$', example_vars)
    assert re.search(
        r'(?m)^ml_parameters_file\s*=\s*"\.\./\.\./ml-parameters\.json"$', example_vars
    )
    tfvars.write_text(
        re.sub(
            r"(?m)^lambda_runtime\s*=.*$",
            f'lambda_runtime = "{TEST_RUNTIME}"',
            example_vars.replace('"my-ml-bucket"', '"usage-one-data"'),
        )
    )
    aws("s3").create_bucket(Bucket="usage-one-data")

    terraform = terraform_dir(example)
    terraform.init()
    terraform.must("apply", skip_plan=True, var_file=str(tfvars), input=False, parallelism=20)
    outputs = terraform.outputs()
    machine = aws("stepfunctions").describe_state_machine(
        stateMachineArn=outputs["state_machine_arn"]
    )
    assert machine["status"] == "ACTIVE"
    # Published under the seed's path, one JSON parameter per file (the default layout).
    ssm = aws("ssm").get_parameter(Name="/ml-project/ml-parameters")["Parameter"]
    assert json.loads(ssm["Value"])["endpointName"] == "survival-endpoint"
    # The SageMaker role may use the user's bucket, and no other.
    role = "sagemaker-tuner-sagemaker-execution"
    document = aws("iam").get_role_policy(RoleName=role, PolicyName=f"{role}-permissions")
    document = document["PolicyDocument"]
    statements = policy_statements(document if isinstance(document, str) else json.dumps(document))
    buckets = {
        resource.removeprefix("arn:aws:s3:::").split("/")[0]
        for statement in statements
        for resource in as_list(statement["Resource"])
        if resource.startswith("arn:aws:s3:::")
    }
    assert buckets == {"usage-one-data"}

    # Someone else's parameter under the same path survives the destroy (the seed's Delete wiped
    # the whole path).
    aws("ssm").put_parameter(Name="/ml-project/owned-by-someone-else", Value="keep", Type="String")

    terraform.must(
        "destroy", force=IsNotFlagged, auto_approve=True, var_file=str(tfvars), input=False
    )
    names = {m["name"] for m in aws("stepfunctions").list_state_machines()["stateMachines"]}
    assert outputs["state_machine_arn"].rsplit(":", 1)[-1] not in names
    remaining = aws("ssm").get_parameters_by_path(Path="/ml-project", Recursive=True)["Parameters"]
    assert [p["Name"] for p in remaining] == ["/ml-project/owned-by-someone-else"]
