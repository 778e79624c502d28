"""Fixtures for the workflow runs: the emulator, and stacks deployed into it with Terraform.

Each stack is this module applied by a root outside the repository (as another repository
would use it) into the local emulator, so the runs execute the rendered state machines with the
real Lambda packages behind the Lambda tasks.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.support.terraform import (
    BUNDLED_PACKAGE,
    PARAMS_DIR,
    REPO_ROOT,
    TerraformDir,
    clients_for,
    terraform_binary,
    terraform_environment,
    write_root,
)
from tests.support.workflow import Stack, deep_merge, sns_queue

pytestmark = pytest.mark.emulator

MANIFEST_BUCKET = "sagemaker-tuner-demo"


@pytest.fixture(scope="module")
def emulator() -> Iterator[Any]:
    from smtune.emulator.server import start_emulator

    running = start_emulator(port=0)
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture(scope="module")
def clients(emulator: Any) -> Callable[[str], Any]:
    return clients_for(emulator.endpoint_url)


@pytest.fixture(scope="module")
def deploy(
    emulator: Any, clients: Callable[[str], Any], tmp_path_factory: pytest.TempPathFactory
) -> Callable[..., Stack]:
    """Apply the module into the emulator: `deploy("name", {ml-parameter overrides}, **inputs)`.

    Each stack has its own data bucket `<name>-data` unless `bucket` names one to share (it is
    created when missing); the parameter files' bucket is replaced by it. The Lambda package
    is uploaded to that bucket and the functions take their code from there
    (lambda_package_s3), unless `package_in_s3` is False: then each function sends the local
    file, the module's default."""
    env = terraform_environment()
    binary = terraform_binary()
    hyperparameters = PARAMS_DIR / "hyperparameters.json"

    def apply(
        name: str,
        ml_overrides: dict[str, Any] | None = None,
        *,
        bucket: str | None = None,
        package_in_s3: bool = True,
        **inputs: Any,
    ) -> Stack:
        directory = tmp_path_factory.mktemp(name)
        bucket = bucket or f"{name}-data"
        base = json.loads((PARAMS_DIR / "ml-parameters.json").read_text())
        text = json.dumps(base).replace(MANIFEST_BUCKET, bucket)
        ml_parameters = deep_merge(json.loads(text), ml_overrides or {})
        params_file = directory / "ml-parameters.json"
        params_file.write_text(json.dumps(ml_parameters, indent=2))
        s3 = clients("s3")
        if bucket not in {b["Name"] for b in s3.list_buckets()["Buckets"]}:
            s3.create_bucket(Bucket=bucket)
        if package_in_s3:
            package = BUNDLED_PACKAGE.read_bytes()
            key = f"lambda-packages/{hashlib.sha256(package).hexdigest()}.zip"
            s3.put_object(Bucket=bucket, Key=key, Body=package)
            inputs = {"lambda_package_s3": {"bucket": bucket, "key": key}, **inputs}
        module_inputs = {
            "name_prefix": name,
            "s3_bucket": bucket,
            "ml_parameters_file": str(params_file),
            "hyperparameters_file": str(hyperparameters),
            "lambda_runtime": "python3.8",
            # The example manifest's channels read from this bucket.
            "additional_s3_bucket_names": [MANIFEST_BUCKET],
            **inputs,
        }
        write_root(directory / "root", REPO_ROOT, module_inputs)
        terraform = TerraformDir(directory / "root", binary, env)
        terraform.init()
        variables = {"endpoint_url": emulator.endpoint_url}
        terraform.apply(variables, parallelism=20)
        return Stack(
            name=name,
            bucket=bucket,
            outputs=terraform.outputs()["module"],
            ml_parameters=ml_parameters,
            terraform=terraform,
            variables=variables,
            clients=clients,
        )

    return apply


@pytest.fixture(scope="module")
def manifest() -> dict[str, Any]:
    return json.loads((PARAMS_DIR / "manifest.json").read_text())


@pytest.fixture(scope="module")
def main_stack(deploy: Callable[..., Stack]) -> Stack:
    """The seed's parameters, with a short endpoint wait and the S3 manifest trigger on; the
    functions send the local package, as they do by default."""
    return deploy(
        "wf-main",
        {"endpointWaitIntervalSeconds": 2, "endpointWaitTimeoutSeconds": 600},
        package_in_s3=False,
        enable_manifest_trigger=True,
        manage_bucket_notification=True,
    )


@pytest.fixture(scope="module")
def main_notifications(main_stack: Stack) -> Callable[[], list[str]]:
    return sns_queue(main_stack)
