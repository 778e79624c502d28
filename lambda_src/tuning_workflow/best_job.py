"""From a finished tuning job to the container of its best model, and the quality gate.

The model's location comes from DescribeTrainingJob's ModelArtifacts, never from joining the
output path and the job name (SageMaker decides that layout, and it differs with KMS or
checkpointing). The inference image is the configured one, else the algorithm resource's
inference container, else the training image. The container's environment is the configured
one (the seed's MODEL_TYPE and model.environment), left out when empty.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from tuning_workflow import aws
from tuning_workflow.exceptions import (
    InferenceImageNotFoundError,
    ModelArtifactsMissingError,
    NoBestTrainingJobError,
)
from tuning_workflow.params import to_float

logger = logging.getLogger(__name__)


def find_best_training_job(
    tuning_job_name: str,
    quality_gate: Mapping[str, Any] | None,
    inference_image: str | None,
    sagemaker: Any = None,
    environment: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The best training job, its model container and the quality gate's verdict."""
    sagemaker = sagemaker or aws.client("sagemaker")
    tuning_job = sagemaker.describe_hyper_parameter_tuning_job(
        HyperParameterTuningJobName=tuning_job_name
    )
    best = tuning_job.get("BestTrainingJob")
    if not best or not best.get("TrainingJobName"):
        counters = tuning_job.get("TrainingJobStatusCounters", {})
        raise NoBestTrainingJobError(
            f"tuning job {tuning_job_name} has no best training job: every training job failed "
            f"or was stopped (training job counts: {_counts(counters)})"
        )
    training_job_name = best["TrainingJobName"]
    training_job = sagemaker.describe_training_job(TrainingJobName=training_job_name)
    model_data_url = (training_job.get("ModelArtifacts") or {}).get("S3ModelArtifacts")
    if not model_data_url:
        raise ModelArtifactsMissingError(
            f"training job {training_job_name} reports no ModelArtifacts.S3ModelArtifacts "
            f"(status {training_job.get('TrainingJobStatus', 'unknown')})"
        )
    image = resolve_inference_image(training_job, inference_image, sagemaker)
    objective = objective_of(best)
    verdict = evaluate_quality_gate(objective, quality_gate)
    logger.info(
        "best training job %s of %s: %s; gate: %s",
        training_job_name,
        tuning_job_name,
        objective,
        verdict["message"],
    )
    container: dict[str, Any] = {"Image": image, "ModelDataUrl": model_data_url}
    if environment:
        container["Environment"] = {str(key): str(value) for key, value in environment.items()}
    return {
        "trainingJobName": training_job_name,
        "objective": objective,
        "primaryContainer": container,
        "qualityGate": verdict,
    }


def resolve_inference_image(
    training_job: Mapping[str, Any], inference_image: str | None, sagemaker: Any
) -> str:
    """The given image; else the algorithm's inference container; else the training image."""
    if inference_image:
        return inference_image
    specification = training_job.get("AlgorithmSpecification") or {}
    algorithm_name = specification.get("AlgorithmName")
    if algorithm_name:
        algorithm = sagemaker.describe_algorithm(AlgorithmName=algorithm_name)
        containers = (algorithm.get("InferenceSpecification") or {}).get("Containers") or []
        if containers and containers[0].get("Image"):
            return str(containers[0]["Image"])
        raise InferenceImageNotFoundError(
            f"algorithm {algorithm_name} has no InferenceSpecification.Containers[0].Image; "
            "set inferenceImage in ml-parameters"
        )
    training_image = specification.get("TrainingImage")
    if training_image:
        return str(training_image)
    raise InferenceImageNotFoundError(
        f"training job {training_job.get('TrainingJobName')} names neither an algorithm nor a "
        "training image; set inferenceImage in ml-parameters"
    )


def objective_of(best_training_job: Mapping[str, Any]) -> dict[str, Any] | None:
    """{"metricName", "type", "value"} of the best job's final objective, or None."""
    metric = best_training_job.get("FinalHyperParameterTuningJobObjectiveMetric")
    if not metric or metric.get("Value") is None:
        return None
    return {
        "metricName": metric.get("MetricName"),
        "type": metric.get("Type"),
        "value": float(metric["Value"]),
    }


def evaluate_quality_gate(
    objective: Mapping[str, Any] | None, quality_gate: Mapping[str, Any] | None
) -> dict[str, Any]:
    """{"evaluated", "passed", "message"}: >= threshold to Maximize, <= threshold to Minimize."""
    if not quality_gate:
        return {"evaluated": False, "passed": True, "message": "no quality gate is configured"}
    threshold = to_float(quality_gate["threshold"])
    direction = quality_gate.get("direction") or (objective or {}).get("type") or "Maximize"
    if objective is None:
        return {
            "evaluated": True,
            "passed": False,
            "message": (
                f"the best training job reported no final objective value, so the quality gate "
                f"({_comparison(direction)} {threshold:g}) cannot be met"
            ),
        }
    value = float(objective["value"])
    passed = value >= threshold if direction == "Maximize" else value <= threshold
    metric = objective.get("metricName") or "objective"
    verdict = "meets" if passed else "does not meet"
    return {
        "evaluated": True,
        "passed": passed,
        "message": (
            f"best {metric} = {value:g} {verdict} the quality gate "
            f"({_comparison(direction)} {threshold:g})"
        ),
    }


def _comparison(direction: str) -> str:
    return ">=" if direction == "Maximize" else "<="


def _counts(counters: Mapping[str, Any]) -> str:
    shown = [f"{name} {count}" for name, count in counters.items() if count]
    return ", ".join(shown) if shown else "none"
