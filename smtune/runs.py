"""`smtune runs`: the past runs of a workflow (or of its deployer), newest first.

Each run is read from ListExecutions and DescribeExecution: the parent workflow's output is
{"tuning": {"tuningJobName", "objective", ...}, "deployment": {"outcome", "endpointConfigName",
...}}; the deployer's output carries "outcome" and "endpointConfigName" itself, and its input the
tuning job and objective the parent passed on. A run that did not succeed has no output; its
outcome comes from its status (failed with the error name, running, aborted).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from botocore.exceptions import ClientError

from smtune.aws import error_code
from smtune.errors import CliError
from smtune.resources import format_number
from smtune.text import format_duration, format_time, iso

DEFAULT_MAX_RESULTS = 20
PAGE_LIMIT = 100  # ListExecutions returns at most 1000 per page; small pages keep calls quick

# The deployer's end states, as an operator reads them.
OUTCOME_WORDS = {
    "InService": "deployed",
    "KeptLive": "kept live",
    "Rejected": "rejected",
    "Superseded": "superseded",
}
_STATUS_OUTCOMES = {"RUNNING": "running", "ABORTED": "aborted", "PENDING_REDRIVE": "failed"}


def _json_object(text: Any) -> dict[str, Any]:
    if not isinstance(text, str):
        return {}
    try:
        value = json.loads(text)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _objective(value: Any) -> dict[str, Any] | None:
    if not isinstance(value, dict):
        return None
    number = value.get("value")
    if isinstance(number, bool) or not isinstance(number, (int, float)):
        return None
    return {"metricName": value.get("metricName"), "type": value.get("type"), "value": number}


def objective_text(objective: dict[str, Any] | None) -> str:
    """metric=value, or "-" when the run reported no objective."""
    if not objective:
        return "-"
    return (
        f"{objective.get('metricName') or 'objective'}={format_number(float(objective['value']))}"
    )


@dataclass(frozen=True)
class Run:
    """One execution of the workflow or the deployer, as the `runs` table shows it."""

    execution_arn: str
    name: str
    status: str
    started: datetime | None
    stopped: datetime | None
    tuning_job: str | None
    objective: dict[str, Any] | None
    outcome: str
    deployer_outcome: str | None
    endpoint_config: str | None
    model_package_arn: str | None
    error: str | None
    cause: str | None

    def duration_seconds(self, now: datetime | None = None) -> float | None:
        if self.started is None:
            return None
        end = self.stopped or now or datetime.now(timezone.utc)
        return max(0.0, (end - self.started).total_seconds())

    def outcome_text(self) -> str:
        if self.outcome == "failed" and self.error:
            return f"failed: {self.error}"
        return self.outcome

    def as_dict(self) -> dict[str, Any]:
        duration = self.duration_seconds()
        return {
            "executionArn": self.execution_arn,
            "name": self.name,
            "status": self.status,
            "startDate": iso(self.started),
            "stopDate": iso(self.stopped),
            "durationSeconds": None if duration is None else round(duration, 3),
            "tuningJobName": self.tuning_job,
            "objective": self.objective,
            "outcome": self.outcome,
            "deploymentOutcome": self.deployer_outcome,
            "endpointConfigName": self.endpoint_config,
            "modelPackageArn": self.model_package_arn,
            "error": self.error,
            "cause": self.cause,
        }


def run_from_description(described: dict[str, Any]) -> Run:
    """A Run from DescribeExecution's answer, for the parent workflow or the deployer."""
    status = str(described.get("status"))
    execution_input = _json_object(described.get("input"))
    output = _json_object(described.get("output"))
    if "tuning" in output or "deployment" in output:  # the parent workflow
        tuning = output["tuning"] if isinstance(output.get("tuning"), dict) else {}
        deployment = output.get("deployment")
        deployment = deployment if isinstance(deployment, dict) else {}
        tuning_job = tuning.get("tuningJobName")
        objective = _objective(tuning.get("objective"))
    else:  # the deployer: the parent passes the tuning job and objective in its input
        deployment = output
        tuning_job = execution_input.get("tuningJobName")
        objective = _objective(execution_input.get("objective"))
    deployer_outcome = deployment.get("outcome")
    deployer_outcome = deployer_outcome if isinstance(deployer_outcome, str) else None
    if status == "SUCCEEDED":
        outcome = OUTCOME_WORDS.get(deployer_outcome or "", "succeeded")
    else:
        outcome = _STATUS_OUTCOMES.get(status, "failed")
    error = described.get("error")
    if outcome == "failed" and not error:
        error = status  # e.g. TIMED_OUT without an error name
    endpoint_config = deployment.get("endpointConfigName")
    model_package = deployment.get("modelPackageArn")
    return Run(
        execution_arn=str(described.get("executionArn")),
        name=str(described.get("name")),
        status=status,
        started=described.get("startDate"),
        stopped=described.get("stopDate"),
        tuning_job=tuning_job if isinstance(tuning_job, str) else None,
        objective=objective,
        outcome=outcome,
        deployer_outcome=deployer_outcome,
        endpoint_config=endpoint_config if isinstance(endpoint_config, str) else None,
        model_package_arn=model_package if isinstance(model_package, str) else None,
        error=str(error) if error else None,
        cause=str(described["cause"]) if described.get("cause") else None,
    )


def list_runs(sfn: Any, state_machine_arn: str, max_results: int) -> list[Run]:
    """The newest `max_results` executions of the state machine, newest first."""
    summaries: list[dict[str, Any]] = []
    token: str | None = None
    while len(summaries) < max_results:
        request: dict[str, Any] = {
            "stateMachineArn": state_machine_arn,
            "maxResults": min(PAGE_LIMIT, max_results - len(summaries)),
        }
        if token:
            request["nextToken"] = token
        try:
            page = sfn.list_executions(**request)
        except ClientError as exc:
            if error_code(exc) == "StateMachineDoesNotExist":
                raise CliError(f"state machine not found: {state_machine_arn}") from exc
            raise
        summaries.extend(page.get("executions", []))
        token = page.get("nextToken")
        if not token:
            break
    runs: list[Run] = []
    for summary in summaries[:max_results]:
        try:
            described = sfn.describe_execution(executionArn=summary["executionArn"])
        except ClientError as exc:
            if error_code(exc) != "ExecutionDoesNotExist":  # expired between the two calls
                raise
            continue
        runs.append(run_from_description(dict(described)))
    epoch = datetime.min.replace(tzinfo=timezone.utc)
    return sorted(runs, key=lambda run: run.started or epoch, reverse=True)


HEADERS = (
    "START",
    "DURATION",
    "STATUS",
    "TUNING JOB",
    "BEST OBJECTIVE",
    "OUTCOME",
    "ENDPOINT CONFIG",
)


def runs_table(runs: list[Run], now: datetime | None = None) -> str:
    """The runs as aligned columns, a header first."""
    rows = [HEADERS]
    for run in runs:
        duration = run.duration_seconds(now)
        rows.append(
            (
                format_time(run.started),
                "-" if duration is None else format_duration(duration),
                run.status,
                run.tuning_job or "-",
                objective_text(run.objective),
                run.outcome_text(),
                run.endpoint_config or "-",
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(HEADERS))]
    lines = ["  ".join(cell.ljust(width) for cell, width in zip(row, widths)) for row in rows]
    return "\n".join(line.rstrip() for line in lines) + "\n"
