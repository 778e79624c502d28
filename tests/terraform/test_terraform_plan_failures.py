"""A bad parameter file fails `terraform plan` with a message that names the file, the field's
JSON path and the rule, before anything is created: one bad file per rule class. The rules are
read from the JSON Schemas, so the expected messages are taken from there too, and the workflow's
own validator (tuning_workflow.validation) reports the same field.

The bad files are planned side by side on one initialised root (plans only read its state)."""

from __future__ import annotations

import copy
import json
import os
import subprocess
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
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
from tuning_workflow.validation import validate_run_documents

pytestmark = [
    pytest.mark.terraform,
    # One worker per group under pytest-xdist: the group shares its session fixtures (plans, or
    # the applied deployment) instead of building them once per worker.
    pytest.mark.xdist_group("terraform-plans"),
    pytest.mark.filterwarnings("ignore:The 'warn' method is deprecated:DeprecationWarning"),
]

SCHEMAS = REPO_ROOT / "lambda_src" / "tuning_workflow" / "schemas"
ML_SCHEMA = json.loads((SCHEMAS / "ml-parameters.schema.json").read_text())
HP_SCHEMA = json.loads((SCHEMAS / "hyperparameters.schema.json").read_text())
ML = json.loads((PARAMS_DIR / "ml-parameters.json").read_text())
HP = json.loads((PARAMS_DIR / "hyperparameters.json").read_text())
SEED = REPO_ROOT / "examples" / "seed"
BUCKET = "sagemaker-tuner-demo"
PLANS_AT_ONCE = 4


def error_message(schema: Mapping[str, Any], definition: str) -> str:
    return str(schema["$defs"][definition]["errorMessage"])


def without_required(document: dict[str, Any]) -> dict[str, Any]:
    """The document without any field the schema requires (at the root, in model, in
    model.hosting); `model` and `model.hosting` stay, emptied of their required fields."""
    model_schema = ML_SCHEMA["properties"]["model"]
    hosting_schema = model_schema["properties"]["hosting"]
    bare = {k: v for k, v in document.items() if k not in ML_SCHEMA["required"] or k == "model"}
    bare["model"] = {
        k: v
        for k, v in document["model"].items()
        if k not in model_schema["required"] or k == "hosting"
    }
    bare["model"]["hosting"] = {
        k: v for k, v in document["model"]["hosting"].items() if k not in hosting_schema["required"]
    }
    return bare


def required_paths() -> list[str]:
    model_schema = ML_SCHEMA["properties"]["model"]
    return (
        [f"$.{k}" for k in ML_SCHEMA["required"] if k != "model"]
        + [f"$.model.{k}" for k in model_schema["required"] if k != "hosting"]
        + [f"$.model.hosting.{k}" for k in model_schema["properties"]["hosting"]["required"]]
    )


def changed(document: dict[str, Any], change: Callable[[dict[str, Any]], Any]) -> dict[str, Any]:
    copied = copy.deepcopy(document)
    change(copied)
    return copied


def seed_template(bucket: str | None) -> dict[str, Any]:
    """The seed's template as it shipped, its bucket placeholder filled in when `bucket` is
    given (as the seed's jq script did), with the seed's optional hosting keys."""
    text = (SEED / "template-ml-parameters.json").read_text()
    template = json.loads(text if bucket is None else text.replace("<bucket-name>", bucket))
    template["model"]["hosting"]["inferenceImage"] = (
        "123456789012.dkr.ecr.us-east-1.amazonaws.com/x:1"
    )
    template["model"]["hosting"]["acceleratorType"] = "ml.eia2.medium"
    return template


def grid_hyperparameters(*values: list[Any]) -> dict[str, Any]:
    """The example's hyperparameters with categorical ranges only, one per list of values."""
    ranges = [{"Name": f"choice_{index}", "Values": list(v)} for index, v in enumerate(values)]
    return {**HP, "parameterRanges": {"CategoricalParameterRanges": ranges}}


@dataclass(frozen=True)
class Case:
    """A pair of parameter files and what their plan says."""

    name: str
    ml_parameters: Any = None  # None: the example's file; str: written as it is
    hyperparameters: Any = None
    expected: tuple[str, ...] = ()  # in the plan's message
    fails: bool = True
    # Where the workflow's validator reports the same problem (document, JSON path).
    runtime: tuple[tuple[str, str], ...] = field(default=())


CASES = [
    Case(
        "required fields",
        ml_parameters=without_required(ML),
        expected=tuple(f"{path}: is required" for path in required_paths()),
        runtime=(("ml-parameters", "$"), ("ml-parameters", "$.model.hosting")),
    ),
    Case(
        "required field of hyperparameters",
        hyperparameters={k: v for k, v in HP.items() if k not in HP_SCHEMA["required"]},
        expected=tuple(f"$.{k}: is required" for k in HP_SCHEMA["required"]),
        runtime=(("hyperparameters", "$"),),
    ),
    Case(
        "type: a boolean",
        ml_parameters=changed(ML, lambda d: d.update(enableManagedSpotTraining="yes please")),
        expected=(
            f'$.enableManagedSpotTraining: {error_message(ML_SCHEMA, "boolean")}, got "yes please"',
        ),
        runtime=(("ml-parameters", "$.enableManagedSpotTraining"),),
    ),
    Case(
        "type: a range bound",
        hyperparameters=changed(
            HP, lambda d: d["parameterRanges"]["IntegerParameterRanges"][1].update(MinValue="ten")
        ),
        expected=(
            "$.parameterRanges.IntegerParameterRanges[1].MinValue: "
            f'{error_message(HP_SCHEMA, "integer")}, got "ten"',
        ),
        runtime=(("hyperparameters", "$.parameterRanges.IntegerParameterRanges[1].MinValue"),),
    ),
    Case(
        "enum: the tuning strategy",
        ml_parameters=changed(ML, lambda d: d.update(tuningStrategy="Bayes")),
        expected=(
            '$.tuningStrategy: "Bayes" is not one of '
            + ", ".join(ML_SCHEMA["properties"]["tuningStrategy"]["enum"]),
        ),
        runtime=(("ml-parameters", "$.tuningStrategy"),),
    ),
    Case(
        "enum: a scaling type",
        hyperparameters=changed(
            HP,
            lambda d: d["parameterRanges"]["IntegerParameterRanges"][0].update(
                ScalingType="Exponential"
            ),
        ),
        expected=(
            '$.parameterRanges.IntegerParameterRanges[0].ScalingType: "Exponential" is not one of '
            + ", ".join(HP_SCHEMA["$defs"]["scalingType"]["enum"]),
        ),
        runtime=(("hyperparameters", "$.parameterRanges.IntegerParameterRanges[0].ScalingType"),),
    ),
    Case(
        "numeric bound, on a number written as a string",
        ml_parameters=changed(ML, lambda d: d.update(maxTuningRuntimeInSeconds="60")),
        expected=(
            '$.maxTuningRuntimeInSeconds: "60" is less than the minimum, '
            f'{ML_SCHEMA["properties"]["maxTuningRuntimeInSeconds"]["minimum"]}',
        ),
        runtime=(("ml-parameters", "$.maxTuningRuntimeInSeconds"),),
    ),
    Case(
        "min <= max: a hyperparameter range",
        hyperparameters=changed(
            HP,
            lambda d: d["parameterRanges"]["ContinuousParameterRanges"][0].update(
                MinValue="0.5", MaxValue="0.01"
            ),
        ),
        expected=(
            "$.parameterRanges.ContinuousParameterRanges[0].MinValue: 0.5 is greater than "
            "MaxValue (0.01)",
        ),
        runtime=(("hyperparameters", "$.parameterRanges.ContinuousParameterRanges[0].MinValue"),),
    ),
    Case(
        "min <= max: auto scaling",
        ml_parameters=changed(
            ML, lambda d: d.update(autoscalingMinCapacity="5", autoscalingMaxCapacity=2)
        ),
        expected=("$.autoscalingMinCapacity: 5 is greater than autoscalingMaxCapacity (2)",),
        runtime=(("ml-parameters", "$.autoscalingMinCapacity"),),
    ),
    Case(
        "maxParallelTrainingJobs <= maxNumberOfTrainingJobs",
        ml_parameters=changed(ML, lambda d: d.update(maxParallelTrainingJobs="20")),
        expected=("$.maxParallelTrainingJobs: 20 is greater than maxNumberOfTrainingJobs (10)",),
        runtime=(("ml-parameters", "$.maxParallelTrainingJobs"),),
    ),
    Case(
        "Grid: maxNumberOfTrainingJobs is the number of combinations",
        ml_parameters=changed(
            ML,
            lambda d: d.update(
                tuningStrategy="Grid", maxNumberOfTrainingJobs=4, maxParallelTrainingJobs=2
            ),
        ),
        hyperparameters=grid_hyperparameters(["gbtree", "dart"], ["3", "5", 7]),
        expected=(
            "$.maxNumberOfTrainingJobs: is 4, but tuningStrategy Grid runs every combination of "
            "the categorical values in hyperparameters' ranges, 6 here; SageMaker requires "
            "maxNumberOfTrainingJobs to equal that number: set it to 6",
        ),
        runtime=(("ml-parameters", "$.maxNumberOfTrainingJobs"),),
    ),
    Case(
        # 2 x 3 x 5 x 7 combinations, counted without rounding errors.
        "Grid: every combination, exactly",
        ml_parameters=changed(
            ML,
            lambda d: d.update(
                tuningStrategy="Grid", maxNumberOfTrainingJobs="210", maxParallelTrainingJobs=2
            ),
        ),
        hyperparameters=grid_hyperparameters(
            ["a", "b"], ["1", "2", "3"], list(range(5)), [f"v{i}" for i in range(7)]
        ),
        fails=False,
    ),
    Case(
        "pattern: an instance type",
        ml_parameters=changed(
            ML, lambda d: d["model"]["hosting"].update(instanceType="c5.2xlarge")
        ),
        expected=(
            "$.model.hosting.instanceType: "
            f'{error_message(ML_SCHEMA, "instanceType")}, got "c5.2xlarge"',
        ),
        runtime=(("ml-parameters", "$.model.hosting.instanceType"),),
    ),
    Case(
        "pattern: an S3 URI",
        ml_parameters=changed(
            ML, lambda d: d.update(spotTrainingCheckpointS3Uri="/local/checkpoints/")
        ),
        expected=(
            "$.spotTrainingCheckpointS3Uri: "
            f'{error_message(ML_SCHEMA, "s3Uri")}, got "/local/checkpoints/"',
        ),
        runtime=(("ml-parameters", "$.spotTrainingCheckpointS3Uri"),),
    ),
    Case(
        "pattern: an ARN",
        ml_parameters=changed(ML, lambda d: d.update(algorithmARN="h2o-gbm-algorithm")),
        expected=(
            "$.algorithmARN: "
            f'{ML_SCHEMA["properties"]["algorithmARN"]["errorMessage"]}, got "h2o-gbm-algorithm"',
        ),
        runtime=(("ml-parameters", "$.algorithmARN"),),
    ),
    Case(
        "name length: SageMaker's limit minus the run suffix",
        ml_parameters=changed(ML, lambda d: d.update(tuningJobName="t" * 20)),
        expected=(
            f'$.tuningJobName: "{"t" * 20}" is 20 characters long; at most 19 are allowed: a run '
            "names its tuning job '<name>-<runId>', 13 characters more, and SageMaker allows 32 "
            "(x-sagemakerNames in ml-parameters.schema.json)",
        ),
        runtime=(("ml-parameters", "$.tuningJobName"),),
    ),
    Case(
        "fields that go together",
        ml_parameters=changed(ML, lambda d: d["model"]["hosting"].pop("securityGroupIds")),
        expected=(
            "$.model.hosting: 'securityGroupIds' is required when 'subnets' is set (both or "
            "neither)",
        ),
        runtime=(("ml-parameters", "$.model.hosting"),),
    ),
    Case(
        "unknown key",
        ml_parameters=changed(
            ML,
            lambda d: d["model"]["hosting"].update(
                instanceTyp=d["model"]["hosting"]["instanceType"]
            ),
        ),
        expected=("$.model.hosting.instanceTyp: unknown key; expected one of",),
        runtime=(("ml-parameters", "$.model.hosting.instanceTyp"),),
    ),
    Case(
        "a bucket the deployment was not given",
        ml_parameters=changed(
            ML, lambda d: d["model"].update(artifactsS3OutputPath="s3://someone-elses-bucket/out/")
        ),
        expected=(
            '$.model.artifactsS3OutputPath: bucket "someone-elses-bucket" is not one of this '
            f"deployment's buckets (s3_bucket, additional_s3_bucket_names: {BUCKET})",
        ),
        runtime=(("ml-parameters", "$.model.artifactsS3OutputPath"),),
    ),
    Case(
        "the seed's template with its bucket placeholder",
        ml_parameters=seed_template(None),
        hyperparameters=json.loads((SEED / "hyperparameters.json").read_text()),
        expected=tuple(
            f'{path}: "s3://<bucket-name>/{prefix}/" names the placeholder <bucket-name> of the '
            "seed's template"
            for path, prefix in (
                ("$.spotTrainingCheckpointS3Uri", "model-training-checkpoint"),
                ("$.model.artifactsS3OutputPath", "model-artifacts"),
            )
        ),
        runtime=(("ml-parameters", "$.spotTrainingCheckpointS3Uri"),),
    ),
    Case(
        "a truncated file",
        ml_parameters='{"tuningJobName": "survival-tuning",',
        expected=("The ml_parameters_file is not valid JSON.",),
    ),
    Case(
        "a value too big for Parameter Store",
        hyperparameters=changed(HP, lambda d: d["staticHyperParameters"].update(notes="x" * 8193)),
        # The default layout publishes each file as one value: the whole file is too big.
        expected=(
            "The value of /tfplan-bad/hyperparameters (",
            "hyperparameters.json as JSON; shorten the file, or publish one parameter per value "
            'with parameter_store_layout = "leaves")',
            "bytes; Parameter Store holds at most 8192 bytes (Advanced tier).",
        ),
    ),
    Case(
        # The seed's files as its jq script filled them, with its optional hosting keys, and
        # numbers and booleans as strings in any case.
        "the seed's files, strings for numbers and booleans",
        ml_parameters=changed(
            seed_template(BUCKET),
            lambda d: (
                d.update(enableManagedSpotTraining="False", trainingInstanceCount="2"),
                d["targetTrackingScalingPolicyConfiguration"].update(DisableScaleIn="TRUE"),
            ),
        ),
        hyperparameters=json.loads((SEED / "hyperparameters.json").read_text()),
        fails=False,
    ),
]


@pytest.fixture(scope="module")
def failing_root(
    tmp_path_factory: pytest.TempPathFactory,
    terraform_dir: Callable[..., TerraformDir],
    lambda_package: Path,
) -> TerraformDir:
    """A root whose parameter file paths are variables: one init, one plan per pair of files."""
    root = write_root(
        tmp_path_factory.mktemp("failing-root"),
        REPO_ROOT,
        {
            "name_prefix": "tfplan-bad",
            "s3_bucket": BUCKET,
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


def write_document(directory: Path, name: str, document: Any, default: Path) -> Path:
    if document is None:
        return default
    path = directory / f"{name}.json"
    path.write_text(document if isinstance(document, str) else json.dumps(document))
    return path


@pytest.fixture(scope="module")
def plans(
    failing_root: TerraformDir,
    terraform_bin: str,
    terraform_env: dict[str, str],
    moto_endpoint: str,
    tmp_path_factory: pytest.TempPathFactory,
) -> dict[str, tuple[int, str, dict[str, Path]]]:
    """Every case planned, PLANS_AT_ONCE at a time: (exit code, output with its line wrapping
    undone, the files by document) by case name."""
    directory = tmp_path_factory.mktemp("bad-files")

    def plan(index: int, case: Case) -> tuple[str, tuple[int, str, dict[str, Path]]]:
        ml = write_document(
            directory,
            f"{index}-ml-parameters",
            case.ml_parameters,
            PARAMS_DIR / "ml-parameters.json",
        )
        hp = write_document(
            directory,
            f"{index}-hyperparameters",
            case.hyperparameters,
            PARAMS_DIR / "hyperparameters.json",
        )
        result = subprocess.run(
            [
                terraform_bin,
                "plan",
                "-input=false",
                "-no-color",
                # Plans of the same root side by side: none writes state.
                "-lock=false",
                f"-var=endpoint_url={moto_endpoint}",
                f"-var=ml_parameters_file={ml}",
                f"-var=hyperparameters_file={hp}",
            ],
            cwd=failing_root.working_dir,
            env={**os.environ, **terraform_env},
            capture_output=True,
            text=True,
            check=False,
        )
        output = " ".join(f"{result.stdout}\n{result.stderr}".split())
        return case.name, (result.returncode, output, {"ml-parameters": ml, "hyperparameters": hp})

    with ThreadPoolExecutor(max_workers=PLANS_AT_ONCE) as pool:
        return dict(pool.map(lambda item: plan(*item), enumerate(CASES)))


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_a_bad_file_fails_the_plan_naming_the_field_and_the_rule(
    case: Case, plans: dict[str, tuple[int, str, dict[str, Path]]]
) -> None:
    # GIVEN the pair of files WHEN planned
    returncode, output, files = plans[case.name]

    # THEN a bad file fails the plan, and the message names the file, the field and the rule
    if not case.fails:
        assert returncode == 0, output
        return
    assert returncode == 1, output
    for expected in case.expected:
        assert expected in output
    for document in {document for document, _ in case.runtime}:
        assert f"{files[document]}: " in output

    # AND the workflow's validator reports the same fields
    documents = {
        "ml-parameters": ML if case.ml_parameters is None else case.ml_parameters,
        "hyperparameters": HP if case.hyperparameters is None else case.hyperparameters,
    }
    found = validate_run_documents(
        documents["ml-parameters"], documents["hyperparameters"], {"channels": []}, [BUCKET]
    )
    for document, path in case.runtime:
        assert path in [problem.path for problem in found[document]], (document, path)


def test_the_rule_classes_are_all_covered() -> None:
    # GIVEN the cases THEN each rule class Terraform checks has a bad file.
    assert len([case for case in CASES if case.fails and case.runtime]) >= 18


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


@pytest.fixture(scope="module")
def package_root(
    tmp_path_factory: pytest.TempPathFactory,
    terraform_dir: Callable[..., TerraformDir],
    lambda_package: Path,
) -> TerraformDir:
    """A root whose lambda_package_s3 is a variable."""
    root = write_root(
        tmp_path_factory.mktemp("package-root"),
        REPO_ROOT,
        {
            "name_prefix": "tfplan-package",
            "s3_bucket": BUCKET,
            "ml_parameters_file": str(PARAMS_DIR / "ml-parameters.json"),
            "hyperparameters_file": str(PARAMS_DIR / "hyperparameters.json"),
            "lambda_runtime": TEST_RUNTIME,
            "lambda_package_path": str(lambda_package),
            "lambda_package_s3": "${var.package_s3}",
        },
        # Every attribute optional here, so that what is missing reaches the module as null.
        variables={
            "package_s3": (
                "object({bucket = optional(string), key = optional(string),"
                " object_version = optional(string)})"
            )
        },
    )
    terraform = terraform_dir(root)
    terraform.init()
    return terraform


@pytest.mark.parametrize(
    ("package_s3", "expected"),
    [
        (
            {"bucket": "Artifacts_Bucket", "key": "lambda/package.zip"},
            "The lambda_package_s3.bucket must be an S3 bucket name",
        ),
        (
            {"bucket": "artifacts", "key": ""},
            "The lambda_package_s3.key must be an S3 object key of 1 to 1024 characters.",
        ),
        (
            {"bucket": "artifacts", "key": "lambda/package.zip", "object_version": ""},
            "The lambda_package_s3.object_version must be null or a version ID",
        ),
        (
            {"bucket": "artifacts"},
            "The lambda_package_s3.key must be an S3 object key of 1 to 1024 characters.",
        ),
    ],
)
def test_a_bad_package_location_is_refused_naming_the_field(
    package_root: TerraformDir, moto_endpoint: str, package_s3: dict[str, str], expected: str
) -> None:
    result = package_root.plan({"endpoint_url": moto_endpoint, "package_s3": package_s3})

    assert result.returncode == 1
    assert expected in " ".join(result.output.split())
