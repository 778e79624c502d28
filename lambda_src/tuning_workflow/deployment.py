"""Planning, starting and watching an endpoint deployment (create or update).

The plan looks at what is live: whether the endpoint exists (only SageMaker's "Could not find
endpoint" means it does not; throttling and access errors raise), how many instances auto scaling
runs now (an update keeps that count instead of resetting it), and whether an auto scaling target
must be deregistered before the update (SageMaker rejects an instance type change on a variant
that is a scalable target), and which deployment owns the endpoint.

An endpoint records its owner in the tag OWNER_TAG_KEY (the owning deployment's name, its
Terraform `name_prefix`), set when the workflow creates it. A deployment updates only an endpoint
it owns: one owned by another deployment is refused (`EndpointOwnedByAnotherDeployment`), and one
without the tag (created by the replaced stack, or before endpoints carried it) is adopted: the
update tags it as this deployment's.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Callable

from botocore.exceptions import ClientError

from tuning_workflow import aws, naming, promotion
from tuning_workflow.events import invalid_result, optional_mapping, require_present, require_str
from tuning_workflow.exceptions import (
    ConfigurationError,
    EndpointConfigNotFoundError,
    InvalidEventError,
)
from tuning_workflow.lifecycle_tags import (
    OWNER_TAG_KEY,
    REPLACES_TAG_KEY,
    objective_from_tags,
    objective_tags,
    tags_to_dict,
)
from tuning_workflow.params import MlParameters, parse_ml_parameters
from tuning_workflow.safe_text import safe_text
from tuning_workflow.tuning import build_tags, without_nulls
from tuning_workflow.validation import validate_deployer_input, validate_ml_parameters

logger = logging.getLogger(__name__)

SERVICE_NAMESPACE = "sagemaker"
SCALABLE_DIMENSION = "sagemaker:variant:DesiredInstanceCount"
POLICY_TYPE = "TargetTrackingScaling"

ENDPOINT_STATUSES = (
    "OutOfService",
    "Creating",
    "Updating",
    "SystemUpdating",
    "RollingBack",
    "InService",
    "Deleting",
    "Failed",
    "UpdateRollbackFailed",
)
# Statuses that end on their own; the wait loop keeps checking.
WAITING_STATUSES = frozenset({"Creating", "Updating", "SystemUpdating", "RollingBack"})
# Statuses in which a new deployment cannot start.
BUSY_STATUSES = WAITING_STATUSES | {"Deleting"}

OUTCOME_IN_SERVICE = "InService"
OUTCOME_WAITING = "Waiting"
OUTCOME_FAILED = "Failed"
OUTCOME_ROLLED_BACK = "RolledBack"
OUTCOME_TIMED_OUT = "TimedOut"

OUTCOME_SUPERSEDED = "Superseded"

DECISION_DEPLOY = "deploy"
DECISION_WAIT = "wait"
DECISION_RECREATE = "recreate"
DECISION_REFUSE = "refuse"
DECISION_KEEP = "keep"
ACTION_BUSY = "busy"

OWNER_ERROR = "EndpointOwnedByAnotherDeployment"
# SageMaker resources carry at most 50 tags; one page of ListTags holds them all.
LIST_TAGS_PAGE_SIZE = 100

CONFIG_NOT_FOUND = "Could not find endpoint configuration"
START_ATTEMPTS = 5
START_FIRST_DELAY_SECONDS = 1.0

_ENDPOINT_NOT_FOUND = re.compile(r"could not find endpoint(?! configuration)", re.IGNORECASE)


def is_endpoint_not_found(error: ClientError) -> bool:
    """SageMaker's answer for a missing endpoint, and nothing else."""
    return aws.error_code(error) == "ValidationException" and bool(
        _ENDPOINT_NOT_FOUND.search(aws.error_message(error))
    )


def describe_endpoint_or_none(endpoint_name: str, sagemaker: Any) -> dict[str, Any] | None:
    """DescribeEndpoint, or None when the endpoint does not exist. Any other error raises."""
    try:
        endpoint: dict[str, Any] = sagemaker.describe_endpoint(EndpointName=endpoint_name)
        return endpoint
    except ClientError as error:
        if is_endpoint_not_found(error):
            return None
        raise


def scaling_resource_id(endpoint_name: str, variant_name: str) -> str:
    return f"endpoint/{endpoint_name}/variant/{variant_name}"


def owner_tag(deployment_name: str) -> dict[str, str]:
    return {"Key": OWNER_TAG_KEY, "Value": deployment_name}


def with_owner_tag(tags: list[dict[str, str]], deployment_name: str) -> list[dict[str, str]]:
    """The tags with the owner tag set to this deployment (a caller's tag of that key loses)."""
    others = [tag for tag in tags if tag.get("Key") != OWNER_TAG_KEY]
    return sorted([*others, owner_tag(deployment_name)], key=lambda tag: tag["Key"])


def resource_tags(arn: str, sagemaker: Any) -> dict[str, str]:
    """A SageMaker resource's tags (every page of ListTags) as a dict."""
    request = {"ResourceArn": arn, "MaxResults": LIST_TAGS_PAGE_SIZE}
    return tags_to_dict(aws.pages(sagemaker.list_tags, request, "Tags"))


def endpoint_owner(endpoint_arn: str, sagemaker: Any) -> str | None:
    """The deployment named by the endpoint's owner tag; None without one (or with an empty one)."""
    return resource_tags(endpoint_arn, sagemaker).get(OWNER_TAG_KEY) or None


# ---------------------------------------------------------------------------------------------
# plan_deployment
# ---------------------------------------------------------------------------------------------


def plan_deployment_from_event(
    event: Mapping[str, Any], *, sagemaker: Any = None, autoscaling: Any = None
) -> dict[str, Any]:
    """The plan for a deployer event; invalid input comes back as {"valid": false, ...}."""
    execution_input = require_present(event, "input")
    execution_arn = require_str(event, "executionArn")
    ml_doc = require_present(event, "mlParameters")
    deployment = optional_mapping(event, "deployment")
    deployment_name = require_str(deployment, "name", where="event.deployment")
    turn = Turn.from_event(optional_mapping(event, "turn"))
    problems = [("execution input", p) for p in validate_deployer_input(execution_input)]
    problems += [("ml-parameters", p) for p in validate_ml_parameters(ml_doc)]
    if problems:
        return invalid_result(problems)
    ml = parse_ml_parameters(ml_doc)
    run_id = execution_input.get("runId") or naming.run_id(execution_arn)  # validated: an object
    return plan_deployment(
        ml,
        model_name=execution_input.get("modelName"),
        run_id=run_id,
        tags=build_tags(
            deployment.get("tags"), run_id=run_id, artifact_type=ml.model.artifact_type
        ),
        endpoint_kms_key_id=deployment.get("endpointKmsKeyId"),
        deployment_name=deployment_name,
        turn=turn,
        request=DeploymentRequest.from_input(
            execution_input,
            execution_arn=execution_arn,
            approval_parameter_path=deployment.get("approvalParameterPath"),
            run_state_machine_arns=tuple(
                str(arn) for arn in deployment.get("runStateMachineArns") or ()
            ),
        ),
        sagemaker=sagemaker,
        autoscaling=autoscaling,
    )


@dataclass(frozen=True)
class DeploymentRequest:
    """What the execution input asks besides the model: the promotion's and the registry's
    inputs, or an existing endpoint config to deploy (a rollback)."""

    execution_arn: str = ""
    objective: Mapping[str, Any] | None = None
    force_deploy: bool = False
    endpoint_config_name: str | None = None
    tuning_job_name: str | None = None
    best_training_job_name: str | None = None
    run_execution_arn: str | None = None
    approval_parameter_path: str | None = None
    run_state_machine_arns: tuple[str, ...] = ()

    @classmethod
    def from_input(
        cls,
        execution_input: Mapping[str, Any],
        *,
        execution_arn: str,
        approval_parameter_path: str | None = None,
        run_state_machine_arns: tuple[str, ...] = (),
    ) -> DeploymentRequest:
        """From a validated execution input."""
        objective = execution_input.get("objective")
        return cls(
            execution_arn=execution_arn,
            objective=objective if isinstance(objective, Mapping) else None,
            force_deploy=execution_input.get("forceDeploy") is True,
            endpoint_config_name=execution_input.get("endpointConfigName"),
            tuning_job_name=execution_input.get("tuningJobName"),
            best_training_job_name=execution_input.get("bestTrainingJobName"),
            run_execution_arn=execution_input.get("AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID")
            or execution_arn,
            approval_parameter_path=approval_parameter_path,
            run_state_machine_arns=run_state_machine_arns,
        )


@dataclass(frozen=True)
class Turn:
    """Where a deployment stands in its wait for the endpoint, carried from plan to plan.

    The deployer plans again after every wait: while another run's deployment is under way on
    the endpoint (SageMaker refuses a second one), after the refusal of a create or update that
    lost a race, and while a Failed endpoint is being deleted. `attempt` counts the plans.
    """

    attempt: int = 0
    previous_scaling: Mapping[str, Any] | None = None
    recovered_failed_endpoint: bool = False
    # The model package version this run registered (and its approval), once it has: a plan
    # after a wait or an approval registers nothing again and does not re-judge the promotion.
    registration: Mapping[str, Any] | None = None
    promotion: Mapping[str, Any] | None = None

    @classmethod
    def from_event(cls, doc: Mapping[str, Any]) -> Turn:
        attempt = doc.get("attempt", 0)
        if isinstance(attempt, bool) or not isinstance(attempt, int) or attempt < 0:
            raise InvalidEventError(f"event.turn.attempt must be a whole number, got {attempt!r}")
        previous = doc.get("previousScaling")
        registration = doc.get("registration")
        return cls(
            attempt=attempt,
            previous_scaling=previous if isinstance(previous, Mapping) else None,
            recovered_failed_endpoint=doc.get("recoveredFailedEndpoint") is True,
            registration=registration if isinstance(registration, Mapping) else None,
            promotion=verdict if isinstance(verdict := doc.get("promotion"), Mapping) else None,
        )

    def next(
        self,
        ml: MlParameters,
        *,
        previous_scaling: Mapping[str, Any] | None = None,
        recovered_failed_endpoint: bool = False,
        promotion: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        """The turn the state machine carries to the next plan (and reports at the end)."""
        return {
            "attempt": self.attempt + 1,
            "seconds": ml.endpoint_wait_interval_seconds,
            "previousScaling": dict(previous_scaling or self.previous_scaling or {}) or None,
            "recoveredFailedEndpoint": recovered_failed_endpoint or self.recovered_failed_endpoint,
            "registration": dict(self.registration) if self.registration else None,
            "promotion": dict(promotion or self.promotion or {}) or None,
        }


def plan_deployment(
    ml: MlParameters,
    *,
    model_name: str | None,
    run_id: str,
    tags: list[dict[str, str]],
    endpoint_kms_key_id: str | None = None,
    deployment_name: str | None = None,
    turn: Turn | None = None,
    request: DeploymentRequest | None = None,
    sagemaker: Any = None,
    autoscaling: Any = None,
) -> dict[str, Any]:
    """What the deployer will do next.

    `decision` is `deploy` (create or update, with which counts and scaling steps), `wait`
    (another deployment is under way on the endpoint: wait, then plan again), `recreate` (the
    endpoint is Failed: delete it, wait, plan again) or `refuse` (the endpoint cannot take a
    deployment, belongs to another deployment, or the wait for it is over; `error` says why).

    With `deployment_name` (the workflow always passes it) the endpoint's owner tag is read
    first: an endpoint owned by another deployment is refused whatever its status, one without
    an owner is adopted (`adoptEndpoint`: the AddTags request that the start tags it with), and
    the planned tags name this deployment as the owner.
    """
    turn = turn or Turn()
    sagemaker = sagemaker or aws.client("sagemaker")
    autoscaling = autoscaling or aws.client("application-autoscaling")
    endpoint_name = ml.endpoint_name
    endpoint_config_name = naming.run_name(endpoint_name, run_id)
    hosting = ml.model.hosting
    variant_name = hosting.variant_name
    resource_id = scaling_resource_id(endpoint_name, variant_name)

    live = describe_endpoint_or_none(endpoint_name, sagemaker)
    adopt_endpoint = None
    if deployment_name is not None:
        tags = with_owner_tag(tags, deployment_name)
        if live is not None:
            endpoint_arn = str(live["EndpointArn"])
            owner = endpoint_owner(endpoint_arn, sagemaker)
            if owner is not None and owner != deployment_name:
                return _refuse_foreign_endpoint(live, run_id, owner, deployment_name)
            if owner is None:
                logger.info(
                    "endpoint %s has no %s tag: deployment %s adopts it",
                    endpoint_name,
                    OWNER_TAG_KEY,
                    deployment_name,
                )
                adopt_endpoint = {"ResourceArn": endpoint_arn, "Tags": [owner_tag(deployment_name)]}
    not_ready = _plan_when_not_ready(ml, live, run_id, turn)
    if not_ready is not None:
        return not_ready

    request = request or DeploymentRequest()
    live_config = (
        str(live["EndpointConfigName"]) if live and live.get("EndpointConfigName") else None
    )
    instance_type = hosting.instance_type
    if request.endpoint_config_name is not None:
        existing = _existing_config(
            request.endpoint_config_name, live_config, deployment_name, sagemaker
        )
        if "error" in existing:
            return {
                "valid": True,
                "decision": DECISION_REFUSE,
                "runId": run_id,
                "endpointName": endpoint_name,
                **existing,
            }
        endpoint_config_name = request.endpoint_config_name
        instance_type = existing["instanceType"]
        verdict: dict[str, Any] = {
            "policy": ml.promotion.policy,
            "decision": promotion.DEPLOY,
            "reason": f"rollback: deploys the existing endpoint config {endpoint_config_name}",
            "forced": True,
            "newObjective": existing["objective"],
            "liveObjective": None,
        }
    elif turn.promotion is not None:
        verdict = dict(turn.promotion)  # judged before this run registered its model
    else:
        verdict = _judge_promotion(ml, request, live_config, sagemaker)
    registry = _registry_plan(
        ml, request, verdict, turn, model_name, run_id, endpoint_config_name, tags
    )
    lifecycle = {
        "promotion": verdict,
        "registry": registry,
        "retention": _retention_plan(ml, deployment_name, request.run_state_machine_arns),
        "retentionResult": None,
        "createEndpointConfig": request.endpoint_config_name is None,
        "liveEndpointArn": live.get("EndpointArn") if live else None,
        "liveEndpointStatus": live.get("EndpointStatus") if live else None,
        "scaling": _scaling_plan(ml, endpoint_name, resource_id),
    }
    if verdict["decision"] == promotion.KEEP:
        assert live is not None  # only a live model is kept
        logger.info("plan for %s: keep the live model (%s)", endpoint_name, verdict["reason"])
        return {
            "valid": True,
            "decision": DECISION_KEEP,
            "runId": run_id,
            "endpointName": endpoint_name,
            "endpointConfigName": live_config,
            "previousEndpointConfigName": live_config,
            "turn": turn.next(ml, promotion=verdict),
            **lifecycle,
        }
    if request.endpoint_config_name is None:
        tags = sorted(
            [*tags, *_lineage_tags(live_config, request.objective)], key=lambda tag: tag["Key"]
        )

    instance_count = hosting.initial_instance_count
    deregister_first = False
    previous_scaling: dict[str, Any] | None = None
    if live is not None:
        live_variant = _live_variant(live, variant_name)
        if live_variant is not None and ml.autoscaling is not None:
            current = live_variant.get("CurrentInstanceCount") or live_variant.get(
                "DesiredInstanceCount"
            )
            if current:
                instance_count = min(
                    max(int(current), ml.autoscaling.min_capacity), ml.autoscaling.max_capacity
                )
        target = _registered_target(resource_id, autoscaling)
        if target is None and turn.previous_scaling is not None:
            # An earlier turn of this run deregistered it; a failure must still restore it.
            previous_scaling = dict(turn.previous_scaling)
        if target is not None:
            live_type = _live_instance_type(live.get("EndpointConfigName"), variant_name, sagemaker)
            type_changes = live_type != instance_type  # unknown (None) counts as a change
            if type_changes or ml.autoscaling is None:
                deregister_first = True
                previous_scaling = without_nulls(
                    {
                        "ServiceNamespace": target["ServiceNamespace"],
                        "ResourceId": target["ResourceId"],
                        "ScalableDimension": target["ScalableDimension"],
                        "MinCapacity": target.get("MinCapacity"),
                        "MaxCapacity": target.get("MaxCapacity"),
                        "SuspendedState": target.get("SuspendedState"),
                    }
                )

    production_variants = [
        {
            "VariantName": variant_name,
            "ModelName": model_name,
            "InitialInstanceCount": instance_count,
            "InstanceType": hosting.instance_type,
            "InitialVariantWeight": 1.0,
        }
    ]
    if request.endpoint_config_name is not None:
        production_variants = []  # the existing config's own
    endpoint_config = without_nulls(
        {
            "EndpointConfigName": endpoint_config_name,
            "ProductionVariants": production_variants,
            "Tags": tags,
            "KmsKeyId": endpoint_kms_key_id or None,
        }
    )
    plan = {
        "valid": True,
        "decision": DECISION_DEPLOY,
        "runId": run_id,
        "endpointName": endpoint_name,
        "endpointConfigName": endpoint_config_name,
        "endpointExists": live is not None,
        "previousEndpointConfigName": live.get("EndpointConfigName") if live else None,
        "restoreScalingOnFailure": previous_scaling is not None,
        "turn": turn.next(
            ml,
            previous_scaling=previous_scaling if deregister_first else None,
            promotion=verdict,
        ),
        "sageMakerRetry": {"attempt": 0, "call": "CreateEndpointConfig"},
        "productionVariants": production_variants,
        "endpointConfig": endpoint_config,
        "deregisterScalingFirst": deregister_first,
        "previousScaling": previous_scaling,
        "tags": tags,
        "adoptEndpoint": adopt_endpoint,
        "deploymentConfig": hosting.deployment_config,
        "wait": {
            "attempt": 0,
            "maxAttempts": ml.endpoint_wait_max_attempts,
            "seconds": ml.endpoint_wait_interval_seconds,
        },
        **lifecycle,
    }
    logger.info(
        "plan for %s: %s with %s, %d instance(s), deregister scaling first: %s",
        endpoint_name,
        "update" if live is not None else "create",
        endpoint_config_name,
        instance_count,
        deregister_first,
    )
    return plan


def _refuse_foreign_endpoint(
    live: Mapping[str, Any], run_id: str, owner: str, deployment_name: str
) -> dict[str, Any]:
    """The plan for an endpoint that another deployment owns: refused, whatever its status."""
    endpoint_name = str(live.get("EndpointName", ""))
    owner_text = safe_text(owner, 256)
    logger.info("endpoint %s belongs to deployment %s: refused", endpoint_name, owner_text)
    return {
        "valid": True,
        "decision": DECISION_REFUSE,
        "runId": run_id,
        "endpointName": endpoint_name,
        "endpointStatus": str(live.get("EndpointStatus", "")),
        "owner": owner_text,
        "error": {
            "Error": OWNER_ERROR,
            "Cause": f"endpoint {endpoint_name} belongs to the deployment {owner_text!r} (tag "
            f"{OWNER_TAG_KEY}), not to this deployment {deployment_name!r}, which updates only "
            "endpoints it owns. Give this deployment's ml-parameters.json an endpointName of its "
            f"own and apply; or, if {owner_text!r} no longer uses the endpoint, remove the tag "
            f"(aws sagemaker delete-tags --tag-keys {OWNER_TAG_KEY}) so that the next run adopts "
            "it",
        },
    }


# ---------------------------------------------------------------------------------------------
# The lifecycle: promotion, registration, retention, and deploying an existing config
# ---------------------------------------------------------------------------------------------

APPROVAL_APPROVED = "Approved"
APPROVAL_PENDING = "PendingManualApproval"
APPROVAL_REJECTED = "Rejected"
REGISTRY_NONE = "none"
REGISTRY_REGISTER = "register"
REGISTRY_AWAIT_APPROVAL = "awaitApproval"
# Beyond the longest a run may still need its model or config (the approval wait and two
# endpoint waits), an hour's margin: retention spares younger resources created after the live
# config.
RETENTION_MARGIN_SECONDS = 3600


@dataclass(frozen=True)
class ConfigRecord:
    """What an endpoint config records: its tags and its variants' instance types."""

    tags: Mapping[str, str]
    instance_types: tuple[str, ...]


def describe_endpoint_config_or_none(config_name: str, sagemaker: Any) -> dict[str, Any] | None:
    """DescribeEndpointConfig, or None when the config does not exist. Any other error raises."""
    try:
        config: dict[str, Any] = sagemaker.describe_endpoint_config(EndpointConfigName=config_name)
        return config
    except ClientError as error:
        if aws.is_validation_error(error, CONFIG_NOT_FOUND):
            return None
        raise


def read_config(config_name: str, sagemaker: Any) -> ConfigRecord | None:
    """An endpoint config's tags and instance types; None when the config does not exist."""
    config = describe_endpoint_config_or_none(config_name, sagemaker)
    if config is None:
        return None
    tags = resource_tags(str(config["EndpointConfigArn"]), sagemaker)
    instance_types = tuple(
        str(variant["InstanceType"])
        for variant in config.get("ProductionVariants") or []
        if variant.get("InstanceType")
    )
    return ConfigRecord(tags=tags, instance_types=instance_types)


def _existing_config(
    config_name: str, live_config: str | None, deployment_name: str | None, sagemaker: Any
) -> dict[str, Any]:
    """The endpoint config a rollback deploys ({"instanceType", "objective"}), or a refusal
    ({"error": ...}) when it is missing, another deployment's, or live already."""

    def refuse(error: str, cause: str) -> dict[str, Any]:
        return {"error": {"Error": error, "Cause": cause}}

    if config_name == live_config:
        return refuse(
            "EndpointConfigAlreadyLive",
            f"endpoint config {config_name} is the one the endpoint serves already",
        )
    record = read_config(config_name, sagemaker)
    if record is None:
        return refuse(
            "EndpointConfigNotFound",
            f"endpoint config {config_name} does not exist (retention may have deleted it; "
            "list this deployment's configs with: aws sagemaker list-endpoint-configs)",
        )
    owner = record.tags.get(OWNER_TAG_KEY)
    if deployment_name is not None and owner != deployment_name:
        return refuse(
            "EndpointConfigOwnedByAnotherDeployment",
            f"endpoint config {config_name} is not this deployment's ({deployment_name!r}): its "
            f"tag {OWNER_TAG_KEY} is {safe_text(owner or '(absent)', 256)!r}; a deployment "
            "deploys only configs it created",
        )
    return {
        "instanceType": record.instance_types[0] if record.instance_types else None,
        "objective": objective_from_tags(record.tags),
    }


def _judge_promotion(
    ml: MlParameters, request: DeploymentRequest, live_config: str | None, sagemaker: Any
) -> dict[str, Any]:
    live_objective = None
    if ml.promotion.policy == "ifBetter" and not request.force_deploy and live_config:
        record = read_config(live_config, sagemaker)
        live_objective = objective_from_tags(record.tags) if record else None
    verdict = promotion.decide(
        ml.promotion,
        request.objective,
        live_objective,
        live_config=live_config,
        force=request.force_deploy,
    )
    return verdict.to_dict(ml.promotion.policy, request.objective, live_objective)


def _lineage_tags(
    live_config: str | None, objective: Mapping[str, Any] | None
) -> list[dict[str, str]]:
    """What a new endpoint config records: the config it replaces (the rollback target) and the
    objective of the model it serves (the yardstick of the next ifBetter run)."""
    lineage = [{"Key": REPLACES_TAG_KEY, "Value": live_config}] if live_config else []
    return lineage + objective_tags(objective)


def _registry_plan(
    ml: MlParameters,
    request: DeploymentRequest,
    verdict: Mapping[str, Any],
    turn: Turn,
    model_name: str | None,
    run_id: str,
    endpoint_config_name: str,
    tags: list[dict[str, str]],
) -> dict[str, Any]:
    """Whether and how this run registers its model: `action` none, register (Approved, or
    Rejected when the promotion kept the live model) or awaitApproval (manual approval)."""
    registry = ml.model_registry
    if registry is None or request.endpoint_config_name is not None or turn.registration:
        return {"action": REGISTRY_NONE}
    if verdict["decision"] == promotion.KEEP:
        status, description = APPROVAL_REJECTED, f"Not deployed: {verdict['reason']}"
    elif registry.approval == "manual":
        status, description = APPROVAL_PENDING, "Awaiting manual approval to deploy."
    else:
        status, description = APPROVAL_APPROVED, f"Approved automatically: {verdict['reason']}"
    registration: dict[str, Any] = {
        "modelName": model_name,
        "modelPackageGroupName": registry.group_name,
        "approvalStatus": status,
        "approvalDescription": safe_text(description, 1000),
        "objective": dict(request.objective) if request.objective else None,
        "tuningJobName": request.tuning_job_name,
        "bestTrainingJobName": request.best_training_job_name,
        "runExecutionArn": request.run_execution_arn or request.execution_arn,
        "deployerExecutionArn": request.execution_arn,
        "runId": run_id,
        "endpointConfigName": endpoint_config_name,
        "tags": [tag for tag in tags if not tag["Key"].startswith("aws:")],
    }
    action = REGISTRY_REGISTER
    if status == APPROVAL_PENDING:
        if not request.approval_parameter_path:
            raise ConfigurationError(
                "manual approval needs deployment.approvalParameterPath (the Parameter Store "
                "path where a waiting run's task token is kept)"
            )
        execution_name = request.execution_arn.rsplit(":", 1)[-1]
        registration["tokenParameterName"] = (
            f"{request.approval_parameter_path.rstrip('/')}/{execution_name}"
        )
        action = REGISTRY_AWAIT_APPROVAL
    return {
        "action": action,
        "timeoutSeconds": registry.approval_timeout_seconds,
        "request": registration,
    }


def _retention_plan(
    ml: MlParameters, deployment_name: str | None, run_state_machine_arns: tuple[str, ...]
) -> dict[str, Any]:
    approval_wait = (
        ml.model_registry.approval_timeout_seconds
        if ml.model_registry and ml.model_registry.approval == "manual"
        else 0
    )
    return {
        "endpointName": ml.endpoint_name,
        "deploymentName": deployment_name,
        "keepModels": ml.keep_models,
        "modelBaseName": ml.model.name,
        "protectSeconds": approval_wait
        + 2 * ml.endpoint_wait_timeout_seconds
        + RETENTION_MARGIN_SECONDS,
        # Runs under way on these keep their models and configs, however many there are.
        "stateMachineArns": list(run_state_machine_arns),
    }


def _plan_when_not_ready(
    ml: MlParameters, live: Mapping[str, Any] | None, run_id: str, turn: Turn
) -> dict[str, Any] | None:
    """The plan while the endpoint cannot take this run's deployment; None when it can."""
    if live is None:
        return None
    status = str(live.get("EndpointStatus", ""))
    endpoint_name = ml.endpoint_name
    base = {"valid": True, "runId": run_id, "endpointName": endpoint_name, "endpointStatus": status}
    if status in BUSY_STATUSES:
        checks = turn.attempt + 1
        if checks >= ml.endpoint_wait_max_attempts:
            return {
                **base,
                "decision": DECISION_REFUSE,
                "error": {
                    "Error": "EndpointBusy",
                    "Cause": f"endpoint {endpoint_name} was still {status} after {checks} checks: "
                    "another deployment held it for the whole wait (endpointWaitTimeoutSeconds); "
                    "run the workflow again once it is InService",
                },
            }
        logger.info(
            "endpoint %s is %s: waiting for its turn (check %d)", endpoint_name, status, checks
        )
        return {
            **base,
            "decision": DECISION_WAIT,
            "message": f"endpoint {endpoint_name} is {status}: another deployment is under way; "
            f"this run waits for its turn (check {checks} of {ml.endpoint_wait_max_attempts})",
            "turn": turn.next(ml),
        }
    if status == "Failed":
        reason = live.get("FailureReason") or "SageMaker gave no reason"
        logger.info(
            "endpoint %s is Failed (%s): it is deleted and created anew", endpoint_name, reason
        )
        return {
            **base,
            "decision": DECISION_RECREATE,
            "message": f"endpoint {endpoint_name} is Failed ({reason}); it is deleted and created "
            "anew",
            "turn": turn.next(ml, recovered_failed_endpoint=True),
        }
    if status in ("OutOfService", "UpdateRollbackFailed"):
        return {
            **base,
            "decision": DECISION_REFUSE,
            "error": {
                "Error": "EndpointNeedsAttention",
                "Cause": f"endpoint {endpoint_name} is {status}; SageMaker accepts no deployment "
                "on it. Look at it in the SageMaker console, delete it if it is not needed, then "
                "run the workflow again",
            },
        }
    return None


def delete_failed_endpoint(plan: Mapping[str, Any], *, sagemaker: Any = None) -> dict[str, Any]:
    """Delete the endpoint that the plan found Failed, so the next plan creates it anew.

    Only a Failed endpoint is deleted: one that changed since the plan is left alone and the
    next plan decides again.
    """
    sagemaker = sagemaker or aws.client("sagemaker")
    endpoint_name = require_str(plan, "endpointName", where="plan")
    endpoint = describe_endpoint_or_none(endpoint_name, sagemaker)
    if endpoint is None or endpoint.get("EndpointStatus") != "Failed":
        status = endpoint.get("EndpointStatus") if endpoint else "gone"
        logger.info("endpoint %s is %s now: not deleted", endpoint_name, status)
        return {"action": "none", "endpointArn": endpoint.get("EndpointArn") if endpoint else None}
    try:
        sagemaker.delete_endpoint(EndpointName=endpoint_name)
    except ClientError as error:
        if is_endpoint_not_found(error):
            return {"action": "none", "endpointArn": None}
        raise
    logger.info("deleting failed endpoint %s", endpoint_name)
    return {"action": "delete", "endpointArn": endpoint.get("EndpointArn")}


def _live_variant(endpoint: Mapping[str, Any], variant_name: str) -> Mapping[str, Any] | None:
    variant: Mapping[str, Any]
    for variant in endpoint.get("ProductionVariants") or []:
        if variant.get("VariantName") == variant_name:
            return variant
    return None


def _registered_target(resource_id: str, autoscaling: Any) -> dict[str, Any] | None:
    response = autoscaling.describe_scalable_targets(
        ServiceNamespace=SERVICE_NAMESPACE,
        ResourceIds=[resource_id],
        ScalableDimension=SCALABLE_DIMENSION,
    )
    target: dict[str, Any]
    for target in response.get("ScalableTargets", []):
        if target.get("ResourceId") == resource_id:
            return target
    return None


def _live_instance_type(config_name: str | None, variant_name: str, sagemaker: Any) -> str | None:
    """The variant's instance type in the live config; None if the config is gone."""
    config = describe_endpoint_config_or_none(config_name, sagemaker) if config_name else None
    if config is None:
        return None
    for variant in config.get("ProductionVariants") or []:
        if variant.get("VariantName") == variant_name:
            instance_type: str | None = variant.get("InstanceType")
            return instance_type
    return None


def _scaling_plan(ml: MlParameters, endpoint_name: str, resource_id: str) -> dict[str, Any]:
    if ml.autoscaling is None:
        return {"enabled": False, "scalableTarget": None, "policy": None}
    target = {
        "ServiceNamespace": SERVICE_NAMESPACE,
        "ResourceId": resource_id,
        "ScalableDimension": SCALABLE_DIMENSION,
        "MinCapacity": ml.autoscaling.min_capacity,
        "MaxCapacity": ml.autoscaling.max_capacity,
    }
    policy = {
        "PolicyName": f"{endpoint_name}-target-tracking",
        "PolicyType": POLICY_TYPE,
        "ServiceNamespace": SERVICE_NAMESPACE,
        "ResourceId": resource_id,
        "ScalableDimension": SCALABLE_DIMENSION,
        "TargetTrackingScalingPolicyConfiguration": dict(ml.autoscaling.target_tracking),
    }
    return {"enabled": True, "scalableTarget": target, "policy": policy}


# ---------------------------------------------------------------------------------------------
# start_endpoint_deployment
# ---------------------------------------------------------------------------------------------


def start_endpoint_deployment(
    plan: Mapping[str, Any],
    *,
    sagemaker: Any = None,
    sleep: Callable[[float], None] = time.sleep,
    attempts: int = START_ATTEMPTS,
    first_delay: float = START_FIRST_DELAY_SECONDS,
) -> dict[str, Any]:
    """CreateEndpoint or UpdateEndpoint, retrying the config's eventual consistency a bit."""
    sagemaker = sagemaker or aws.client("sagemaker")
    endpoint_name = require_str(plan, "endpointName", where="plan")
    config_name = require_str(plan, "endpointConfigName", where="plan")
    if plan.get("endpointExists"):
        action = "update"
        _adopt_endpoint(plan, endpoint_name, sagemaker)
        request = without_nulls(
            {
                "EndpointName": endpoint_name,
                "EndpointConfigName": config_name,
                "DeploymentConfig": plan.get("deploymentConfig") or None,
            }
        )
        call = sagemaker.update_endpoint
    else:
        action = "create"
        request = {
            "EndpointName": endpoint_name,
            "EndpointConfigName": config_name,
            "Tags": list(plan.get("tags") or []),
        }
        call = sagemaker.create_endpoint

    delay = first_delay
    for attempt in range(1, attempts + 1):
        try:
            response = call(**request)
        except ClientError as error:
            if aws.is_validation_error(error, CONFIG_NOT_FOUND):
                if attempt == attempts:
                    raise EndpointConfigNotFoundError(
                        f"endpoint config {config_name} was still not found after {attempts} "
                        f"attempts to {action} endpoint {endpoint_name}"
                    ) from error
                logger.info(
                    "endpoint config %s not visible yet; retry in %.0f s", config_name, delay
                )
                sleep(delay)
                delay *= 2
                continue
            outcome = _refusal_outcome(error, action, endpoint_name, config_name, sagemaker)
            if outcome is None:
                raise
            return outcome
        logger.info("%s of endpoint %s with %s started", action, endpoint_name, config_name)
        return {"action": action, "endpointArn": response["EndpointArn"], "message": ""}
    raise AssertionError("unreachable: the loop returns or raises")  # pragma: no cover


def _adopt_endpoint(plan: Mapping[str, Any], endpoint_name: str, sagemaker: Any) -> None:
    """Tag an endpoint without an owner as this deployment's before updating it (AddTags
    overwrites a key, so a repeated call is harmless)."""
    adopt = plan.get("adoptEndpoint")
    if adopt is None:
        return
    if not isinstance(adopt, Mapping):
        raise InvalidEventError(f"plan.adoptEndpoint must be a JSON object, got {adopt!r}")
    arn = require_str(adopt, "ResourceArn", where="plan.adoptEndpoint")
    tags = adopt.get("Tags")
    if not isinstance(tags, list) or not tags:
        raise InvalidEventError(f"plan.adoptEndpoint.Tags must be a list of tags, got {tags!r}")
    sagemaker.add_tags(ResourceArn=arn, Tags=tags)
    logger.info("endpoint %s adopted: tagged %s", endpoint_name, tags)


def _refusal_outcome(
    error: ClientError, action: str, endpoint_name: str, config_name: str, sagemaker: Any
) -> dict[str, Any] | None:
    """What a refused CreateEndpoint/UpdateEndpoint means, or None to let the error stand.

    A retried call may find its own deployment under way: that is a start. Another run's
    deployment (the endpoint now exists, or is in progress) makes this run wait for its turn,
    since SageMaker takes one deployment at a time on an endpoint.
    """
    if aws.error_code(error) != "ValidationException":
        return None
    endpoint = describe_endpoint_or_none(endpoint_name, sagemaker)
    if endpoint is None:
        return None
    arn = str(endpoint["EndpointArn"])
    pending = (endpoint.get("PendingDeploymentSummary") or {}).get("EndpointConfigName")
    if config_name in (endpoint.get("EndpointConfigName"), pending):
        return {"action": action, "endpointArn": arn, "message": ""}
    status = str(endpoint.get("EndpointStatus", ""))
    in_progress = "in-progress" in aws.error_message(error).lower()
    if action == "create" or in_progress or status in BUSY_STATUSES:
        message = (
            f"endpoint {endpoint_name} is {status} with {endpoint.get('EndpointConfigName')}: "
            f"another deployment got there first ({aws.error_message(error)}); this run waits "
            "for its turn"
        )
        logger.info(message)
        return {"action": ACTION_BUSY, "endpointArn": arn, "message": message}
    return None


# ---------------------------------------------------------------------------------------------
# check_endpoint
# ---------------------------------------------------------------------------------------------


def check_endpoint(
    endpoint_name: str,
    expected_endpoint_config_name: str,
    attempt: int,
    max_attempts: int,
    *,
    previous_endpoint_config_name: str | None = None,
    sagemaker: Any = None,
) -> dict[str, Any]:
    """One pass of the wait loop: the endpoint's status and what it means for the workflow.

    The endpoint serving a config that is neither this run's nor the one this run replaced
    means a later run deployed after this one: SageMaker takes one deployment at a time, so this
    run's deployment had ended first (`Superseded`, not a rollback).
    """
    sagemaker = sagemaker or aws.client("sagemaker")
    checks = attempt + 1
    endpoint = describe_endpoint_or_none(endpoint_name, sagemaker)
    if endpoint is None:
        return _check_result(
            "NotFound",
            checks,
            OUTCOME_FAILED,
            f"endpoint {endpoint_name} does not exist; it was deleted during the deployment",
        )
    status = str(endpoint.get("EndpointStatus", ""))
    reason = endpoint.get("FailureReason")
    live_config = endpoint.get("EndpointConfigName")

    superseded = _check_result(
        status,
        checks,
        OUTCOME_SUPERSEDED,
        f"endpoint {endpoint_name} serves {live_config}, deployed by a later run after this "
        f"run's {expected_endpoint_config_name}",
    )
    pending = (endpoint.get("PendingDeploymentSummary") or {}).get("EndpointConfigName")
    other_configs = {live_config, pending} - {
        None,
        expected_endpoint_config_name,
        previous_endpoint_config_name,
    }
    if other_configs:
        return superseded
    if status == "InService":
        if live_config == expected_endpoint_config_name:
            return _check_result(
                status,
                checks,
                OUTCOME_IN_SERVICE,
                f"endpoint {endpoint_name} is InService with {live_config}",
            )
        if attempt == 0:
            # The first check comes right after Create/UpdateEndpoint: give the update one
            # interval to show before reading the old config as a rollback.
            return _check_result(
                status,
                checks,
                OUTCOME_WAITING,
                f"endpoint {endpoint_name} still serves {live_config}; the update to "
                f"{expected_endpoint_config_name} is not visible yet",
            )
        return _check_result(
            status,
            checks,
            OUTCOME_ROLLED_BACK,
            f"endpoint {endpoint_name} is InService on {live_config}, not "
            f"{expected_endpoint_config_name}: SageMaker rolled the update back"
            + (f" ({reason})" if reason else ""),
        )
    if status in WAITING_STATUSES:
        if checks >= max_attempts:
            return _check_result(
                status,
                checks,
                OUTCOME_TIMED_OUT,
                f"endpoint {endpoint_name} is still {status} after {checks} checks; the wait "
                "limit (endpointWaitTimeoutSeconds) is reached",
            )
        return _check_result(
            status, checks, OUTCOME_WAITING, f"endpoint {endpoint_name} is {status}"
        )
    return _check_result(
        status, checks, OUTCOME_FAILED, _failure_message(endpoint_name, status, reason)
    )


def _failure_message(endpoint_name: str, status: str, reason: str | None) -> str:
    because = f": {reason}" if reason else ""
    if status == "Failed":
        return f"endpoint {endpoint_name} failed{because or ': SageMaker gave no reason'}"
    if status == "UpdateRollbackFailed":
        return (
            f"the update of endpoint {endpoint_name} failed and so did its rollback{because}; "
            "the endpoint needs attention"
        )
    if status == "OutOfService":
        return f"endpoint {endpoint_name} is OutOfService{because}"
    if status == "Deleting":
        return f"endpoint {endpoint_name} is being deleted"
    return f"endpoint {endpoint_name} has the unknown status {status!r}{because}"


def _check_result(status: str, attempt: int, outcome: str, message: str) -> dict[str, Any]:
    return {"status": status, "attempt": attempt, "outcome": outcome, "message": message}
