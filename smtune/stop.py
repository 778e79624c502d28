"""`smtune stop`: stop a run, every child execution it started and their tuning jobs.

Step Functions makes only a best-effort attempt to stop what an aborted `.sync` task waits for
(https://docs.aws.amazon.com/step-functions/latest/dg/connect-to-resource.html, Run a Job), so
the command stops every resource itself. First it finds the tree from the histories: the child
executions the `startExecution` tasks started (their TaskSubmitted/TaskSucceeded output, or a
running execution of a started state machine whose input names the parent in
`AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID`) and the tuning jobs the
`createHyperParameterTuningJob` tasks created. Then it stops them from the top: the run first,
then each child and its tuning jobs. Stopping a child first would let its parent's `.sync` task
see the child ABORTED and take its failure path (an alert) before the parent's own stop
arrives; stopped from the top, the parent ends ABORTED, Step Functions stops what its `.sync`
task waits for, and this command stops whatever is still running. A resource that has already
ended is reported, not stopped.
Stopping a parent can race with a state that starts a new child, so the tree is read again after
the stops until nothing in it runs.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from smtune.aws import describe_aws_error, error_code
from smtune.errors import CliError
from smtune.history import fetch_events, parse_history

RUNNING_EXECUTION = "RUNNING"
RUNNING_TUNING_JOB = "InProgress"
STARTED_BY_KEY = "AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID"
MAX_ROUNDS = 3

_TASK_DETAILS = {
    "TaskScheduled": "taskScheduledEventDetails",
    "TaskSubmitted": "taskSubmittedEventDetails",
    "TaskSucceeded": "taskSucceededEventDetails",
}
_NOT_FOUND = {"ExecutionDoesNotExist", "ResourceNotFound", "ValidationException"}


@dataclass
class TuningJob:
    name: str
    status: str


@dataclass
class ExecutionNode:
    """An execution, the tuning jobs it created and the child executions it started."""

    arn: str
    status: str
    started_by: str | None = None
    tuning_jobs: list[TuningJob] = field(default_factory=list)
    children: list[ExecutionNode] = field(default_factory=list)

    def top_down(self) -> Iterator[tuple[str, str, str, str | None]]:
        """(kind, id, status, started by) of every resource, each execution before what it
        started."""
        yield "execution", self.arn, self.status, self.started_by
        for child in self.children:
            yield from child.top_down()
        for job in self.tuning_jobs:
            yield "tuningJob", job.name, job.status, self.arn


@dataclass(frozen=True)
class Outcome:
    """What `stop` did to one resource: stopped, alreadyEnded or failed."""

    resource: str
    id: str
    outcome: str
    status: str
    started_by: str | None = None
    error: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "resource": self.resource,
            "id": self.id,
            "outcome": self.outcome,
            "status": self.status,
            "startedBy": self.started_by,
            "error": self.error,
        }

    def text(self) -> str:
        kind = "tuning job" if self.resource == "tuningJob" else "execution"
        if self.outcome == "stopped":
            return f"stopped {kind} {self.id} (was {self.status})"
        if self.outcome == "alreadyEnded":
            return f"already ended: {kind} {self.id} ({self.status})"
        return f"could not stop {kind} {self.id} ({self.status}): {self.error}"


def _json(text: Any) -> Any:
    if not isinstance(text, str):
        return None
    try:
        return json.loads(text)
    except ValueError:
        return None


def what_it_started(events: list[dict[str, Any]]) -> tuple[list[str], list[str]]:
    """(tuning job names, started state machine ARNs) from an execution's task events."""
    jobs: list[str] = []
    machines: list[str] = []

    def add_job(name: Any) -> None:
        # SageMaker lowercases names in ARNs: a name seen in the parameters wins.
        if isinstance(name, str) and name.lower() not in {job.lower() for job in jobs}:
            jobs.append(name)

    for event in sorted(events, key=lambda e: e.get("id", 0)):
        kind = str(event.get("type", ""))
        if kind not in _TASK_DETAILS:
            continue
        details = event.get(_TASK_DETAILS[kind], {})
        resource = str(details.get("resource", "")).split(".", 1)[0]
        if kind == "TaskScheduled":
            parameters = _json(details.get("parameters"))
            if not isinstance(parameters, dict):
                continue
            if resource == "createHyperParameterTuningJob":
                add_job(parameters.get("HyperParameterTuningJobName"))
            machine = parameters.get("StateMachineArn")
            if (
                resource == "startExecution"
                and isinstance(machine, str)
                and machine not in machines
            ):
                machines.append(machine)
        elif resource == "createHyperParameterTuningJob":
            output = _json(details.get("output"))
            arn = output.get("HyperParameterTuningJobArn") if isinstance(output, dict) else None
            if isinstance(arn, str):
                add_job(arn.rsplit("/", 1)[-1])
    return jobs, machines


class RunStopper:
    """Finds and stops the resources of one run, reporting what it did to each, once."""

    def __init__(
        self, sfn: Any, sagemaker: Any, error: str | None = None, cause: str | None = None
    ) -> None:
        self._sfn = sfn
        self._sagemaker = sagemaker
        self._stop_fields = {
            key: value for key, value in (("error", error), ("cause", cause)) if value is not None
        }
        # Keyed by (resource, id), in the order first acted on; a failure is tried again in the
        # next round and replaced by what happens then.
        self._outcomes: dict[tuple[str, str], Outcome] = {}

    @property
    def outcomes(self) -> list[Outcome]:
        return list(self._outcomes.values())

    def _settled(self, kind: str, resource_id: str) -> bool:
        outcome = self._outcomes.get((kind, resource_id))
        return outcome is not None and outcome.outcome != "failed"

    # Finding the tree --------------------------------------------------------------------------

    def _describe_execution(self, arn: str) -> dict[str, Any] | None:
        try:
            return dict(self._sfn.describe_execution(executionArn=arn))
        except ClientError as exc:
            if error_code(exc) in _NOT_FOUND:
                return None
            raise

    def _tuning_job_status(self, name: str) -> str | None:
        try:
            described = self._sagemaker.describe_hyper_parameter_tuning_job(
                HyperParameterTuningJobName=name
            )
        except ClientError as exc:
            if error_code(exc) in _NOT_FOUND:  # scheduled, never created
                return None
            raise
        return str(described.get("HyperParameterTuningJobStatus"))

    def _started_by(self, parent: str, machines: list[str], known: set[str]) -> list[str]:
        """Running executions of `machines` whose input names `parent` as their starter."""
        found: list[str] = []
        paginator = self._sfn.get_paginator("list_executions")
        for machine in machines:
            try:
                pages = list(paginator.paginate(stateMachineArn=machine, statusFilter="RUNNING"))
            except ClientError as exc:
                if error_code(exc) in ("StateMachineDoesNotExist", "InvalidArn"):
                    continue
                raise
            for page in pages:
                for summary in page.get("executions", []):
                    arn = str(summary["executionArn"])
                    if arn in known or arn in found:
                        continue
                    described = self._describe_execution(arn) or {}
                    execution_input = _json(described.get("input"))
                    if (
                        isinstance(execution_input, dict)
                        and execution_input.get(STARTED_BY_KEY) == parent
                    ):
                        found.append(arn)
        return found

    def find(
        self, arn: str, started_by: str | None = None, seen: set[str] | None = None
    ) -> ExecutionNode | None:
        """The execution and what it started, recursively; None when it does not exist."""
        seen = set() if seen is None else seen
        seen.add(arn)
        described = self._describe_execution(arn)
        if described is None:
            return None
        node = ExecutionNode(arn, str(described.get("status")), started_by)
        events = fetch_events(self._sfn, arn)
        children = [ref.arn for ref in parse_history(events).children]
        job_names, machines = what_it_started(events)
        children += self._started_by(arn, machines, set(children) | seen)
        for name in job_names:
            status = self._tuning_job_status(name)
            if status is not None:
                node.tuning_jobs.append(TuningJob(name, status))
        for child_arn in children:
            if child_arn not in seen:
                child = self.find(child_arn, arn, seen)
                if child is not None:
                    node.children.append(child)
        return node

    # Stopping ----------------------------------------------------------------------------------

    def _report(self, outcome: Outcome) -> None:
        self._outcomes[(outcome.resource, outcome.id)] = outcome

    def _stop(self, kind: str, resource_id: str, status: str, started_by: str | None) -> None:
        running = RUNNING_EXECUTION if kind == "execution" else RUNNING_TUNING_JOB
        if status != running:
            self._report(Outcome(kind, resource_id, "alreadyEnded", status, started_by))
            return
        try:
            if kind == "execution":
                self._sfn.stop_execution(executionArn=resource_id, **self._stop_fields)
            else:
                self._sagemaker.stop_hyper_parameter_tuning_job(
                    HyperParameterTuningJobName=resource_id
                )
        except (ClientError, BotoCoreError) as exc:
            # It may have ended between the look and the stop: then it is not a failure.
            now = self._status_now(kind, resource_id)
            if now is not None and now != running:
                self._report(Outcome(kind, resource_id, "alreadyEnded", now, started_by))
            else:
                message = describe_aws_error(exc) or str(exc)
                self._report(Outcome(kind, resource_id, "failed", status, started_by, message))
            return
        self._report(Outcome(kind, resource_id, "stopped", status, started_by))

    def _status_now(self, kind: str, resource_id: str) -> str | None:
        try:
            if kind == "execution":
                described = self._describe_execution(resource_id)
                return None if described is None else str(described.get("status"))
            return self._tuning_job_status(resource_id)
        except (ClientError, BotoCoreError):
            return None

    def stop(self, arn: str) -> list[Outcome]:
        """Stop the run `arn` and everything it started; the outcomes in the order acted on."""
        for _ in range(MAX_ROUNDS):
            root = self.find(arn)
            if root is None:
                if not self._outcomes:
                    raise CliError(f"execution not found: {arn}")
                break
            pending = [
                resource
                for resource in root.top_down()
                if not self._settled(resource[0], resource[1])
            ]
            if not pending:
                break
            for kind, resource_id, status, started_by in pending:
                self._stop(kind, resource_id, status, started_by)
        return self.outcomes
