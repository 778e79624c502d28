"""What the emulator does next: outcomes, sizes and pacing that tests and demos choose.

One `EmulatorControl` lives for the process. The patched moto code reads it when a tuning job or
an endpoint deployment starts; the Python API and the HTTP control routes write it. Every
setter validates its input and names the offending field in a `ControlError`.
"""

from __future__ import annotations

import math
import threading
from collections import deque
from dataclasses import dataclass
from typing import Any

from . import faults

TUNING_JOB_STATUSES = ("Completed", "Failed", "Stopped")
ENDPOINT_OUTCOMES = ("InService", "RolledBack", "Failed")
DEFAULT_TRAINING_JOBS = 5
MAX_TRAINING_JOBS = 100
MAX_PROGRESSION_DESCRIBES = 100

DEFAULT_TUNING_FAILURE_REASON = "All training jobs failed (emulated failure)."
DEFAULT_ENDPOINT_FAILURE_REASON = (
    "The primary container for production variant failed the ping health check (emulated failure)."
)


class ControlError(ValueError):
    """A control request is invalid; the message names the field and the problem."""


@dataclass(frozen=True)
class TuningJobOutcome:
    """How the next tuning job ends."""

    status: str
    failure_reason: str | None = None


@dataclass(frozen=True)
class EndpointOutcome:
    """How the next CreateEndpoint or UpdateEndpoint ends.

    `InService`: the endpoint serves the requested config. `RolledBack` (updates only; a create
    fails instead): the endpoint returns to InService on its previous config, as SageMaker does
    after a failed update. `Failed`: the endpoint ends in status Failed.
    """

    outcome: str
    failure_reason: str | None = None


@dataclass(frozen=True)
class AlgorithmImages:
    """Images of an algorithm resource known to the emulator."""

    name: str
    inference_image: str
    training_image: str


def _require_choice(field: str, value: Any, choices: tuple[str, ...]) -> str:
    if value not in choices:
        raise ControlError(f"{field}: must be one of {', '.join(choices)} (got {value!r})")
    return str(value)


def _require_int(field: str, value: Any, minimum: int, maximum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ControlError(f"{field}: must be an integer (got {value!r})")
    if not minimum <= value <= maximum:
        raise ControlError(f"{field}: must be between {minimum} and {maximum} (got {value})")
    return value


def _require_finite_number(field: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ControlError(f"{field}: must be a finite number (got {value!r})")
    if not math.isfinite(value):
        raise ControlError(f"{field}: must be a finite number (got {value!r})")
    return float(value)


def _optional_text(field: str, value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        raise ControlError(f"{field}: must be a non-empty string (got {value!r})")
    return value


def _require_text(field: str, value: Any) -> str:
    text = _optional_text(field, value)
    if text is None:
        raise ControlError(f"{field}: is required")
    return text


class EmulatorControl:
    """Thread-safe settings and queues read by the emulated services."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._tuning_outcomes: deque[TuningJobOutcome] = deque()
        self._endpoint_outcomes: deque[EndpointOutcome] = deque()
        self._algorithms: dict[str, AlgorithmImages] = {}
        self._training_jobs = DEFAULT_TRAINING_JOBS
        self._failed_training_jobs = 0
        self._progression_describes = 0
        self._api_errors: list[faults.ApiError] = []
        self._best_objectives: deque[float] = deque()

    def reset(self) -> None:
        """Forget queued outcomes and errors, registered algorithms and settings."""
        with self._lock:
            self._api_errors.clear()
            self._best_objectives.clear()
            self._tuning_outcomes.clear()
            self._endpoint_outcomes.clear()
            self._algorithms.clear()
            self._training_jobs = DEFAULT_TRAINING_JOBS
            self._failed_training_jobs = 0
            self._progression_describes = 0

    # Tuning jobs -------------------------------------------------------------------------------

    def queue_tuning_job_outcome(
        self, status: str, failure_reason: str | None = None, times: int = 1
    ) -> None:
        """The next `times` tuning jobs end with `status` (Completed, Failed or Stopped)."""
        status = _require_choice("status", status, TUNING_JOB_STATUSES)
        reason = _optional_text("failureReason", failure_reason)
        times = _require_int("times", times, 1, 100)
        if status == "Failed" and reason is None:
            reason = DEFAULT_TUNING_FAILURE_REASON
        with self._lock:
            self._tuning_outcomes.extend([TuningJobOutcome(status, reason)] * times)

    def next_tuning_job_outcome(self) -> TuningJobOutcome:
        with self._lock:
            if self._tuning_outcomes:
                return self._tuning_outcomes.popleft()
        return TuningJobOutcome("Completed")

    def queue_best_objective(self, value: float) -> float:
        """The next tuning job's best training job reports exactly `value` as its objective
        metric; its other training jobs report worse values (lower when the objective is
        Maximize, higher when Minimize). Each call queues one value for one tuning job."""
        value = _require_finite_number("value", value)
        with self._lock:
            self._best_objectives.append(value)
        return value

    def next_best_objective(self) -> float | None:
        with self._lock:
            if self._best_objectives:
                return self._best_objectives.popleft()
        return None

    def set_training_jobs(self, count: int, failed: int = 0) -> None:
        """Each tuning job runs min(MaxNumberOfTrainingJobs, `count`) training jobs.

        The last `failed` of them fail; when all fail, the tuning job has no best training job.
        """
        count = _require_int("count", count, 1, MAX_TRAINING_JOBS)
        failed = _require_int("failed", failed, 0, count)
        with self._lock:
            self._training_jobs = count
            self._failed_training_jobs = failed

    def training_jobs(self) -> tuple[int, int]:
        """(training jobs per tuning job, how many of them fail)."""
        with self._lock:
            return self._training_jobs, self._failed_training_jobs

    # Endpoints ---------------------------------------------------------------------------------

    def queue_endpoint_outcome(
        self, outcome: str, failure_reason: str | None = None, times: int = 1
    ) -> None:
        """The next `times` endpoint deployments (create or update) end with `outcome`."""
        outcome = _require_choice("outcome", outcome, ENDPOINT_OUTCOMES)
        reason = _optional_text("failureReason", failure_reason)
        times = _require_int("times", times, 1, 100)
        if outcome != "InService" and reason is None:
            reason = DEFAULT_ENDPOINT_FAILURE_REASON
        with self._lock:
            self._endpoint_outcomes.extend([EndpointOutcome(outcome, reason)] * times)

    def next_endpoint_outcome(self) -> EndpointOutcome:
        with self._lock:
            if self._endpoint_outcomes:
                return self._endpoint_outcomes.popleft()
        return EndpointOutcome("InService")

    # Pacing ------------------------------------------------------------------------------------

    def set_progression(self, describes: int) -> None:
        """Tuning jobs and endpoint deployments stay in progress for `describes` Describe calls.

        0 (the default) finishes them at once.
        """
        describes = _require_int("describes", describes, 0, MAX_PROGRESSION_DESCRIBES)
        with self._lock:
            self._progression_describes = describes

    def progression(self) -> int:
        with self._lock:
            return self._progression_describes

    # Algorithms --------------------------------------------------------------------------------

    def register_algorithm(
        self, name: str, inference_image: str, training_image: str | None = None
    ) -> AlgorithmImages:
        """Make DescribeAlgorithm return these images for `name` (or an ARN ending in it)."""
        name = _require_text("name", name)
        images = AlgorithmImages(
            name=name,
            inference_image=_require_text("inferenceImage", inference_image),
            training_image=_optional_text("trainingImage", training_image) or inference_image,
        )
        with self._lock:
            self._algorithms[name] = images
        return images

    def algorithm(self, name: str) -> AlgorithmImages | None:
        with self._lock:
            return self._algorithms.get(name)

    # API errors --------------------------------------------------------------------------------

    def queue_api_error(
        self,
        service: str,
        operation: str,
        code: str,
        times: int = 1,
        message: str | None = None,
    ) -> faults.ApiError:
        """The next `times` requests of `operation` to `service` fail with `code`.

        `code` is one of the errors every AWS API answers (ThrottlingException,
        ServiceUnavailable, InternalFailure), a service's own throttling or quota error
        (SageMaker's ResourceLimitExceeded, Lambda's TooManyRequestsException, S3's SlowDown), or
        any error the service's model declares (then `message` is required).
        """
        service = _require_choice("service", service, faults.SERVICES)
        operation = _require_text("operation", operation)
        if operation not in faults.operations(service):
            raise ControlError(
                f"operation: {operation!r} is not an operation of {service} "
                "(give its API name, e.g. CreateModel, Invoke, StartExecution)"
            )
        code = _require_text("code", code)
        statuses = faults.accepted_codes(service)
        if code not in statuses:
            common = [c for c in faults.KNOWN_CODES if c in statuses]
            raise ControlError(
                f"code: {service} does not answer with {code!r} (accepted: {', '.join(common)}, "
                f"or an error in {service}'s API model)"
            )
        text = _optional_text("message", message) or faults.default_message(service, code)
        if text is None:
            raise ControlError(f"message: is required for {code}")
        times = _require_int("times", times, 1, 100)
        error = faults.ApiError(service, operation, code, text, statuses[code])
        with self._lock:
            self._api_errors.extend([error] * times)
        return error

    def has_api_errors(self) -> bool:
        with self._lock:
            return bool(self._api_errors)

    def take_api_error(self, service: str, operation: str) -> faults.ApiError | None:
        """The next queued error of this service's operation, removed from the queue."""
        with self._lock:
            for index, error in enumerate(self._api_errors):
                if (error.service, error.operation) == (service, operation):
                    return self._api_errors.pop(index)
        return None

    # Inspection --------------------------------------------------------------------------------

    def snapshot(self) -> dict[str, Any]:
        """The current settings and queues as a JSON-ready document."""
        with self._lock:
            return {
                "tuningJobOutcomes": [
                    {"status": o.status, "failureReason": o.failure_reason}
                    for o in self._tuning_outcomes
                ],
                "bestObjectives": list(self._best_objectives),
                "endpointOutcomes": [
                    {"outcome": o.outcome, "failureReason": o.failure_reason}
                    for o in self._endpoint_outcomes
                ],
                "trainingJobs": {
                    "count": self._training_jobs,
                    "failed": self._failed_training_jobs,
                },
                "progression": {"describes": self._progression_describes},
                "algorithms": sorted(self._algorithms),
                "apiErrors": [
                    {
                        "service": e.service,
                        "operation": e.operation,
                        "code": e.code,
                        "message": e.message,
                        "httpStatus": e.status,
                    }
                    for e in self._api_errors
                ],
            }


CONTROL = EmulatorControl()
"""The process-wide control read by the patched services."""
