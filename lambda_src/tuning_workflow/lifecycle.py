"""A deployment's models across runs: registry versions, the approval callback, and retention.

`register_model` records a run's model as a version of a SageMaker model package group, with
the run's objective, tuning and training jobs, executions and tuned hyperparameters in its
CustomerMetadataProperties. When the deployer waits for a person's approval, the task token is
stored in Parameter Store first (so the approval can never arrive before it) and the version
names the parameter; `approval_callback` receives SageMaker's "Model Package State Change"
event, answers the waiting task with the decision and deletes the parameter.

`apply_retention` deletes the endpoint configs and models that a deployment no longer needs:
only its own (owner tag), only run-named ones (`<base>-<runId>`), never the live config, the
config it replaced (the rollback target), a model a kept config uses, or what a run still under
way may need.
"""

from __future__ import annotations

import json
import logging
import re
import unicodedata
from collections.abc import Collection, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Callable

from botocore.exceptions import ClientError

from tuning_workflow import aws, naming
from tuning_workflow.deployment import (
    describe_endpoint_config_or_none,
    describe_endpoint_or_none,
    resource_tags,
)
from tuning_workflow.events import require, require_int, require_str
from tuning_workflow.exceptions import InvalidEventError
from tuning_workflow.lifecycle_tags import OWNER_TAG_KEY, REPLACES_TAG_KEY
from tuning_workflow.safe_text import safe_text
from tuning_workflow.tuning import without_nulls

logger = logging.getLogger(__name__)

APPROVED = "Approved"
REJECTED = "Rejected"
PENDING = "PendingManualApproval"
APPROVAL_STATUSES = (APPROVED, PENDING, REJECTED)

# CustomerMetadataProperties: at most 50 entries; keys 1-128 characters, values 1-256, both of
# letters, digits, spaces and _.:/=+-@ only
# (https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_CreateModelPackage.html).
METADATA_MAX_ENTRIES = 50
METADATA_KEY_LIMIT = 128
METADATA_VALUE_LIMIT = 256
_METADATA_UNSAFE = re.compile(r"[^\w .:/=+\-@]", re.ASCII)
# ModelPackageDescription: at most 1,024 printable characters (same page).
DESCRIPTION_LIMIT = 1024

META_OBJECTIVE_METRIC = "objectiveMetric"
META_OBJECTIVE_TYPE = "objectiveType"
META_OBJECTIVE_VALUE = "objectiveValue"
META_TUNING_JOB = "tuningJobName"
META_TRAINING_JOB = "trainingJobName"
META_RUN_EXECUTION = "runExecutionArn"
META_DEPLOYER_EXECUTION = "deployerExecutionArn"
META_RUN_ID = "runId"
META_MODEL_NAME = "modelName"
META_TOKEN_PARAMETER = "taskTokenParameter"
META_HYPERPARAMETER_PREFIX = "hyperparameter:"
META_HYPERPARAMETERS_OMITTED = "hyperparametersOmitted"

# Hyperparameters SageMaker and its SDK add to a training job: `_tuning_objective_metric` (and
# any other "_" key) from automatic model tuning, `sagemaker_*` from the SDK's framework
# estimators. They are not the model's hyperparameters.
_INTERNAL_HYPERPARAMETER = re.compile(r"^(_|sagemaker_)")

LIST_PAGE_SIZE = 100

# Step Functions' answers to SendTaskSuccess for a token nobody waits on any more.
STALE_TOKEN_ERRORS = frozenset({"TaskTimedOut", "InvalidToken", "TaskDoesNotExist"})
PARAMETER_NOT_FOUND = "ParameterNotFound"

_CONFIG_NOT_FOUND = re.compile(r"could not find endpoint configuration", re.IGNORECASE)
_MODEL_NOT_FOUND = re.compile(r"could not find model", re.IGNORECASE)
_RESOURCE_NOT_FOUND = re.compile(r"could not find", re.IGNORECASE)


# ---------------------------------------------------------------------------------------------
# register_model
# ---------------------------------------------------------------------------------------------


def register_model_from_event(
    event: Mapping[str, Any], *, sagemaker: Any = None, ssm: Any = None
) -> dict[str, Any]:
    """register_model for the deployer's event; InvalidEventError names a wrong field.

    The fields may also come nested as {"request": {...}, "taskToken": ...}: the deployer passes
    its planned registration as `request` and adds the task token of a waiting task beside it.
    """
    event = _flattened(event)
    approval_status = require_str(event, "approvalStatus")
    if approval_status not in APPROVAL_STATUSES:
        raise InvalidEventError(
            f"event.approvalStatus must be one of {', '.join(APPROVAL_STATUSES)}, "
            f"got {approval_status!r}"
        )
    task_token = _optional_str(event, "taskToken")
    token_parameter_name = _optional_str(event, "tokenParameterName")
    if task_token is not None and token_parameter_name is None:
        raise InvalidEventError(
            "event lacks the field 'tokenParameterName', needed to store event.taskToken"
        )
    objective = event.get("objective")
    if objective is not None and not isinstance(objective, Mapping):
        raise InvalidEventError(
            f"event.objective must be a JSON object or null, got {type(objective).__name__}"
        )
    return register_model(
        model_name=require_str(event, "modelName"),
        model_package_group_name=require_str(event, "modelPackageGroupName"),
        approval_status=approval_status,
        approval_description=_optional_str(event, "approvalDescription"),
        objective=objective,
        tuning_job_name=_optional_str(event, "tuningJobName"),
        best_training_job_name=_optional_str(event, "bestTrainingJobName"),
        run_execution_arn=_optional_str(event, "runExecutionArn"),
        deployer_execution_arn=require_str(event, "deployerExecutionArn"),
        run_id=require_str(event, "runId"),
        tags=_event_tags(event),
        task_token=task_token,
        token_parameter_name=token_parameter_name,
        supported_content_types=_optional_str_list(event, "supportedContentTypes"),
        supported_response_mime_types=_optional_str_list(event, "supportedResponseMimeTypes"),
        sagemaker=sagemaker,
        ssm=ssm,
    )


def register_model(
    *,
    model_name: str,
    model_package_group_name: str,
    approval_status: str,
    deployer_execution_arn: str,
    run_id: str,
    approval_description: str | None = None,
    objective: Mapping[str, Any] | None = None,
    tuning_job_name: str | None = None,
    best_training_job_name: str | None = None,
    run_execution_arn: str | None = None,
    tags: list[dict[str, str]] | None = None,
    task_token: str | None = None,
    token_parameter_name: str | None = None,
    supported_content_types: list[str] | None = None,
    supported_response_mime_types: list[str] | None = None,
    sagemaker: Any = None,
    ssm: Any = None,
) -> dict[str, Any]:
    """Register the run's model as a new version of the model package group.

    The version's containers are the model's (DescribeModel: image and model data); its
    CustomerMetadataProperties record the objective (`objectiveMetric`, `objectiveType`,
    `objectiveValue`), `tuningJobName`, `trainingJobName`, `runExecutionArn`,
    `deployerExecutionArn`, `runId`, `modelName`, with a task token `taskTokenParameter`, and
    the best training job's hyperparameters (without SageMaker's `_tuning_objective_metric`, other
    "_" keys and the SDK's `sagemaker_*` keys) one entry per hyperparameter,
    `hyperparameter:<name>`.

    SageMaker accepts metadata keys of at most 128 and values of at most 256 characters, each of
    letters, digits, spaces and _.:/=+-@ only, and at most 50 entries: every other character
    becomes "_", a longer value is cut at 256 characters and a longer key at 128 (JSON, with its
    braces and quotes, is refused, so hyperparameters are never stored as one JSON document). When
    more hyperparameters than entries remain, the first ones by name are stored and
    `hyperparametersOmitted` lists the names of the rest (cut at 256 characters).

    With `task_token`, the token is written to the parameter `token_parameter_name` before the
    version exists, so the approval callback always finds it.

    A retry is idempotent: a version of the group whose `deployerExecutionArn` is this one is
    reused, not created again. Returns {"modelPackageArn", "approvalStatus", "version",
    "reused"}.
    """
    sagemaker = sagemaker or aws.client("sagemaker")
    if task_token is not None:
        if not token_parameter_name:
            raise InvalidEventError("a task token needs a tokenParameterName to be stored under")
        ssm = ssm or aws.client("ssm")
        ssm.put_parameter(
            Name=token_parameter_name, Value=task_token, Type="String", Overwrite=True
        )
        logger.info("task token stored in the parameter %s", token_parameter_name)

    model = sagemaker.describe_model(ModelName=model_name)
    hyperparameters: dict[str, str] = {}
    if best_training_job_name:
        training_job = sagemaker.describe_training_job(TrainingJobName=best_training_job_name)
        hyperparameters = tuned_hyperparameters(training_job.get("HyperParameters"))

    metadata = build_customer_metadata(
        objective=objective,
        tuning_job_name=tuning_job_name,
        training_job_name=best_training_job_name,
        run_execution_arn=run_execution_arn,
        deployer_execution_arn=deployer_execution_arn,
        run_id=run_id,
        model_name=model_name,
        token_parameter_name=token_parameter_name if task_token is not None else None,
        hyperparameters=hyperparameters,
    )

    existing = _find_version(model_package_group_name, deployer_execution_arn, sagemaker)
    if existing is not None:
        return _reuse_version(existing, metadata, sagemaker)

    inference_specification = without_nulls(
        {
            "Containers": model_containers(model),
            "SupportedContentTypes": supported_content_types,
            "SupportedResponseMIMETypes": supported_response_mime_types,
        }
    )
    request = without_nulls(
        {
            "ModelPackageGroupName": model_package_group_name,
            "ModelPackageDescription": package_description(
                run_id=run_id,
                deployer_execution_arn=deployer_execution_arn,
                tuning_job_name=tuning_job_name,
                training_job_name=best_training_job_name,
                approval_description=approval_description,
            ),
            "InferenceSpecification": inference_specification,
            "ModelApprovalStatus": approval_status,
            "CustomerMetadataProperties": metadata,
            "Tags": list(tags) if tags else None,
        }
    )
    arn = str(sagemaker.create_model_package(**request)["ModelPackageArn"])
    package = sagemaker.describe_model_package(ModelPackageName=arn)
    version = package.get("ModelPackageVersion")
    logger.info(
        "model %s registered as version %s of %s (%s): %s",
        model_name,
        version,
        model_package_group_name,
        approval_status,
        arn,
    )
    return {
        "modelPackageArn": arn,
        "approvalStatus": str(package.get("ModelApprovalStatus") or approval_status),
        "version": version,
        "reused": False,
    }


def tuned_hyperparameters(raw: Mapping[str, Any] | None) -> dict[str, str]:
    """A training job's HyperParameters without those SageMaker and its SDK add."""
    return {
        str(key): str(value)
        for key, value in (raw or {}).items()
        if not _INTERNAL_HYPERPARAMETER.match(str(key))
    }


def metadata_value(text: str) -> str:
    """`text` as a CustomerMetadataProperties value: unsafe characters become "_", then cut."""
    return _METADATA_UNSAFE.sub("_", text)[:METADATA_VALUE_LIMIT]


def metadata_key(text: str) -> str:
    """`text` as a CustomerMetadataProperties key: unsafe characters become "_", then cut."""
    return _METADATA_UNSAFE.sub("_", text)[:METADATA_KEY_LIMIT]


def build_customer_metadata(
    *,
    objective: Mapping[str, Any] | None,
    tuning_job_name: str | None,
    training_job_name: str | None,
    run_execution_arn: str | None,
    deployer_execution_arn: str,
    run_id: str,
    model_name: str,
    token_parameter_name: str | None,
    hyperparameters: Mapping[str, str],
) -> dict[str, str]:
    """The CustomerMetadataProperties of a version (see register_model for the rules)."""
    objective = objective or {}
    value = objective.get("value")
    objective_value = (
        repr(float(value))
        if isinstance(value, (int, float)) and not isinstance(value, bool)
        else None
    )
    fixed = {
        META_OBJECTIVE_METRIC: objective.get("metricName"),
        META_OBJECTIVE_TYPE: objective.get("type"),
        META_OBJECTIVE_VALUE: objective_value,
        META_TUNING_JOB: tuning_job_name,
        META_TRAINING_JOB: training_job_name,
        META_RUN_EXECUTION: run_execution_arn,
        META_DEPLOYER_EXECUTION: deployer_execution_arn,
        META_RUN_ID: run_id,
        META_MODEL_NAME: model_name,
        META_TOKEN_PARAMETER: token_parameter_name,
    }
    metadata: dict[str, str] = {}
    for key, text in fixed.items():
        if text is None or str(text) == "":
            continue  # SageMaker refuses an empty value
        metadata[key] = metadata_value(str(text))

    room = METADATA_MAX_ENTRIES - len(metadata)
    names = sorted(hyperparameters)
    stored, omitted = (names, []) if len(names) <= room else (names[: room - 1], names[room - 1 :])
    for name in stored:
        value_text = metadata_value(str(hyperparameters[name]))
        if value_text:
            metadata[metadata_key(META_HYPERPARAMETER_PREFIX + name)] = value_text
    if omitted:
        metadata[META_HYPERPARAMETERS_OMITTED] = metadata_value(" ".join(omitted))
        logger.info(
            "%d hyperparameters exceed SageMaker's %d metadata entries; their names are listed "
            "under %s",
            len(omitted),
            METADATA_MAX_ENTRIES,
            META_HYPERPARAMETERS_OMITTED,
        )
    return metadata


def model_containers(model: Mapping[str, Any]) -> list[dict[str, str]]:
    """The model's containers as a model package's: image and model data of each."""
    containers = [model["PrimaryContainer"]] if model.get("PrimaryContainer") else []
    containers = containers or list(model.get("Containers") or [])
    if not containers:
        raise InvalidEventError(f"model {model.get('ModelName')} has no container to register")
    return [
        without_nulls(
            {"Image": container.get("Image"), "ModelDataUrl": container.get("ModelDataUrl")}
        )
        for container in containers
    ]


def package_description(
    *,
    run_id: str,
    deployer_execution_arn: str,
    tuning_job_name: str | None,
    training_job_name: str | None,
    approval_description: str | None,
) -> str:
    """The version's description: the run, and the reason of its approval status.

    The deployer execution ARN comes first (it always fits), since a retry finds its version by
    it in ListModelPackages' summaries.
    """
    parts = [f"Run {run_id}, deployer execution {deployer_execution_arn}."]
    if tuning_job_name:
        parts.append(f"Tuning job {tuning_job_name}.")
    if training_job_name:
        parts.append(f"Best training job {training_job_name}.")
    if approval_description:
        parts.append(approval_description)
    return _printable(" ".join(parts))[:DESCRIPTION_LIMIT]


def _printable(text: str) -> str:
    """Control, format and unassigned characters (refused in a description) become spaces."""
    return "".join(
        " " if unicodedata.category(character) in {"Cc", "Cf", "Cn", "Co", "Cs"} else character
        for character in text
    )


def _find_version(
    group_name: str, deployer_execution_arn: str, sagemaker: Any
) -> dict[str, Any] | None:
    """The version of the group that this deployer execution registered, if any."""
    request: dict[str, Any] = {
        "ModelPackageGroupName": group_name,
        "SortBy": "CreationTime",
        "SortOrder": "Descending",
        "MaxResults": LIST_PAGE_SIZE,
    }
    for summary in aws.pages(sagemaker.list_model_packages, request, "ModelPackageSummaryList"):
        if deployer_execution_arn not in str(summary.get("ModelPackageDescription") or ""):
            continue
        package: dict[str, Any] = sagemaker.describe_model_package(
            ModelPackageName=summary["ModelPackageArn"]
        )
        recorded = (package.get("CustomerMetadataProperties") or {}).get(META_DEPLOYER_EXECUTION)
        if recorded == metadata_value(deployer_execution_arn):
            return package
    return None


def _reuse_version(
    package: Mapping[str, Any], metadata: Mapping[str, str], sagemaker: Any
) -> dict[str, Any]:
    arn = str(package["ModelPackageArn"])
    status = str(package.get("ModelApprovalStatus") or "")
    recorded = dict(package.get("CustomerMetadataProperties") or {})
    wanted = metadata.get(META_TOKEN_PARAMETER)
    if wanted is not None and recorded.get(META_TOKEN_PARAMETER) != wanted:
        # The whole map, with the status unchanged: UpdateModelPackage sets what it is given.
        sagemaker.update_model_package(
            ModelPackageArn=arn,
            ModelApprovalStatus=status or PENDING,
            CustomerMetadataProperties={**recorded, META_TOKEN_PARAMETER: wanted},
        )
    if wanted is not None and status in (APPROVED, REJECTED):
        logger.warning(
            "version %s was already %s before this retry; no approval event will answer the "
            "new task token",
            arn,
            status,
        )
    logger.info("version %s of this deployer execution exists already: reused", arn)
    return {
        "modelPackageArn": arn,
        "approvalStatus": status,
        "version": package.get("ModelPackageVersion"),
        "reused": True,
    }


# ---------------------------------------------------------------------------------------------
# approval_callback
# ---------------------------------------------------------------------------------------------


def approval_callback(
    event: Mapping[str, Any], *, sagemaker: Any = None, ssm: Any = None, stepfunctions: Any = None
) -> dict[str, Any]:
    """Answer the deployer waiting on a version's approval ("Model Package State Change").

    Reads the version's `taskTokenParameter`, sends the token with {"approvalStatus",
    "approvalDescription", "modelPackageArn"} (SendTaskSuccess for a rejection too: the deployer
    decides what it means) and deletes the parameter. Nothing waits when the version names no
    parameter or the parameter is gone (answered already); a token that Step Functions no longer
    knows (timed out, invalid, task gone) only has its parameter deleted.

    Returns {"modelPackageArn", "approvalStatus", "action"} where action is "sent", "ignored"
    (not a decision), "no-parameter", "no-token" or "stale-token".
    """
    detail = require(event, "detail")
    if not isinstance(detail, Mapping):
        raise InvalidEventError(f"event.detail must be a JSON object, got {type(detail).__name__}")
    arn = require_str(detail, "ModelPackageArn", where="event.detail")
    event_status = require_str(detail, "ModelApprovalStatus", where="event.detail")
    if event_status not in (APPROVED, REJECTED):
        logger.info("version %s is %s: nothing to answer", arn, event_status)
        return _callback_result(arn, event_status, "ignored")

    sagemaker = sagemaker or aws.client("sagemaker")
    package = sagemaker.describe_model_package(ModelPackageName=arn)
    status = str(package.get("ModelApprovalStatus") or event_status)
    if status not in (APPROVED, REJECTED):
        logger.info("version %s is %s again: nothing to answer", arn, status)
        return _callback_result(arn, status, "ignored")
    parameter = (package.get("CustomerMetadataProperties") or {}).get(META_TOKEN_PARAMETER)
    if not parameter:
        logger.info("version %s names no task token parameter: nothing waits on it", arn)
        return _callback_result(arn, status, "no-parameter")

    ssm = ssm or aws.client("ssm")
    try:
        token = str(ssm.get_parameter(Name=parameter)["Parameter"]["Value"])
    except ClientError as error:
        if aws.error_code(error) != PARAMETER_NOT_FOUND:
            raise
        logger.info("parameter %s is gone: the approval of %s was answered already", parameter, arn)
        return _callback_result(arn, status, "no-token", parameter)

    output = {
        "approvalStatus": status,
        "approvalDescription": package.get("ApprovalDescription"),
        "modelPackageArn": arn,
    }
    stepfunctions = stepfunctions or aws.client("stepfunctions")
    action = "sent"
    try:
        stepfunctions.send_task_success(taskToken=token, output=json.dumps(output))
        logger.info("version %s is %s: the waiting deployer is answered", arn, status)
    except ClientError as error:
        if aws.error_code(error) not in STALE_TOKEN_ERRORS:
            raise
        action = "stale-token"
        logger.info(
            "the task token of %s is no longer valid (%s): nothing waits on it any more",
            arn,
            aws.error_code(error),
        )
    _delete_parameter(parameter, ssm)
    return _callback_result(arn, status, action, parameter)


def _delete_parameter(name: str, ssm: Any) -> None:
    try:
        ssm.delete_parameter(Name=name)
    except ClientError as error:
        if aws.error_code(error) != PARAMETER_NOT_FOUND:
            raise


def _callback_result(
    arn: str, status: str, action: str, parameter: str | None = None
) -> dict[str, Any]:
    return {
        "modelPackageArn": arn,
        "approvalStatus": status,
        "action": action,
        "tokenParameterName": parameter,
    }


# ---------------------------------------------------------------------------------------------
# apply_retention
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Resource:
    name: str
    arn: str
    created: datetime


def running_run_ids(state_machine_arns: Iterable[str], stepfunctions: Any) -> set[str]:
    """The run ids of the runs under way on these state machines (the workflow's and the
    deployer's): a run names its model and endpoint config <base>-<runId>, its run id derived
    from the workflow execution's ARN, or the deployer's own when it was started alone."""
    return {
        naming.run_id(str(execution["executionArn"]))
        for arn in state_machine_arns
        for execution in aws.pages(
            stepfunctions.list_executions,
            {"stateMachineArn": arn, "statusFilter": "RUNNING"},
            "executions",
            token="nextToken",
        )
    }


def apply_retention_from_event(
    event: Mapping[str, Any], *, sagemaker: Any = None, stepfunctions: Any = None
) -> dict[str, Any]:
    """apply_retention for the deployer's event; InvalidEventError names a wrong field."""
    keep_models = require_int(event, "keepModels")
    if keep_models < 0:
        raise InvalidEventError(f"event.keepModels must be 0 or more, got {keep_models}")
    protect_seconds = require_int(event, "protectSeconds")
    if protect_seconds < 0:
        raise InvalidEventError(f"event.protectSeconds must be 0 or more, got {protect_seconds}")
    state_machine_arns = _optional_str_list(event, "stateMachineArns") or []
    running: set[str] = set()
    if state_machine_arns:
        running = running_run_ids(state_machine_arns, stepfunctions or aws.client("stepfunctions"))
    return apply_retention(
        endpoint_name=require_str(event, "endpointName"),
        deployment_name=require_str(event, "deploymentName"),
        keep_models=keep_models,
        model_base_name=require_str(event, "modelBaseName"),
        protect_seconds=protect_seconds,
        running_run_ids=running,
        sagemaker=sagemaker,
    )


def apply_retention(
    *,
    endpoint_name: str,
    deployment_name: str,
    keep_models: int,
    model_base_name: str,
    protect_seconds: int,
    running_run_ids: Collection[str] = (),
    sagemaker: Any = None,
    now: Callable[[], datetime] | None = None,
) -> dict[str, Any]:
    """Delete the deployment's endpoint configs and models that no rule keeps.

    Candidates are the endpoint configs named `<endpoint_name>-<runId>` and the models named
    `<model_base_name>-<runId>` (runId: naming.RUN_ID_LENGTH lowercase hex digits) whose owner
    tag is `deployment_name`; nothing else is ever touched. Kept:
      - the newest `keep_models` of each kind (by CreationTime);
      - the live endpoint config, the one it replaced (its `replaces` tag: the rollback target)
        and one being deployed (PendingDeploymentSummary);
      - every model that an endpoint config which stays (listed under the endpoint's name, or
        live, replaced or pending) references;
      - what a run still under way needs: anything named for a run in `running_run_ids` (the
        runs of the workflow and the deployer state machines that are RUNNING), and anything
        created after the live config (anything
        at all when there is no live config) that is younger than `protect_seconds`.
    A model created before the live config is not protected by its age: a run that overlaps
    another (its model created before the other's deployment, its config not yet) relies on
    `keep_models` to keep its model, so keep at least as many as runs may overlap.
    The rest is deleted (DeleteEndpointConfig, then DeleteModel); one that is gone already counts
    as deleted. Nothing is deleted when the endpoint belongs to another deployment.

    Returns {"kept": {"endpointConfigs": [...], "models": [...]}, "deleted": {...}}, names only
    of candidates, oldest first.
    """
    sagemaker = sagemaker or aws.client("sagemaker")
    now_value = (now or _utc_now)()
    config_pattern = _run_name_pattern(endpoint_name)
    model_pattern = _run_name_pattern(model_base_name)

    endpoint = describe_endpoint_or_none(endpoint_name, sagemaker)
    live_name: str | None = None
    pending_name: str | None = None
    if endpoint is not None:
        owner = resource_tags(str(endpoint["EndpointArn"]), sagemaker).get(OWNER_TAG_KEY) or None
        if owner is not None and owner != deployment_name:
            logger.info(
                "endpoint %s belongs to deployment %s, not %s: retention deletes nothing",
                endpoint_name,
                safe_text(owner, 256),
                deployment_name,
            )
            return _retention_result([], [], [], [])
        live_name = endpoint.get("EndpointConfigName") or None
        pending_name = (endpoint.get("PendingDeploymentSummary") or {}).get(
            "EndpointConfigName"
        ) or None

    described: dict[str, Mapping[str, Any] | None] = {}

    def describe_config(name: str) -> Mapping[str, Any] | None:
        if name not in described:
            described[name] = describe_endpoint_config_or_none(name, sagemaker)
        return described[name]

    live_config = describe_config(live_name) if live_name else None
    live_created: datetime | None = live_config.get("CreationTime") if live_config else None
    replaces = None
    if live_config is not None:
        replaces = (
            resource_tags(str(live_config["EndpointConfigArn"]), sagemaker).get(REPLACES_TAG_KEY)
            or None
        )

    listed_configs = list(
        aws.pages(
            sagemaker.list_endpoint_configs,
            {"NameContains": endpoint_name, "MaxResults": LIST_PAGE_SIZE},
            "EndpointConfigs",
        )
    )
    configs = _candidates(
        listed_configs,
        "EndpointConfigName",
        "EndpointConfigArn",
        config_pattern,
        deployment_name,
        sagemaker,
    )
    models = _candidates(
        aws.pages(
            sagemaker.list_models,
            {"NameContains": model_base_name, "MaxResults": LIST_PAGE_SIZE},
            "Models",
        ),
        "ModelName",
        "ModelArn",
        model_pattern,
        deployment_name,
        sagemaker,
    )

    def in_flight(resource: _Resource) -> bool:
        if resource.name[-naming.RUN_ID_LENGTH :] in running_run_ids:
            return True  # its run is under way (running_run_ids)
        young = (now_value - resource.created).total_seconds() < protect_seconds
        return young and (live_created is None or resource.created > live_created)

    config_reasons: dict[str, str] = {}
    for resource in _newest(configs, keep_models):
        config_reasons[resource.name] = "newest"
    for resource in configs:
        if resource.name == live_name:
            config_reasons[resource.name] = "live"
        elif resource.name == replaces:
            config_reasons[resource.name] = "replaced by the live config"
        elif resource.name == pending_name:
            config_reasons[resource.name] = "being deployed"
        elif resource.name not in config_reasons and in_flight(resource):
            config_reasons[resource.name] = "created by a run under way"
    doomed_configs = [resource for resource in configs if resource.name not in config_reasons]
    doomed_config_names = {resource.name for resource in doomed_configs}

    # Every config that stays keeps its models, candidate or not.
    staying = {str(summary.get("EndpointConfigName")) for summary in listed_configs}
    staying |= {name for name in (live_name, replaces, pending_name) if name}
    staying -= doomed_config_names
    used_by: dict[str, str] = {}
    for config_name in sorted(staying):
        for model_name in _config_models(describe_config(config_name)):
            used_by.setdefault(model_name, config_name)

    model_reasons: dict[str, str] = {}
    for resource in _newest(models, keep_models):
        model_reasons[resource.name] = "newest"
    for resource in models:
        if resource.name in model_reasons:
            continue
        if resource.name in used_by:
            model_reasons[resource.name] = f"used by {used_by[resource.name]}"
        elif in_flight(resource):
            model_reasons[resource.name] = "created by a run under way"
    doomed_models = [resource for resource in models if resource.name not in model_reasons]

    for resource in configs:
        if resource.name in config_reasons:
            logger.info("endpoint config %s kept: %s", resource.name, config_reasons[resource.name])
    for resource in models:
        if resource.name in model_reasons:
            logger.info("model %s kept: %s", resource.name, model_reasons[resource.name])
    for resource in doomed_configs:
        _delete(
            "endpoint config",
            resource.name,
            lambda name: sagemaker.delete_endpoint_config(EndpointConfigName=name),
            _CONFIG_NOT_FOUND,
        )
    for resource in doomed_models:
        _delete(
            "model",
            resource.name,
            lambda name: sagemaker.delete_model(ModelName=name),
            _MODEL_NOT_FOUND,
        )
    return _retention_result(
        [resource.name for resource in configs if resource.name in config_reasons],
        [resource.name for resource in models if resource.name in model_reasons],
        [resource.name for resource in doomed_configs],
        [resource.name for resource in doomed_models],
    )


def _utc_now() -> datetime:
    return datetime.now(timezone.utc)


def _run_name_pattern(base: str) -> re.Pattern[str]:
    """`<base>-<runId>` and nothing else."""
    return re.compile(re.escape(base) + "-" + naming.RUN_ID_PATTERN.pattern)


def _candidates(
    summaries: Iterable[Mapping[str, Any]],
    name_key: str,
    arn_key: str,
    pattern: re.Pattern[str],
    deployment_name: str,
    sagemaker: Any,
) -> list[_Resource]:
    """The run-named resources owned by the deployment, oldest first."""
    found = []
    for summary in summaries:
        name = str(summary.get(name_key) or "")
        if pattern.fullmatch(name) is None:
            continue
        arn = str(summary.get(arn_key) or "")
        try:
            owner = resource_tags(arn, sagemaker).get(OWNER_TAG_KEY)
        except ClientError as error:
            if _is_not_found(error):
                continue  # deleted since it was listed
            raise
        if owner != deployment_name:
            continue
        found.append(_Resource(name, arn, summary["CreationTime"]))
    return sorted(found, key=lambda resource: (resource.created, resource.name))


def _newest(resources: list[_Resource], count: int) -> list[_Resource]:
    return list(reversed(resources))[:count] if count > 0 else []


def _config_models(config: Mapping[str, Any] | None) -> Iterator[str]:
    if config is None:
        return
    for key in ("ProductionVariants", "ShadowProductionVariants"):
        for variant in config.get(key) or []:
            if variant.get("ModelName"):
                yield str(variant["ModelName"])


def _is_not_found(error: ClientError, pattern: re.Pattern[str] = _RESOURCE_NOT_FOUND) -> bool:
    """SageMaker's ValidationException for a resource that does not exist."""
    return aws.error_code(error) == "ValidationException" and bool(
        pattern.search(aws.error_message(error))
    )


def _delete(what: str, name: str, call: Callable[[str], Any], not_found: re.Pattern[str]) -> None:
    try:
        call(name)
    except ClientError as error:
        if not _is_not_found(error, not_found):
            raise
        logger.info("%s %s was deleted already", what, name)
        return
    logger.info("%s %s deleted", what, name)


def _retention_result(
    kept_configs: list[str], kept_models: list[str], gone_configs: list[str], gone_models: list[str]
) -> dict[str, Any]:
    return {
        "kept": {"endpointConfigs": kept_configs, "models": kept_models},
        "deleted": {"endpointConfigs": gone_configs, "models": gone_models},
    }


# ---------------------------------------------------------------------------------------------
# Event helpers
# ---------------------------------------------------------------------------------------------


def _flattened(event: Mapping[str, Any]) -> Mapping[str, Any]:
    """The event's fields, with those of event.request (when given) under the top level's."""
    if not isinstance(event, Mapping):
        raise InvalidEventError(f"event must be a JSON object, got {type(event).__name__}")
    nested = event.get("request")
    if nested is None:
        return event
    if not isinstance(nested, Mapping):
        raise InvalidEventError(f"event.request must be a JSON object, got {type(nested).__name__}")
    return {**nested, **{key: value for key, value in event.items() if key != "request"}}


def _optional_str(event: Mapping[str, Any], key: str) -> str | None:
    """event[key] when a non-empty string, None when absent or null; InvalidEventError else."""
    value = event.get(key)
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise InvalidEventError(f"event.{key} must be a string or null, got {value!r}")
    return value


def _optional_str_list(event: Mapping[str, Any], key: str) -> list[str] | None:
    value = event.get(key)
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise InvalidEventError(f"event.{key} must be a list of strings, got {value!r}")
    return list(value)


def _event_tags(event: Mapping[str, Any]) -> list[dict[str, str]]:
    """event.tags as AWS's Key/Value list: given as that list, or as an object of key: value."""
    raw = event.get("tags")
    if raw is None:
        return []
    if isinstance(raw, Mapping):
        return [
            {"Key": str(key), "Value": str(value)}
            for key, value in sorted(raw.items())
            if value is not None
        ]
    if isinstance(raw, list):
        tags = []
        for index, tag in enumerate(raw):
            key = require_str(tag, "Key", where=f"event.tags[{index}]")
            value = require(tag, "Value", where=f"event.tags[{index}]")
            tags.append({"Key": key, "Value": str(value)})
        return tags
    raise InvalidEventError(f"event.tags must be a list of tags or an object, got {raw!r}")
