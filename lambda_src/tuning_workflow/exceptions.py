"""The errors the workflow's Lambdas raise.

A Lambda's error type, as Step Functions sees it, is the class name: the state machines retry
`TransientAwsError` and catch everything else. Expected outcomes (invalid input, a quality gate
that is not met, an update that SageMaker rolled back) are not errors: they are returned as data.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tuning_workflow.validation import Problem


class TuningWorkflowError(Exception):
    """Base class of every error raised on purpose by this package."""


class InvalidEventError(TuningWorkflowError):
    """A Lambda event lacks a field the state machine must pass: a wiring fault, not user input."""


class ConfigurationError(TuningWorkflowError):
    """The Lambda's environment lacks a setting its deployment must provide."""


class InvalidInputError(TuningWorkflowError):
    """A document broke its contract; `problems` lists every violation."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = list(problems)
        super().__init__(summarize(self.problems))


class TransientAwsError(TuningWorkflowError):
    """Throttling, a 5xx or a dropped connection that outlasted boto3's own retries."""


class NoBestTrainingJobError(TuningWorkflowError):
    """The tuning job has no best training job: every training job failed or was stopped."""


class ModelArtifactsMissingError(TuningWorkflowError):
    """The best training job reports no model artifacts."""


class InferenceImageNotFoundError(TuningWorkflowError):
    """No inference image was given and none could be derived from the training job."""


class EndpointConfigNotFoundError(TuningWorkflowError):
    """The endpoint config stayed invisible to CreateEndpoint/UpdateEndpoint after every retry."""


def summarize(problems: Sequence[object], limit: int = 5) -> str:
    """'3 problems in the input: a; b; c', shortened after `limit` items."""
    count = len(problems)
    if count == 0:
        return "no problems"
    noun = "problem" if count == 1 else "problems"
    shown = "; ".join(str(problem) for problem in problems[:limit])
    more = f"; and {count - limit} more" if count > limit else ""
    return f"{count} {noun} in the input: {shown}{more}"
