"""A bad parameter file fails `terraform plan` with a message that names the file and the
field, before anything is created. The required fields and the tuning strategies are read
from the JSON Schemas, so the tests take them from there too."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Callable

import pytest

from tests.support.terraform import (
    PARAMS_DIR,
    REPO_ROOT,
    TEST_RUNTIME,
    TerraformDir,
    write_root,
)

pytestmark = [
    pytest.mark.terraform,
    # One worker per group under pytest-xdist: the group shares its session fixtures (plans, or
    # the applied deployment) instead of building them once per worker.
    pytest.mark.xdist_group("terraform-plans"),
    pytest.mark.filterwarnings("ignore:The 'warn' method is deprecated:DeprecationWarning"),
]

SCHEMAS = REPO_ROOT / "lambda_src" / "tuning_workflow" / "schemas"


@pytest.fixture(scope="module")
def failing_root(
    tmp_path_factory: pytest.TempPathFactory,
    terraform_dir: Callable[..., TerraformDir],
    lambda_package: Path,
) -> TerraformDir:
    """A root whose parameter file paths are variables: one init, one plan per bad file."""
    root = write_root(
        tmp_path_factory.mktemp("failing-root"),
        REPO_ROOT,
        {
            "name_prefix": "tfplan-bad",
            "s3_bucket": "sagemaker-tuner-demo",
            "parameter_store_path": "/tfplan-bad",
            "ml_parameters_file": "${var.ml_parameters_file}",
            "hyperparameters_file": "${var.hyperparameters_file}",
            "lambda_runtime": TEST_RUNTIME,
            "lambda_package_path": str(lambda_package),
        },
        variables={"ml_parameters_file": "string", "hyperparameters_file": "string"},
    )
    terraform = terraform_dir(root)
    terraform.init()
    return terraform


@pytest.fixture
def plan_with(failing_root: TerraformDir, moto_endpoint: str, tmp_path: Path) -> Callable[..., str]:
    """Plan with the given documents (dicts are written as JSON, strings as they are); return
    the combined output with its line wrapping undone. The plan must fail."""

    def plan(ml_parameters: Any = None, hyperparameters: Any = None) -> str:
        files = {}
        for name, document, default in (
            ("ml_parameters_file", ml_parameters, PARAMS_DIR / "ml-parameters.json"),
            ("hyperparameters_file", hyperparameters, PARAMS_DIR / "hyperparameters.json"),
        ):
            if document is None:
                files[name] = str(default)
                continue
            path = tmp_path / f"{name}.json"
            path.write_text(document if isinstance(document, str) else json.dumps(document))
            files[name] = str(path)

        result = failing_root.plan({"endpoint_url": moto_endpoint, **files})

        assert result.returncode == 1, f"the plan should fail:\n{result.output}"
        return " ".join(result.output.split())

    return plan


@pytest.fixture
def ml_parameters() -> dict[str, Any]:
    return json.loads((PARAMS_DIR / "ml-parameters.json").read_text())


def test_every_required_field_of_the_schema_is_checked(
    plan_with: Callable[..., str], ml_parameters: dict[str, Any]
) -> None:
    # GIVEN a file without any of the fields the schema requires (at the root, in model and
    # in model.hosting)
    schema = json.loads((SCHEMAS / "ml-parameters.schema.json").read_text())
    model_schema = schema["properties"]["model"]
    required = [f"$.{k}" for k in schema["required"] if k != "model"]
    required += [f"$.model.{k}" for k in model_schema["required"] if k != "hosting"]
    required += [f"$.model.hosting.{k}" for k in model_schema["properties"]["hosting"]["required"]]
    document = {k: v for k, v in ml_parameters.items() if f"$.{k}" not in required}
    document["model"] = {
        k: v for k, v in ml_parameters["model"].items() if f"$.model.{k}" not in required
    }
    document["model"]["hosting"] = {
        k: v
        for k, v in ml_parameters["model"]["hosting"].items()
        if f"$.model.hosting.{k}" not in required
    }

    # WHEN planned
    output = plan_with(ml_parameters=document)

    # THEN the plan fails naming the file and every missing field
    assert "ml_parameters_file.json: missing required field(s):" in output
    for field in required:
        assert field in output
    assert len(required) >= 10


def test_a_missing_hyperparameters_field_is_named(plan_with: Callable[..., str]) -> None:
    schema = json.loads((SCHEMAS / "hyperparameters.schema.json").read_text())
    hyperparameters = json.loads((PARAMS_DIR / "hyperparameters.json").read_text())
    for key in schema["required"]:
        hyperparameters.pop(key)

    output = plan_with(hyperparameters=hyperparameters)

    assert "hyperparameters_file.json: missing required field(s):" in output
    for key in schema["required"]:
        assert f"$.{key}" in output


def test_an_unknown_tuning_strategy_is_named_with_the_allowed_values(
    plan_with: Callable[..., str], ml_parameters: dict[str, Any]
) -> None:
    ml_parameters["tuningStrategy"] = "Bayes"

    output = plan_with(ml_parameters=ml_parameters)

    assert (
        '$.tuningStrategy is "Bayes"; allowed values: Bayesian, Random, Hyperband, Grid.' in output
    )


@pytest.mark.parametrize(
    ("field", "path", "too_long"),
    [
        ("$.tuningJobName", ("tuningJobName",), "t" * 20),
        ("$.endpointName", ("endpointName",), "e" * 51),
        ("$.model.name", ("model", "name"), "m" * 51),
    ],
)
def test_a_name_over_its_sagemaker_limit_is_named(
    plan_with: Callable[..., str],
    ml_parameters: dict[str, Any],
    field: str,
    path: tuple[str, ...],
    too_long: str,
) -> None:
    target = ml_parameters
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = too_long

    output = plan_with(ml_parameters=ml_parameters)

    assert f'{field} is "{too_long}" ({len(too_long)} characters): it must be at most' in output


def test_invalid_json_is_reported_for_the_variable(plan_with: Callable[..., str]) -> None:
    output = plan_with(ml_parameters='{"tuningJobName": "survival-tuning",')

    assert "The ml_parameters_file is not valid JSON." in output


def test_a_missing_file_is_reported_for_the_variable(
    failing_root: TerraformDir, moto_endpoint: str, tmp_path: Path
) -> None:
    result = failing_root.plan(
        {
            "endpoint_url": moto_endpoint,
            "ml_parameters_file": str(tmp_path / "nowhere.json"),
            "hyperparameters_file": str(PARAMS_DIR / "hyperparameters.json"),
        }
    )

    assert result.returncode == 1
    assert "The ml_parameters_file does not exist" in " ".join(result.output.split())


def test_a_value_too_big_for_parameter_store_is_named(plan_with: Callable[..., str]) -> None:
    hyperparameters = json.loads((PARAMS_DIR / "hyperparameters.json").read_text())
    hyperparameters["staticHyperParameters"]["notes"] = "x" * 8193

    output = plan_with(hyperparameters=hyperparameters)

    assert (
        "The value of /tfplan-bad/hyperparameters/staticHyperParameters/notes is 8193 bytes;"
        " Parameter Store holds at most 8192 bytes (Advanced tier)." in output
    )


def test_the_seeds_files_unchanged_plan(
    failing_root: TerraformDir, moto_endpoint: str, tmp_path: Path
) -> None:
    # GIVEN the seed stack's example files as it shipped them, placeholders and all, and the
    # same template with the seed's optional inference image and Elastic Inference accelerator
    seed = REPO_ROOT / "examples" / "seed"
    template = json.loads((seed / "template-ml-parameters.json").read_text())
    template["model"]["hosting"]["inferenceImage"] = (
        "123456789012.dkr.ecr.us-east-1.amazonaws.com/x:1"
    )
    template["model"]["hosting"]["acceleratorType"] = "ml.eia2.medium"
    (tmp_path / "with-hosting-keys.json").write_text(json.dumps(template))

    for ml_parameters in (
        seed / "template-ml-parameters.json",
        tmp_path / "with-hosting-keys.json",
    ):
        # WHEN each is planned
        result = failing_root.plan(
            {
                "endpoint_url": moto_endpoint,
                "ml_parameters_file": str(ml_parameters),
                "hyperparameters_file": str(seed / "hyperparameters.json"),
            }
        )
        # THEN the plan succeeds (2: changes to make)
        assert result.returncode == 2, result.output
