"""A run at one moment: the execution tree plus the live state of its tuning jobs and endpoint."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from smtune.aws import Aws
from smtune.history import ExecutionLoader, ExecutionView
from smtune.resources import (
    EndpointState,
    TuningProgress,
    describe_tuning_job,
    endpoint_state,
    tuning_progress,
)

if TYPE_CHECKING:
    from smtune.follow import RunFollower


@dataclass
class RunSnapshot:
    view: ExecutionView
    tuning: list[TuningProgress] = field(default_factory=list)
    endpoints: list[EndpointState] = field(default_factory=list)

    @property
    def best_training_job(self) -> dict[str, Any] | None:
        return self.view.best_training_job


class SnapshotReader:
    """Reads snapshots of one run again and again; finished things are read only once."""

    def __init__(self, aws: Aws) -> None:
        self._aws = aws
        self._loader = ExecutionLoader(aws.client("stepfunctions"))
        self._finished_tuning: dict[str, TuningProgress] = {}

    @property
    def _sagemaker(self) -> Any:
        return self._aws.client("sagemaker")

    def follow(self, execution_arn: str) -> RunFollower:
        """A follower of the run that reads only what changed since its last poll."""
        from smtune.follow import RunFollower

        return RunFollower(self._aws, execution_arn)

    def read(self, execution_arn: str) -> RunSnapshot:
        view = self._loader.load(execution_arn)
        snapshot = RunSnapshot(view=view)
        for name in view.all_names("tuning_jobs"):
            progress = self._tuning(name)
            if progress is not None:
                snapshot.tuning.append(progress)
        for name in view.all_names("endpoints"):
            snapshot.endpoints.append(endpoint_state(self._sagemaker, name))
        return snapshot

    def _tuning(self, name: str) -> TuningProgress | None:
        if name in self._finished_tuning:
            return self._finished_tuning[name]
        description = describe_tuning_job(self._sagemaker, name)
        if description is None:
            return None
        progress = tuning_progress(description)
        if progress.done:
            self._finished_tuning[name] = progress
        return progress
