"""Fixtures for the Terraform tests: the CLI, a plain moto server, and planned roots.

Roots live in temporary directories outside the repository and call the module by absolute
path, as another repository would; the repository's own configurations are validated from a
copy (test_terraform_static.py). The tests write nothing into the repository.
"""

from __future__ import annotations

import json
import socket
import urllib.request
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Callable

import pytest
from moto.server import ThreadedMotoServer

from tests.support.terraform import (
    ACCOUNT_ID,
    BRING_YOUR_OWN,
    BUNDLED_PACKAGE,
    KMS_KEYS,
    PARAMS_DIR,
    REGION,
    REPO_ROOT,
    TEST_RUNTIME,
    VARIANT_PACKAGE_S3,
    TerraformDir,
    clients_for,
    terraform_binary,
    terraform_environment,
    write_root,
)


@pytest.fixture(scope="session")
def terraform_env() -> dict[str, str]:
    return terraform_environment()


@pytest.fixture(scope="session")
def terraform_bin() -> str:
    return terraform_binary()


@pytest.fixture(scope="session")
def terraform_dir(terraform_bin: str, terraform_env: dict[str, str]) -> Callable[..., TerraformDir]:
    """Make a TerraformDir for a working directory."""

    def make(working_dir: Path) -> TerraformDir:
        return TerraformDir(working_dir, terraform_bin, terraform_env)

    return make


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    """A plain moto server on a free loopback port (no emulation layer: nothing here runs)."""
    port = _free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    endpoint = f"http://127.0.0.1:{port}"
    request = urllib.request.Request(
        f"{endpoint}/moto-api/config",
        data=json.dumps({"lambda": {"use_docker": False}}).encode(),
        method="POST",
    )
    urllib.request.urlopen(request, timeout=10).close()
    try:
        yield endpoint
    finally:
        server.stop()


@pytest.fixture(scope="session")
def aws(moto_endpoint: str) -> Callable[[str], Any]:
    """boto3 clients for the moto server: `aws("iam")`."""
    return clients_for(moto_endpoint)


@pytest.fixture(scope="session")
def lambda_package(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The bundled package when it has been built, else a stand-in (moto never runs it)."""
    if BUNDLED_PACKAGE.is_file():
        return BUNDLED_PACKAGE
    stand_in = tmp_path_factory.mktemp("package") / "lambda-x86_64.zip"
    with zipfile.ZipFile(stand_in, "w") as archive:
        archive.writestr("tuning_workflow/__init__.py", '"""Stand-in package."""\n')
    return stand_in


@pytest.fixture(scope="session")
def seed_documents() -> dict[str, Any]:
    return {
        "ml_parameters": json.loads((PARAMS_DIR / "ml-parameters.json").read_text()),
        "hyperparameters": json.loads((PARAMS_DIR / "hyperparameters.json").read_text()),
    }


# ---------------------------------------------------------------------------------------------
# Planned scenarios
# ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def full_scenario(tmp_path_factory: pytest.TempPathFactory, lambda_package: Path) -> dict[str, Any]:
    """The seed's parameters with every option on: KMS keys, the manifest trigger with its
    bucket notification, extra buckets, tags."""
    return {
        "inputs": {
            "name_prefix": "tfplan-full",
            "environment": "staging",
            # A caller's tag named environment gives way to the module's Environment tag.
            "tags": {"team": "ml-platform", "environment": "from-the-caller"},
            "s3_bucket": "sagemaker-tuner-demo",
            "additional_s3_bucket_names": ["extra-training-data"],
            "ml_parameters_file": str(PARAMS_DIR / "ml-parameters.json"),
            "hyperparameters_file": str(PARAMS_DIR / "hyperparameters.json"),
            "enable_manifest_trigger": True,
            "manage_bucket_notification": True,
            "kms_key_arns": KMS_KEYS,
            "lambda_runtime": TEST_RUNTIME,
            "lambda_package_path": str(lambda_package),
        },
    }


@pytest.fixture(scope="session")
def variant_documents(
    tmp_path_factory: pytest.TempPathFactory, seed_documents: dict[str, Any]
) -> dict[str, Any]:
    """Parameters that exercise the other branches: mixed-case names, a training image, warm
    start, no VPC, S3 locations on the variant's own bucket, a static hyperparameter too big
    for the Standard tier, and the model lifecycle's options (registry with manual approval)."""
    ml_parameters = json.loads(
        json.dumps(seed_documents["ml_parameters"]).replace(
            "s3://sagemaker-tuner-demo/", "s3://churn-data/"
        )
    )
    ml_parameters.pop("algorithmARN")
    ml_parameters.update(
        {
            "tuningJobName": "Churn-Tuning",
            "endpointName": "Churn-Endpoint",
            "trainingImage": f"{ACCOUNT_ID}.dkr.ecr.{REGION}.amazonaws.com/churn-train:1.0",
            "inferenceImage": f"{ACCOUNT_ID}.dkr.ecr.{REGION}.amazonaws.com/churn-serve:1.0",
            "metricDefinitions": [{"Name": "validation:auc", "Regex": "auc=([0-9.]+)"}],
            "warmStart": {
                "parentTuningJobs": ["churn-tuning-0123456789ab"],
                "type": "TransferLearning",
            },
            # The lifecycle with every option: a registry with manual approval.
            "promotion": {"policy": "ifBetter", "minImprovement": "0.01"},
            "modelRegistry": {
                "modelPackageGroupName": "Churn-Models",
                "approval": "manual",
                "approvalTimeoutHours": 24,
            },
            "retention": {"keepModels": 3},
        }
    )
    ml_parameters["model"]["name"] = "Churn-Model"
    for key in ("subnets", "securityGroupIds"):
        ml_parameters["model"]["hosting"].pop(key)
    for key in ("trainingSubnets", "trainingSecurityGroupIds"):
        ml_parameters["model"].pop(key)
    hyperparameters = json.loads(json.dumps(seed_documents["hyperparameters"]))
    # 2,100 characters but 4,200 bytes: the tier follows the bytes.
    hyperparameters["staticHyperParameters"]["feature_notes"] = "é" * 2100
    directory = tmp_path_factory.mktemp("variant-documents")
    (directory / "ml-parameters.json").write_text(json.dumps(ml_parameters))
    (directory / "hyperparameters.json").write_text(json.dumps(hyperparameters, ensure_ascii=False))
    return {
        "ml_parameters": ml_parameters,
        "hyperparameters": hyperparameters,
        "ml_parameters_file": directory / "ml-parameters.json",
        "hyperparameters_file": directory / "hyperparameters.json",
    }


@pytest.fixture(scope="session")
def variant_scenario(variant_documents: dict[str, Any], lambda_package: Path) -> dict[str, Any]:
    """Bring-your-own role and topic, the trigger without the bucket notification, no KMS, a
    Parameter Store path of the caller's."""
    return {
        "inputs": {
            "name_prefix": "tfplan-variant",
            "s3_bucket": "churn-data",
            # An explicit path, not the default /<name_prefix>.
            "parameter_store_path": "/teams/churn",
            "ml_parameters_file": str(variant_documents["ml_parameters_file"]),
            "hyperparameters_file": str(variant_documents["hyperparameters_file"]),
            "enable_manifest_trigger": True,
            "lambda_runtime": TEST_RUNTIME,
            "lambda_package_path": str(lambda_package),
            # The package as uploaded to S3 by the caller.
            "lambda_package_s3": VARIANT_PACKAGE_S3,
            **BRING_YOUR_OWN,
        },
    }


def _plan_root(
    name: str,
    inputs: dict[str, Any],
    tmp_path_factory: pytest.TempPathFactory,
    terraform_dir: Callable[..., TerraformDir],
    moto_endpoint: str,
) -> dict[str, Any]:
    root = write_root(tmp_path_factory.mktemp(name), REPO_ROOT, inputs)
    terraform = terraform_dir(root)
    terraform.init()
    return terraform.plan_json({"endpoint_url": moto_endpoint}, root / "plan.bin")


@pytest.fixture(scope="session")
def full_plan(
    full_scenario: dict[str, Any],
    tmp_path_factory: pytest.TempPathFactory,
    terraform_dir: Callable[..., TerraformDir],
    moto_endpoint: str,
) -> dict[str, Any]:
    return _plan_root(
        "full-plan", full_scenario["inputs"], tmp_path_factory, terraform_dir, moto_endpoint
    )


@pytest.fixture(scope="session")
def default_plan(
    tmp_path_factory: pytest.TempPathFactory,
    terraform_dir: Callable[..., TerraformDir],
    moto_endpoint: str,
) -> dict[str, Any]:
    """The default configuration: the required inputs only, with the bundled package and a
    runtime that provider 3.39 accepts."""
    inputs = {
        "s3_bucket": "sagemaker-tuner-demo",
        "ml_parameters_file": str(PARAMS_DIR / "ml-parameters.json"),
        "hyperparameters_file": str(PARAMS_DIR / "hyperparameters.json"),
        "lambda_runtime": TEST_RUNTIME,
    }
    return _plan_root("default-plan", inputs, tmp_path_factory, terraform_dir, moto_endpoint)


@pytest.fixture(scope="session")
def all_options_plan(
    full_scenario: dict[str, Any],
    tmp_path_factory: pytest.TempPathFactory,
    terraform_dir: Callable[..., TerraformDir],
    moto_endpoint: str,
) -> dict[str, Any]:
    """Every optional feature on: the full scenario (KMS keys, manifest trigger with its bucket
    notification, extra buckets, tags; the seed's VPC settings) plus X-Ray tracing, execution
    logging with data, and the parameters published one per leaf, as the seed stack did."""
    inputs = {
        **full_scenario["inputs"],
        "name_prefix": "tfplan-all",
        "parameter_store_path": "/tfplan-all",
        "parameter_store_layout": "leaves",
        "enable_xray_tracing": True,
        "log_level": "ALL",
        "log_include_execution_data": True,
    }
    return _plan_root("all-options-plan", inputs, tmp_path_factory, terraform_dir, moto_endpoint)


@pytest.fixture(scope="session")
def variant_plan(
    variant_scenario: dict[str, Any],
    tmp_path_factory: pytest.TempPathFactory,
    terraform_dir: Callable[..., TerraformDir],
    moto_endpoint: str,
) -> dict[str, Any]:
    return _plan_root(
        "variant-plan", variant_scenario["inputs"], tmp_path_factory, terraform_dir, moto_endpoint
    )
