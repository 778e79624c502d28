"""`smtune approve`/`reject`, `rollback` and `teardown` against a plain moto server.

A deployment's endpoint, endpoint configs and models are made directly with their tags. The
deployer is a stand-in: a state machine that switches the endpoint to the config in its input
(DeleteEndpoint, then CreateEndpoint, with the aws-sdk integration), a Pass state, or a Fail state.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
from botocore.exceptions import ClientError

from smtune import lifecycle
from smtune.aws import Aws as CliAws
from tuning_workflow.lifecycle_tags import OWNER_TAG_KEY, REPLACES_TAG_KEY

# One worker runs all CLI tests in a row: the moto server they share lives in its process.
pytestmark = pytest.mark.xdist_group("cli")

NO_CREDENTIALS = (
    "smtune: error: no AWS credentials found: set AWS_PROFILE, or AWS_ACCESS_KEY_ID and "
    "AWS_SECRET_ACCESS_KEY (any values work against a local emulator)\n"
)
VARIANT = "AllTraffic"
DIMENSION = "sagemaker:variant:DesiredInstanceCount"
PASS = {"StartAt": "Done", "States": {"Done": {"Type": "Pass", "End": True}}}
FAIL = {
    "StartAt": "Fail",
    "States": {"Fail": {"Type": "Fail", "Error": "Deployment.Failed", "Cause": "boom"}},
}


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def tags(owner: str | None, **extra: str) -> list[dict[str, str]]:
    listed = [{"Key": OWNER_TAG_KEY, "Value": owner}] if owner else []
    return listed + [{"Key": key, "Value": value} for key, value in extra.items()]


def error_line(result) -> str:
    assert result.code == 2, (result.out, result.err)
    assert result.err.startswith("smtune: error: ")
    assert result.err.count("\n") == 1
    return result.err.removeprefix("smtune: error: ").rstrip("\n")


def no_credentials(monkeypatch) -> None:
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")


class Deployment:
    """Models, endpoint configs and an endpoint tagged as a deployment's runs tag them."""

    def __init__(self, aws, owner: str | None) -> None:
        self.aws = aws
        self.owner = owner
        self.sagemaker = aws.client("sagemaker")
        self.endpoint = unique("ep")

    def model(self, owner: str | None = "") -> str:
        name = unique("model")
        self.sagemaker.create_model(
            ModelName=name,
            ExecutionRoleArn=self.aws.role(),
            PrimaryContainer={"Image": "image:1"},
            Tags=tags(self.owner if owner == "" else owner),
        )
        return name

    def config(self, replaces: str | None = None, owner: str | None = "") -> str:
        name = f"{self.endpoint}-{uuid.uuid4().hex[:12]}"
        extra = {REPLACES_TAG_KEY: replaces} if replaces else {}
        self.sagemaker.create_endpoint_config(
            EndpointConfigName=name,
            ProductionVariants=[
                {
                    "VariantName": VARIANT,
                    "ModelName": self.model(owner),
                    "InitialInstanceCount": 1,
                    "InstanceType": "ml.m5.large",
                }
            ],
            Tags=tags(self.owner if owner == "" else owner, **extra),
        )
        return name

    def serve(self, config: str) -> str:
        self.sagemaker.create_endpoint(
            EndpointName=self.endpoint, EndpointConfigName=config, Tags=tags(self.owner)
        )
        return self.endpoint

    def live(self) -> str:
        return self.sagemaker.describe_endpoint(EndpointName=self.endpoint)["EndpointConfigName"]


def switching_deployer(deployment: Deployment) -> dict[str, Any]:
    """Puts the endpoint on the input's endpointConfigName, keeping the endpoint's owner tag."""
    return {
        "StartAt": "Delete",
        "States": {
            "Delete": {
                "Type": "Task",
                "Resource": "arn:aws:states:::aws-sdk:sagemaker:deleteEndpoint",
                "Parameters": {"EndpointName": deployment.endpoint},
                "ResultPath": None,
                "Next": "Create",
            },
            "Create": {
                "Type": "Task",
                "Resource": "arn:aws:states:::aws-sdk:sagemaker:createEndpoint",
                "Parameters": {
                    "EndpointName": deployment.endpoint,
                    "EndpointConfigName.$": "$.endpointConfigName",
                    "Tags": tags(deployment.owner),
                },
                "ResultPath": None,
                "End": True,
            },
        },
    }


def deployer_for(aws, deployment: Deployment, definition: dict[str, Any] | None = None) -> str:
    """The deployment's deployer, `<owner>-deployer`; by default it switches the endpoint."""
    return aws.state_machine(
        definition or switching_deployer(deployment), name=f"{deployment.owner}-deployer"
    )


def executions_of(aws, machine: str) -> list[dict[str, Any]]:
    sfn = aws.client("stepfunctions")
    listed = sfn.list_executions(stateMachineArn=machine)["executions"]
    return [sfn.describe_execution(executionArn=e["executionArn"]) for e in listed]


@pytest.fixture(autouse=True)
def quick_polls(monkeypatch) -> None:
    monkeypatch.setattr(lifecycle, "POLL_SECONDS", 0.05)


@pytest.fixture
def rolled(aws) -> dict[str, Any]:
    """A deployment two runs old: the first config, the live one replacing it, its deployer."""
    deployment = Deployment(aws, unique("dep"))
    first = deployment.config()
    live = deployment.config(replaces=first)
    deployment.serve(live)
    return {"deployment": deployment, "first": first, "live": live}


# --help --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        ("approve", ["MODEL_PACKAGE_ARN", "--description TEXT", "--force", "PendingManualApproval"]),
        ("reject", ["MODEL_PACKAGE_ARN", "--description TEXT", "--force", "PendingManualApproval"]),
        ("rollback", ["ENDPOINT_NAME", "--to ENDPOINT_CONFIG", "--state-machine-arn DEPLOYER_ARN",
                      "--no-wait", "<deployment>-deployer", REPLACES_TAG_KEY]),
        ("teardown", ["--name-prefix PREFIX", "--yes", "dry run", OWNER_TAG_KEY]),
    ],
)  # fmt: skip
def test_help_explains_the_options(cli, command: str, expected: list[str]) -> None:
    result = cli(command, "--help")

    assert result.code == 0
    flat = " ".join(result.out.split())
    for text in expected:
        assert text in flat, text


# approve / reject ------------------------------------------------------------------------------


@pytest.fixture
def versions(aws) -> Any:
    sagemaker = aws.client("sagemaker")
    group = unique("group")
    sagemaker.create_model_package_group(ModelPackageGroupName=group)

    def version(status: str = "PendingManualApproval") -> str:
        return sagemaker.create_model_package(
            ModelPackageGroupName=group,
            ModelApprovalStatus=status,
            InferenceSpecification={
                "Containers": [{"Image": "image:1", "ModelDataUrl": "s3://bucket/model.tar.gz"}],
                "SupportedContentTypes": ["text/csv"],
                "SupportedResponseMIMETypes": ["text/csv"],
            },
        )["ModelPackageArn"]

    return version


def approval_of(aws, arn: str) -> tuple[str, str | None]:
    described = aws.client("sagemaker").describe_model_package(ModelPackageName=arn)
    return described["ModelApprovalStatus"], described.get("ApprovalDescription")


def test_approve_a_pending_version(cli, aws, versions) -> None:
    arn = versions()

    result = cli("approve", arn, "--description", "AUC better than live")

    assert result.code == 0, result.err
    assert result.out == (
        f"model package version {arn}: Approved (was PendingManualApproval)\n"
        "approval description: AUC better than live\n"
    )
    assert approval_of(aws, arn) == ("Approved", "AUC better than live")


def test_reject_a_pending_version_as_json(cli, aws, versions) -> None:
    arn = versions()

    result = cli("reject", arn, "--description", "drifted", "--json")

    assert result.code == 0, result.err
    assert json.loads(result.out) == {
        "modelPackageArn": arn,
        "previousStatus": "PendingManualApproval",
        "modelApprovalStatus": "Rejected",
        "approvalDescription": "drifted",
    }
    assert approval_of(aws, arn)[0] == "Rejected"


@pytest.mark.parametrize(("command", "status"), [("reject", "Approved"), ("approve", "Rejected")])
def test_a_decided_version_is_refused_without_force(cli, aws, versions, command, status) -> None:
    arn = versions(status)

    result = cli(command, arn)

    assert error_line(result) == (
        f"model package version {arn} is {status}, not PendingManualApproval: "
        "pass --force to change it anyway"
    )
    assert result.out == ""
    assert approval_of(aws, arn)[0] == status


def test_force_changes_a_decided_version(cli, aws, versions) -> None:
    arn = versions("Approved")

    result = cli("reject", arn, "--force", "--description", "recalled")

    assert result.code == 0, result.err
    assert result.out.splitlines()[0] == f"model package version {arn}: Rejected (was Approved)"
    assert approval_of(aws, arn) == ("Rejected", "recalled")


def test_approve_an_unknown_version(cli, aws) -> None:
    arn = "arn:aws:sagemaker:us-east-1:123456789012:model-package/no-such-group/3"

    assert error_line(cli("approve", arn)) == f"model package version not found: {arn}"


def test_approve_needs_a_version_arn(cli) -> None:
    arn = "arn:aws:sagemaker:us-east-1:123456789012:model-package-group/g"

    assert error_line(cli("approve", arn)) == (
        f"MODEL_PACKAGE_ARN: {arn!r} is not a model package version ARN "
        "(arn:aws:sagemaker:REGION:ACCOUNT:model-package/GROUP/VERSION)"
    )


def test_approve_without_credentials(cli, aws, monkeypatch) -> None:
    no_credentials(monkeypatch)
    arn = "arn:aws:sagemaker:us-east-1:123456789012:model-package/g/1"

    result = cli("approve", arn)

    assert (result.code, result.out, result.err) == (2, "", NO_CREDENTIALS)


# rollback --------------------------------------------------------------------------------------


def test_rollback_runs_the_owners_deployer_and_prints_what_is_live(cli, aws, rolled) -> None:
    # GIVEN a live config that replaced the first one, and the deployment's deployer
    deployment = rolled["deployment"]
    deployer = deployer_for(aws, deployment)
    decoy = aws.state_machine(PASS, name=f"{deployment.owner}-deployer-old")

    # WHEN the endpoint is rolled back
    result = cli("rollback", deployment.endpoint)

    # THEN the deployer ran once, on the config the live one replaced, and nothing else did
    assert result.code == 0, result.err
    [execution] = executions_of(aws, deployer)
    assert json.loads(execution["input"]) == {"endpointConfigName": rolled["first"]}
    assert executions_of(aws, decoy) == []
    # AND the printout reads the endpoint after the deployer ended
    assert deployment.live() == rolled["first"]
    assert result.out.splitlines() == [
        f"rolling back endpoint {deployment.endpoint} from {rolled['live']} to {rolled['first']}: "
        f"{execution['executionArn']} (Ctrl-C stops waiting, not the rollback)",
        f"deployer execution {execution['executionArn']}: SUCCEEDED",
        f"endpoint {deployment.endpoint}: InService, endpoint config {rolled['first']} "
        "(rolled back)",
    ]
    assert result.err == ""


def test_rollback_json(cli, aws, rolled) -> None:
    deployment = rolled["deployment"]
    deployer = deployer_for(aws, deployment)

    result = cli("rollback", deployment.endpoint, "--json")

    assert result.code == 0, result.err
    document = json.loads(result.out)
    [execution] = executions_of(aws, deployer)
    assert document == {
        "endpointName": deployment.endpoint,
        "deployment": deployment.owner,
        "previousEndpointConfigName": rolled["live"],
        "targetEndpointConfigName": rolled["first"],
        "stateMachineArn": deployer,
        "executionArn": execution["executionArn"],
        "status": "SUCCEEDED",
        "error": None,
        "cause": None,
        "endpoint": {
            "endpointName": deployment.endpoint,
            "status": "InService",
            "endpointConfigName": rolled["first"],
            "failureReason": None,
        },
    }


def test_rollback_to_a_named_config_without_waiting(cli, aws, rolled) -> None:
    deployment = rolled["deployment"]
    deployer = deployer_for(aws, deployment, PASS)
    older = deployment.config()

    result = cli("rollback", deployment.endpoint, "--to", older, "--no-wait")

    assert result.code == 0, result.err
    [execution] = executions_of(aws, deployer)
    assert json.loads(execution["input"]) == {"endpointConfigName": older}
    assert result.out == (
        f"started rollback of endpoint {deployment.endpoint} from {rolled['live']} to {older}: "
        f"{execution['executionArn']}\n"
    )


def test_the_deployer_option_wins_over_the_owners_deployer(cli, aws, rolled) -> None:
    deployment = rolled["deployment"]
    default = deployer_for(aws, deployment, PASS)
    chosen = aws.state_machine(PASS, name=unique("other-deployer"))

    result = cli("rollback", deployment.endpoint, "--state-machine-arn", chosen, "--no-wait",
                 "--json")  # fmt: skip

    assert result.code == 0, result.err
    [execution] = executions_of(aws, chosen)
    assert json.loads(execution["input"]) == {"endpointConfigName": rolled["first"]}
    assert json.loads(result.out)["executionArn"] == execution["executionArn"]
    assert executions_of(aws, default) == []


def test_an_untagged_endpoint_rolls_back_with_both_options(cli, aws) -> None:
    deployment = Deployment(aws, None)
    first = deployment.config()
    deployment.serve(deployment.config(replaces=first))
    deployer = aws.state_machine(PASS, name=unique("deployer"))

    result = cli("rollback", deployment.endpoint, "--to", first,
                 "--state-machine-arn", deployer, "--no-wait")  # fmt: skip

    assert result.code == 0, result.err
    [execution] = executions_of(aws, deployer)
    assert json.loads(execution["input"]) == {"endpointConfigName": first}


def test_a_failed_rollback_prints_what_is_live_and_fails_with_the_error(cli, aws, rolled) -> None:
    deployment = rolled["deployment"]
    deployer = deployer_for(aws, deployment, FAIL)

    result = cli("rollback", deployment.endpoint)

    assert result.code == 1
    [execution] = executions_of(aws, deployer)
    arn = execution["executionArn"]
    assert (
        result.err == f"smtune: error: rollback execution {arn} FAILED: Deployment.Failed: boom\n"
    )
    assert result.out.splitlines()[1:] == [
        f"deployer execution {arn}: FAILED",
        f"endpoint {deployment.endpoint}: InService, endpoint config {rolled['live']}",
    ]


def test_rollback_of_an_unknown_endpoint(cli, aws) -> None:
    assert error_line(cli("rollback", "no-such-endpoint")) == "endpoint not found: no-such-endpoint"


@pytest.mark.parametrize("given", [[], ["--to", "some-config"], ["--state-machine-arn", "ARN"]])
def test_an_untagged_endpoint_needs_both_options(cli, aws, given: list[str]) -> None:
    deployment = Deployment(aws, None)
    deployment.serve(deployment.config(replaces="x"))
    if "ARN" in given:
        given = ["--state-machine-arn", aws.state_machine(PASS)]

    assert error_line(cli("rollback", deployment.endpoint, *given)) == (
        f"endpoint {deployment.endpoint} has no {OWNER_TAG_KEY} tag, so neither its deployer nor "
        "its previous endpoint config is known: pass --state-machine-arn DEPLOYER_ARN and --to "
        "ENDPOINT_CONFIG"
    )


def test_nothing_to_roll_back_to_after_a_first_deployment(cli, aws) -> None:
    deployment = Deployment(aws, unique("dep"))
    live = deployment.config()
    deployment.serve(live)
    deployer = deployer_for(aws, deployment, PASS)

    assert error_line(cli("rollback", deployment.endpoint)) == (
        f"nothing to roll back to: the live endpoint config {live} of endpoint "
        f"{deployment.endpoint} has no {REPLACES_TAG_KEY} tag (it was the first deployment); "
        "name one with --to ENDPOINT_CONFIG"
    )
    assert executions_of(aws, deployer) == []


def test_nothing_to_roll_back_to_when_the_replaced_config_is_gone(cli, aws, rolled) -> None:
    deployment = rolled["deployment"]
    deployer_for(aws, deployment, PASS)
    deployment.sagemaker.delete_endpoint_config(EndpointConfigName=rolled["first"])

    assert error_line(cli("rollback", deployment.endpoint)) == (
        f"nothing to roll back to: endpoint config {rolled['first']}, which the live "
        f"{rolled['live']} replaced, no longer exists; name another with --to ENDPOINT_CONFIG"
    )


def test_rollback_to_an_unknown_config(cli, aws, rolled) -> None:
    deployment = rolled["deployment"]
    deployer_for(aws, deployment, PASS)

    assert error_line(cli("rollback", deployment.endpoint, "--to", "no-such-config")) == (
        "--to: endpoint config not found: no-such-config"
    )


@pytest.mark.parametrize("other_owner", ["another-deployment", None])
def test_rollback_to_a_config_of_another_deployment(cli, aws, rolled, other_owner) -> None:
    deployment = rolled["deployment"]
    deployer = deployer_for(aws, deployment, PASS)
    foreign = deployment.config(owner=other_owner)

    message = error_line(cli("rollback", deployment.endpoint, "--to", foreign))

    whose = (
        "belongs to deployment 'another-deployment'"
        if other_owner
        else f"has no {OWNER_TAG_KEY} tag"
    )
    assert message == (
        f"--to: endpoint config {foreign} {whose}, not to deployment {deployment.owner!r}, "
        f"the owner of endpoint {deployment.endpoint}"
    )
    assert executions_of(aws, deployer) == []


def test_rollback_to_the_live_config(cli, aws, rolled) -> None:
    deployment = rolled["deployment"]
    deployer_for(aws, deployment, PASS)

    assert error_line(cli("rollback", deployment.endpoint, "--to", rolled["live"])) == (
        f"--to: endpoint config {rolled['live']} is already live on endpoint {deployment.endpoint}"
    )


def test_rollback_without_a_deployer(cli, aws, rolled) -> None:
    deployment = rolled["deployment"]
    expected = f"arn:aws:states:us-east-1:123456789012:stateMachine:{deployment.owner}-deployer"

    assert error_line(cli("rollback", deployment.endpoint)) == (
        f"no deployer state machine found: {expected} (named after deployment "
        f"{deployment.owner!r}) does not exist; pass --state-machine-arn DEPLOYER_ARN"
    )


def test_rollback_with_an_unknown_deployer(cli, aws, rolled) -> None:
    arn = "arn:aws:states:us-east-1:123456789012:stateMachine:no-such-deployer"

    result = cli("rollback", rolled["deployment"].endpoint, "--state-machine-arn", arn)

    assert error_line(result) == f"state machine not found: {arn}"


def test_rollback_without_credentials(cli, aws, rolled, monkeypatch) -> None:
    no_credentials(monkeypatch)

    result = cli("rollback", rolled["deployment"].endpoint)

    assert (result.code, result.out, result.err) == (2, "", NO_CREDENTIALS)


# teardown --------------------------------------------------------------------------------------


@pytest.fixture
def estate(aws) -> dict[str, Any]:
    """Three deployments' resources side by side: the one to tear down (two runs, an endpoint
    with a scalable target and a scaling policy), another deployment's, and untagged ones."""
    mine = Deployment(aws, unique("mine"))
    first = mine.config()
    live = mine.config(replaces=first)
    mine.serve(live)
    spare_model = mine.model()
    autoscaling = aws.client("application-autoscaling")
    resource_id = f"endpoint/{mine.endpoint}/variant/{VARIANT}"
    autoscaling.register_scalable_target(
        ServiceNamespace="sagemaker",
        ResourceId=resource_id,
        ScalableDimension=DIMENSION,
        MinCapacity=1,
        MaxCapacity=4,
    )
    autoscaling.put_scaling_policy(
        PolicyName="invocations",
        ServiceNamespace="sagemaker",
        ResourceId=resource_id,
        ScalableDimension=DIMENSION,
        PolicyType="TargetTrackingScaling",
        TargetTrackingScalingPolicyConfiguration={
            "TargetValue": 100.0,
            "PredefinedMetricSpecification": {
                "PredefinedMetricType": "SageMakerVariantInvocationsPerInstance"
            },
        },
    )
    others = []
    for owner in (unique("theirs"), None):
        other = Deployment(aws, owner)
        other.serve(other.config())
        others.append(other)
    sagemaker = aws.client("sagemaker")
    models = sorted(
        [spare_model]
        + [
            sagemaker.describe_endpoint_config(EndpointConfigName=config)["ProductionVariants"][0][
                "ModelName"
            ]
            for config in (first, live)
        ]
    )
    return {
        "prefix": mine.owner,
        "endpoint": mine.endpoint,
        "configs": sorted([first, live]),
        "models": models,
        "scalable_target": resource_id,
        "others": others,
    }


def remaining(aws, estate: dict[str, Any]) -> dict[str, list[str]]:
    """Which of the deployment's resources still exist."""
    sagemaker = aws.client("sagemaker")

    def exists(call, **request) -> bool:
        try:
            call(**request)
        except ClientError:
            return False
        return True

    targets = aws.client("application-autoscaling").describe_scalable_targets(
        ServiceNamespace="sagemaker", ResourceIds=[estate["scalable_target"]]
    )["ScalableTargets"]
    return {
        "endpoints": [estate["endpoint"]]
        if exists(sagemaker.describe_endpoint, EndpointName=estate["endpoint"])
        else [],
        "configs": [
            name
            for name in estate["configs"]
            if exists(sagemaker.describe_endpoint_config, EndpointConfigName=name)
        ],
        "models": [
            name for name in estate["models"] if exists(sagemaker.describe_model, ModelName=name)
        ],
        "scalable_targets": [target["ResourceId"] for target in targets],
    }


def everything(estate: dict[str, Any]) -> dict[str, list[str]]:
    return {
        "endpoints": [estate["endpoint"]],
        "configs": estate["configs"],
        "models": estate["models"],
        "scalable_targets": [estate["scalable_target"]],
    }


def assert_others_untouched(estate: dict[str, Any]) -> None:
    for other in estate["others"]:
        other.sagemaker.describe_endpoint(EndpointName=other.endpoint)  # raises when gone
        config = other.live()
        other.sagemaker.describe_endpoint_config(EndpointConfigName=config)
        model = other.sagemaker.describe_endpoint_config(EndpointConfigName=config)[
            "ProductionVariants"
        ][0]["ModelName"]
        other.sagemaker.describe_model(ModelName=model)


def test_teardown_is_a_dry_run_by_default(cli, aws, estate) -> None:
    result = cli("teardown", "--name-prefix", estate["prefix"])

    assert result.code == 0, result.err
    assert result.out.splitlines() == [
        f"deployment {estate['prefix']}: would delete 1 endpoint, 2 endpoint configs, 3 models "
        "(dry run: pass --yes to delete them)",
        f"would deregister scalable target {estate['scalable_target']} ({DIMENSION})",
        f"would delete endpoint {estate['endpoint']}",
        *[f"would delete endpoint config {name}" for name in estate["configs"]],
        *[f"would delete model {name}" for name in estate["models"]],
    ]
    assert remaining(aws, estate) == everything(estate)


def test_teardown_dry_run_as_json(cli, aws, estate) -> None:
    result = cli("teardown", "--name-prefix", estate["prefix"], "--json")

    assert result.code == 0, result.err
    document = json.loads(result.out)
    assert document["namePrefix"] == estate["prefix"]
    assert document["dryRun"] is True
    assert [(a["resource"], a["name"], a["outcome"]) for a in document["actions"]] == [
        ("scalableTarget", estate["scalable_target"], "planned"),
        ("endpoint", estate["endpoint"], "planned"),
        *[("endpointConfig", name, "planned") for name in estate["configs"]],
        *[("model", name, "planned") for name in estate["models"]],
    ]
    assert document["actions"][0]["scalableDimension"] == DIMENSION
    assert remaining(aws, estate) == everything(estate)


def test_teardown_yes_deletes_the_deployment_and_nothing_else(cli, aws, estate) -> None:
    result = cli("teardown", "--name-prefix", estate["prefix"], "--yes")

    assert result.code == 0, result.err
    assert result.out.splitlines() == [
        f"deregistered scalable target {estate['scalable_target']} ({DIMENSION})",
        f"deleted endpoint {estate['endpoint']}",
        *[f"deleted endpoint config {name}" for name in estate["configs"]],
        *[f"deleted model {name}" for name in estate["models"]],
    ]
    assert remaining(aws, estate) == {
        "endpoints": [],
        "configs": [],
        "models": [],
        "scalable_targets": [],
    }
    assert_others_untouched(estate)


def test_a_second_teardown_finds_nothing(cli, aws, estate) -> None:
    assert cli("teardown", "--name-prefix", estate["prefix"], "--yes").code == 0

    again = cli("teardown", "--name-prefix", estate["prefix"], "--yes")
    as_json = cli("teardown", "--name-prefix", estate["prefix"], "--yes", "--json")

    assert again.code == 0, again.err
    assert again.out == (
        f"nothing to delete: no endpoint, endpoint config or model is tagged "
        f"{OWNER_TAG_KEY}={estate['prefix']}\n"
    )
    assert json.loads(as_json.out) == {
        "namePrefix": estate["prefix"],
        "dryRun": False,
        "actions": [],
    }
    assert_others_untouched(estate)


class FailingDeletes:
    """A SageMaker client whose deletes of the named resources are refused."""

    def __init__(self, client: Any, refused: set[str]) -> None:
        self._client = client
        self._refused = refused

    def __getattr__(self, name: str) -> Any:
        call = getattr(self._client, name)
        if not name.startswith("delete_"):
            return call
        operation = "".join(part.title() for part in name.split("_"))

        def refuse(**request: Any) -> Any:
            if set(map(str, request.values())) & self._refused:
                raise ClientError(
                    {"Error": {"Code": "AccessDeniedException", "Message": "not allowed"}},
                    operation,
                )
            return call(**request)

        return refuse


def refuse_deletes(monkeypatch, refused: set[str]) -> None:
    make = CliAws.client

    def client(self, service: str) -> Any:
        made = make(self, service)
        return FailingDeletes(made, refused) if service == "sagemaker" else made

    monkeypatch.setattr(CliAws, "client", client)


def test_teardown_lists_what_it_could_not_delete(cli, aws, estate, monkeypatch) -> None:
    refused = estate["models"][0]
    refuse_deletes(monkeypatch, {refused})

    result = cli("teardown", "--name-prefix", estate["prefix"], "--yes")

    assert result.code == 2
    assert result.err == (
        f"smtune: error: could not delete model {refused}: access denied: DeleteModel was "
        "refused (not allowed)\n"
    )
    assert f"deleted endpoint {estate['endpoint']}" in result.out.splitlines()
    assert remaining(aws, estate)["models"] == [refused]
    assert remaining(aws, estate)["configs"] == []


def test_an_endpoint_that_cannot_be_deleted_keeps_what_it_serves(
    cli, aws, estate, monkeypatch
) -> None:
    refuse_deletes(monkeypatch, {estate["endpoint"]})
    sagemaker = aws.client("sagemaker")
    live = sagemaker.describe_endpoint(EndpointName=estate["endpoint"])["EndpointConfigName"]
    live_model = sagemaker.describe_endpoint_config(EndpointConfigName=live)["ProductionVariants"][
        0
    ]["ModelName"]

    result = cli("teardown", "--name-prefix", estate["prefix"], "--yes")

    assert result.code == 2
    assert result.err.startswith(f"smtune: error: could not delete endpoint {estate['endpoint']}")
    assert (
        f"kept endpoint config {live}: endpoint {estate['endpoint']}, which was not deleted, "
        "uses it"
    ) in result.out.splitlines()
    left = remaining(aws, estate)
    assert left["endpoints"] == [estate["endpoint"]]
    assert left["configs"] == [live]
    assert left["models"] == [live_model]


def test_teardown_needs_a_prefix(cli) -> None:
    assert error_line(cli("teardown", "--name-prefix", " ")) == (
        "--name-prefix: give the deployment's name_prefix"
    )


def test_teardown_without_credentials(cli, aws, monkeypatch) -> None:
    no_credentials(monkeypatch)

    result = cli("teardown", "--name-prefix", "anything")

    assert (result.code, result.out, result.err) == (2, "", NO_CREDENTIALS)
