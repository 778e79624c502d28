"""Apply against moto from a root outside the repository, read the outputs and use them (boto3
and the AWS CLI), plan again (no changes), destroy, and check that nothing is left behind."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import shutil
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Callable

import pytest
from moto.core.config import default_user_config

from tests.support.terraform import (
    ACCOUNT_ID,
    PARAMS_DIR,
    REGION,
    REPO_ROOT,
    TEST_RUNTIME,
    TerraformDir,
    write_root,
)

pytestmark = [
    pytest.mark.terraform,
    # One worker per group under pytest-xdist: the group shares its session fixtures (plans, or
    # the applied deployment) instead of building them once per worker.
    pytest.mark.xdist_group("terraform-apply"),
    pytest.mark.filterwarnings("ignore:The 'warn' method is deprecated:DeprecationWarning"),
]

PREFIX = "tfapply"
BUCKET = "tfapply-data"


@pytest.fixture(scope="module")
def deployment(
    tmp_path_factory: pytest.TempPathFactory,
    terraform_dir: Callable[..., TerraformDir],
    moto_endpoint: str,
    aws: Callable[[str], Any],
    lambda_package: Path,
) -> Iterator[dict[str, Any]]:
    """Apply once for the module; destroy at its end if a test stopped half way."""
    # Executions started here must only be recorded, whatever another suite in this process
    # configured (moto's configuration is process-wide): set it, and restore it at the end.
    previous_config = {key: dict(default_user_config[key]) for key in ("stepfunctions", "lambda")}
    _set_moto_config(
        moto_endpoint,
        {"stepfunctions": {"execute_state_machine": False}, "lambda": {"use_docker": False}},
    )
    aws("s3").create_bucket(Bucket=BUCKET)
    root = write_root(
        tmp_path_factory.mktemp("outside-root"),
        REPO_ROOT,
        {
            "name_prefix": PREFIX,
            "environment": "test",
            "s3_bucket": BUCKET,
            # The example parameters' training output and checkpoints are on this bucket.
            "additional_s3_bucket_names": ["sagemaker-tuner-demo"],
            "ml_parameters_file": str(PARAMS_DIR / "ml-parameters.json"),
            "hyperparameters_file": str(PARAMS_DIR / "hyperparameters.json"),
            "enable_manifest_trigger": True,
            "manage_bucket_notification": True,
            "lambda_runtime": TEST_RUNTIME,
            "lambda_package_path": str(lambda_package),
        },
    )
    terraform = terraform_dir(root)
    variables = {"endpoint_url": moto_endpoint}
    terraform.init()
    state = {"terraform": terraform, "variables": variables, "destroyed": False}
    try:
        terraform.apply(variables)
        state["outputs"] = terraform.outputs()["module"]
        yield state
    finally:
        try:
            if not state["destroyed"]:
                terraform.destroy(variables)
        finally:
            _set_moto_config(moto_endpoint, previous_config)


def _set_moto_config(endpoint: str, config: dict[str, Any]) -> None:
    """Set moto's configuration. (Reading it back goes through moto.core.config: the server
    runs in this process, and its API does not report the Step Functions setting.)"""
    request = urllib.request.Request(
        f"{endpoint}/moto-api/config", data=json.dumps(config).encode(), method="POST"
    )
    urllib.request.urlopen(request, timeout=10).close()


def test_outputs_give_a_caller_everything_it_needs(
    deployment: dict[str, Any], aws: Callable[[str], Any]
) -> None:
    outputs = deployment["outputs"]

    machine = aws("stepfunctions").describe_state_machine(
        stateMachineArn=outputs["state_machine_arn"]
    )
    assert json.loads(machine["definition"])["StartAt"] == "ForceDeploy?"
    for key in ("tuner_state_machine_arn", "deployer_state_machine_arn"):
        aws("stepfunctions").describe_state_machine(stateMachineArn=outputs[key])
    # The package output names the file the functions run: the one to upload for S3.
    package = Path(outputs["lambda_package_path"]).read_bytes()
    package_sha256 = base64.b64encode(hashlib.sha256(package).digest()).decode()
    for arn in outputs["lambda_function_arns"].values():
        configuration = aws("lambda").get_function(FunctionName=arn)["Configuration"]
        assert configuration["FunctionArn"] == arn
        assert configuration["CodeSha256"] == package_sha256
    for arn in [
        *outputs["lambda_role_arns"].values(),
        *outputs["state_machine_role_arns"].values(),
    ]:
        assert aws("iam").get_role(RoleName=arn.split("/")[-1])["Role"]["Arn"] == arn
    aws("iam").get_role(RoleName=outputs["sagemaker_execution_role_arn"].split("/")[-1])
    aws("sns").get_topic_attributes(TopicArn=outputs["sns_topic_arn"])
    published = aws("ssm").get_parameter(Name=outputs["ssm_parameter_names"]["ml-parameters"])
    ml_parameters = json.loads(published["Parameter"]["Value"])
    assert ml_parameters["model"]["hosting"]["instanceType"] == "ml.c5.2xlarge"
    assert outputs["ssm_parameter_path"] == f"/{PREFIX}"
    assert outputs["endpoint_name"] == "survival-endpoint"
    for name in outputs["log_group_names"].values():
        groups = aws("logs").describe_log_groups(logGroupNamePrefix=name)["logGroups"]
        assert [g["logGroupName"] for g in groups] == [name]


def test_manifest_uploads_invoke_the_trigger(
    deployment: dict[str, Any], aws: Callable[[str], Any]
) -> None:
    notification = aws("s3").get_bucket_notification_configuration(Bucket=BUCKET)

    (target,) = notification["LambdaFunctionConfigurations"]
    assert target["LambdaFunctionArn"] == deployment["outputs"]["manifest_trigger_lambda_arn"]
    rules = {r["Name"].lower(): r["Value"] for r in target["Filter"]["Key"]["FilterRules"]}
    assert rules == {"prefix": "manifests/", "suffix": ".json"}
    policy = json.loads(
        aws("lambda").get_policy(FunctionName=target["LambdaFunctionArn"])["Policy"]
    )
    (statement,) = policy["Statement"]
    assert statement["Principal"] == {"Service": "s3.amazonaws.com"}


def test_failed_trigger_invocations_go_to_the_failure_queue_output(
    deployment: dict[str, Any], aws: Callable[[str], Any]
) -> None:
    outputs = deployment["outputs"]
    sqs = aws("sqs")

    config = aws("lambda").get_function_event_invoke_config(
        FunctionName=outputs["manifest_trigger_lambda_arn"]
    )
    attributes = sqs.get_queue_attributes(
        QueueUrl=outputs["manifest_trigger_failure_queue_url"], AttributeNames=["All"]
    )["Attributes"]

    assert (config["MaximumRetryAttempts"], config["MaximumEventAgeInSeconds"]) == (2, 3600)
    assert (
        config["DestinationConfig"]["OnFailure"]["Destination"]
        == (outputs["manifest_trigger_failure_queue_arn"])
    )
    assert attributes["QueueArn"] == outputs["manifest_trigger_failure_queue_arn"]
    assert attributes["MessageRetentionPeriod"] == str(14 * 24 * 3600)
    assert attributes["KmsMasterKeyId"] == "alias/aws/sqs"


def test_the_aws_cli_starts_a_run_with_the_state_machine_output(
    deployment: dict[str, Any], moto_endpoint: str, aws: Callable[[str], Any]
) -> None:
    aws_cli = shutil.which("aws") or str(Path(sys.executable).with_name("aws"))
    execution_input = REPO_ROOT / "examples" / "execution-input.json"

    started = subprocess.run(
        [
            aws_cli,
            "--endpoint-url",
            moto_endpoint,
            "--region",
            REGION,
            "stepfunctions",
            "start-execution",
            "--state-machine-arn",
            deployment["outputs"]["state_machine_arn"],
            "--input",
            f"file://{execution_input}",
        ],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test"},
        timeout=120,
    )

    assert started.returncode == 0, started.stderr
    execution_arn = json.loads(started.stdout)["executionArn"]
    assert execution_arn.startswith(
        f"arn:aws:states:{REGION}:{ACCOUNT_ID}:execution:{PREFIX}-workflow:"
    )
    described = aws("stepfunctions").describe_execution(executionArn=execution_arn)
    assert json.loads(described["input"]) == json.loads(execution_input.read_text())


def test_a_second_plan_shows_no_changes(deployment: dict[str, Any]) -> None:
    result = deployment["terraform"].plan(deployment["variables"])

    # -detailed-exitcode: 0 means no changes (2 would mean a diff, 1 an error).
    assert result.returncode == 0, result.output
    assert "No changes." in result.stdout


# Earlier versions declared one module block per Lambda function; the tuner and the deployer
# now declare one, module.functions["<handler>"], with `moved` blocks from the old addresses.
EARLIER_FUNCTION_BLOCKS = {
    "tuner": ("prepare_tuning_run", "find_best_training_job"),
    "deployer": (
        "plan_deployment",
        "start_endpoint_deployment",
        "check_endpoint",
        "apply_retention",
        "register_model",
    ),
}


def test_the_state_of_an_earlier_version_moves_without_a_change(
    deployment: dict[str, Any],
    terraform_dir: Callable[..., TerraformDir],
    tmp_path: Path,
) -> None:
    # The applied state with the functions at their earlier addresses, in a copy of the root:
    # what a deployment made by an earlier version holds.
    source = deployment["terraform"].working_dir
    state = json.loads((source / "terraform.tfstate").read_text())
    renamed = []
    for resource in state["resources"]:
        for component, handlers in EARLIER_FUNCTION_BLOCKS.items():
            for handler in handlers:
                prefix = f"module.under_test.module.{component}.module."
                if resource.get("module") == f'{prefix}functions["{handler}"]':
                    resource["module"] = f"{prefix}{handler}"
                    renamed.append(f"{prefix}{handler}.{resource['type']}.{resource['name']}")
    state["serial"] += 1
    earlier = tmp_path / "earlier"
    earlier.mkdir()
    shutil.copy(source / "main.tf.json", earlier / "main.tf.json")
    (earlier / "terraform.tfstate").write_text(json.dumps(state))
    terraform = terraform_dir(earlier)
    terraform.init()

    changes = terraform.plan_json(deployment["variables"], tmp_path / "upgrade.tfplan")[
        "resource_changes"
    ]

    # Each function's role, policy, log group and function.
    assert len(renamed) == 4 * 7
    assert sorted(c["previous_address"] for c in changes if "previous_address" in c) == sorted(
        renamed
    )
    assert [c["address"] for c in changes if c["change"]["actions"] != ["no-op"]] == []


def test_destroy_leaves_nothing_behind(
    deployment: dict[str, Any], aws: Callable[[str], Any]
) -> None:
    deployment["terraform"].destroy(deployment["variables"])
    deployment["destroyed"] = True

    roles = [r["RoleName"] for r in aws("iam").list_roles()["Roles"]]
    functions = [f["FunctionName"] for f in aws("lambda").list_functions()["Functions"]]
    machines = [m["name"] for m in aws("stepfunctions").list_state_machines()["stateMachines"]]
    parameters = aws("ssm").get_parameters_by_path(Path=f"/{PREFIX}", Recursive=True)["Parameters"]
    log_groups = [
        g["logGroupName"]
        for prefix in (f"/aws/lambda/{PREFIX}-", f"/aws/vendedlogs/states/{PREFIX}-")
        for g in aws("logs").describe_log_groups(logGroupNamePrefix=prefix)["logGroups"]
    ]
    topics = [t["TopicArn"] for t in aws("sns").list_topics()["Topics"]]
    queues = aws("sqs").list_queues(QueueNamePrefix=f"{PREFIX}-").get("QueueUrls", [])
    notification = aws("s3").get_bucket_notification_configuration(Bucket=BUCKET)

    assert [r for r in roles if r.startswith(f"{PREFIX}-")] == []
    assert [f for f in functions if f.startswith(f"{PREFIX}-")] == []
    assert [m for m in machines if m.startswith(f"{PREFIX}-")] == []
    assert parameters == []
    assert log_groups == []
    assert [t for t in topics if f":{PREFIX}-" in t] == []
    assert queues == []
    assert "LambdaFunctionConfigurations" not in notification
