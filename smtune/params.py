"""`smtune init-params`: an ml-parameters.json from flags, equal to the seed's template."""

from __future__ import annotations

import re
from typing import Any

from smtune.errors import CliError
from tuning_workflow import naming
from tuning_workflow.validation import load_schema

DEFAULT_TUNING_JOB_NAME = "survival-tuning"
# How long the tuning job's base name may be: SageMaker's limit minus the run suffix (the schema).
TUNING_JOB_NAME_MAX = naming.base_name_limit(
    load_schema("ml-parameters")["properties"]["tuningJobName"][naming.NAMES_KEYWORD]
).max_length
DEFAULT_ENDPOINT_NAME = "survival-endpoint"
DEFAULT_MODEL_NAME = "survival-model"
DEFAULT_ALGORITHM = "h2o-gbm-algorithm"

_ACCOUNT = re.compile(r"^\d{12}$")
_REGION = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d+$")
_BUCKET = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")


def split_list(value: str | None) -> list[str]:
    """Split a comma-separated flag: "a, b,,c" -> ["a", "b", "c"]."""
    return [item.strip() for item in (value or "").split(",") if item.strip()]


def build_ml_parameters(
    *,
    account: str,
    region: str,
    bucket: str,
    training_subnets: list[str],
    training_security_groups: list[str],
    hosting_subnets: list[str],
    hosting_security_groups: list[str],
    tuning_job_name: str = DEFAULT_TUNING_JOB_NAME,
    endpoint_name: str = DEFAULT_ENDPOINT_NAME,
    model_name: str = DEFAULT_MODEL_NAME,
    algorithm_arn: str | None = None,
) -> dict[str, Any]:
    """The seed's template-ml-parameters.json with its placeholders filled in.

    VPC settings are optional: a list left empty leaves its key out (training or hosting without
    a VPC), which the validation then checks pairwise.
    """
    if not _ACCOUNT.match(account):
        raise CliError(f"--account: {account!r} is not a 12-digit AWS account id")
    if not _REGION.match(region):
        raise CliError(f"--region: {region!r} is not an AWS region name such as us-east-1")
    bucket = bucket.removeprefix("s3://").rstrip("/")
    if not _BUCKET.match(bucket):
        raise CliError(f"--bucket: {bucket!r} is not an S3 bucket name")
    model: dict[str, Any] = {
        "artifactType": "MOJO",
        "artifactsS3OutputPath": f"s3://{bucket}/model-artifacts/",
        "name": model_name,
    }
    if training_security_groups:
        model["trainingSecurityGroupIds"] = training_security_groups
    if training_subnets:
        model["trainingSubnets"] = training_subnets
    hosting: dict[str, Any] = {"initialInstanceCount": "1", "instanceType": "ml.c5.2xlarge"}
    if hosting_security_groups:
        hosting["securityGroupIds"] = hosting_security_groups
    if hosting_subnets:
        hosting["subnets"] = hosting_subnets
    model["hosting"] = hosting
    return {
        "tuningJobName": tuning_job_name,
        "tuningStrategy": "Bayesian",
        "algorithmARN": algorithm_arn
        or f"arn:aws:sagemaker:{region}:{account}:algorithm/{DEFAULT_ALGORITHM}",
        "maxParallelTrainingJobs": 10,
        "maxNumberOfTrainingJobs": 10,
        "inputContentType": "text/csv",
        "trainingJobDefinitionName": "training-job-def-0",
        "enableManagedSpotTraining": True,
        "spotTrainingCheckpointS3Uri": f"s3://{bucket}/model-training-checkpoint/",
        "trainingInstanceType": "ml.c5.2xlarge",
        "trainingInstanceVolumeSizeInGB": 30,
        "trainingJobEarlyStoppingType": "Auto",
        "endpointName": endpoint_name,
        "model": model,
        "autoscalingMinCapacity": 1,
        "autoscalingMaxCapacity": 4,
        "targetTrackingScalingPolicyConfiguration": {
            "DisableScaleIn": True,
            "PredefinedMetricSpecification": {
                "PredefinedMetricType": "SageMakerVariantInvocationsPerInstance"
            },
            "ScaleInCooldown": 300,
            "ScaleOutCooldown": 60,
            "TargetValue": 5000,
        },
    }
