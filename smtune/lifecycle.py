"""`smtune approve`/`reject`, `rollback` and `teardown`: a deployment's models after the runs.

A deployment's SageMaker resources are found by their tags (tuning_workflow.lifecycle_tags),
never by name alone: the owner tag names the deployment (its Terraform name_prefix), and each
endpoint config a run creates records the config it replaced, the rollback target.

- approve/reject: UpdateModelPackage on a model package version waiting for manual approval.
- rollback: starts the deployer with {"endpointConfigName": target}; the deployer switches the
  endpoint to that config of its own deployment, with no new config, promotion or registry step.
- teardown: deletes what a deployment's runs left behind (endpoint, endpoint configs, models).
  An endpoint's Application Auto Scaling scalable targets are deregistered before it is
  deleted; deregistering a scalable target deletes its scaling policies
  (https://docs.aws.amazon.com/autoscaling/application/APIReference/API_DeregisterScalableTarget.html).
"""

from __future__ import annotations

import json
import re
import secrets
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from functools import partial
from typing import Any, Callable

from botocore.exceptions import BotoCoreError, ClientError

from smtune.aws import describe_aws_error, error_code, error_message
from smtune.errors import CliError
from tuning_workflow.deployment import resource_tags
from tuning_workflow.lifecycle_tags import OWNER_TAG_KEY, REPLACES_TAG_KEY

PENDING = "PendingManualApproval"
POLL_SECONDS = 5.0
RUNNING = "RUNNING"
SAGEMAKER_NAMESPACE = "sagemaker"

_MODEL_PACKAGE_ARN = re.compile(
    r"^arn:(?P<partition>aws[a-z-]*):sagemaker:(?P<region>[a-z0-9-]+):(?P<account>\d{12}):"
    r"model-package/(?P<group>[^/]+)/(?P<version>\d+)$"
)
_SAGEMAKER_ARN = re.compile(
    r"^arn:(?P<partition>aws[a-z-]*):sagemaker:(?P<region>[a-z0-9-]+):(?P<account>\d{12}):"
)


def not_found(exc: ClientError) -> bool:
    """SageMaker answers a missing resource with ValidationException "Could not find ..."."""
    code = error_code(exc)
    if code in ("ResourceNotFound", "ResourceNotFoundException", "ObjectNotFoundException"):
        return True
    message = error_message(exc).lower()
    return code == "ValidationException" and any(
        words in message for words in ("could not find", "not found", "does not exist")
    )


# ---------------------------------------------------------------------------------------------
# approve / reject


def model_package_region(arn: str) -> str:
    """The region of a model package version ARN, or fail naming the argument."""
    match = _MODEL_PACKAGE_ARN.match(arn.strip())
    if not match:
        raise CliError(
            f"MODEL_PACKAGE_ARN: {arn!r} is not a model package version ARN "
            "(arn:aws:sagemaker:REGION:ACCOUNT:model-package/GROUP/VERSION)"
        )
    return match["region"]


def describe_model_package(sagemaker: Any, arn: str) -> dict[str, Any]:
    try:
        return dict(sagemaker.describe_model_package(ModelPackageName=arn))
    except ClientError as exc:
        if not_found(exc):
            raise CliError(f"model package version not found: {arn}") from exc
        raise


def set_approval(
    sagemaker: Any, arn: str, status: str, description: str | None, force: bool
) -> dict[str, Any]:
    """Set a version's approval status; refuses a version not waiting for approval unless
    `force`. Returns what the version looks like afterwards, with the status it had before."""
    before = describe_model_package(sagemaker, arn)
    previous = str(before.get("ModelApprovalStatus"))
    if previous != PENDING and not force:
        raise CliError(
            f"model package version {arn} is {previous}, not {PENDING}: "
            "pass --force to change it anyway"
        )
    request: dict[str, Any] = {"ModelPackageArn": arn, "ModelApprovalStatus": status}
    if description is not None:
        request["ApprovalDescription"] = description
    sagemaker.update_model_package(**request)
    after = describe_model_package(sagemaker, arn)
    return {
        "modelPackageArn": arn,
        "previousStatus": previous,
        "modelApprovalStatus": after.get("ModelApprovalStatus"),
        "approvalDescription": after.get("ApprovalDescription"),
    }


def approval_text(result: dict[str, Any]) -> str:
    text = (
        f"model package version {result['modelPackageArn']}: {result['modelApprovalStatus']} "
        f"(was {result['previousStatus']})\n"
    )
    if result.get("approvalDescription"):
        text += f"approval description: {result['approvalDescription']}\n"
    return text


# ---------------------------------------------------------------------------------------------
# rollback


@dataclass(frozen=True)
class RollbackPlan:
    endpoint_name: str
    owner: str | None
    live_config: str
    target_config: str
    state_machine_arn: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "endpointName": self.endpoint_name,
            "deployment": self.owner,
            "previousEndpointConfigName": self.live_config,
            "targetEndpointConfigName": self.target_config,
            "stateMachineArn": self.state_machine_arn,
        }


def describe_endpoint(sagemaker: Any, name: str) -> dict[str, Any]:
    try:
        return dict(sagemaker.describe_endpoint(EndpointName=name))
    except ClientError as exc:
        if not_found(exc):
            raise CliError(f"endpoint not found: {name}") from exc
        raise


def _describe_config(sagemaker: Any, name: str) -> dict[str, Any] | None:
    try:
        return dict(sagemaker.describe_endpoint_config(EndpointConfigName=name))
    except ClientError as exc:
        if not_found(exc):
            return None
        raise


def _deployer_arn(endpoint_arn: str, owner: str) -> str:
    match = _SAGEMAKER_ARN.match(endpoint_arn)
    if not match:
        raise CliError(
            f"cannot tell the account and region of endpoint ARN {endpoint_arn!r}: "
            "pass --state-machine-arn DEPLOYER_ARN"
        )
    return (
        f"arn:{match['partition']}:states:{match['region']}:{match['account']}:"
        f"stateMachine:{owner}-deployer"
    )


def _check_state_machine(sfn: Any, arn: str, owner: str | None, default: bool) -> None:
    try:
        sfn.describe_state_machine(stateMachineArn=arn)
    except ClientError as exc:
        if error_code(exc) != "StateMachineDoesNotExist":
            raise
        if default:
            raise CliError(
                f"no deployer state machine found: {arn} (named after deployment {owner!r}) "
                "does not exist; pass --state-machine-arn DEPLOYER_ARN"
            ) from exc
        raise CliError(f"state machine not found: {arn}") from exc


def plan_rollback(
    sagemaker: Any,
    sfn: Any,
    endpoint_name: str,
    to: str | None = None,
    state_machine_arn: str | None = None,
) -> RollbackPlan:
    """What a rollback of the endpoint would do, checked; a CliError naming what is wrong."""
    endpoint = describe_endpoint(sagemaker, endpoint_name)
    owner = resource_tags(str(endpoint["EndpointArn"]), sagemaker).get(OWNER_TAG_KEY) or None
    if owner is None and (to is None or state_machine_arn is None):
        raise CliError(
            f"endpoint {endpoint_name} has no {OWNER_TAG_KEY} tag, so neither its deployer nor "
            "its previous endpoint config is known: pass --state-machine-arn DEPLOYER_ARN and "
            "--to ENDPOINT_CONFIG"
        )
    live = str(endpoint.get("EndpointConfigName"))
    what = "--to: endpoint config" if to else "nothing to roll back to: endpoint config"
    if to is None:
        live_config = _describe_config(sagemaker, live)
        replaces = (
            resource_tags(str(live_config["EndpointConfigArn"]), sagemaker).get(REPLACES_TAG_KEY)
            if live_config
            else None
        )
        if not replaces:
            raise CliError(
                f"nothing to roll back to: the live endpoint config {live} of endpoint "
                f"{endpoint_name} has no {REPLACES_TAG_KEY} tag (it was the first deployment); "
                "name one with --to ENDPOINT_CONFIG"
            )
        target = replaces
    else:
        target = to
    if target == live:
        raise CliError(f"{what} {target} is already live on endpoint {endpoint_name}")
    config = _describe_config(sagemaker, target)
    if config is None:
        if to is None:
            raise CliError(
                f"nothing to roll back to: endpoint config {target}, which the live {live} "
                "replaced, no longer exists; name another with --to ENDPOINT_CONFIG"
            )
        raise CliError(f"--to: endpoint config not found: {target}")
    if owner is not None:
        config_owner = resource_tags(str(config["EndpointConfigArn"]), sagemaker).get(OWNER_TAG_KEY)
        if config_owner != owner:
            whose = (
                f"belongs to deployment {config_owner!r}"
                if config_owner
                else f"has no {OWNER_TAG_KEY} tag"
            )
            raise CliError(
                f"{what} {target} {whose}, not to deployment {owner!r}, the owner of endpoint "
                f"{endpoint_name}"
            )
    default = state_machine_arn is None
    if state_machine_arn is None:
        assert owner is not None
        state_machine_arn = _deployer_arn(str(endpoint["EndpointArn"]), owner)
    _check_state_machine(sfn, state_machine_arn, owner, default)
    return RollbackPlan(endpoint_name, owner, live, target, state_machine_arn)


def execution_name() -> str:
    return f"smtune-rollback-{datetime.now(timezone.utc):%Y%m%dT%H%M%SZ}-{secrets.token_hex(3)}"


def start_rollback(sfn: Any, plan: RollbackPlan) -> str:
    """Start the deployer on the target config; the execution ARN."""
    started = sfn.start_execution(
        stateMachineArn=plan.state_machine_arn,
        name=execution_name(),
        input=json.dumps({"endpointConfigName": plan.target_config}),
    )
    return str(started["executionArn"])


def wait_for_execution(
    sfn: Any,
    execution_arn: str,
    interval: float | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> dict[str, Any]:
    """Poll DescribeExecution until the execution ends; its last description."""
    while True:
        described = dict(sfn.describe_execution(executionArn=execution_arn))
        if described.get("status") != RUNNING:
            return described
        sleep(POLL_SECONDS if interval is None else interval)


def live_endpoint(sagemaker: Any, name: str) -> dict[str, Any]:
    """What DescribeEndpoint says is live now."""
    endpoint = describe_endpoint(sagemaker, name)
    return {
        "endpointName": name,
        "status": endpoint.get("EndpointStatus"),
        "endpointConfigName": endpoint.get("EndpointConfigName"),
        "failureReason": endpoint.get("FailureReason"),
    }


def rollback_text(plan: RollbackPlan, execution: dict[str, Any], live: dict[str, Any]) -> str:
    lines = [
        f"deployer execution {execution.get('executionArn')}: {execution.get('status')}",
        f"endpoint {live['endpointName']}: {live['status']}, endpoint config "
        f"{live['endpointConfigName']}"
        + (" (rolled back)" if live["endpointConfigName"] == plan.target_config else ""),
    ]
    if live.get("failureReason"):
        lines.append(f"failure reason: {live['failureReason']}")
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------------------------------------
# teardown


@dataclass
class OwnedEndpoint:
    name: str
    config: str | None
    scalable_targets: list[tuple[str, str]] = field(default_factory=list)  # (id, dimension)


@dataclass
class TeardownPlan:
    prefix: str
    endpoints: list[OwnedEndpoint] = field(default_factory=list)
    endpoint_configs: list[str] = field(default_factory=list)
    models: list[str] = field(default_factory=list)

    def empty(self) -> bool:
        return not (self.endpoints or self.endpoint_configs or self.models)


@dataclass(frozen=True)
class Action:
    """One thing teardown did, or would do: planned, deleted, alreadyGone, skipped or failed."""

    resource: str  # scalableTarget, endpoint, endpointConfig or model
    name: str
    outcome: str
    error: str | None = None
    scalable_dimension: str | None = None

    def as_dict(self) -> dict[str, Any]:
        document: dict[str, Any] = {
            "resource": self.resource,
            "name": self.name,
            "outcome": self.outcome,
            "error": self.error,
        }
        if self.scalable_dimension:
            document["scalableDimension"] = self.scalable_dimension
        return document

    def text(self) -> str:
        kind = {
            "scalableTarget": "scalable target",
            "endpoint": "endpoint",
            "endpointConfig": "endpoint config",
            "model": "model",
        }[self.resource]
        thing = f"{kind} {self.name}" + (
            f" ({self.scalable_dimension})" if self.scalable_dimension else ""
        )
        verb = "deregister" if self.resource == "scalableTarget" else "delete"
        if self.outcome == "planned":
            return f"would {verb} {thing}"
        if self.outcome == "deleted":
            return f"{verb}ed {thing}" if verb == "deregister" else f"deleted {thing}"
        if self.outcome == "alreadyGone":
            return f"already gone: {thing}"
        if self.outcome == "skipped":
            return f"kept {thing}: {self.error}"
        return f"could not {verb} {thing}: {self.error}"


def _owned(
    sagemaker: Any, prefix: str, operation: str, key: str, name_key: str, arn_key: str
) -> list[dict[str, Any]]:
    """The listed resources whose owner tag is `prefix`, in list order."""
    found: list[dict[str, Any]] = []
    for page in sagemaker.get_paginator(operation).paginate():
        for summary in page.get(key, []):
            try:
                tags = resource_tags(str(summary[arn_key]), sagemaker)
            except ClientError as exc:
                if not_found(exc):  # deleted since it was listed
                    continue
                raise
            if tags.get(OWNER_TAG_KEY) == prefix:
                found.append(summary)
    return sorted(found, key=lambda summary: str(summary[name_key]))


def _scalable_targets(autoscaling: Any, resource_ids: list[str]) -> list[tuple[str, str]]:
    if not resource_ids:
        return []
    targets: list[tuple[str, str]] = []
    paginator = autoscaling.get_paginator("describe_scalable_targets")
    for page in paginator.paginate(ServiceNamespace=SAGEMAKER_NAMESPACE, ResourceIds=resource_ids):
        for target in page.get("ScalableTargets", []):
            targets.append((str(target["ResourceId"]), str(target["ScalableDimension"])))
    return targets


def plan_teardown(sagemaker: Any, autoscaling: Any, prefix: str) -> TeardownPlan:
    """What belongs to the deployment `prefix` (its owner tag), nothing else."""
    plan = TeardownPlan(prefix)
    for summary in _owned(
        sagemaker, prefix, "list_endpoints", "Endpoints", "EndpointName", "EndpointArn"
    ):
        if summary.get("EndpointStatus") == "Deleting":  # going already
            continue
        name = str(summary["EndpointName"])
        try:
            endpoint = dict(sagemaker.describe_endpoint(EndpointName=name))
        except ClientError as exc:
            if not_found(exc):
                continue
            raise
        variants = [str(v["VariantName"]) for v in endpoint.get("ProductionVariants") or []]
        resource_ids = [f"endpoint/{name}/variant/{variant}" for variant in variants]
        plan.endpoints.append(
            OwnedEndpoint(
                name,
                endpoint.get("EndpointConfigName"),
                _scalable_targets(autoscaling, resource_ids),
            )
        )
    plan.endpoint_configs = [
        str(summary["EndpointConfigName"])
        for summary in _owned(
            sagemaker,
            prefix,
            "list_endpoint_configs",
            "EndpointConfigs",
            "EndpointConfigName",
            "EndpointConfigArn",
        )
    ]
    plan.models = [
        str(summary["ModelName"])
        for summary in _owned(sagemaker, prefix, "list_models", "Models", "ModelName", "ModelArn")
    ]
    return plan


def planned_actions(plan: TeardownPlan) -> list[Action]:
    actions: list[Action] = []
    for endpoint in plan.endpoints:
        for resource_id, dimension in endpoint.scalable_targets:
            actions.append(Action("scalableTarget", resource_id, "planned", None, dimension))
        actions.append(Action("endpoint", endpoint.name, "planned"))
    actions += [Action("endpointConfig", name, "planned") for name in plan.endpoint_configs]
    actions += [Action("model", name, "planned") for name in plan.models]
    return actions


def _attempt(
    resource: str, name: str, call: Callable[[], Any], dimension: str | None = None
) -> Action:
    try:
        call()
    except ClientError as exc:
        if not_found(exc):
            return Action(resource, name, "alreadyGone", None, dimension)
        return Action(resource, name, "failed", describe_aws_error(exc), dimension)
    except BotoCoreError as exc:
        return Action(resource, name, "failed", describe_aws_error(exc) or str(exc), dimension)
    return Action(resource, name, "deleted", None, dimension)


def _models_of(sagemaker: Any, config: str) -> set[str]:
    try:
        described = _describe_config(sagemaker, config) or {}
    except (ClientError, BotoCoreError):
        return set()
    return {str(v.get("ModelName")) for v in described.get("ProductionVariants") or []}


def run_teardown(sagemaker: Any, autoscaling: Any, plan: TeardownPlan) -> list[Action]:
    """Delete what the plan lists: each endpoint after its scalable targets, then the endpoint
    configs, then the models. An endpoint that could not be deleted keeps its live endpoint
    config and that config's models, so it goes on serving as it did."""
    actions: list[Action] = []
    kept_configs: dict[str, str] = {}  # config -> the endpoint that still uses it
    for endpoint in plan.endpoints:
        deregistered = True
        for resource_id, dimension in endpoint.scalable_targets:
            action = _attempt(
                "scalableTarget",
                resource_id,
                partial(
                    autoscaling.deregister_scalable_target,
                    ServiceNamespace=SAGEMAKER_NAMESPACE,
                    ResourceId=resource_id,
                    ScalableDimension=dimension,
                ),
                dimension,
            )
            actions.append(action)
            deregistered = deregistered and action.outcome != "failed"
        if not deregistered:
            action = Action(
                "endpoint",
                endpoint.name,
                "failed",
                "not deleted: its scalable targets could not all be deregistered",
            )
        else:
            action = _attempt(
                "endpoint",
                endpoint.name,
                partial(sagemaker.delete_endpoint, EndpointName=endpoint.name),
            )
        actions.append(action)
        if action.outcome == "failed" and endpoint.config:
            kept_configs[endpoint.config] = endpoint.name
    kept_models: dict[str, str] = {}
    for config, endpoint_name in kept_configs.items():
        for model in _models_of(sagemaker, config):
            kept_models[model] = endpoint_name
    for name in plan.endpoint_configs:
        if name in kept_configs:
            reason = f"endpoint {kept_configs[name]}, which was not deleted, uses it"
            actions.append(Action("endpointConfig", name, "skipped", reason))
            continue
        actions.append(
            _attempt(
                "endpointConfig",
                name,
                partial(sagemaker.delete_endpoint_config, EndpointConfigName=name),
            )
        )
    for name in plan.models:
        if name in kept_models:
            reason = f"endpoint {kept_models[name]}, which was not deleted, serves it"
            actions.append(Action("model", name, "skipped", reason))
            continue
        actions.append(_attempt("model", name, partial(sagemaker.delete_model, ModelName=name)))
    return actions


def plan_summary(plan: TeardownPlan) -> str:
    def count(number: int, word: str) -> str:
        return f"{number} {word}{'' if number == 1 else 's'}"

    return ", ".join(
        (
            count(len(plan.endpoints), "endpoint"),
            count(len(plan.endpoint_configs), "endpoint config"),
            count(len(plan.models), "model"),
        )
    )
