"""Lambda entry points: each reads its event and hands over to a plain function.

Handler names (module `tuning_workflow.handlers`):
  prepare_tuning_run, find_best_training_job            (tuner)
  plan_deployment, start_endpoint_deployment, check_endpoint  (deployer)
  register_model, apply_retention                       (deployer: model registry, retention)
  approval_callback                                     (EventBridge: SageMaker Model Package
                                                         State Change)
  start_from_manifest                                   (S3 trigger; env STATE_MACHINE_ARN,
                                                         MANIFEST_PREFIX)
  describe_failure                                      (every state machine's failure path)
Throttling and 5xx errors that outlast boto3's retries are raised as TransientAwsError, which the
state machines retry; other faults raise as they are; expected outcomes are returned as data.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from typing import Any

from tuning_workflow import best_job, deployment, failure, lifecycle, prepare, trigger
from tuning_workflow.aws import translate_transient_errors
from tuning_workflow.events import optional_mapping, require_int, require_str
from tuning_workflow.exceptions import ConfigurationError

logging.getLogger("tuning_workflow").setLevel(os.environ.get("LOG_LEVEL", "INFO").upper())


@translate_transient_errors
def prepare_tuning_run(event: Mapping[str, Any], context: Any = None) -> dict[str, Any]:
    return prepare.prepare_tuning_run(event)


@translate_transient_errors
def find_best_training_job(event: Mapping[str, Any], context: Any = None) -> dict[str, Any]:
    return best_job.find_best_training_job(
        require_str(event, "tuningJobName"),
        event.get("qualityGate"),
        event.get("inferenceImage"),
        environment=optional_mapping(event, "environment"),
    )


@translate_transient_errors
def plan_deployment(event: Mapping[str, Any], context: Any = None) -> dict[str, Any]:
    return deployment.plan_deployment_from_event(event)


@translate_transient_errors
def start_endpoint_deployment(event: Mapping[str, Any], context: Any = None) -> dict[str, Any]:
    if event.get("decision") == deployment.DECISION_RECREATE:
        return deployment.delete_failed_endpoint(event)
    return deployment.start_endpoint_deployment(event)


@translate_transient_errors
def check_endpoint(event: Mapping[str, Any], context: Any = None) -> dict[str, Any]:
    return deployment.check_endpoint(
        require_str(event, "endpointName"),
        require_str(event, "expectedEndpointConfigName"),
        require_int(event, "attempt"),
        require_int(event, "maxAttempts"),
        previous_endpoint_config_name=event.get("previousEndpointConfigName") or None,
    )


@translate_transient_errors
def register_model(event: Mapping[str, Any], context: Any = None) -> dict[str, Any]:
    # The deployer sends {"request": {...}} and, to wait for a manual approval, the task token
    # beside it: {"request": {...}, "taskToken": "..."}.
    if "request" in event:
        request = optional_mapping(event, "request")
        token = event.get("taskToken")
        event = {**request, **({"taskToken": token} if token is not None else {})}
    return lifecycle.register_model_from_event(event)


@translate_transient_errors
def approval_callback(event: Mapping[str, Any], context: Any = None) -> dict[str, Any]:
    return lifecycle.approval_callback(event)


@translate_transient_errors
def apply_retention(event: Mapping[str, Any], context: Any = None) -> dict[str, Any]:
    return lifecycle.apply_retention_from_event(event)


@translate_transient_errors
def start_from_manifest(event: Mapping[str, Any], context: Any = None) -> dict[str, Any]:
    state_machine_arn = os.environ.get("STATE_MACHINE_ARN")
    if not state_machine_arn:
        raise ConfigurationError("the environment variable STATE_MACHINE_ARN is not set")
    return trigger.start_from_manifest(
        event, state_machine_arn, manifest_prefix=os.environ.get("MANIFEST_PREFIX", "")
    )


def describe_failure(event: Mapping[str, Any], context: Any = None) -> dict[str, Any]:
    return failure.describe_failure(event)
