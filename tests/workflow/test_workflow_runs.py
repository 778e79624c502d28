"""The rendered state machines run in the emulator, with the real Lambda code behind their tasks.

The runs of one stack build on each other in file order: the first creates the endpoint, the
next ones update it.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.support.workflow import Stack, sns_queue

pytestmark = [pytest.mark.emulator, pytest.mark.xdist_group("workflow")]

REPO = Path(__file__).resolve().parents[2]


def endpoint(stack: Stack) -> dict[str, Any]:
    return dict(
        stack.clients("sagemaker").describe_endpoint(
            EndpointName=stack.ml_parameters["endpointName"]
        )
    )


def scalable_targets(stack: Stack) -> list[dict[str, Any]]:
    resource = f"endpoint/{stack.ml_parameters['endpointName']}/variant/AllTraffic"
    targets = stack.clients("application-autoscaling").describe_scalable_targets(
        ServiceNamespace="sagemaker", ResourceIds=[resource]
    )["ScalableTargets"]
    return list(targets)


@pytest.fixture(scope="module")
def first_run(main_stack: Stack, manifest: dict[str, Any]) -> dict[str, Any]:
    """GIVEN a fresh stack WHEN the parent runs on the seed's manifest (as it is)."""
    return main_stack.run(manifest)


def test_first_run_creates_the_endpoint_from_the_best_training_job(
    main_stack: Stack, first_run: dict[str, Any]
) -> None:
    assert first_run["status"] == "SUCCEEDED", first_run.get("cause")
    output = json.loads(first_run["output"])
    sagemaker = main_stack.clients("sagemaker")

    tuning = sagemaker.describe_hyper_parameter_tuning_job(
        HyperParameterTuningJobName=output["tuning"]["tuningJobName"]
    )
    jobs = sagemaker.list_training_jobs_for_hyper_parameter_tuning_job(
        HyperParameterTuningJobName=tuning["HyperParameterTuningJobName"]
    )["TrainingJobSummaries"]
    values = {
        j["TrainingJobName"]: j["FinalHyperParameterTuningJobObjectiveMetric"]["Value"]
        for j in jobs
    }
    assert len(set(values.values())) > 1, "the emulated jobs should differ"
    best = max(values, key=values.__getitem__)
    assert output["tuning"]["bestTrainingJobName"] == best

    model = sagemaker.describe_model(ModelName=output["tuning"]["modelName"])
    training_job = sagemaker.describe_training_job(TrainingJobName=best)
    assert (
        model["PrimaryContainer"]["ModelDataUrl"]
        == training_job["ModelArtifacts"]["S3ModelArtifacts"]
    )
    # As the seed did: MODEL_TYPE from model.artifactType, training isolated from the network.
    assert model["PrimaryContainer"]["Environment"] == {"MODEL_TYPE": "MOJO"}
    assert training_job["EnableNetworkIsolation"] is True

    live = endpoint(main_stack)
    assert live["EndpointStatus"] == "InService"
    assert live["EndpointConfigName"] == output["deployment"]["endpointConfigName"]
    assert live["EndpointConfigName"].endswith(output["runId"])

    targets = scalable_targets(main_stack)
    assert [(t["MinCapacity"], t["MaxCapacity"]) for t in targets] == [(1, 4)]
    policies = main_stack.clients("application-autoscaling").describe_scaling_policies(
        ServiceNamespace="sagemaker", ResourceId=targets[0]["ResourceId"]
    )["ScalingPolicies"]
    assert len(policies) == 1
    tracking = policies[0]["TargetTrackingScalingPolicyConfiguration"]
    assert tracking["TargetValue"] == 5000
    # The seed's file says DisableScaleIn: true; "False" strings are covered by the unit tests.
    assert tracking["DisableScaleIn"] is True


def test_names_are_unique_per_run_and_within_sagemaker_limits(
    main_stack: Stack, first_run: dict[str, Any], manifest: dict[str, Any]
) -> None:
    # WHEN two runs start in the same second
    arns = [
        main_stack.start(main_stack.outputs["tuner_state_machine_arn"], manifest) for _ in (1, 2)
    ]
    outputs = [json.loads(main_stack.wait(arn)["output"]) for arn in arns]
    # THEN their tuning jobs and models do not collide
    tuning_names = {o["tuningJobName"] for o in outputs}
    model_names = {o["modelName"] for o in outputs}
    assert len(tuning_names) == 2 and len(model_names) == 2
    assert all(len(name) <= 32 for name in tuning_names)
    assert all(len(name) <= 63 for name in model_names)


def test_update_keeps_the_live_instance_count(
    main_stack: Stack, first_run: dict[str, Any], manifest: dict[str, Any]
) -> None:
    # GIVEN auto scaling has taken the live endpoint to 3 instances
    name = main_stack.ml_parameters["endpointName"]
    main_stack.clients("sagemaker").update_endpoint_weights_and_capacities(
        EndpointName=name,
        DesiredWeightsAndCapacities=[{"VariantName": "AllTraffic", "DesiredInstanceCount": 3}],
    )
    old_config = endpoint(main_stack)["EndpointConfigName"]
    # WHEN the workflow runs again
    run = main_stack.run(manifest)
    # THEN the endpoint is updated in place to the new config, still with 3 instances
    assert run["status"] == "SUCCEEDED", run.get("cause")
    output = json.loads(run["output"])
    live = endpoint(main_stack)
    assert live["EndpointConfigName"] == output["deployment"]["endpointConfigName"] != old_config
    assert output["deployment"]["action"] == "update"
    config = main_stack.clients("sagemaker").describe_endpoint_config(
        EndpointConfigName=live["EndpointConfigName"]
    )
    assert config["ProductionVariants"][0]["InitialInstanceCount"] == 3


def test_invalid_input_fails_with_every_problem_and_notifies(
    main_stack: Stack, main_notifications: Callable[[], list[str]]
) -> None:
    main_notifications()
    bad = {
        "channels": [{"channelName": "training", "s3DataSource": {"S3DataType": "S3Prefix"}}, {}]
    }
    run = main_stack.run(bad)
    assert run["status"] == "FAILED"
    assert run["error"] == "InvalidInput"
    assert "$.channels[0].s3DataSource" in run["cause"] and "S3Uri" in run["cause"]
    assert "$.channels[1]" in run["cause"]
    assert "Traceback" not in run["cause"]
    messages = main_notifications()
    assert len(messages) == 1, messages
    assert "InvalidInput" in messages[0] and "S3Uri" in messages[0]


def test_failed_tuning_job_fails_the_run_and_creates_no_model(
    emulator: Any,
    main_stack: Stack,
    manifest: dict[str, Any],
    main_notifications: Callable[[], list[str]],
) -> None:
    main_notifications()
    sagemaker = main_stack.clients("sagemaker")
    models_before = {m["ModelName"] for m in sagemaker.list_models()["Models"]}
    emulator.queue_tuning_job_outcome("Failed", "AlgorithmError: emulated failure")
    run = main_stack.run(manifest)
    assert run["status"] == "FAILED"
    assert "emulated failure" in run["cause"]
    assert {m["ModelName"] for m in sagemaker.list_models()["Models"]} == models_before
    messages = main_notifications()
    assert len(messages) == 1 and "emulated failure" in messages[0]


def test_rolled_back_update_fails_and_the_endpoint_keeps_its_config(
    emulator: Any,
    main_stack: Stack,
    manifest: dict[str, Any],
    main_notifications: Callable[[], list[str]],
) -> None:
    main_notifications()
    before = endpoint(main_stack)["EndpointConfigName"]
    emulator.queue_endpoint_outcome("RolledBack", "emulated: new variant failed health checks")
    run = main_stack.run(manifest)
    assert run["status"] == "FAILED"
    assert "EndpointUpdateRolledBack" in (run.get("error", "") + run.get("cause", ""))
    assert endpoint(main_stack)["EndpointConfigName"] == before
    assert len(scalable_targets(main_stack)) == 1
    assert len(main_notifications()) == 1


def test_instance_type_change_deregisters_scaling_first_and_registers_it_again(
    main_stack: Stack, manifest: dict[str, Any], tmp_path: Path
) -> None:
    # GIVEN the hosting instance type changes in ml-parameters and is applied
    params = json.loads(json.dumps(main_stack.ml_parameters))
    params["model"]["hosting"]["instanceType"] = "ml.m5.xlarge"
    params_file = Path(main_stack.terraform.working_dir).parent / "ml-parameters.json"
    params_file.write_text(json.dumps(params, indent=2))
    main_stack.terraform.apply(main_stack.variables, parallelism=20)
    main_stack.ml_parameters = params
    # WHEN the workflow runs
    run = main_stack.run(manifest)
    assert run["status"] == "SUCCEEDED", run.get("cause")
    deployer_arn = json.loads(run["output"])["deployment"]["executionArn"]
    states = main_stack.entered_states(deployer_arn)
    # THEN scaling was deregistered before the update and registered again after it
    assert states.index("DeregisterScalableTarget") < states.index("StartEndpointDeployment")
    assert states.index("StartEndpointDeployment") < states.index("RegisterScalableTarget")
    config = main_stack.clients("sagemaker").describe_endpoint_config(
        EndpointConfigName=endpoint(main_stack)["EndpointConfigName"]
    )
    assert config["ProductionVariants"][0]["InstanceType"] == "ml.m5.xlarge"
    assert len(scalable_targets(main_stack)) == 1


def test_manifest_upload_starts_one_run(main_stack: Stack, manifest: dict[str, Any]) -> None:
    sfn = main_stack.clients("stepfunctions")

    def executions() -> set[str]:
        listed = sfn.list_executions(stateMachineArn=main_stack.parent_arn)["executions"]
        return {e["executionArn"] for e in listed}

    before = executions()
    main_stack.clients("s3").put_object(
        Bucket=main_stack.bucket, Key="manifests/upload.json", Body=json.dumps(manifest).encode()
    )
    deadline = time.monotonic() + 30
    started: set[str] = set()
    while time.monotonic() < deadline and not started:
        started = executions() - before
        time.sleep(0.5)
    assert len(started) == 1
    run = main_stack.wait(started.pop())
    assert run["status"] == "SUCCEEDED", run.get("cause")
    assert json.loads(run["input"]) == {
        "manifestS3Uri": f"s3://{main_stack.bucket}/manifests/upload.json"
    }


def test_aws_cli_starts_a_run(emulator: Any, main_stack: Stack) -> None:
    aws = Path(sys.executable).parent / "aws"
    result = subprocess.run(
        [
            str(aws),
            "--endpoint-url",
            emulator.endpoint_url,
            "--region",
            "us-east-1",
            "stepfunctions",
            "start-execution",
            "--state-machine-arn",
            main_stack.parent_arn,
            "--input",
            f"file://{REPO / 'examples' / 'execution-input.json'}",
        ],
        capture_output=True,
        text=True,
        env={"AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test", "PATH": "/usr/bin:/bin"},
        check=False,
    )
    assert result.returncode == 0, result.stderr
    run = main_stack.wait(json.loads(result.stdout)["executionArn"])
    assert run["status"] == "SUCCEEDED", run.get("cause")


@pytest.fixture(scope="module")
def gated_stack(deploy: Callable[..., Stack]) -> Stack:
    """A threshold no emulated job reaches (AUC is at most 1)."""
    return deploy(
        "wf-gate",
        {
            "qualityGate": {"threshold": 1.5},
            "tuningJobName": "gated-tuning",
            "endpointName": "gated-endpoint",
            "model": {"name": "gated-model"},
        },
    )


def test_quality_gate_not_met_stops_before_the_endpoint(
    gated_stack: Stack, manifest: dict[str, Any]
) -> None:
    notifications = sns_queue(gated_stack)
    manifest = json.loads(json.dumps(manifest).replace("sagemaker-tuner-demo", gated_stack.bucket))
    run = gated_stack.run(manifest)
    assert run["status"] == "FAILED"
    assert "QualityGateNotMet" in (run.get("error", "") + run.get("cause", ""))
    sagemaker = gated_stack.clients("sagemaker")
    configs = sagemaker.list_endpoint_configs(NameContains="gated-endpoint")["EndpointConfigs"]
    assert configs == []
    assert [
        m for m in sagemaker.list_models()["Models"] if m["ModelName"].startswith("gated-model")
    ] == []
    messages = notifications()
    assert len(messages) == 1 and "1.5" in messages[0]


def test_stopping_a_run_stops_its_tuning_job(
    emulator: Any, main_stack: Stack, manifest: dict[str, Any]
) -> None:
    # GIVEN a tuning job that stays in progress
    emulator.set_progression(100)
    sagemaker = main_stack.clients("sagemaker")
    try:
        arn = main_stack.start(main_stack.outputs["tuner_state_machine_arn"], manifest)
        deadline = time.monotonic() + 30
        name = None
        while time.monotonic() < deadline and name is None:
            for event in main_stack.history(arn):
                scheduled = event.get("taskScheduledEventDetails", {})
                if scheduled.get("resourceType") == "sagemaker":
                    name = json.loads(scheduled["parameters"])["HyperParameterTuningJobName"]
            time.sleep(0.3)
        assert name is not None, "the tuning job was not started"
        # WHEN the execution is stopped
        main_stack.clients("stepfunctions").stop_execution(executionArn=arn)
        # THEN the tuning job is stopped too
        deadline = time.monotonic() + 30
        status = ""
        while time.monotonic() < deadline and status not in ("Stopping", "Stopped"):
            status = sagemaker.describe_hyper_parameter_tuning_job(
                HyperParameterTuningJobName=name
            )["HyperParameterTuningJobStatus"]
            time.sleep(0.3)
        assert status in ("Stopping", "Stopped")
    finally:
        emulator.set_progression(0)
