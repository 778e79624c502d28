"""Deployments side by side in one account and region.

Two deployments whose module inputs differ only in `name_prefix` (same bucket, same options,
Parameter Store path left to its default) apply into one emulator and run to SUCCEEDED at the
same time, each on its own endpoint (their parameter files differ only in `endpointName`). A
third deployment whose parameter file names the first one's endpoint applies too, but its run
is refused before it touches the endpoint, with an alert; once the owner tag is removed, as the
refusal says, its next run adopts the endpoint.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from tests.support.workflow import Stack, sns_queue

pytestmark = [pytest.mark.emulator, pytest.mark.xdist_group("workflow-coexistence")]

OWNER_TAG = "sagemaker-tuner-deployer:deployment"
SHARED_BUCKET = "coexist-data"
FIRST, SECOND, THIRD = "coexist-a", "coexist-b", "coexist-c"
# The parameter files' bucket is the shared one; short endpoint waits.
ML_OVERRIDES = {"endpointWaitIntervalSeconds": 2, "endpointWaitTimeoutSeconds": 300}


def endpoint_name(stack: Stack) -> str:
    return str(stack.ml_parameters["endpointName"])


def owner_of(stack: Stack, endpoint: str) -> str | None:
    sagemaker = stack.clients("sagemaker")
    arn = sagemaker.describe_endpoint(EndpointName=endpoint)["EndpointArn"]
    tags = {t["Key"]: t["Value"] for t in sagemaker.list_tags(ResourceArn=arn)["Tags"]}
    return tags.get(OWNER_TAG)


@pytest.fixture(scope="module")
def first(deploy: Callable[..., Stack]) -> Stack:
    return deploy(
        FIRST, {**ML_OVERRIDES, "endpointName": f"{FIRST}-endpoint"}, bucket=SHARED_BUCKET
    )


@pytest.fixture(scope="module")
def second(deploy: Callable[..., Stack], first: Stack) -> Stack:
    return deploy(
        SECOND, {**ML_OVERRIDES, "endpointName": f"{SECOND}-endpoint"}, bucket=SHARED_BUCKET
    )


@pytest.fixture(scope="module")
def started(first: Stack, second: Stack, manifest: dict[str, Any]) -> list[str]:
    """GIVEN both deployments applied WHEN each starts a run at the same time."""
    return [stack.start(stack.parent_arn, manifest) for stack in (first, second)]


@pytest.fixture(scope="module")
def intruder(deploy: Callable[..., Stack], first: Stack, started: list[str]) -> Stack:
    """A third deployment whose parameter file names the first one's endpoint (applied while
    the first two run: an apply does not touch the endpoint)."""
    return deploy(
        THIRD, {**ML_OVERRIDES, "endpointName": endpoint_name(first)}, bucket=SHARED_BUCKET
    )


@pytest.fixture(scope="module")
def side_by_side(
    first: Stack, second: Stack, started: list[str], intruder: Stack
) -> list[dict[str, Any]]:
    """The two runs, ended."""
    return [stack.wait(arn, timeout=180) for stack, arn in zip((first, second), started)]


@pytest.fixture(scope="module")
def intruder_alerts(intruder: Stack) -> Callable[[], list[str]]:
    return sns_queue(intruder)


def test_two_deployments_that_differ_only_in_name_prefix_apply_side_by_side(
    first: Stack, second: Stack
) -> None:
    ssm = first.clients("ssm")
    for stack in (first, second):
        assert stack.outputs["ssm_parameter_path"] == f"/{stack.name}"
        names = stack.outputs["ssm_parameter_names"]
        assert names == {
            "ml-parameters": f"/{stack.name}/ml-parameters",
            "hyperparameters": f"/{stack.name}/hyperparameters",
        }
        for key in ("state_machine_arn", "tuner_state_machine_arn", "deployer_state_machine_arn"):
            assert stack.outputs[key].rsplit(":", 1)[-1].startswith(f"{stack.name}-")
        assert stack.outputs["sns_topic_arn"].rsplit(":", 1)[-1].startswith(f"{stack.name}-")
        published = ssm.get_parameter(Name=f"/{stack.name}/ml-parameters")["Parameter"]["Value"]
        assert json.loads(published)["endpointName"] == endpoint_name(stack)
    assert first.outputs["sns_topic_arn"] != second.outputs["sns_topic_arn"]


def test_both_run_to_success_each_on_its_own_endpoint_which_it_owns(
    first: Stack, second: Stack, side_by_side: list[dict[str, Any]]
) -> None:
    for stack, run in zip((first, second), side_by_side):
        assert run["status"] == "SUCCEEDED", run.get("cause")
        deployment = json.loads(run["output"])["deployment"]
        assert (deployment["endpointName"], deployment["action"], deployment["outcome"]) == (
            endpoint_name(stack),
            "create",
            "InService",
        )
        live = stack.clients("sagemaker").describe_endpoint(EndpointName=endpoint_name(stack))
        assert live["EndpointConfigName"] == deployment["endpointConfigName"]
        assert owner_of(stack, endpoint_name(stack)) == stack.name


def test_a_deployment_naming_another_ones_endpoint_is_refused_with_an_alert(
    first: Stack,
    intruder: Stack,
    intruder_alerts: Callable[[], list[str]],
    manifest: dict[str, Any],
) -> None:
    endpoint = endpoint_name(first)
    before = first.clients("sagemaker").describe_endpoint(EndpointName=endpoint)

    run = intruder.run(manifest)

    assert run["status"] == "FAILED"
    assert run["error"] == "EndpointOwnedByAnotherDeployment"
    assert f"endpoint {endpoint} belongs to the deployment '{FIRST}'" in run["cause"]
    assert f"not to this deployment '{THIRD}'" in run["cause"]
    assert "endpointName of its own" in run["cause"]
    (alert,) = intruder_alerts()
    assert "EndpointOwnedByAnotherDeployment" in alert and f"'{FIRST}'" in alert
    # Refused at the plan: no endpoint config, no change to the endpoint or its owner.
    deployer = intruder.clients("stepfunctions").list_executions(
        stateMachineArn=intruder.outputs["deployer_state_machine_arn"]
    )["executions"]
    states = intruder.entered_states(deployer[0]["executionArn"])
    assert "PlanDeployment" in states and "CreateEndpointConfig" not in states
    after = first.clients("sagemaker").describe_endpoint(EndpointName=endpoint)
    assert after["EndpointConfigName"] == before["EndpointConfigName"]
    assert owner_of(first, endpoint) == FIRST


def test_an_endpoint_whose_owner_tag_is_removed_is_adopted_by_the_next_run(
    first: Stack,
    intruder: Stack,
    intruder_alerts: Callable[[], list[str]],
    manifest: dict[str, Any],
) -> None:
    # GIVEN the owner tag removed, as the refusal says to do when the owner no longer uses it
    endpoint = endpoint_name(first)
    sagemaker = first.clients("sagemaker")
    arn = sagemaker.describe_endpoint(EndpointName=endpoint)["EndpointArn"]
    sagemaker.delete_tags(ResourceArn=arn, TagKeys=[OWNER_TAG])
    # WHEN the third deployment runs again
    run = intruder.run(manifest)
    # THEN it updates the endpoint and owns it from now on
    assert run["status"] == "SUCCEEDED", run.get("cause")
    deployment = json.loads(run["output"])["deployment"]
    assert (deployment["action"], deployment["outcome"]) == ("update", "InService")
    assert owner_of(first, endpoint) == THIRD
    assert intruder_alerts() == []
