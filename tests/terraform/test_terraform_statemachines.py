"""The rendered state machines (from the plan JSON): valid JSON, the documented states and
data flow, the expected ARNs and parameter values, and the error handling rules: every Task
retries transient errors only and catches the rest, every failure path notifies and fails."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.support.terraform import (
    ACCOUNT_ID,
    BRING_YOUR_OWN,
    KMS_KEYS,
    REGION,
    state_machine_definitions,
)

pytestmark = [
    pytest.mark.terraform,
    # One worker per group under pytest-xdist: the group shares its session fixtures (plans, or
    # the applied deployment) instead of building them once per worker.
    pytest.mark.xdist_group("terraform-plans"),
    pytest.mark.filterwarnings("ignore:The 'warn' method is deprecated:DeprecationWarning"),
]

FUNCTIONS = f"arn:aws:lambda:{REGION}:{ACCOUNT_ID}:function"
MACHINES = f"arn:aws:states:{REGION}:{ACCOUNT_ID}:stateMachine"
SAGEMAKER_ERRORS = [
    "SageMaker.AmazonSageMakerException",
    "SageMaker.ResourceLimitExceededException",
]
LAMBDA_TRANSIENT_ERRORS = {
    "Lambda.ServiceException",
    "Lambda.AWSLambdaException",
    "Lambda.SdkClientException",
    "Lambda.TooManyRequestsException",
    "TransientAwsError",
}


@pytest.fixture(scope="module")
def machines(full_plan: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return state_machine_definitions(full_plan)


@pytest.fixture(scope="module")
def variant_machines(variant_plan: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return state_machine_definitions(variant_plan)


def all_definitions(
    machines: dict[str, dict[str, Any]], variant_machines: dict[str, dict[str, Any]]
) -> Iterator[tuple[str, dict[str, Any]]]:
    yield from machines.items()
    yield from variant_machines.items()


def walk(value: Any) -> Iterator[tuple[str, Any]]:
    """Every (key, value) pair nested in a JSON value."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield key, item
            yield from walk(item)
    elif isinstance(value, list):
        for item in value:
            yield from walk(item)


def successors(state: dict[str, Any]) -> set[str]:
    names = {state.get("Next"), state.get("Default")}
    names |= {choice["Next"] for choice in state.get("Choices", [])}
    names |= {catcher["Next"] for catcher in state.get("Catch", [])}
    return {name for name in names if name}


def reachable(definition: dict[str, Any], start: str) -> set[str]:
    seen: set[str] = set()
    pending = [start]
    while pending:
        name = pending.pop()
        if name not in seen:
            seen.add(name)
            pending.extend(successors(definition["States"][name]))
    return seen


# ---------------------------------------------------------------------------------------------
# Shape
# ---------------------------------------------------------------------------------------------


def test_the_documented_states_are_there(machines: dict[str, dict[str, Any]]) -> None:
    tuner = machines["tfplan-full-tuner"]["States"]
    deployer = machines["tfplan-full-deployer"]["States"]
    workflow = machines["tfplan-full-workflow"]["States"]

    assert machines["tfplan-full-tuner"]["StartAt"] == "PrepareTuningRun"
    assert set(tuner) >= {
        "PrepareTuningRun",
        "InputValid?",
        "CreateTuningJob",
        "FindBestTrainingJob",
        "QualityGate?",
        "CreateModel",
        "TuningSucceeded",
        "SageMakerErrorRetryable?",
        "DescribeFailure",
        "NotifyFailure",
    }
    assert machines["tfplan-full-deployer"]["StartAt"] == "StartDeployment"
    assert set(deployer) >= {
        "PlanDeployment",
        "Decision?",
        "WaitForTurn",
        "DeleteFailedEndpoint",
        "DeploymentStarted?",
        "SageMakerErrorRetryable?",
        "DescribeFailure",
        "InputValid?",
        "CreateEndpointConfig",
        "DeregisterScalingFirst?",
        "DeregisterScalableTarget",
        "StartEndpointDeployment",
        "WaitForEndpoint",
        "CheckEndpoint",
        "EndpointOutcome?",
        "ScalingEnabled?",
        "RegisterScalableTarget",
        "PutScalingPolicy",
        "DeploymentSucceeded",
        "RestoreScaling",
        "NotifyFailure",
        "Register?",
        "RegisterModel",
        "RegisterAndAwaitApproval",
        "Approved?",
        "Promoted?",
        "KeptLiveModel",
        "ModelRejected",
        "NotifyOutcome",
        "RecordDeployment",
        "ApplyRetention",
    }
    assert machines["tfplan-full-workflow"]["StartAt"] == "ForceDeploy?"
    assert workflow["ForceDeployGiven"]["Next"] == workflow["ForceDeployDefault"]["Next"] == "Tune"
    assert workflow["Tune"]["Next"] == "Deploy"


def test_every_transition_names_a_state_and_every_state_is_reachable(
    machines: dict[str, dict[str, Any]], variant_machines: dict[str, dict[str, Any]]
) -> None:
    for name, definition in all_definitions(machines, variant_machines):
        states = definition["States"]
        for state_name, state in states.items():
            assert successors(state) <= set(states), f"{name}.{state_name}"

        assert reachable(definition, definition["StartAt"]) == set(states), name


# ---------------------------------------------------------------------------------------------
# Error handling
# ---------------------------------------------------------------------------------------------


def test_every_task_retries_with_backoff_and_catches_everything(
    machines: dict[str, dict[str, Any]], variant_machines: dict[str, dict[str, Any]]
) -> None:
    for name, definition in all_definitions(machines, variant_machines):
        tasks = {n: s for n, s in definition["States"].items() if s["Type"] == "Task"}
        assert tasks
        for task_name, task in tasks.items():
            where = f"{name}.{task_name}"
            if task["Resource"].startswith("arn:aws:states:::sagemaker:"):
                # Optimized SageMaker tasks report throttling and validation errors under one
                # name: they are caught and told apart by the code in the cause.
                assert "Retry" not in task, where
                assert task["Catch"][0] == {
                    "ErrorEquals": SAGEMAKER_ERRORS,
                    "ResultPath": "$.error",
                    "Next": "SageMakerErrorRetryable?",
                }, where
                assert "States.ALL" in task["Catch"][-1]["ErrorEquals"], where
                continue
            assert task["Retry"], where
            for retrier in task["Retry"]:
                assert retrier["BackoffRate"] > 1, where
                assert retrier["MaxAttempts"] >= 3, where
            assert "States.ALL" in task["Catch"][-1]["ErrorEquals"], where


def test_retries_name_transient_errors_only(
    machines: dict[str, dict[str, Any]], variant_machines: dict[str, dict[str, Any]]
) -> None:
    for name, definition in all_definitions(machines, variant_machines):
        for task_name, task in definition["States"].items():
            for retrier in task.get("Retry", []):
                errors = set(retrier["ErrorEquals"])
                where = f"{name}.{task_name}"
                # The seed retried SageMaker.AmazonSageMakerException, which also covers
                # validation errors: a bad request was repeated instead of reported.
                assert "SageMaker.AmazonSageMakerException" not in errors, where
                assert not errors & {"States.ALL", "States.TaskFailed", "States.Runtime"}, where
                if task["Resource"] == "arn:aws:states:::lambda:invoke":
                    assert errors == LAMBDA_TRANSIENT_ERRORS, where


def test_sagemaker_errors_are_retried_by_their_code_with_bounded_backoff(
    machines: dict[str, dict[str, Any]],
) -> None:
    for name, calls in (
        ("tfplan-full-tuner", {"CreateTuningJob", "CreateModel"}),
        ("tfplan-full-deployer", {"CreateEndpointConfig"}),
    ):
        states = machines[name]["States"]
        decide = states["SageMakerErrorRetryable?"]
        throttled, quota = decide["Choices"]
        patterns = {c["StringMatches"] for c in throttled["And"][0]["Or"]}
        assert "*Error Code: ThrottlingException;*" in patterns
        assert "*Status Code: 5*" in patterns
        assert throttled["And"][1] == {
            "Variable": "$.sageMakerRetry.attempt",
            "NumericLessThan": 6,
        }
        assert quota["And"][0]["StringMatches"] == "*ResourceLimitExceeded*"
        # Anything else (a validation error) fails at once.
        assert decide["Default"] == "DescribeFailure"
        # Throttling: full jitter over a doubling delay; quota: the delay plus jitter.
        throttle_wait = states[throttled["Next"]]["Parameters"]["seconds.$"]
        assert throttle_wait == (
            "States.MathRandom(1, States.ArrayGetItem(States.Array(2, 4, 8, 16, 32, 60), "
            "$.sageMakerRetry.attempt))"
        )
        quota_wait = states[quota["Next"]]["Parameters"]["seconds.$"]
        assert "States.Array(60, 120, 240, 480, 900, 900)" in quota_wait
        retry = states["RetrySageMakerCall"]
        assert {c["Next"] for c in retry["Choices"]} == calls
        for call in calls:
            assert states[call]["Resource"].startswith("arn:aws:states:::sagemaker:")


def test_failures_are_described_then_notified_then_fail_with_the_described_error(
    machines: dict[str, dict[str, Any]],
) -> None:
    for name, definition in machines.items():
        states = definition["States"]
        describe = states["DescribeFailure"]
        assert describe["Resource"] == "arn:aws:states:::lambda:invoke"
        assert describe["Parameters"]["FunctionName"] == f"{FUNCTIONS}:tfplan-full-describe-failure"
        assert describe["Parameters"]["Payload"]["error.$"] == "$.error"
        assert describe["Parameters"]["Payload"]["lambdaLogGroups"] == "/aws/lambda/tfplan-full-*"
        # The describer failing still alerts, with nothing from the input in the text.
        fallback = states[describe["Catch"][0]["Next"]]
        assert fallback["Next"] == "NotifyFailure"
        assert "$.error" not in str(fallback["Parameters"])

        notify = states["NotifyFailure"]
        assert notify["Resource"] == "arn:aws:states:::sns:publish"
        assert notify["Parameters"]["TopicArn"] == (
            f"arn:aws:sns:{REGION}:{ACCOUNT_ID}:tfplan-full-notifications"
        )
        # The seed sent MessageStructure "application/json" with a plain message: SNS refused it.
        assert "MessageStructure" not in notify["Parameters"]
        assert notify["Parameters"]["Message.$"] == "$.failure.message"
        # A failed notification still ends in the Fail state.
        assert notify["Catch"][0]["ResultPath"] not in ("$.error", "$.failure")
        assert notify["Catch"][0]["Next"] == notify["Next"], name
        assert states[notify["Next"]] == {
            "Type": "Fail",
            "ErrorPath": "$.failure.Error",
            "CausePath": "$.failure.Cause",
        }


def test_no_fail_state_reports_a_reserved_or_raw_error(
    machines: dict[str, dict[str, Any]], variant_machines: dict[str, dict[str, Any]]
) -> None:
    for name, definition in all_definitions(machines, variant_machines):
        states = definition["States"]
        for fail_name, fail in states.items():
            if fail["Type"] != "Fail":
                continue
            # Only the described error reaches a Fail state: the describer renames names
            # beginning with "States." (reserved) and never passes a stack trace on.
            assert "Error" not in fail and "Cause" not in fail, f"{name}.{fail_name}"
            assert fail["ErrorPath"] == "$.failure.Error", f"{name}.{fail_name}"
            assert fail["CausePath"] == "$.failure.Cause", f"{name}.{fail_name}"


def test_every_failure_path_goes_through_the_notification(
    machines: dict[str, dict[str, Any]],
) -> None:
    for name in ("tfplan-full-tuner", "tfplan-full-deployer"):
        definition = machines[name]
        states = definition["States"]
        fail_states = {n for n, s in states.items() if s["Type"] == "Fail"}

        # Expected outcomes become named errors, then the notification.
        raised = {
            s["Parameters"]["Error"]: n
            for n, s in states.items()
            if s["Type"] == "Pass" and s.get("ResultPath") == "$.error"
        }
        for state_name in raised.values():
            assert "DescribeFailure" in reachable(definition, state_name), f"{name}.{state_name}"
            assert "NotifyFailure" in reachable(definition, state_name), f"{name}.{state_name}"
        for state_name, state in states.items():
            for catcher in state.get("Catch", []):
                if state_name != "NotifyFailure":
                    assert catcher["Next"] not in fail_states, f"{name}.{state_name}"

    tuner_errors = {
        s["Parameters"]["Error"]
        for s in machines["tfplan-full-tuner"]["States"].values()
        if s["Type"] == "Pass" and s.get("ResultPath") == "$.error"
    }
    deployer_errors = {
        s["Parameters"]["Error"]
        for s in machines["tfplan-full-deployer"]["States"].values()
        if s["Type"] == "Pass" and s.get("ResultPath") == "$.error"
    }
    assert tuner_errors == {"InvalidInput", "TuningJobFailed", "QualityGateNotMet"}
    assert deployer_errors == {
        "InvalidInput",
        "EndpointUpdateRolledBack",
        "EndpointFailed",
        "EndpointWaitTimedOut",
        "ApprovalTimedOut",
    }


def test_workflow_does_not_notify_again_for_a_failed_child(
    machines: dict[str, dict[str, Any]],
) -> None:
    workflow = machines["tfplan-full-workflow"]["States"]

    for name in ("Tune", "Deploy"):
        (anything,) = workflow[name]["Catch"]
        assert anything == {
            "ErrorEquals": ["States.ALL"],
            "ResultPath": "$.error",
            "Next": "DescribeFailure",
        }
    # The describer reads the child's description: a failed child has alerted (notify false),
    # a stopped or timed-out one has not.
    notify = workflow["Notify?"]
    (silent,) = notify["Choices"]
    assert silent == {"Variable": "$.failure.notify", "BooleanEquals": False, "Next": "RunFailed"}
    assert notify["Default"] == "NotifyFailure"


def test_a_failed_tuning_job_has_its_own_error_name_and_a_readable_cause(
    machines: dict[str, dict[str, Any]],
) -> None:
    definition = machines["tfplan-full-tuner"]
    states = definition["States"]

    service_error, job_failed, anything_else = states["CreateTuningJob"]["Catch"]
    # States.TaskFailed matches every error but States.Timeout: SageMaker's own errors first.
    assert service_error["ErrorEquals"] == SAGEMAKER_ERRORS
    assert job_failed["ErrorEquals"] == ["States.TaskFailed"]
    assert anything_else["ErrorEquals"] == ["States.ALL"]
    # The cause of a failed .sync job is its description: read it, then state name, status
    # and (when there is one) the failure reason.
    assert states[job_failed["Next"]]["Parameters"] == {
        "description.$": "States.StringToJson($.error.Cause)"
    }
    renamed = [
        state
        for state_name, state in states.items()
        if state_name in reachable(definition, job_failed["Next"])
        and state.get("Parameters", {}).get("Error") == "TuningJobFailed"
    ]
    assert len(renamed) == 2
    for state in renamed:
        assert state["ResultPath"] == "$.error"
        assert state["Next"] == "DescribeFailure"
        assert "HyperParameterTuningJobStatus" in state["Parameters"]["Cause.$"]


def test_endpoint_wait_loop_is_bounded_and_handles_every_outcome(
    machines: dict[str, dict[str, Any]],
) -> None:
    states = machines["tfplan-full-deployer"]["States"]

    outcome = states["EndpointOutcome?"]
    routes = {c["StringEquals"]: c["Next"] for c in outcome["Choices"]}

    assert states["WaitForEndpoint"]["SecondsPath"] == "$.wait.seconds"
    assert states["CheckEndpoint"]["Parameters"]["Payload"]["maxAttempts.$"] == "$.wait.maxAttempts"
    assert set(routes) == {"InService", "Superseded", "Waiting", "RolledBack", "TimedOut"}
    # A later run's deployment after this one is a success; that run registers scaling.
    assert routes["Superseded"] == "RecordDeployment"
    assert outcome["Default"] == "EndpointFailed"
    assert states[routes["Waiting"]]["Next"] == "WaitForEndpoint"
    assert states[routes["Waiting"]]["ResultPath"] == "$.wait.attempt"
    # A rolled-back update is a failure, not a success.
    assert states[routes["RolledBack"]]["Parameters"]["Error"] == "EndpointUpdateRolledBack"
    assert "DeploymentSucceeded" not in reachable(
        machines["tfplan-full-deployer"], routes["RolledBack"]
    )


def test_deployer_waits_its_turn_and_recreates_a_failed_endpoint(
    machines: dict[str, dict[str, Any]],
) -> None:
    states = machines["tfplan-full-deployer"]["States"]
    # Every turn plans again from the execution's own input, carrying only the turn.
    payload = states["PlanDeployment"]["Parameters"]["Payload"]
    assert payload["input.$"] == "$$.Execution.Input"
    assert payload["turn.$"] == "$.turn"
    decision = {c["StringEquals"]: c["Next"] for c in states["Decision?"]["Choices"]}
    assert decision == {
        "deploy": "Register?",
        "keep": "Register?",
        "wait": "WaitForTurn",
        "recreate": "DeleteFailedEndpoint",
    }
    assert states["Decision?"]["Default"] == "DescribeFailure"
    assert states["WaitForTurn"] == {
        "Comment": states["WaitForTurn"]["Comment"],
        "Type": "Wait",
        "SecondsPath": "$.turn.seconds",
        "Next": "PlanDeployment",
    }
    assert states["DeleteFailedEndpoint"]["Next"] == "WaitForTurn"
    # A create or update refused because another run got there first waits for the turn.
    (busy,) = states["DeploymentStarted?"]["Choices"]
    assert (busy["StringEquals"], busy["Next"]) == ("busy", "WaitForTurn")
    check = states["CheckEndpoint"]["Parameters"]["Payload"]
    assert check["previousEndpointConfigName.$"] == "$.previousEndpointConfigName"


# ---------------------------------------------------------------------------------------------
# ARNs and values
# ---------------------------------------------------------------------------------------------


def test_tuner_carries_its_functions_role_and_the_parameter_documents(
    machines: dict[str, dict[str, Any]], seed_documents: dict[str, Any]
) -> None:
    states = machines["tfplan-full-tuner"]["States"]
    prepare = states["PrepareTuningRun"]["Parameters"]

    assert prepare["FunctionName"] == f"{FUNCTIONS}:tfplan-full-prepare-tuning-run"
    assert prepare["Payload"]["mlParameters"] == seed_documents["ml_parameters"]
    assert prepare["Payload"]["hyperparameters"] == seed_documents["hyperparameters"]
    assert prepare["Payload"]["executionArn.$"] == "$$.Execution.Id"
    assert prepare["Payload"]["deployment"] == {
        "name": "tfplan-full",
        "sagemakerRoleArn": f"arn:aws:iam::{ACCOUNT_ID}:role/tfplan-full-sagemaker-execution",
        "tags": {"Environment": "staging", "team": "ml-platform"},
        "volumeKmsKeyId": KMS_KEYS["training_volume"],
        "outputKmsKeyId": KMS_KEYS["training_output"],
        # Channels and manifests must name one of these: s3_bucket, additional_s3_bucket_names.
        "dataBuckets": ["sagemaker-tuner-demo", "extra-training-data"],
    }
    assert states["FindBestTrainingJob"]["Parameters"]["FunctionName"] == (
        f"{FUNCTIONS}:tfplan-full-find-best-training-job"
    )
    assert states["CreateTuningJob"]["Resource"] == (
        "arn:aws:states:::sagemaker:createHyperParameterTuningJob.sync"
    )
    assert states["CreateModel"]["Parameters"]["ExecutionRoleArn"] == (
        f"arn:aws:iam::{ACCOUNT_ID}:role/tfplan-full-sagemaker-execution"
    )


def test_optional_request_parts_are_rendered_only_when_configured(
    machines: dict[str, dict[str, Any]], variant_machines: dict[str, dict[str, Any]]
) -> None:
    full_tuner = machines["tfplan-full-tuner"]["States"]
    variant_tuner = variant_machines["tfplan-variant-tuner"]["States"]
    full_deployer = machines["tfplan-full-deployer"]["States"]
    variant_deployer = variant_machines["tfplan-variant-deployer"]["States"]

    # Warm start: only the variant has parent tuning jobs.
    assert "WarmStartConfig.$" not in full_tuner["CreateTuningJob"]["Parameters"]
    assert variant_tuner["CreateTuningJob"]["Parameters"]["WarmStartConfig.$"] == (
        "$.tuningJob.WarmStartConfig"
    )
    # Model VPC: only the seed's parameters have hosting subnets.
    assert full_tuner["CreateModel"]["Parameters"]["VpcConfig.$"] == "$.model.VpcConfig"
    assert "VpcConfig.$" not in variant_tuner["CreateModel"]["Parameters"]
    # Endpoint KMS key: only the full scenario has one.
    assert full_deployer["CreateEndpointConfig"]["Parameters"]["KmsKeyId"] == KMS_KEYS["endpoint"]
    assert "KmsKeyId" not in variant_deployer["CreateEndpointConfig"]["Parameters"]


def test_deployer_carries_its_functions_and_scaling_integrations(
    machines: dict[str, dict[str, Any]], seed_documents: dict[str, Any]
) -> None:
    states = machines["tfplan-full-deployer"]["States"]

    assert states["PlanDeployment"]["Parameters"]["FunctionName"] == (
        f"{FUNCTIONS}:tfplan-full-plan-deployment"
    )
    assert (
        states["PlanDeployment"]["Parameters"]["Payload"]["mlParameters"]
        == (seed_documents["ml_parameters"])
    )
    assert states["PlanDeployment"]["Parameters"]["Payload"]["deployment"] == {
        "name": "tfplan-full",
        "tags": {"Environment": "staging", "team": "ml-platform"},
        "endpointKmsKeyId": KMS_KEYS["endpoint"],
        "approvalParameterPath": "/sagemaker-tuner-deployer/tfplan-full/pending-approvals",
        "runStateMachineArns": [
            f"{MACHINES}:tfplan-full-workflow",
            f"{MACHINES}:tfplan-full-deployer",
        ],
    }
    assert states["StartEndpointDeployment"]["Parameters"] == {
        "FunctionName": f"{FUNCTIONS}:tfplan-full-start-endpoint-deployment",
        "Payload.$": "$",
    }
    assert states["CheckEndpoint"]["Parameters"]["FunctionName"] == (
        f"{FUNCTIONS}:tfplan-full-check-endpoint"
    )
    scaling = "arn:aws:states:::aws-sdk:applicationautoscaling"
    assert states["DeregisterScalableTarget"]["Resource"] == f"{scaling}:deregisterScalableTarget"
    assert states["RegisterScalableTarget"]["Resource"] == f"{scaling}:registerScalableTarget"
    assert states["PutScalingPolicy"]["Resource"] == f"{scaling}:putScalingPolicy"
    assert states["RestoreScaling"]["Resource"] == f"{scaling}:registerScalableTarget"


def test_workflow_runs_its_own_tuner_then_its_own_deployer(
    machines: dict[str, dict[str, Any]], variant_machines: dict[str, dict[str, Any]]
) -> None:
    states = machines["tfplan-full-workflow"]["States"]

    assert states["Tune"]["Resource"] == "arn:aws:states:::states:startExecution.sync:2"
    assert states["Tune"]["Parameters"]["StateMachineArn"] == f"{MACHINES}:tfplan-full-tuner"
    assert states["Tune"]["Parameters"]["Input"]["runExecutionArn.$"] == "$$.Execution.Id"
    assert states["Deploy"]["Parameters"]["StateMachineArn"] == f"{MACHINES}:tfplan-full-deployer"
    assert states["Deploy"]["Parameters"]["Input"] == {
        "modelName.$": "$.tuning.modelName",
        "runId.$": "$.tuning.runId",
        # The promotion policy's and the registry's inputs.
        "objective.$": "$.tuning.objective",
        "tuningJobName.$": "$.tuning.tuningJobName",
        "bestTrainingJobName.$": "$.tuning.bestTrainingJobName",
        "forceDeploy.$": "$.runOptions.forceDeploy",
        # Links the child to its parent in the console and for `smtune stop`.
        "AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID.$": "$$.Execution.Id",
    }
    variant_notify = variant_machines["tfplan-variant-workflow"]["States"]["NotifyFailure"]
    assert variant_notify["Parameters"]["TopicArn"] == BRING_YOUR_OWN["sns_topic_arn"]


def test_no_template_placeholder_is_left_unrendered(
    machines: dict[str, dict[str, Any]], variant_machines: dict[str, dict[str, Any]]
) -> None:
    for name, definition in all_definitions(machines, variant_machines):
        for key, value in walk(definition):
            assert "${" not in key, f"{name}: {key}"
            if isinstance(value, str):
                assert "${" not in value and "%{" not in value, f"{name}: {key}"
