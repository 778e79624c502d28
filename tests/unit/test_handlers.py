"""The Lambda entry points, driven by the sample events in tests/events/ against moto."""

from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.stub import Stubber

from tuning_workflow import aws, handlers
from tuning_workflow.exceptions import ConfigurationError, InvalidEventError, TransientAwsError

from .conftest import ROLE_ARN, load_event


def test_prepare_tuning_run_handler(mocked_aws):
    result = handlers.prepare_tuning_run(load_event("prepare_tuning_run"), None)
    assert result["valid"] is True
    json.dumps(result)  # a state's output must be JSON


def test_prepare_tuning_run_handler_reads_the_manifest_from_s3(s3):
    s3.create_bucket(Bucket="sagemaker-tuner-demo")
    manifest = load_event("prepare_tuning_run")["input"]
    s3.put_object(
        Bucket="sagemaker-tuner-demo",
        Key="manifests/titanic.json",
        Body=json.dumps(manifest).encode(),
    )
    result = handlers.prepare_tuning_run(load_event("prepare_tuning_run_from_parent"), None)
    assert result["valid"] is True


def test_find_best_training_job_handler(sagemaker):
    sagemaker.create_training_job(
        TrainingJobName="FakeTrainingJobName",
        AlgorithmSpecification={"TrainingImage": "image:1", "TrainingInputMode": "File"},
        RoleArn=ROLE_ARN,
        OutputDataConfig={"S3OutputPath": "s3://bucket/out"},
        ResourceConfig={"InstanceType": "ml.c5.2xlarge", "InstanceCount": 1, "VolumeSizeInGB": 30},
        StoppingCondition={"MaxRuntimeInSeconds": 3600},
    )
    event = load_event("find_best_training_job")
    sagemaker.create_hyper_parameter_tuning_job(
        HyperParameterTuningJobName=event["tuningJobName"],
        HyperParameterTuningJobConfig={
            "Strategy": "Bayesian",
            "ResourceLimits": {"MaxNumberOfTrainingJobs": 1, "MaxParallelTrainingJobs": 1},
        },
    )
    result = handlers.find_best_training_job(event, None)
    # moto's best job scores 1 on its objective: the 0.8 gate is met
    assert result["qualityGate"]["passed"] is True
    assert result["primaryContainer"]["Image"] == "image:1"
    assert result["primaryContainer"]["Environment"] == {"MODEL_TYPE": "MOJO"}


def test_plan_start_and_check_an_endpoint_end_to_end(sagemaker):
    # GIVEN the model a tuning run created
    event = load_event("plan_deployment")
    sagemaker.create_model(
        ModelName=event["input"]["modelName"],
        ExecutionRoleArn=ROLE_ARN,
        PrimaryContainer={"Image": "image:1", "ModelDataUrl": "s3://bucket/model.tar.gz"},
    )
    # WHEN the deployer's Lambda steps run in order (the config is created by the state machine)
    plan = handlers.plan_deployment(event, None)
    sagemaker.create_endpoint_config(**plan["endpointConfig"])
    started = handlers.start_endpoint_deployment(plan, None)
    checked = handlers.check_endpoint(
        {
            "endpointName": plan["endpointName"],
            "expectedEndpointConfigName": plan["endpointConfigName"],
            **plan["wait"],
        },
        None,
    )
    # THEN the endpoint is created and found InService on the new config
    assert started["action"] == "create"
    assert checked == {
        "status": "InService",
        "attempt": 1,
        "outcome": "InService",
        "message": "endpoint survival-endpoint is InService with survival-endpoint-9c1b52dd2bc6",
    }


def test_check_endpoint_handler_with_the_sample_event(mocked_aws):
    result = handlers.check_endpoint(load_event("check_endpoint"), None)
    assert result["outcome"] == "Failed"  # nothing deployed in this test
    assert result["attempt"] == 1


def test_start_from_manifest_handler_reads_its_settings_from_the_environment(sfn, monkeypatch):
    arn = sfn.create_state_machine(
        name="tuning-with-deployment",
        definition=json.dumps({"StartAt": "Done", "States": {"Done": {"Type": "Succeed"}}}),
        roleArn=ROLE_ARN,
    )["stateMachineArn"]
    monkeypatch.setenv("STATE_MACHINE_ARN", arn)
    monkeypatch.setenv("MANIFEST_PREFIX", "manifests/")
    result = handlers.start_from_manifest(load_event("s3_put_manifest"), None)
    assert len(result["started"]) == 1
    monkeypatch.setenv("MANIFEST_PREFIX", "elsewhere/")
    assert handlers.start_from_manifest(load_event("s3_put_manifest"), None)["started"] == []


def test_start_from_manifest_without_a_state_machine_is_a_configuration_error(monkeypatch):
    monkeypatch.delenv("STATE_MACHINE_ARN", raising=False)
    with pytest.raises(ConfigurationError, match="STATE_MACHINE_ARN"):
        handlers.start_from_manifest(load_event("s3_put_manifest"), None)


def with_stubbed_client(service: str) -> tuple[Any, Stubber]:
    client = aws.client(service)
    return client, Stubber(client)


def test_throttling_that_outlasts_boto3_retries_surfaces_as_transient_aws_error():
    # GIVEN a SageMaker that keeps throttling (the handler uses the cached client)
    _, stubber = with_stubbed_client("sagemaker")
    stubber.add_client_error(
        "describe_endpoint", service_error_code="ThrottlingException", http_status_code=400
    )
    # WHEN the endpoint is checked
    with stubber, pytest.raises(TransientAwsError) as caught:
        handlers.check_endpoint(load_event("check_endpoint"), None)
    # THEN Step Functions sees the error type the state machines retry
    assert type(caught.value).__name__ == "TransientAwsError"


def test_access_denied_surfaces_unchanged_and_is_not_retried():
    _, stubber = with_stubbed_client("sagemaker")
    stubber.add_client_error(
        "describe_endpoint", service_error_code="AccessDeniedException", http_status_code=400
    )
    with stubber, pytest.raises(Exception) as caught:
        handlers.check_endpoint(load_event("check_endpoint"), None)
    assert not isinstance(caught.value, TransientAwsError)
    assert "AccessDeniedException" in str(caught.value)


def test_a_check_event_without_its_fields_is_a_fault():
    with pytest.raises(InvalidEventError, match="'expectedEndpointConfigName'"):
        handlers.check_endpoint({"endpointName": "e", "attempt": 0, "maxAttempts": 3}, None)


def test_the_sample_start_event_is_what_the_sample_plan_event_plans(sagemaker, autoscaling):
    plan = handlers.plan_deployment(load_event("plan_deployment"), None)
    assert plan == load_event("start_endpoint_deployment")


def test_start_endpoint_deployment_handler_with_the_sample_event(sagemaker):
    event = load_event("start_endpoint_deployment")
    sagemaker.create_model(
        ModelName=event["productionVariants"][0]["ModelName"],
        ExecutionRoleArn=ROLE_ARN,
        PrimaryContainer={"Image": "image:1", "ModelDataUrl": "s3://bucket/model.tar.gz"},
    )
    sagemaker.create_endpoint_config(**event["endpointConfig"])
    result = handlers.start_endpoint_deployment(event, None)
    assert result["action"] == "create"
    tags = sagemaker.list_tags(ResourceArn=result["endpointArn"])["Tags"]
    assert {"Key": "run-id", "Value": "9c1b52dd2bc6"} in tags
