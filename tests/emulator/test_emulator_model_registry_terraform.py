"""Terraform's aws_sagemaker_model_package_group (provider 3.39) against the emulator: apply,
read back without drift, destroy."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from botocore.exceptions import ClientError

from tests.support.terraform import (
    TerraformDir,
    emulator_provider,
    terraform_binary,
    terraform_environment,
)

pytestmark = [pytest.mark.emulator, pytest.mark.terraform]


def test_model_package_group_applies_reads_back_and_destroys(tmp_path: Path, emulator, aws):
    config = {
        "terraform": {
            "required_providers": {"aws": {"source": "hashicorp/aws", "version": "3.39.0"}}
        },
        "variable": {"endpoint_url": {"type": "string"}},
        "provider": {"aws": emulator_provider()},
        "resource": {
            "aws_sagemaker_model_package_group": {
                "registry": {
                    "model_package_group_name": "Churn-Models",
                    "model_package_group_description": "churn models",
                    "tags": {"owner": "team"},
                }
            }
        },
        "output": {"arn": {"value": "${aws_sagemaker_model_package_group.registry.arn}"}},
    }
    (tmp_path / "main.tf.json").write_text(json.dumps(config))
    variables = {"endpoint_url": emulator.endpoint_url}
    tf = TerraformDir(tmp_path, terraform_binary(), terraform_environment())
    tf.init()

    tf.apply(variables)

    arn = tf.outputs()["arn"]
    assert arn == "arn:aws:sagemaker:us-east-1:123456789012:model-package-group/churn-models"
    sm = aws("sagemaker")
    assert (
        sm.describe_model_package_group(ModelPackageGroupName="Churn-Models")[
            "ModelPackageGroupDescription"
        ]
        == "churn models"
    )
    assert sm.list_tags(ResourceArn=arn)["Tags"] == [{"Key": "owner", "Value": "team"}]
    assert tf.plan(variables).returncode == 0  # read back: no drift

    tf.destroy(variables)

    with pytest.raises(ClientError):
        sm.describe_model_package_group(ModelPackageGroupName="Churn-Models")
