"""From a tuning job to the best model's container, and the quality gate.

moto's tuning jobs always name "FakeTrainingJobName" as their best training job, so the moto tests
create a training job of that name. moto has no DescribeAlgorithm, and its training jobs put the
model where the old stack's string concatenation would guess; the tests that need either use
botocore's Stubber instead.
"""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from tuning_workflow.best_job import evaluate_quality_gate, find_best_training_job
from tuning_workflow.exceptions import InferenceImageNotFoundError, NoBestTrainingJobError

from .conftest import REGION, ROLE_ARN

ALGORITHM_ARN = "arn:aws:sagemaker:us-east-1:123456789012:algorithm/h2o-gbm-algorithm"
TRAINING_IMAGE = "123456789012.dkr.ecr.us-east-1.amazonaws.com/gbm-train:1"
INFERENCE_IMAGE = "123456789012.dkr.ecr.us-east-1.amazonaws.com/gbm-serve:1"
TUNING_JOB = "survival-tuning-0123456789ab"
BEST_JOB = "survival-tuning-0123456789ab-007-4f1d2c3b"


def create_moto_tuning_job(sagemaker: Any) -> None:
    sagemaker.create_training_job(
        TrainingJobName="FakeTrainingJobName",
        AlgorithmSpecification={"TrainingImage": TRAINING_IMAGE, "TrainingInputMode": "File"},
        RoleArn=ROLE_ARN,
        OutputDataConfig={"S3OutputPath": "s3://bucket/model-artifacts"},
        ResourceConfig={"InstanceType": "ml.c5.2xlarge", "InstanceCount": 1, "VolumeSizeInGB": 30},
        StoppingCondition={"MaxRuntimeInSeconds": 3600},
    )
    sagemaker.create_hyper_parameter_tuning_job(
        HyperParameterTuningJobName=TUNING_JOB,
        HyperParameterTuningJobConfig={
            "Strategy": "Bayesian",
            "ResourceLimits": {"MaxNumberOfTrainingJobs": 2, "MaxParallelTrainingJobs": 1},
        },
        TrainingJobDefinition={
            "AlgorithmSpecification": {
                "TrainingImage": TRAINING_IMAGE,
                "TrainingInputMode": "File",
            },
            "RoleArn": ROLE_ARN,
            "OutputDataConfig": {"S3OutputPath": "s3://bucket/model-artifacts"},
            "ResourceConfig": {
                "InstanceType": "ml.c5.2xlarge",
                "InstanceCount": 1,
                "VolumeSizeInGB": 30,
            },
            "StoppingCondition": {"MaxRuntimeInSeconds": 3600},
        },
    )


def test_with_moto_the_best_job_model_and_image_are_found(sagemaker):
    # GIVEN a completed tuning job whose best training job used a training image
    create_moto_tuning_job(sagemaker)
    artifacts = sagemaker.describe_training_job(TrainingJobName="FakeTrainingJobName")[
        "ModelArtifacts"
    ]["S3ModelArtifacts"]

    # WHEN the best job is looked up without an inference image
    result = find_best_training_job(TUNING_JOB, None, None, sagemaker=sagemaker)

    # THEN the model is the one DescribeTrainingJob reports, served by the training image
    assert result == {
        "trainingJobName": "FakeTrainingJobName",
        "objective": {"metricName": "Accuracy", "type": "Maximize", "value": 1.0},
        "primaryContainer": {"Image": TRAINING_IMAGE, "ModelDataUrl": artifacts},
        "qualityGate": {
            "evaluated": False,
            "passed": True,
            "message": "no quality gate is configured",
        },
    }


def stubbed_sagemaker() -> tuple[Any, Stubber]:
    client = boto3.client("sagemaker", region_name=REGION)
    return client, Stubber(client)


def tuning_job_response(best: dict[str, Any] | None) -> dict[str, Any]:
    response: dict[str, Any] = {
        "HyperParameterTuningJobName": TUNING_JOB,
        "HyperParameterTuningJobArn": f"arn:aws:sagemaker:{REGION}:123456789012:"
        f"hyper-parameter-tuning-job/{TUNING_JOB}",
        "HyperParameterTuningJobConfig": {
            "Strategy": "Bayesian",
            "ResourceLimits": {"MaxParallelTrainingJobs": 2},
        },
        "HyperParameterTuningJobStatus": "Completed",
        "CreationTime": "2024-05-01T12:00:00Z",
        "TrainingJobStatusCounters": {"Completed": 0, "NonRetryableError": 10},
        "ObjectiveStatusCounters": {"Succeeded": 0, "Failed": 10},
    }
    if best is not None:
        response["BestTrainingJob"] = best
    return response


def best_summary(value: float = 0.91) -> dict[str, Any]:
    return {
        "TrainingJobName": BEST_JOB,
        "TrainingJobArn": f"arn:aws:sagemaker:{REGION}:123456789012:training-job/{BEST_JOB}",
        "CreationTime": "2024-05-01T12:00:00Z",
        "TrainingJobStatus": "Completed",
        "TunedHyperParameters": {"ntrees": "50"},
        "FinalHyperParameterTuningJobObjectiveMetric": {
            "Type": "Maximize",
            "MetricName": "validation:auc",
            "Value": value,
        },
    }


def training_job_response(algorithm: dict[str, Any], artifacts: str) -> dict[str, Any]:
    return {
        "TrainingJobName": BEST_JOB,
        "TrainingJobArn": f"arn:aws:sagemaker:{REGION}:123456789012:training-job/{BEST_JOB}",
        "ModelArtifacts": {"S3ModelArtifacts": artifacts},
        "TrainingJobStatus": "Completed",
        "SecondaryStatus": "Completed",
        "AlgorithmSpecification": {**algorithm, "TrainingInputMode": "File"},
        "ResourceConfig": {
            "InstanceType": "ml.c5.2xlarge",
            "InstanceCount": 1,
            "VolumeSizeInGB": 30,
        },
        "StoppingCondition": {"MaxRuntimeInSeconds": 3600},
        "CreationTime": "2024-05-01T12:00:00Z",
    }


def test_seed_defect_the_model_path_comes_from_model_artifacts_not_concatenation():
    # GIVEN a best job whose artifacts are not at <output path>/<job name>/output/model.tar.gz
    artifacts = "s3://artifacts-kms/model-artifacts/tuning/0123456789ab/best/model.tar.gz"
    sagemaker, stubber = stubbed_sagemaker()
    stubber.add_response(
        "describe_hyper_parameter_tuning_job",
        tuning_job_response(best_summary()),
        {"HyperParameterTuningJobName": TUNING_JOB},
    )
    stubber.add_response(
        "describe_training_job",
        training_job_response({"AlgorithmName": ALGORITHM_ARN}, artifacts),
        {"TrainingJobName": BEST_JOB},
    )
    stubber.add_response(
        "describe_algorithm",
        {
            "AlgorithmName": "h2o-gbm-algorithm",
            "AlgorithmArn": ALGORITHM_ARN,
            "CreationTime": "2024-01-01T00:00:00Z",
            "TrainingSpecification": {
                "TrainingImage": TRAINING_IMAGE,
                "SupportedTrainingInstanceTypes": ["ml.c5.2xlarge"],
                "TrainingChannels": [
                    {
                        "Name": "training",
                        "SupportedContentTypes": ["text/csv"],
                        "SupportedInputModes": ["File"],
                    }
                ],
            },
            "InferenceSpecification": {
                "Containers": [{"Image": INFERENCE_IMAGE}],
                "SupportedContentTypes": ["text/csv"],
                "SupportedResponseMIMETypes": ["text/csv"],
            },
            "AlgorithmStatus": "Completed",
            "AlgorithmStatusDetails": {},
        },
        {"AlgorithmName": ALGORITHM_ARN},
    )

    # WHEN the best job is looked up (the algorithm gives the inference image)
    with stubber:
        result = find_best_training_job(
            TUNING_JOB, {"threshold": 0.8, "direction": "Maximize"}, None, sagemaker=sagemaker
        )

    # THEN the container uses exactly what SageMaker reported
    assert result["primaryContainer"] == {"Image": INFERENCE_IMAGE, "ModelDataUrl": artifacts}
    assert result["trainingJobName"] == BEST_JOB
    assert result["qualityGate"] == {
        "evaluated": True,
        "passed": True,
        "message": "best validation:auc = 0.91 meets the quality gate (>= 0.8)",
    }
    stubber.assert_no_pending_responses()


def test_a_configured_inference_image_wins_without_asking_for_the_algorithm():
    sagemaker, stubber = stubbed_sagemaker()
    stubber.add_response("describe_hyper_parameter_tuning_job", tuning_job_response(best_summary()))
    stubber.add_response(
        "describe_training_job",
        training_job_response({"AlgorithmName": ALGORITHM_ARN}, "s3://b/model.tar.gz"),
    )
    with stubber:  # no describe_algorithm response queued: calling it would fail the test
        result = find_best_training_job(TUNING_JOB, None, INFERENCE_IMAGE, sagemaker=sagemaker)
    assert result["primaryContainer"]["Image"] == INFERENCE_IMAGE


def test_a_tuning_job_without_a_best_training_job_raises_a_named_error():
    sagemaker, stubber = stubbed_sagemaker()
    stubber.add_response("describe_hyper_parameter_tuning_job", tuning_job_response(None))
    with stubber, pytest.raises(NoBestTrainingJobError) as caught:
        find_best_training_job(TUNING_JOB, None, None, sagemaker=sagemaker)
    assert str(caught.value) == (
        f"tuning job {TUNING_JOB} has no best training job: every training job failed or was "
        "stopped (training job counts: NonRetryableError 10)"
    )


def test_an_algorithm_without_an_inference_container_asks_for_an_inference_image():
    sagemaker, stubber = stubbed_sagemaker()
    stubber.add_response("describe_hyper_parameter_tuning_job", tuning_job_response(best_summary()))
    stubber.add_response(
        "describe_training_job",
        training_job_response({"AlgorithmName": ALGORITHM_ARN}, "s3://b/model.tar.gz"),
    )
    stubber.add_response(
        "describe_algorithm",
        {
            "AlgorithmName": "h2o-gbm-algorithm",
            "AlgorithmArn": ALGORITHM_ARN,
            "CreationTime": "2024-01-01T00:00:00Z",
            "TrainingSpecification": {
                "TrainingImage": TRAINING_IMAGE,
                "SupportedTrainingInstanceTypes": ["ml.c5.2xlarge"],
                "TrainingChannels": [
                    {
                        "Name": "training",
                        "SupportedContentTypes": ["text/csv"],
                        "SupportedInputModes": ["File"],
                    }
                ],
            },
            "AlgorithmStatus": "Completed",
            "AlgorithmStatusDetails": {},
        },
    )
    with stubber, pytest.raises(InferenceImageNotFoundError, match="set inferenceImage"):
        find_best_training_job(TUNING_JOB, None, None, sagemaker=sagemaker)


@pytest.mark.parametrize(
    ("value", "gate", "passed", "message"),
    [
        (0.91, {"threshold": 0.8, "direction": "Maximize"}, True,
         "best validation:auc = 0.91 meets the quality gate (>= 0.8)"),
        (0.75, {"threshold": "0.8", "direction": "Maximize"}, False,
         "best validation:auc = 0.75 does not meet the quality gate (>= 0.8)"),
        (0.8, {"threshold": 0.8}, True,
         "best validation:auc = 0.8 meets the quality gate (>= 0.8)"),
        (0.12, {"threshold": 0.2, "direction": "Minimize"}, True,
         "best validation:auc = 0.12 meets the quality gate (<= 0.2)"),
        (0.3, {"threshold": 0.2, "direction": "Minimize"}, False,
         "best validation:auc = 0.3 does not meet the quality gate (<= 0.2)"),
    ],
)  # fmt: skip
def test_the_quality_gate_compares_in_the_objective_direction(value, gate, passed, message):
    objective = {"metricName": "validation:auc", "type": "Maximize", "value": value}
    assert evaluate_quality_gate(objective, gate) == {
        "evaluated": True,
        "passed": passed,
        "message": message,
    }


def test_a_gate_without_an_objective_value_fails_with_a_reason():
    verdict = evaluate_quality_gate(None, {"threshold": 0.8, "direction": "Maximize"})
    assert verdict["passed"] is False
    assert "reported no final objective value" in verdict["message"]


def test_the_configured_environment_goes_into_the_model_container():
    sagemaker, stubber = stubbed_sagemaker()
    stubber.add_response("describe_hyper_parameter_tuning_job", tuning_job_response(best_summary()))
    stubber.add_response(
        "describe_training_job",
        training_job_response({"AlgorithmName": ALGORITHM_ARN}, "s3://b/model.tar.gz"),
    )
    with stubber:
        result = find_best_training_job(
            TUNING_JOB,
            None,
            INFERENCE_IMAGE,
            sagemaker=sagemaker,
            environment={"MODEL_TYPE": "MOJO"},
        )
    assert result["primaryContainer"] == {
        "Image": INFERENCE_IMAGE,
        "ModelDataUrl": "s3://b/model.tar.gz",
        "Environment": {"MODEL_TYPE": "MOJO"},
    }


@pytest.mark.parametrize("environment", [None, {}])
def test_no_environment_sends_no_environment_key(environment):
    sagemaker, stubber = stubbed_sagemaker()
    stubber.add_response("describe_hyper_parameter_tuning_job", tuning_job_response(best_summary()))
    stubber.add_response(
        "describe_training_job",
        training_job_response({"AlgorithmName": ALGORITHM_ARN}, "s3://b/model.tar.gz"),
    )
    with stubber:
        result = find_best_training_job(
            TUNING_JOB, None, INFERENCE_IMAGE, sagemaker=sagemaker, environment=environment
        )
    assert "Environment" not in result["primaryContainer"]
