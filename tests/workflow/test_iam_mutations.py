"""Each statement a run needs is needed: without it, a run fails with AccessDenied naming it.

One stack of the module is applied into the emulator, which evaluates every call of the
functions, the state machines and the simulated training and hosting against their roles'
policies (smtune/emulator/iam.py). The stack exercises the model lifecycle too: it deploys only
better models (ifBetter; every run's best objective is queued higher than the last), registers
every run's model and waits for a manual approval (the test approves each new version, and
EventBridge invokes the approval callback), and keeps one model (retention deletes from the
third run on). For each statement of each role the test removes the statement from the deployed
role policy (through the IAM API), runs the workflow once, and checks that the emulator refused
one of the statement's actions to that role and that the run failed (or, for the calls a run
survives by design, retention and the message that the live model was kept, that it reports
their absence); then it restores the policy. Statements a successful run cannot exercise are listed in
EXEMPT with the reason.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from smtune.emulator.control import CONTROL
from tests.support.emulator import queue_best_objective
from tests.support.workflow import TERMINAL, Stack

pytestmark = pytest.mark.emulator

NAME = "wf-iam"
GROUP = f"{NAME}-models"
# A run whose approval cannot resume (the callback is refused) fails after about 11 s.
APPROVAL_TIMEOUT_HOURS = 0.003
OWNER_TAG = "sagemaker-tuner-deployer:deployment"

# (role name without the stack prefix, statement Sid): why no successful run exercises it.
EXEMPT: dict[tuple[str, str], str] = {
    **{
        (f"-{function}-role", "WriteOwnLogGroup"): (
            "the emulator writes function logs itself; without the permission Lambda loses the "
            "logs and the function still runs"
        )
        for function in (
            "prepare-tuning-run",
            "find-best-training-job",
            "plan-deployment",
            "start-endpoint-deployment",
            "check-endpoint",
            "apply-retention",
            "register-model",
            "approval-callback",
            "describe-failure",
        )
    },
    **{
        (f"-{machine}-role", "DeliverExecutionLogs"): (
            "log delivery is checked when the state machine is created or updated, not by a run"
        )
        for machine in ("tuner", "deployer", "workflow")
    },
    **{
        (f"-{machine}-role", "NotifyFailures"): "published on the failure path only"
        for machine in ("tuner", "workflow")
    },
    ("-start-endpoint-deployment-role", "DeleteFailedEndpoint"): (
        "only an endpoint in status Failed is deleted"
    ),
    ("-deployer-role", "ReadEndpointConfigsForScaling"): (
        "read only to restore the scaling registration after a failed update (measured: a run "
        "that deploys succeeds without it and is refused nothing)"
    ),
    ("-workflow-role", "InvokeOwnFunctions"): (
        "the parent invokes only describe-failure, on its failure path"
    ),
    ("-deployer-role", "CreateScalingServiceLinkedRole"): (
        "the emulator does not model Application Auto Scaling's service-linked role"
    ),
    ("-sagemaker-execution", "PullImages"): (
        "the emulator does not pull images; SageMaker's own algorithm images need no permission"
    ),
    ("-sagemaker-execution", "AuthenticateToEcr"): "the emulator does not pull images",
    **{
        ("-sagemaker-execution", sid): (
            "the emulator creates no network interfaces for the training jobs' VPC config"
        )
        for sid in (
            "DescribeVpcResources",
            "CreateNetworkInterfacesInTheGivenSubnets",
            "ManageNetworkInterfaces",
        )
    },
    ("-sagemaker-execution", "WriteSageMakerLogs"): (
        "the emulated training writes no logs; without the permission a job runs unlogged"
    ),
    ("-sagemaker-execution", "PutSageMakerMetrics"): (
        "the emulated training publishes no metrics; without the permission a job still runs"
    ),
}


def _policies(iam: Any) -> dict[tuple[str, str], dict[str, Any]]:
    """(role, policy name) -> the policy document of every role of the stack."""
    documents = {}
    for role in iam.list_roles()["Roles"]:
        if not role["RoleName"].startswith(f"{NAME}-"):
            continue
        for policy in iam.list_role_policies(RoleName=role["RoleName"])["PolicyNames"]:
            document = iam.get_role_policy(RoleName=role["RoleName"], PolicyName=policy)[
                "PolicyDocument"
            ]
            if isinstance(document, str):
                document = json.loads(document)
            documents[(role["RoleName"], policy)] = document
    return documents


class Runs:
    """Runs of the stack: each queues a better best objective than the last and approves the
    version it registers."""

    def __init__(self, stack: Stack, emulator_url: str, manifest: dict[str, Any]) -> None:
        self.stack = stack
        self.url = emulator_url
        # Runs read their manifest from the data bucket, as the S3 trigger starts them.
        stack.clients("s3").put_object(
            Bucket=stack.bucket, Key="manifests/iam.json", Body=json.dumps(manifest).encode()
        )
        self.document = {"manifestS3Uri": f"s3://{stack.bucket}/manifests/iam.json"}
        self.count = 0
        self.seen: set[str] = set()

    def run(self, objective: float | None = None, timeout: float = 240.0) -> dict[str, Any]:
        self.count += 1
        best = round(0.5 + 0.002 * self.count, 4) if objective is None else objective
        # A run that failed before its tuning job left its objective queued: drop it, so that
        # this run's tuning job gets `best`.
        while CONTROL.next_best_objective() is not None:
            pass
        queue_best_objective(self.url, best)
        arn = self.stack.start(self.stack.parent_arn, self.document)
        sfn, sagemaker = self.stack.clients("stepfunctions"), self.stack.clients("sagemaker")
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            description = sfn.describe_execution(executionArn=arn)
            if description["status"] in TERMINAL:
                return dict(description)
            pending = sagemaker.list_model_packages(
                ModelPackageGroupName=GROUP, ModelApprovalStatus="PendingManualApproval"
            )["ModelPackageSummaryList"]
            for version in pending:
                if version["ModelPackageArn"] not in self.seen:
                    self.seen.add(version["ModelPackageArn"])
                    sagemaker.update_model_package(
                        ModelPackageArn=version["ModelPackageArn"],
                        ModelApprovalStatus="Approved",
                    )
            time.sleep(0.3)
        raise AssertionError(f"{arn} did not end within {timeout:.0f} s")


@pytest.fixture(scope="module")
def iam_stack(
    deploy: Callable[..., Stack], emulator: Any, manifest: dict[str, Any]
) -> Iterator[Runs]:
    stack = deploy(
        NAME,
        {
            "endpointWaitIntervalSeconds": 1,
            "endpointWaitTimeoutSeconds": 300,
            "promotion": {"policy": "ifBetter"},
            "modelRegistry": {
                "modelPackageGroupName": GROUP,
                "approval": "manual",
                "approvalTimeoutHours": APPROVAL_TIMEOUT_HOURS,
            },
            "retention": {"keepModels": 1},
        },
    )
    runs = Runs(stack, emulator.endpoint_url, manifest)
    # The first run creates the endpoint, the second updates it: from the third run on,
    # retention deletes the configs and models beyond the live one and the one it replaced.
    for _ in range(2):
        seeded = runs.run()
        assert seeded["status"] == "SUCCEEDED", seeded
        deployment = json.loads(seeded["output"])["deployment"]
        assert deployment["outcome"] == "InService", deployment
    yield runs


_EXERCISED: set[tuple[str, str]] = {
    ("-prepare-tuning-run-role", "ReadManifests"),
    ("-find-best-training-job-role", "DescribeTuningJobs"),
    ("-find-best-training-job-role", "DescribeTrainingJobs"),
    ("-find-best-training-job-role", "DescribeAlgorithm"),
    ("-plan-deployment-role", "DescribeEndpoint"),
    ("-plan-deployment-role", "ReadEndpointOwner"),
    ("-plan-deployment-role", "DescribeLiveEndpointConfig"),
    ("-plan-deployment-role", "DescribeScaling"),
    ("-start-endpoint-deployment-role", "DeployEndpoint"),
    ("-start-endpoint-deployment-role", "TagAndDescribeEndpoint"),
    ("-check-endpoint-role", "DescribeEndpoint"),
    ("-register-model-role", "ReadModelAndTrainingJob"),
    ("-register-model-role", "RegisterVersions"),
    ("-register-model-role", "ListVersions"),
    ("-register-model-role", "KeepTaskTokens"),
    ("-approval-callback-role", "ReadVersions"),
    ("-approval-callback-role", "TakeTaskTokens"),
    ("-approval-callback-role", "ResumeRuns"),
    ("-tuner-role", "InvokeOwnFunctions"),
    ("-tuner-role", "RunTuningJobs"),
    ("-tuner-role", "ReadTagsForSyncIntegration"),
    ("-tuner-role", "CreateModels"),
    ("-tuner-role", "PassSageMakerExecutionRole"),
    ("-tuner-role", "ManageTuningJobEventsRule"),
    ("-deployer-role", "InvokeOwnFunctions"),
    ("-deployer-role", "CreateEndpointConfigs"),
    ("-deployer-role", "ScaleEndpointVariants"),
    ("-deployer-role", "RegisterScaling"),
    ("-deployer-role", "ManageTargetTrackingAlarms"),
    ("-workflow-role", "StartChildWorkflows"),
    ("-workflow-role", "FollowChildExecutions"),
    ("-workflow-role", "ManageChildExecutionEventsRule"),
    ("-sagemaker-execution", "ListDataBuckets"),
    ("-sagemaker-execution", "ReadData"),
    ("-sagemaker-execution", "WriteArtifactsAndCheckpoints"),
}

# Statements whose refusal a run survives by design, each with the outcome that shows it: a
# refused retention leaves the configs and models for the next run (statemachine/
# deployer.asl.json, ApplyRetention) and the deployer reports no retention result; a refused
# informational message (NotifyOutcome, when the live model is kept) does not fail the run.
_SURVIVED: dict[tuple[str, str], str] = {
    **{
        ("-apply-retention-role", sid): "no retention result"
        for sid in (
            "ListModelsAndConfigs",
            "ReadLiveEndpoint",
            "ReadConfigsAndModels",
            "ListRunsUnderWay",
            "DeleteOldConfigsAndModels",
        )
    },
    ("-deployer-role", "NotifyFailures"): "KeptLive",
}


def _untag_endpoint(runs: Runs) -> None:
    """The next run adopts the endpoint: start-endpoint-deployment tags it (AddTags)."""
    sagemaker = runs.stack.clients("sagemaker")
    arn = sagemaker.describe_endpoint(EndpointName=runs.stack.ml_parameters["endpointName"])[
        "EndpointArn"
    ]
    sagemaker.delete_tags(ResourceArn=arn, TagKeys=[OWNER_TAG])


# Runs that reach a statement a plain update run does not: how to prepare them, and the best
# objective to queue (a worse one than the live model's keeps it, and the deployer publishes
# that outcome).
_PREPARE: dict[tuple[str, str], Callable[[Runs], None]] = {
    ("-start-endpoint-deployment-role", "TagAndDescribeEndpoint"): _untag_endpoint,
}
_OBJECTIVE: dict[tuple[str, str], float] = {("-deployer-role", "NotifyFailures"): 0.1}


def test_every_statement_is_exercised_or_exempt(iam_stack: Runs) -> None:
    deployed = {
        (role[len(NAME) :], statement.get("Sid", ""))
        for (role, _), document in _policies(iam_stack.stack.clients("iam")).items()
        for statement in document["Statement"]
    }
    covered = _EXERCISED | set(_SURVIVED)
    unclassified = deployed - covered - set(EXEMPT)
    assert not unclassified, f"statements neither exercised nor exempt: {sorted(unclassified)}"
    assert deployed >= covered, sorted(covered - deployed)


@pytest.mark.parametrize(("role_suffix", "sid"), sorted(_EXERCISED | set(_SURVIVED)))
def test_a_run_without_the_statement_is_refused(
    iam_stack: Runs, role_suffix: str, sid: str
) -> None:
    from smtune.emulator import iam as emulated_iam

    client = iam_stack.stack.clients("iam")
    role_name = f"{NAME}{role_suffix}"
    (key, document) = next(
        (key, document)
        for key, document in _policies(client).items()
        if key[0] == role_name and any(s.get("Sid") == sid for s in document["Statement"])
    )
    removed = next(s for s in document["Statement"] if s.get("Sid") == sid)
    mutated = {**document, "Statement": [s for s in document["Statement"] if s is not removed]}
    actions = {
        a.lower()
        for a in ([removed["Action"]] if isinstance(removed["Action"], str) else removed["Action"])
    }
    before = len(emulated_iam.denials())
    client.put_role_policy(
        RoleName=role_name, PolicyName=key[1], PolicyDocument=json.dumps(mutated)
    )
    prepare = _PREPARE.get((role_suffix, sid))
    if prepare is not None:
        prepare(iam_stack)
    try:
        run = iam_stack.run(_OBJECTIVE.get((role_suffix, sid)))
    finally:
        client.put_role_policy(
            RoleName=role_name, PolicyName=key[1], PolicyDocument=json.dumps(document)
        )
    refused = [
        d
        for d in emulated_iam.denials()[before:]
        if d.role_arn.endswith(f":role/{role_name}") and d.action.lower() in actions
    ]
    assert refused, (sid, run["status"], [d.message for d in emulated_iam.denials()[before:]])
    assert f"is not authorized to perform: {refused[0].action}" in refused[0].message
    survived = _SURVIVED.get((role_suffix, sid))
    if survived is None:
        assert run["status"] == "FAILED", (sid, run["status"])
        return
    assert run["status"] == "SUCCEEDED", (sid, run)
    deployment = json.loads(run["output"])["deployment"]
    if survived == "KeptLive":
        assert deployment["outcome"] == "KeptLive", (sid, deployment)
        return
    assert deployment["outcome"] == "InService", (sid, deployment)
    deployer = iam_stack.stack.clients("stepfunctions").describe_execution(
        executionArn=deployment["executionArn"]
    )
    assert json.loads(deployer["output"])["retention"] is None, (sid, deployer["output"])
