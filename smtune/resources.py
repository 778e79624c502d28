"""The SageMaker side of a run: tuning job progress, its training jobs, the endpoint."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from botocore.exceptions import ClientError

from smtune.aws import error_code, error_message
from smtune.errors import CliError

TUNING_DONE = ("Completed", "Failed", "Stopped")
# Answers of a service (or an emulator) that lacks ListTrainingJobsForHyperParameterTuningJob.
_NOT_IMPLEMENTED = {"500", "NotImplemented", "InternalFailure", "InternalError", "InvalidAction"}


def _not_found(exc: ClientError) -> bool:
    code = error_code(exc)
    if code in ("ResourceNotFound", "ResourceNotFoundException"):
        return True
    message = error_message(exc).lower()
    return code == "ValidationException" and ("could not find" in message or "not found" in message)


@dataclass(frozen=True)
class TuningProgress:
    """A tuning job's counters and its best training job so far."""

    name: str
    status: str
    completed: int
    in_progress: int
    failed: int
    stopped: int
    planned: int | None
    metric: str | None
    direction: str | None
    best_job: str | None
    best_value: float | None
    failure_reason: str | None = None

    @property
    def done(self) -> bool:
        return self.status in TUNING_DONE

    def summary(self) -> str:
        of = f"/{self.planned}" if self.planned else ""
        text = (
            f"{self.status}, training jobs: {self.completed}{of} completed, "
            f"{self.in_progress} in progress, {self.failed} failed, {self.stopped} stopped"
        )
        if self.best_value is not None:
            text += f"; best {self.metric or 'objective'} {format_number(self.best_value)}"
            text += f" ({self.best_job})" if self.best_job else ""
        if self.failure_reason:
            text += f"; {self.failure_reason}"
        return text

    def progress_text(self) -> str:
        """What the counters count, the zero counts left out: `InProgress, 5 of 10 training
        jobs completed, 3 in progress, 1 failed; best validation:auc 0.91 so far (JOB)`."""
        planned = f" of {self.planned}" if self.planned else ""
        jobs = "training job" if (self.planned or self.completed) == 1 else "training jobs"
        parts = [self.status, f"{self.completed}{planned} {jobs} completed"]
        for count, what in (
            (self.in_progress, "in progress"),
            (self.failed, "failed"),
            (self.stopped, "stopped"),
        ):
            if count:
                parts.append(f"{count} {what}")
        text = ", ".join(parts)
        if self.best_value is not None:
            text += f"; best {self.metric or 'objective'} {format_number(self.best_value)}"
            text += "" if self.done else " so far"
            text += f" ({self.best_job})" if self.best_job else ""
        if self.failure_reason:
            text += f"; {self.failure_reason}"
        return text

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "status": self.status,
            "trainingJobs": {
                "completed": self.completed,
                "inProgress": self.in_progress,
                "failed": self.failed,
                "stopped": self.stopped,
                "planned": self.planned,
            },
            "objective": {"metricName": self.metric, "type": self.direction},
            "bestTrainingJob": self.best_job,
            "bestObjectiveValue": self.best_value,
            "failureReason": self.failure_reason,
        }


def format_number(value: float) -> str:
    return f"{value:.6g}"


def describe_tuning_job(sagemaker: Any, name: str) -> dict[str, Any] | None:
    """DescribeHyperParameterTuningJob, or None while the job does not exist (yet)."""
    try:
        return sagemaker.describe_hyper_parameter_tuning_job(HyperParameterTuningJobName=name)
    except ClientError as exc:
        if _not_found(exc):
            return None
        raise


def tuning_progress(description: dict[str, Any]) -> TuningProgress:
    counters = description.get("TrainingJobStatusCounters", {})
    config = description.get("HyperParameterTuningJobConfig", {})
    objective = config.get("HyperParameterTuningJobObjective", {})
    best = description.get("BestTrainingJob") or {}
    best_metric = best.get("FinalHyperParameterTuningJobObjectiveMetric") or {}
    value = best_metric.get("Value")
    return TuningProgress(
        name=str(description.get("HyperParameterTuningJobName", "")),
        status=str(description.get("HyperParameterTuningJobStatus", "Unknown")),
        completed=int(counters.get("Completed", 0)),
        in_progress=int(counters.get("InProgress", 0)),
        failed=int(counters.get("RetryableError", 0)) + int(counters.get("NonRetryableError", 0)),
        stopped=int(counters.get("Stopped", 0)),
        planned=config.get("ResourceLimits", {}).get("MaxNumberOfTrainingJobs"),
        metric=objective.get("MetricName") or best_metric.get("MetricName"),
        direction=objective.get("Type") or best_metric.get("Type"),
        best_job=best.get("TrainingJobName"),
        best_value=float(value) if value is not None else None,
        failure_reason=description.get("FailureReason") or None,
    )


@dataclass(frozen=True)
class EndpointState:
    name: str
    status: str
    config_name: str | None = None
    failure_reason: str | None = None

    def summary(self) -> str:
        if self.status == "absent":
            return "not created yet"
        text = self.status
        text += f" (config {self.config_name})" if self.config_name else ""
        text += f": {self.failure_reason}" if self.failure_reason else ""
        return text

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "status": self.status,
            "endpointConfigName": self.config_name,
            "failureReason": self.failure_reason,
        }


def endpoint_state(sagemaker: Any, name: str) -> EndpointState:
    try:
        found = sagemaker.describe_endpoint(EndpointName=name)
    except ClientError as exc:
        if _not_found(exc):
            return EndpointState(name=name, status="absent")
        raise
    return EndpointState(
        name=name,
        status=str(found.get("EndpointStatus", "Unknown")),
        config_name=found.get("EndpointConfigName"),
        failure_reason=found.get("FailureReason") or None,
    )


@dataclass(frozen=True)
class TrainingJobResult:
    """One training job of a tuning job, with what the report plots."""

    name: str
    status: str
    objective: float | None
    hyperparameters: dict[str, str] = field(default_factory=dict)
    created: datetime | None = None


@dataclass(frozen=True)
class TuningRun:
    """A tuning job and all its training jobs."""

    description: dict[str, Any]
    jobs: list[TrainingJobResult]

    @property
    def progress(self) -> TuningProgress:
        return tuning_progress(self.description)

    @property
    def parameter_ranges(self) -> list[dict[str, Any]]:
        """The tuned hyperparameters: [{"Name", "kind", "ScalingType", ...}], in range order."""
        ranges = (
            self.description.get("HyperParameterTuningJobConfig", {}).get("ParameterRanges") or {}
        )
        found: list[dict[str, Any]] = []
        for key, kind in (
            ("IntegerParameterRanges", "integer"),
            ("ContinuousParameterRanges", "continuous"),
            ("CategoricalParameterRanges", "categorical"),
        ):
            for item in ranges.get(key) or []:
                found.append({**item, "kind": kind})
        return found

    @property
    def best_job(self) -> str | None:
        return self.progress.best_job


def load_tuning_run(sagemaker: Any, name: str) -> TuningRun:
    """The tuning job and its training jobs, or a CliError naming a missing job."""
    description = describe_tuning_job(sagemaker, name)
    if description is None:
        raise CliError(f"tuning job not found: {name}")
    try:
        jobs = _list_training_jobs(sagemaker, name)
    except ClientError as exc:
        if error_code(exc) not in _NOT_IMPLEMENTED:
            raise
        jobs = _training_jobs_from_descriptions(sagemaker, description)
    jobs.sort(key=lambda job: (job.created is None, job.created or datetime.min, job.name))
    return TuningRun(description=description, jobs=jobs)


def _list_training_jobs(sagemaker: Any, name: str) -> list[TrainingJobResult]:
    paginator = sagemaker.get_paginator("list_training_jobs_for_hyper_parameter_tuning_job")
    jobs: list[TrainingJobResult] = []
    for page in paginator.paginate(HyperParameterTuningJobName=name):
        for summary in page.get("TrainingJobSummaries", []):
            metric = summary.get("FinalHyperParameterTuningJobObjectiveMetric") or {}
            value = metric.get("Value")
            jobs.append(
                TrainingJobResult(
                    name=summary["TrainingJobName"],
                    status=str(summary.get("TrainingJobStatus", "Unknown")),
                    objective=float(value) if value is not None else None,
                    hyperparameters=dict(summary.get("TunedHyperParameters") or {}),
                    created=summary.get("CreationTime"),
                )
            )
    return jobs


def _training_jobs_from_descriptions(
    sagemaker: Any, tuning: dict[str, Any]
) -> list[TrainingJobResult]:
    """The same list, from ListTrainingJobs + DescribeTrainingJob (SageMaker names a tuning
    job's training jobs `<tuning job>-<nnn>-<suffix>`)."""
    name = tuning["HyperParameterTuningJobName"]
    arn = tuning.get("HyperParameterTuningJobArn")
    objective = (
        tuning.get("HyperParameterTuningJobConfig", {})
        .get("HyperParameterTuningJobObjective", {})
        .get("MetricName")
    )
    tuned = {item["Name"] for item in TuningRun(tuning, []).parameter_ranges}
    jobs: list[TrainingJobResult] = []
    paginator = sagemaker.get_paginator("list_training_jobs")
    for page in paginator.paginate(NameContains=name):
        for summary in page.get("TrainingJobSummaries", []):
            job = sagemaker.describe_training_job(TrainingJobName=summary["TrainingJobName"])
            linked = job.get("TuningJobArn")
            if (linked and linked != arn) or (
                not linked and not job["TrainingJobName"].startswith(f"{name}-")
            ):
                continue
            value = next(
                (
                    metric.get("Value")
                    for metric in job.get("FinalMetricDataList") or []
                    if metric.get("MetricName") == objective
                ),
                None,
            )
            hyperparameters = job.get("HyperParameters") or {}
            jobs.append(
                TrainingJobResult(
                    name=job["TrainingJobName"],
                    status=str(job.get("TrainingJobStatus", "Unknown")),
                    objective=float(value) if value is not None else None,
                    hyperparameters={k: v for k, v in hyperparameters.items() if k in tuned},
                    created=job.get("CreationTime"),
                )
            )
    return jobs
