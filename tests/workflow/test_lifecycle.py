"""The model lifecycle across runs, on applied deployments: promotion, registry, retention,
rollback and teardown.

`lc-promote` deploys only better models (ifBetter), registers every run's model with automatic
approval and keeps two models. Its four runs choose their best objective through the emulator:
0.80 (first deployment), 0.70 (worse: the live model stays, one informational message), 0.90
(better: deployed) and 0.60 with forceDeploy (deployed whatever the policy says). Retention then
keeps exactly the live config, the one it replaced and their models; another deployment's and
untagged look-alikes are untouched. `smtune rollback` returns the endpoint to the replaced
config, and `smtune teardown` removes what the runs created.

`lc-approve` waits for a manual approval (at most 0.012 h, about 43 s): approved (deployed),
rejected (the live model stays), and no decision (ApprovalTimedOut, one alert).
"""

from __future__ import annotations

import io
import json
import time
from collections.abc import Callable
from contextlib import redirect_stdout
from typing import Any

import pytest

from smtune.cli import main as smtune_main
from tests.support.emulator import queue_best_objective
from tests.support.terraform import environment, terraform_environment
from tests.support.workflow import Stack, sns_queue

pytestmark = [pytest.mark.emulator, pytest.mark.xdist_group("workflow-lifecycle")]

OWNER_TAG = "sagemaker-tuner-deployer:deployment"
REPLACES_TAG = "sagemaker-tuner-deployer:replaces"
WAITS = {"endpointWaitIntervalSeconds": 2, "endpointWaitTimeoutSeconds": 300}
PROMOTE, APPROVE = "lc-promote", "lc-approve"
APPROVAL_TIMEOUT_HOURS = 0.012


def endpoint_of(stack: Stack) -> str:
    return str(stack.ml_parameters["endpointName"])


def group_of(stack: Stack) -> str:
    return str(stack.ml_parameters["modelRegistry"]["modelPackageGroupName"])


def tags_of(stack: Stack, arn: str) -> dict[str, str]:
    tags = stack.clients("sagemaker").list_tags(ResourceArn=arn)["Tags"]
    return {tag["Key"]: tag["Value"] for tag in tags}


def owned(stack: Stack, kind: str, owner: str) -> set[str]:
    """Names of the endpoint configs ("config") or models ("model") tagged as `owner`'s."""
    sagemaker = stack.clients("sagemaker")
    if kind == "config":
        listed = sagemaker.list_endpoint_configs(MaxResults=100)["EndpointConfigs"]
        pairs = [(c["EndpointConfigName"], c["EndpointConfigArn"]) for c in listed]
    else:
        listed = sagemaker.list_models(MaxResults=100)["Models"]
        pairs = [(m["ModelName"], m["ModelArn"]) for m in listed]
    return {name for name, arn in pairs if tags_of(stack, arn).get(OWNER_TAG) == owner}


def live_config(stack: Stack) -> str:
    endpoint = stack.clients("sagemaker").describe_endpoint(EndpointName=endpoint_of(stack))
    return str(endpoint["EndpointConfigName"])


def run_with_objective(
    stack: Stack, emulator: Any, manifest: dict[str, Any], value: float, **extra: Any
) -> dict[str, Any]:
    queue_best_objective(emulator.endpoint_url, value)
    return stack.run({**manifest, **extra}, stack.parent_arn)


def output(description: dict[str, Any]) -> dict[str, Any]:
    assert description["status"] == "SUCCEEDED", description
    return dict(json.loads(description["output"]))


def smtune(emulator: Any, *argv: str) -> tuple[int, str]:
    """Run the operator CLI against the emulator; its exit code and standard output."""
    out = io.StringIO()
    with environment(terraform_environment()), redirect_stdout(out):
        code = smtune_main(
            ["--endpoint-url", emulator.endpoint_url, "--region", "us-east-1", *argv]
        )
    return code, out.getvalue()


# ---------------------------------------------------------------------------------------------
# Promotion, registry (auto), retention, rollback, teardown
# ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def promote(deploy: Callable[..., Stack]) -> Stack:
    return deploy(
        PROMOTE,
        {
            **WAITS,
            "endpointName": f"{PROMOTE}-endpoint",
            "promotion": {"policy": "ifBetter"},
            "modelRegistry": {"modelPackageGroupName": f"{PROMOTE}-models"},
            "retention": {"keepModels": 2},
        },
    )


@pytest.fixture(scope="module")
def promote_messages(promote: Stack) -> Callable[[], list[str]]:
    return sns_queue(promote)


@pytest.fixture(scope="module")
def look_alikes(promote: Stack) -> set[str]:
    """A config and a model named like the deployment's, one another deployment's and one
    untagged: retention and teardown must leave them."""
    sagemaker = promote.clients("sagemaker")
    names = set()
    for suffix, tags in (
        ("aaaaaaaaaaaa", [{"Key": OWNER_TAG, "Value": "someone-else"}]),
        ("bbbbbbbbbbbb", []),
    ):
        model = f"{promote.ml_parameters['model']['name']}-{suffix}"
        sagemaker.create_model(
            ModelName=model,
            ExecutionRoleArn=f"arn:aws:iam::123456789012:role/{PROMOTE}-other",
            PrimaryContainer={"Image": "image:1", "ModelDataUrl": "s3://b/model.tar.gz"},
            **({"Tags": tags} if tags else {}),
        )
        config = f"{endpoint_of(promote)}-{suffix}"
        sagemaker.create_endpoint_config(
            EndpointConfigName=config,
            ProductionVariants=[
                {
                    "VariantName": "AllTraffic",
                    "ModelName": model,
                    "InitialInstanceCount": 1,
                    "InstanceType": "ml.m5.large",
                }
            ],
            **({"Tags": tags} if tags else {}),
        )
        names |= {model, config}
    return names


@pytest.fixture(scope="module")
def four_runs(
    promote: Stack,
    emulator: Any,
    manifest: dict[str, Any],
    promote_messages: Callable[[], list[str]],
    look_alikes: set[str],
) -> list[dict[str, Any]]:
    """GIVEN ifBetter WHEN runs find 0.80, 0.70, 0.90, then 0.60 with forceDeploy."""
    runs = []
    for value, extra in ((0.8, {}), (0.7, {}), (0.9, {}), (0.6, {"forceDeploy": True})):
        runs.append(output(run_with_objective(promote, emulator, manifest, value, **extra)))
    return runs


def test_if_better_deploys_only_a_better_model(four_runs: list[dict[str, Any]]) -> None:
    outcomes = [run["deployment"]["outcome"] for run in four_runs]
    assert outcomes == ["InService", "KeptLive", "InService", "InService"]
    kept = four_runs[1]["deployment"]
    assert kept["promotion"]["decision"] == "keep"
    assert kept["promotion"]["liveObjective"]["value"] == pytest.approx(0.8)
    assert kept["endpointConfigName"] == four_runs[0]["deployment"]["endpointConfigName"]
    assert four_runs[2]["deployment"]["promotion"]["reason"].startswith("better")
    assert four_runs[3]["deployment"]["promotion"]["forced"] is True


def test_the_kept_live_run_sends_one_informational_message(
    four_runs: list[dict[str, Any]], promote_messages: Callable[[], list[str]]
) -> None:
    messages = promote_messages()
    assert len(messages) == 1
    assert "kept the live model" in messages[0]
    assert "not better" in messages[0]


def test_every_run_is_registered_with_its_decision(
    promote: Stack, four_runs: list[dict[str, Any]]
) -> None:
    sagemaker = promote.clients("sagemaker")
    versions = sagemaker.list_model_packages(
        ModelPackageGroupName=group_of(promote), SortBy="CreationTime", SortOrder="Ascending"
    )["ModelPackageSummaryList"]
    assert [v["ModelApprovalStatus"] for v in versions] == [
        "Approved",
        "Rejected",
        "Approved",
        "Approved",
    ]
    registered = [run["deployment"]["registration"]["modelPackageArn"] for run in four_runs]
    assert registered == [v["ModelPackageArn"] for v in versions]
    described = sagemaker.describe_model_package(ModelPackageName=registered[2])
    metadata = described["CustomerMetadataProperties"]
    assert four_runs[2]["tuning"]["tuningJobName"] in metadata.values()


def test_retention_keeps_the_live_the_previous_and_the_newest(
    promote: Stack, four_runs: list[dict[str, Any]], look_alikes: set[str]
) -> None:
    configs = [run["deployment"]["endpointConfigName"] for run in four_runs]
    models = [run["tuning"]["modelName"] for run in four_runs]
    assert live_config(promote) == configs[3]
    # Run 2 kept the live model and created no config.
    assert owned(promote, "config", PROMOTE) == {configs[2], configs[3]}
    assert owned(promote, "model", PROMOTE) == {models[2], models[3]}, models
    config_arn = promote.clients("sagemaker").describe_endpoint_config(
        EndpointConfigName=configs[3]
    )["EndpointConfigArn"]
    assert tags_of(promote, config_arn)[REPLACES_TAG] == configs[2]
    # What is not this deployment's stays.
    sagemaker = promote.clients("sagemaker")
    remaining = {
        c["EndpointConfigName"] for c in sagemaker.list_endpoint_configs()["EndpointConfigs"]
    }
    remaining |= {m["ModelName"] for m in sagemaker.list_models()["Models"]}
    assert look_alikes <= remaining


@pytest.fixture(scope="module")
def rolled_back(promote: Stack, emulator: Any, four_runs: list[dict[str, Any]]) -> tuple[int, str]:
    return smtune(emulator, "rollback", endpoint_of(promote))


def test_rollback_returns_to_the_replaced_config(
    promote: Stack, four_runs: list[dict[str, Any]], rolled_back: tuple[int, str]
) -> None:
    code, printed = rolled_back
    assert code == 0, printed
    previous = four_runs[2]["deployment"]["endpointConfigName"]
    assert live_config(promote) == previous
    assert previous in printed
    endpoint = promote.clients("sagemaker").describe_endpoint(EndpointName=endpoint_of(promote))
    assert endpoint["EndpointStatus"] == "InService"


def test_teardown_lists_then_removes_only_this_deployments_resources(
    promote: Stack,
    emulator: Any,
    rolled_back: tuple[int, str],
    look_alikes: set[str],
    approvals: list[dict[str, Any]],
) -> None:
    code, dry_run = smtune(emulator, "teardown", "--name-prefix", PROMOTE)
    assert code == 0
    assert endpoint_of(promote) in dry_run
    assert owned(promote, "config", PROMOTE)  # a dry run deletes nothing

    code, printed = smtune(emulator, "teardown", "--name-prefix", PROMOTE, "--yes")
    assert code == 0, printed
    sagemaker = promote.clients("sagemaker")
    assert endpoint_of(promote) not in {
        e["EndpointName"] for e in sagemaker.list_endpoints()["Endpoints"]
    }
    assert owned(promote, "config", PROMOTE) == set()
    assert owned(promote, "model", PROMOTE) == set()
    targets = promote.clients("application-autoscaling").describe_scalable_targets(
        ServiceNamespace="sagemaker"
    )["ScalableTargets"]
    assert not [t for t in targets if f"endpoint/{endpoint_of(promote)}/" in t["ResourceId"]]
    # Another deployment's endpoint, configs and models, and the look-alikes, stay.
    assert owned(promote, "config", APPROVE)
    remaining = {
        c["EndpointConfigName"] for c in sagemaker.list_endpoint_configs()["EndpointConfigs"]
    }
    remaining |= {m["ModelName"] for m in sagemaker.list_models()["Models"]}
    assert look_alikes <= remaining
    sagemaker.describe_endpoint(EndpointName=f"{APPROVE}-endpoint")


# ---------------------------------------------------------------------------------------------
# Manual approval
# ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def approve_stack(deploy: Callable[..., Stack]) -> Stack:
    return deploy(
        APPROVE,
        {
            **WAITS,
            "endpointName": f"{APPROVE}-endpoint",
            "modelRegistry": {
                "modelPackageGroupName": f"{APPROVE}-models",
                "approval": "manual",
                "approvalTimeoutHours": APPROVAL_TIMEOUT_HOURS,
            },
        },
    )


@pytest.fixture(scope="module")
def approve_messages(approve_stack: Stack) -> Callable[[], list[str]]:
    return sns_queue(approve_stack)


def pending_version(stack: Stack, known: set[str], timeout: float = 60.0) -> str:
    """The ARN of a new version that waits for approval."""
    sagemaker = stack.clients("sagemaker")
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        versions = sagemaker.list_model_packages(
            ModelPackageGroupName=group_of(stack), ModelApprovalStatus="PendingManualApproval"
        )["ModelPackageSummaryList"]
        fresh = [v["ModelPackageArn"] for v in versions if v["ModelPackageArn"] not in known]
        if fresh:
            return str(fresh[0])
        time.sleep(0.5)
    raise AssertionError("no version awaited approval")


@pytest.fixture(scope="module")
def approvals(
    approve_stack: Stack,
    emulator: Any,
    manifest: dict[str, Any],
    approve_messages: Callable[[], list[str]],
) -> list[dict[str, Any]]:
    """GIVEN manual approval WHEN one run's version is approved, the next one's rejected (with
    the CLI), and a third gets no decision."""
    ended = []
    seen: set[str] = set()
    for decision in ("approve", "reject", None):
        queue_best_objective(emulator.endpoint_url, 0.8)
        arn = approve_stack.start(approve_stack.parent_arn, manifest)
        if decision is not None:
            version = pending_version(approve_stack, seen)
            seen.add(version)
            code, printed = smtune(emulator, decision, version, "--description", "checked")
            assert code == 0, printed
        ended.append(approve_stack.wait(arn, timeout=180))
    return ended


def test_an_approved_version_deploys(approvals: list[dict[str, Any]]) -> None:
    deployment = output(approvals[0])["deployment"]
    assert deployment["outcome"] == "InService"
    assert deployment["registration"]["approvalStatus"] == "Approved"


def test_a_rejected_version_keeps_the_live_model(
    approve_stack: Stack, approvals: list[dict[str, Any]]
) -> None:
    first, second = (output(run)["deployment"] for run in approvals[:2])
    assert second["outcome"] == "Rejected"
    assert second["endpointConfigName"] == first["endpointConfigName"]
    assert live_config(approve_stack) == first["endpointConfigName"]


def test_no_decision_times_out_into_a_readable_failure(
    approve_stack: Stack,
    approvals: list[dict[str, Any]],
    approve_messages: Callable[[], list[str]],
) -> None:
    timed_out = approvals[2]
    assert timed_out["status"] == "FAILED"
    assert timed_out["error"] == "ApprovalTimedOut"
    assert "approvalTimeoutHours" in timed_out["cause"]
    messages = approve_messages()
    # The rejection's informational message, and one alert for the timeout.
    assert len([m for m in messages if "ApprovalTimedOut" in m or "No approval" in m]) == 1
    assert len([m for m in messages if "rejected" in m]) == 1
    # No task token is left behind for the versions that got a decision.
    parameters = approve_stack.clients("ssm").describe_parameters(
        ParameterFilters=[
            {
                "Key": "Name",
                "Option": "BeginsWith",
                "Values": [f"/sagemaker-tuner-deployer/{APPROVE}/pending-approvals/"],
            }
        ]
    )["Parameters"]
    assert len(parameters) <= 1  # only the timed-out run's, which no decision will claim
