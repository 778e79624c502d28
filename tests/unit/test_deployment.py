"""Planning, starting and watching an endpoint deployment.

moto serves DescribeEndpoint/EndpointConfig, CreateEndpoint and Application Auto Scaling; it has
no UpdateEndpoint and its endpoints are InService at once, so updates, statuses and error
responses are exercised with botocore's Stubber.
"""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from botocore.stub import Stubber

from tuning_workflow.deployment import (
    ENDPOINT_STATUSES,
    OWNER_TAG_KEY,
    Turn,
    check_endpoint,
    delete_failed_endpoint,
    owner_tag,
    plan_deployment,
    plan_deployment_from_event,
    start_endpoint_deployment,
)
from tuning_workflow.exceptions import EndpointConfigNotFoundError, InvalidEventError
from tuning_workflow.params import parse_ml_parameters

from .conftest import REGION, ROLE_ARN, load_event

ENDPOINT = "survival-endpoint"
RUN_ID = "0123456789ab"
NEW_CONFIG = f"{ENDPOINT}-{RUN_ID}"
OLD_CONFIG = f"{ENDPOINT}-fedcba987654"
MODEL = f"survival-model-{RUN_ID}"
ENDPOINT_ARN = f"arn:aws:sagemaker:{REGION}:123456789012:endpoint/{ENDPOINT}"
RESOURCE_ID = f"endpoint/{ENDPOINT}/variant/AllTraffic"
TAGS = [{"Key": "run-id", "Value": RUN_ID}]


def plan(ml_doc: dict[str, Any], sagemaker: Any, autoscaling: Any) -> dict[str, Any]:
    return plan_deployment(
        parse_ml_parameters(ml_doc),
        model_name=MODEL,
        run_id=RUN_ID,
        tags=TAGS,
        sagemaker=sagemaker,
        autoscaling=autoscaling,
    )


def live_endpoint(sagemaker: Any, *, instance_type: str = "ml.c5.2xlarge", count: int = 1) -> None:
    """An InService endpoint on OLD_CONFIG, as a previous run left it."""
    sagemaker.create_model(
        ModelName="survival-model-fedcba987654",
        ExecutionRoleArn=ROLE_ARN,
        PrimaryContainer={"Image": "image:1", "ModelDataUrl": "s3://b/old/model.tar.gz"},
    )
    sagemaker.create_endpoint_config(
        EndpointConfigName=OLD_CONFIG,
        ProductionVariants=[
            {
                "VariantName": "AllTraffic",
                "ModelName": "survival-model-fedcba987654",
                "InitialInstanceCount": count,
                "InstanceType": instance_type,
            }
        ],
    )
    sagemaker.create_endpoint(EndpointName=ENDPOINT, EndpointConfigName=OLD_CONFIG)


def register_target(autoscaling: Any, low: int = 1, high: int = 4) -> None:
    autoscaling.register_scalable_target(
        ServiceNamespace="sagemaker",
        ResourceId=RESOURCE_ID,
        ScalableDimension="sagemaker:variant:DesiredInstanceCount",
        MinCapacity=low,
        MaxCapacity=high,
    )


# ---------------------------------------------------------------------------------------------
# plan_deployment
# ---------------------------------------------------------------------------------------------


def test_a_new_endpoint_is_planned_as_a_create(ml_parameters, sagemaker, autoscaling):
    result = plan(ml_parameters, sagemaker, autoscaling)
    assert result["valid"] is True
    assert result["endpointExists"] is False
    assert result["endpointName"] == ENDPOINT
    assert result["endpointConfigName"] == NEW_CONFIG
    assert result["productionVariants"] == [
        {
            "VariantName": "AllTraffic",
            "ModelName": MODEL,
            "InitialInstanceCount": 1,
            "InstanceType": "ml.c5.2xlarge",
            "InitialVariantWeight": 1.0,
        }
    ]
    assert result["endpointConfig"] == {
        "EndpointConfigName": NEW_CONFIG,
        "ProductionVariants": result["productionVariants"],
        "Tags": TAGS,
    }
    assert result["deregisterScalingFirst"] is False
    assert result["previousScaling"] is None
    assert result["wait"] == {"attempt": 0, "maxAttempts": 120, "seconds": 60}
    assert result["scaling"] == {
        "enabled": True,
        "scalableTarget": {
            "ServiceNamespace": "sagemaker",
            "ResourceId": RESOURCE_ID,
            "ScalableDimension": "sagemaker:variant:DesiredInstanceCount",
            "MinCapacity": 1,
            "MaxCapacity": 4,
        },
        "policy": {
            "PolicyName": f"{ENDPOINT}-target-tracking",
            "PolicyType": "TargetTrackingScaling",
            "ServiceNamespace": "sagemaker",
            "ResourceId": RESOURCE_ID,
            "ScalableDimension": "sagemaker:variant:DesiredInstanceCount",
            "TargetTrackingScalingPolicyConfiguration": {
                "TargetValue": 5000.0,
                "PredefinedMetricSpecification": {
                    "PredefinedMetricType": "SageMakerVariantInvocationsPerInstance"
                },
                "ScaleInCooldown": 300,
                "ScaleOutCooldown": 60,
                "DisableScaleIn": True,
            },
        },
    }


def test_the_planned_requests_are_accepted_by_moto(ml_parameters, sagemaker, autoscaling):
    result = plan(ml_parameters, sagemaker, autoscaling)
    sagemaker.create_model(
        ModelName=MODEL,
        ExecutionRoleArn=ROLE_ARN,
        PrimaryContainer={"Image": "image:1", "ModelDataUrl": "s3://b/model.tar.gz"},
    )
    sagemaker.create_endpoint_config(**result["endpointConfig"])
    autoscaling.register_scalable_target(**result["scaling"]["scalableTarget"])
    autoscaling.put_scaling_policy(**result["scaling"]["policy"])
    policies = autoscaling.describe_scaling_policies(ServiceNamespace="sagemaker")
    assert policies["ScalingPolicies"][0]["PolicyName"] == f"{ENDPOINT}-target-tracking"


def test_an_update_keeps_the_instance_count_auto_scaling_chose(
    ml_parameters, sagemaker, autoscaling
):
    # GIVEN a live endpoint that auto scaling grew to 3 instances (the parameters say 1)
    live_endpoint(sagemaker, count=3)
    register_target(autoscaling)
    # WHEN the next model is planned
    result = plan(ml_parameters, sagemaker, autoscaling)
    # THEN it is an update that keeps 3 instances and leaves scaling registered
    assert result["endpointExists"] is True
    assert result["productionVariants"][0]["InitialInstanceCount"] == 3
    assert result["deregisterScalingFirst"] is False
    assert result["previousScaling"] is None


def test_the_live_count_is_clamped_to_the_new_scaling_bounds(ml_parameters, sagemaker, autoscaling):
    live_endpoint(sagemaker, count=7)
    result = plan(ml_parameters, sagemaker, autoscaling)
    assert result["productionVariants"][0]["InitialInstanceCount"] == 4


def test_without_auto_scaling_the_configured_count_is_used(ml_parameters, sagemaker, autoscaling):
    for key in (
        "autoscalingMinCapacity",
        "autoscalingMaxCapacity",
        "targetTrackingScalingPolicyConfiguration",
    ):
        del ml_parameters[key]
    ml_parameters["model"]["hosting"]["initialInstanceCount"] = 2
    live_endpoint(sagemaker, count=3)
    result = plan(ml_parameters, sagemaker, autoscaling)
    assert result["productionVariants"][0]["InitialInstanceCount"] == 2
    assert result["scaling"] == {"enabled": False, "scalableTarget": None, "policy": None}


def test_seed_defect_an_instance_type_change_deregisters_scaling_first(
    ml_parameters, sagemaker, autoscaling
):
    # GIVEN a live endpoint on ml.m5.large whose variant is a scalable target
    live_endpoint(sagemaker, instance_type="ml.m5.large", count=2)
    register_target(autoscaling, low=2, high=6)
    # WHEN the parameters ask for ml.c5.2xlarge
    result = plan(ml_parameters, sagemaker, autoscaling)
    # THEN the target is deregistered before the update and can be restored as it was
    assert result["deregisterScalingFirst"] is True
    assert result["previousScaling"] == {
        "ServiceNamespace": "sagemaker",
        "ResourceId": RESOURCE_ID,
        "ScalableDimension": "sagemaker:variant:DesiredInstanceCount",
        "MinCapacity": 2,
        "MaxCapacity": 6,
    }
    autoscaling.register_scalable_target(**result["previousScaling"])  # a valid request


def test_turning_auto_scaling_off_deregisters_the_live_target(
    ml_parameters, sagemaker, autoscaling
):
    for key in (
        "autoscalingMinCapacity",
        "autoscalingMaxCapacity",
        "targetTrackingScalingPolicyConfiguration",
    ):
        del ml_parameters[key]
    live_endpoint(sagemaker)
    register_target(autoscaling)
    result = plan(ml_parameters, sagemaker, autoscaling)
    assert result["deregisterScalingFirst"] is True
    assert result["previousScaling"]["ResourceId"] == RESOURCE_ID


def test_a_deleted_live_config_counts_as_an_instance_type_change(
    ml_parameters, sagemaker, autoscaling
):
    live_endpoint(sagemaker)
    register_target(autoscaling)
    sagemaker.delete_endpoint_config(EndpointConfigName=OLD_CONFIG)
    assert plan(ml_parameters, sagemaker, autoscaling)["deregisterScalingFirst"] is True


def stubbed(service: str) -> tuple[Any, Stubber]:
    client = boto3.client(service, region_name=REGION)
    return client, Stubber(client)


def endpoint_description(status: str, config: str = NEW_CONFIG, **extra: Any) -> dict[str, Any]:
    return {
        "EndpointName": ENDPOINT,
        "EndpointArn": ENDPOINT_ARN,
        "EndpointConfigName": config,
        "EndpointStatus": status,
        "CreationTime": "2024-05-01T12:00:00Z",
        "LastModifiedTime": "2024-05-01T12:05:00Z",
        **extra,
    }


@pytest.mark.parametrize("status", ["Creating", "Updating", "SystemUpdating", "Deleting"])
def test_an_endpoint_busy_with_another_deployment_makes_the_run_wait_its_turn(
    ml_parameters, status
):
    sagemaker, stubber = stubbed("sagemaker")
    stubber.add_response("describe_endpoint", endpoint_description(status, OLD_CONFIG))
    with stubber:
        result = plan(ml_parameters, sagemaker, autoscaling=object())
    assert result["valid"] is True
    assert result["decision"] == "wait"
    assert result["endpointStatus"] == status
    assert result["turn"]["attempt"] == 1
    assert result["turn"]["seconds"] == 60
    assert f"is {status}: another deployment is under way" in result["message"]


def test_the_wait_for_a_busy_endpoint_is_bounded(ml_parameters):
    ml = parse_ml_parameters(ml_parameters)
    sagemaker, stubber = stubbed("sagemaker")
    stubber.add_response("describe_endpoint", endpoint_description("Updating", OLD_CONFIG))
    last = Turn(attempt=ml.endpoint_wait_max_attempts - 1)
    with stubber:
        result = plan_deployment(
            ml,
            model_name=MODEL,
            run_id=RUN_ID,
            tags=TAGS,
            turn=last,
            sagemaker=sagemaker,
            autoscaling=object(),
        )
    assert result["decision"] == "refuse"
    assert result["error"]["Error"] == "EndpointBusy"
    assert "endpointWaitTimeoutSeconds" in result["error"]["Cause"]


def test_a_failed_endpoint_is_planned_for_recreation(ml_parameters):
    sagemaker, stubber = stubbed("sagemaker")
    stubber.add_response(
        "describe_endpoint",
        endpoint_description(
            "Failed", OLD_CONFIG, FailureReason="The container did not pass /ping"
        ),
    )
    with stubber:
        result = plan(ml_parameters, sagemaker, autoscaling=object())
    assert result["decision"] == "recreate"
    assert result["turn"]["recoveredFailedEndpoint"] is True
    assert "did not pass /ping" in result["message"]


@pytest.mark.parametrize("status", ["OutOfService", "UpdateRollbackFailed"])
def test_an_endpoint_that_takes_no_deployment_is_refused_with_a_clear_error(ml_parameters, status):
    sagemaker, stubber = stubbed("sagemaker")
    stubber.add_response("describe_endpoint", endpoint_description(status, OLD_CONFIG))
    with stubber:
        result = plan(ml_parameters, sagemaker, autoscaling=object())
    assert result["decision"] == "refuse"
    assert result["error"]["Error"] == "EndpointNeedsAttention"
    assert status in result["error"]["Cause"]


def test_a_deregistration_of_an_earlier_turn_is_still_restored_on_failure(
    ml_parameters, sagemaker, autoscaling
):
    # GIVEN an earlier turn of this run deregistered the variant, then lost a race
    live_endpoint(sagemaker)
    earlier = {
        "ServiceNamespace": "sagemaker",
        "ResourceId": RESOURCE_ID,
        "ScalableDimension": "sagemaker:variant:DesiredInstanceCount",
        "MinCapacity": 2,
        "MaxCapacity": 6,
    }
    result = plan_deployment(
        parse_ml_parameters(ml_parameters),
        model_name=MODEL,
        run_id=RUN_ID,
        tags=TAGS,
        turn=Turn(attempt=1, previous_scaling=earlier),
        sagemaker=sagemaker,
        autoscaling=autoscaling,
    )
    # THEN nothing is deregistered again, but a failure restores what was there
    assert result["decision"] == "deploy"
    assert result["deregisterScalingFirst"] is False
    assert result["restoreScalingOnFailure"] is True
    assert result["previousScaling"] == earlier
    assert result["turn"]["previousScaling"] == earlier


def test_delete_failed_endpoint_deletes_only_a_failed_endpoint():
    sagemaker, stubber = stubbed("sagemaker")
    stubber.add_response("describe_endpoint", endpoint_description("Failed", OLD_CONFIG))
    stubber.add_response("delete_endpoint", {}, {"EndpointName": ENDPOINT})
    with stubber:
        assert (
            delete_failed_endpoint({"endpointName": ENDPOINT}, sagemaker=sagemaker)["action"]
            == "delete"
        )
    sagemaker, stubber = stubbed("sagemaker")
    stubber.add_response("describe_endpoint", endpoint_description("InService", OLD_CONFIG))
    with stubber:
        assert (
            delete_failed_endpoint({"endpointName": ENDPOINT}, sagemaker=sagemaker)["action"]
            == "none"
        )


@pytest.mark.parametrize(
    ("code", "message"),
    [
        ("ThrottlingException", "Rate exceeded"),
        ("AccessDeniedException", "not authorized to perform: sagemaker:DescribeEndpoint"),
        ("ValidationException", "Could not find endpoint configuration 'x'."),
        ("InternalFailure", "An internal error occurred"),
    ],
)
def test_seed_defect_only_could_not_find_endpoint_means_absent(ml_parameters, code, message):
    # The old check's bare `except` turned throttling and AccessDenied into "does not exist",
    # and the workflow then tried to create an endpoint that was there.
    sagemaker, stubber = stubbed("sagemaker")
    stubber.add_client_error("describe_endpoint", service_error_code=code, service_message=message)
    with stubber, pytest.raises(ClientError) as caught:
        plan(ml_parameters, sagemaker, autoscaling=object())
    assert caught.value.response["Error"]["Code"] == code


def test_plan_from_an_event_uses_the_tuners_run_id(ml_parameters, sagemaker, autoscaling):
    event = load_event("plan_deployment")
    result = plan_deployment_from_event(event, sagemaker=sagemaker, autoscaling=autoscaling)
    assert result["runId"] == "9c1b52dd2bc6"
    assert result["endpointConfigName"] == "survival-endpoint-9c1b52dd2bc6"
    assert result["productionVariants"][0]["ModelName"] == "survival-model-9c1b52dd2bc6"
    assert {"Key": "environment", "Value": "development"} in result["tags"]


def test_plan_from_an_event_reports_bad_input_as_data(ml_parameters):
    event = load_event("plan_deployment")
    event["input"] = {"modelName": "bad_name"}
    event["mlParameters"]["model"]["hosting"]["instanceType"] = "large"
    result = plan_deployment_from_event(event, sagemaker=object(), autoscaling=object())
    assert result["valid"] is False
    assert [(error["document"], error["path"]) for error in result["errors"]] == [
        ("execution input", "$.modelName"),
        ("ml-parameters", "$.model.hosting.instanceType"),
    ]
    assert result["message"].startswith("2 problems in the input: execution input $.modelName")


# ---------------------------------------------------------------------------------------------
# start_endpoint_deployment
# ---------------------------------------------------------------------------------------------


def test_a_create_plan_creates_the_endpoint_in_moto(ml_parameters, sagemaker, autoscaling):
    result = plan(ml_parameters, sagemaker, autoscaling)
    sagemaker.create_model(
        ModelName=MODEL,
        ExecutionRoleArn=ROLE_ARN,
        PrimaryContainer={"Image": "image:1", "ModelDataUrl": "s3://b/model.tar.gz"},
    )
    sagemaker.create_endpoint_config(**result["endpointConfig"])
    started = start_endpoint_deployment(result, sagemaker=sagemaker)
    assert started["action"] == "create"
    assert started["endpointArn"].endswith(f"endpoint/{ENDPOINT}")
    described = sagemaker.describe_endpoint(EndpointName=ENDPOINT)
    assert described["EndpointConfigName"] == NEW_CONFIG


def update_plan(**extra: Any) -> dict[str, Any]:
    return {
        "endpointName": ENDPOINT,
        "endpointConfigName": NEW_CONFIG,
        "endpointExists": True,
        "tags": TAGS,
        "deploymentConfig": None,
        **extra,
    }


def test_an_update_plan_updates_with_the_deployment_config():
    deployment_config = {
        "BlueGreenUpdatePolicy": {
            "TrafficRoutingConfiguration": {"Type": "ALL_AT_ONCE", "WaitIntervalInSeconds": 60}
        },
        "AutoRollbackConfiguration": {"Alarms": [{"AlarmName": "endpoint-5xx"}]},
    }
    sagemaker, stubber = stubbed("sagemaker")
    stubber.add_response(
        "update_endpoint",
        {"EndpointArn": ENDPOINT_ARN},
        {
            "EndpointName": ENDPOINT,
            "EndpointConfigName": NEW_CONFIG,
            "DeploymentConfig": deployment_config,
        },
    )
    with stubber:
        started = start_endpoint_deployment(
            update_plan(deploymentConfig=deployment_config), sagemaker=sagemaker
        )
    assert started == {"action": "update", "endpointArn": ENDPOINT_ARN, "message": ""}


def test_config_not_found_is_retried_with_backoff_then_succeeds():
    # GIVEN CreateEndpoint that does not see the new config twice (eventual consistency)
    sagemaker, stubber = stubbed("sagemaker")
    for _ in range(2):
        stubber.add_client_error(
            "create_endpoint",
            service_error_code="ValidationException",
            service_message=f"Could not find endpoint configuration '{NEW_CONFIG}'.",
        )
    stubber.add_response("create_endpoint", {"EndpointArn": ENDPOINT_ARN})
    sleeps: list[float] = []
    # WHEN the deployment starts
    with stubber:
        started = start_endpoint_deployment(
            update_plan(endpointExists=False), sagemaker=sagemaker, sleep=sleeps.append
        )
    # THEN it waited 1 s, then 2 s, and created the endpoint
    assert sleeps == [1.0, 2.0]
    assert started == {"action": "create", "endpointArn": ENDPOINT_ARN, "message": ""}


def test_config_not_found_gives_up_after_a_bounded_number_of_attempts():
    sagemaker, stubber = stubbed("sagemaker")
    for _ in range(3):
        stubber.add_client_error(
            "update_endpoint",
            service_error_code="ValidationException",
            service_message=f"Could not find endpoint configuration '{NEW_CONFIG}'.",
        )
    sleeps: list[float] = []
    with stubber, pytest.raises(EndpointConfigNotFoundError, match="after 3 attempts"):
        start_endpoint_deployment(
            update_plan(), sagemaker=sagemaker, sleep=sleeps.append, attempts=3
        )
    assert sleeps == [1.0, 2.0]


def test_other_validation_errors_are_not_retried():
    sagemaker, stubber = stubbed("sagemaker")
    stubber.add_client_error(
        "update_endpoint",
        service_error_code="ValidationException",
        service_message="The instance type ml.p5.48xlarge is not supported",
    )
    stubber.add_response("describe_endpoint", endpoint_description("InService", OLD_CONFIG))
    sleeps: list[float] = []
    with stubber, pytest.raises(ClientError, match="not supported"):
        start_endpoint_deployment(update_plan(), sagemaker=sagemaker, sleep=sleeps.append)
    assert sleeps == []


def test_a_retried_create_that_finds_its_own_endpoint_succeeds():
    sagemaker, stubber = stubbed("sagemaker")
    stubber.add_client_error(
        "create_endpoint",
        service_error_code="ValidationException",
        service_message=f'Cannot create already existing endpoint "{ENDPOINT_ARN}".',
    )
    stubber.add_response("describe_endpoint", endpoint_description("Creating"))
    with stubber:
        started = start_endpoint_deployment(update_plan(endpointExists=False), sagemaker=sagemaker)
    assert started == {"action": "create", "endpointArn": ENDPOINT_ARN, "message": ""}


def test_an_endpoint_created_by_another_run_after_the_plan_makes_this_run_wait():
    sagemaker, stubber = stubbed("sagemaker")
    stubber.add_client_error(
        "create_endpoint",
        service_error_code="ValidationException",
        service_message=f'Cannot create already existing endpoint "{ENDPOINT_ARN}".',
    )
    stubber.add_response("describe_endpoint", endpoint_description("InService", OLD_CONFIG))
    with stubber:
        started = start_endpoint_deployment(update_plan(endpointExists=False), sagemaker=sagemaker)
    assert started["action"] == "busy"
    assert OLD_CONFIG in started["message"]


def test_an_update_refused_while_another_run_deploys_makes_this_run_wait():
    sagemaker, stubber = stubbed("sagemaker")
    stubber.add_client_error(
        "update_endpoint",
        service_error_code="ValidationException",
        service_message=f'Cannot update in-progress endpoint "{ENDPOINT_ARN}".',
    )
    stubber.add_response("describe_endpoint", endpoint_description("Updating", OLD_CONFIG))
    with stubber:
        started = start_endpoint_deployment(update_plan(), sagemaker=sagemaker)
    assert started["action"] == "busy"
    assert "Updating" in started["message"]


# ---------------------------------------------------------------------------------------------
# check_endpoint
# ---------------------------------------------------------------------------------------------

EXPECTED_OUTCOMES = {
    "OutOfService": "Failed",
    "Creating": "Waiting",
    "Updating": "Waiting",
    "SystemUpdating": "Waiting",
    "RollingBack": "Waiting",
    "InService": "InService",
    "Deleting": "Failed",
    "Failed": "Failed",
    "UpdateRollbackFailed": "Failed",
}


def check(
    description: dict[str, Any],
    attempt: int = 0,
    max_attempts: int = 10,
    previous: str | None = OLD_CONFIG,
) -> dict[str, Any]:
    sagemaker, stubber = stubbed("sagemaker")
    stubber.add_response("describe_endpoint", description, {"EndpointName": ENDPOINT})
    with stubber:
        return check_endpoint(
            ENDPOINT,
            NEW_CONFIG,
            attempt,
            max_attempts,
            previous_endpoint_config_name=previous,
            sagemaker=sagemaker,
        )


def test_every_endpoint_status_of_the_api_is_mapped():
    assert set(EXPECTED_OUTCOMES) == set(ENDPOINT_STATUSES)


@pytest.mark.parametrize(("status", "outcome"), sorted(EXPECTED_OUTCOMES.items()))
def test_seed_defect_every_status_has_an_outcome(status, outcome):
    # The old wait loop knew Creating, InService and Failed; anything else looped forever.
    result = check(endpoint_description(status, FailureReason="boom"), attempt=4)
    assert result["status"] == status
    assert result["outcome"] == outcome
    assert result["attempt"] == 5


def test_an_unknown_status_is_a_failure_not_a_wait():
    result = check(endpoint_description("Hibernating"))
    assert result["outcome"] == "Failed"
    assert result["message"] == "endpoint survival-endpoint has the unknown status 'Hibernating'"


def test_the_first_check_right_after_the_update_waits_for_it_to_show():
    result = check(endpoint_description("InService", OLD_CONFIG), attempt=0)
    assert result["outcome"] == "Waiting"
    assert result["attempt"] == 1
    assert "not visible yet" in result["message"]


def test_seed_defect_in_service_on_the_old_config_is_a_rollback_not_a_success():
    result = check(
        endpoint_description("InService", OLD_CONFIG, FailureReason="Health check failed"),
        attempt=1,
    )
    assert result == {
        "status": "InService",
        "attempt": 2,
        "outcome": "RolledBack",
        "message": f"endpoint {ENDPOINT} is InService on {OLD_CONFIG}, not {NEW_CONFIG}: "
        "SageMaker rolled the update back (Health check failed)",
    }


@pytest.mark.parametrize("attempt", [0, 3])
def test_an_endpoint_serving_a_later_runs_config_means_superseded_not_rolled_back(attempt):
    later = f"{ENDPOINT}-aaaaaaaaaaaa"
    result = check(endpoint_description("InService", later), attempt=attempt)
    assert result["outcome"] == "Superseded"
    assert later in result["message"]


def test_a_created_endpoint_serving_another_config_was_superseded():
    later = f"{ENDPOINT}-aaaaaaaaaaaa"
    result = check(endpoint_description("Updating", later), attempt=2, previous=None)
    assert result["outcome"] == "Superseded"


def test_seed_defect_the_wait_is_bounded():
    still_creating = endpoint_description("Creating")
    assert check(still_creating, attempt=8, max_attempts=10)["outcome"] == "Waiting"
    result = check(still_creating, attempt=9, max_attempts=10)
    assert result["outcome"] == "TimedOut"
    assert result["attempt"] == 10
    assert "still Creating after 10 checks" in result["message"]


def test_a_failure_carries_sagemakers_reason():
    result = check(endpoint_description("Failed", FailureReason="Image not found"))
    assert result["message"] == "endpoint survival-endpoint failed: Image not found"


def test_an_endpoint_deleted_while_waiting_is_a_failure(sagemaker):
    result = check_endpoint(ENDPOINT, NEW_CONFIG, 2, 10, sagemaker=sagemaker)
    assert result["outcome"] == "Failed"
    assert result["status"] == "NotFound"


def test_throttling_while_checking_raises_instead_of_guessing():
    sagemaker, stubber = stubbed("sagemaker")
    stubber.add_client_error("describe_endpoint", service_error_code="ThrottlingException")
    with stubber, pytest.raises(ClientError):
        check_endpoint(ENDPOINT, NEW_CONFIG, 0, 10, sagemaker=sagemaker)


def test_an_in_progress_refusal_means_busy_even_if_the_endpoint_is_done_a_moment_later():
    # GIVEN SageMaker refused the update as in progress, and the other deployment has just ended
    sagemaker, stubber = stubbed("sagemaker")
    stubber.add_client_error(
        "update_endpoint",
        service_error_code="ValidationException",
        service_message=f'Cannot update in-progress endpoint "{ENDPOINT_ARN}".',
    )
    stubber.add_response("describe_endpoint", endpoint_description("InService", OLD_CONFIG))
    with stubber:
        started = start_endpoint_deployment(update_plan(), sagemaker=sagemaker)
    # THEN this run waits for its turn and plans again
    assert started["action"] == "busy"


@pytest.mark.parametrize("field", ["input", "mlParameters"])
def test_a_null_document_in_the_deployer_event_is_invalid_input_not_a_crash(field):
    event = {**load_event("plan_deployment"), field: None}
    result = plan_deployment_from_event(event, sagemaker=object(), autoscaling=object())
    assert result["valid"] is False
    assert result["errors"][0]["path"] == "$"


# ---------------------------------------------------------------------------------------------
# Endpoint ownership: the owner tag, refusal and adoption
# ---------------------------------------------------------------------------------------------

THIS_DEPLOYMENT = "survival-prod"
OTHER_DEPLOYMENT = "churn-prod"


def owned_plan(ml_doc: dict[str, Any], sagemaker: Any, autoscaling: Any, **extra: Any) -> Any:
    return plan_deployment(
        parse_ml_parameters(ml_doc),
        model_name=MODEL,
        run_id=RUN_ID,
        tags=TAGS,
        deployment_name=THIS_DEPLOYMENT,
        sagemaker=sagemaker,
        autoscaling=autoscaling,
        **extra,
    )


def tags_response(*tags: tuple[str, str], next_token: str | None = None) -> dict[str, Any]:
    response: dict[str, Any] = {"Tags": [{"Key": key, "Value": value} for key, value in tags]}
    if next_token:
        response["NextToken"] = next_token
    return response


LIST_TAGS_REQUEST = {"ResourceArn": ENDPOINT_ARN, "MaxResults": 100}


@pytest.mark.parametrize("status", ["InService", "Updating", "Failed", "OutOfService"])
def test_an_endpoint_owned_by_another_deployment_is_refused_whatever_its_status(
    ml_parameters, status
):
    # GIVEN the endpoint was created by another deployment (its owner tag names it)
    sagemaker, stubber = stubbed("sagemaker")
    stubber.add_response("describe_endpoint", endpoint_description(status, OLD_CONFIG))
    stubber.add_response(
        "list_tags",
        tags_response(("environment", "prod"), (OWNER_TAG_KEY, OTHER_DEPLOYMENT)),
        LIST_TAGS_REQUEST,
    )
    # WHEN this deployment plans (a Failed endpoint is not deleted, a busy one not waited for)
    with stubber:
        result = owned_plan(ml_parameters, sagemaker, autoscaling=object())
    stubber.assert_no_pending_responses()
    # THEN it is refused, naming the owner and what to do
    assert result["decision"] == "refuse"
    assert result["owner"] == OTHER_DEPLOYMENT
    assert result["error"]["Error"] == "EndpointOwnedByAnotherDeployment"
    cause = result["error"]["Cause"]
    assert f"endpoint {ENDPOINT} belongs to the deployment '{OTHER_DEPLOYMENT}'" in cause
    assert f"not to this deployment '{THIS_DEPLOYMENT}'" in cause
    assert "endpointName of its own" in cause
    assert f"delete-tags --tag-keys {OWNER_TAG_KEY}" in cause


def test_the_owner_tag_is_found_on_any_page_of_the_tags(ml_parameters):
    sagemaker, stubber = stubbed("sagemaker")
    stubber.add_response("describe_endpoint", endpoint_description("InService", OLD_CONFIG))
    stubber.add_response("list_tags", tags_response(("a", "1"), next_token="t2"), LIST_TAGS_REQUEST)
    stubber.add_response(
        "list_tags",
        tags_response((OWNER_TAG_KEY, OTHER_DEPLOYMENT)),
        {**LIST_TAGS_REQUEST, "NextToken": "t2"},
    )
    with stubber:
        result = owned_plan(ml_parameters, sagemaker, autoscaling=object())
    assert result["error"]["Error"] == "EndpointOwnedByAnotherDeployment"


def test_an_owner_that_cannot_be_read_fails_the_plan_instead_of_adopting(ml_parameters):
    # An unreadable tag list must not pass for an endpoint without an owner.
    sagemaker, stubber = stubbed("sagemaker")
    stubber.add_response("describe_endpoint", endpoint_description("InService", OLD_CONFIG))
    stubber.add_client_error(
        "list_tags",
        service_error_code="AccessDeniedException",
        service_message="not authorized to perform: sagemaker:ListTags",
    )
    with stubber, pytest.raises(ClientError) as caught:
        owned_plan(ml_parameters, sagemaker, autoscaling=object())
    assert caught.value.response["Error"]["Code"] == "AccessDeniedException"


def test_an_endpoint_this_deployment_owns_is_updated_and_not_adopted_again(
    ml_parameters, sagemaker, autoscaling
):
    live_endpoint(sagemaker)
    sagemaker.add_tags(ResourceArn=ENDPOINT_ARN, Tags=[owner_tag(THIS_DEPLOYMENT)])
    result = owned_plan(ml_parameters, sagemaker, autoscaling)
    assert result["decision"] == "deploy"
    assert result["endpointExists"] is True
    assert result["adoptEndpoint"] is None


def test_a_new_endpoint_and_its_config_are_created_with_the_owner_tag(
    ml_parameters, sagemaker, autoscaling
):
    result = owned_plan(ml_parameters, sagemaker, autoscaling)
    owner = {"Key": OWNER_TAG_KEY, "Value": THIS_DEPLOYMENT}
    assert result["tags"] == [*TAGS, owner]
    assert result["endpointConfig"]["Tags"] == result["tags"]
    assert result["adoptEndpoint"] is None
    sagemaker.create_model(
        ModelName=MODEL,
        ExecutionRoleArn=ROLE_ARN,
        PrimaryContainer={"Image": "image:1", "ModelDataUrl": "s3://b/model.tar.gz"},
    )
    sagemaker.create_endpoint_config(**result["endpointConfig"])
    started = start_endpoint_deployment(result, sagemaker=sagemaker)
    assert owner in sagemaker.list_tags(ResourceArn=started["endpointArn"])["Tags"]


def test_a_callers_tag_cannot_name_another_owner(ml_parameters, sagemaker, autoscaling):
    result = plan_deployment(
        parse_ml_parameters(ml_parameters),
        model_name=MODEL,
        run_id=RUN_ID,
        tags=[{"Key": OWNER_TAG_KEY, "Value": OTHER_DEPLOYMENT}, *TAGS],
        deployment_name=THIS_DEPLOYMENT,
        sagemaker=sagemaker,
        autoscaling=autoscaling,
    )
    assert [t for t in result["tags"] if t["Key"] == OWNER_TAG_KEY] == [
        {"Key": OWNER_TAG_KEY, "Value": THIS_DEPLOYMENT}
    ]


def test_an_endpoint_without_an_owner_is_adopted_by_the_update(
    ml_parameters, sagemaker, autoscaling
):
    # GIVEN an endpoint the replaced stack created: no owner tag
    live_endpoint(sagemaker)
    # WHEN this deployment plans
    result = owned_plan(ml_parameters, sagemaker, autoscaling)
    # THEN it updates the endpoint and tags it as its own first
    assert result["decision"] == "deploy"
    assert result["adoptEndpoint"] == {
        "ResourceArn": ENDPOINT_ARN,
        "Tags": [{"Key": OWNER_TAG_KEY, "Value": THIS_DEPLOYMENT}],
    }
    stub, stubber = stubbed("sagemaker")
    stubber.add_response("add_tags", {"Tags": []}, result["adoptEndpoint"])
    stubber.add_response(
        "update_endpoint",
        {"EndpointArn": ENDPOINT_ARN},
        {"EndpointName": ENDPOINT, "EndpointConfigName": NEW_CONFIG},
    )
    with stubber:
        started = start_endpoint_deployment(result, sagemaker=stub)
    stubber.assert_no_pending_responses()
    assert started["action"] == "update"


def test_an_empty_owner_tag_counts_as_no_owner(ml_parameters):
    sagemaker, stubber = stubbed("sagemaker")
    stubber.add_response("describe_endpoint", endpoint_description("Updating", OLD_CONFIG))
    stubber.add_response("list_tags", tags_response((OWNER_TAG_KEY, "")), LIST_TAGS_REQUEST)
    with stubber:
        result = owned_plan(ml_parameters, sagemaker, autoscaling=object())
    # a busy endpoint without an owner: this run waits its turn, then adopts it
    assert result["decision"] == "wait"


def test_an_update_that_loses_the_race_still_leaves_the_endpoint_adopted():
    # AddTags comes first; UpdateEndpoint refused for another run's deployment: this run waits
    sagemaker, stubber = stubbed("sagemaker")
    adopt = {"ResourceArn": ENDPOINT_ARN, "Tags": [owner_tag(THIS_DEPLOYMENT)]}
    stubber.add_response("add_tags", {"Tags": []}, adopt)
    stubber.add_client_error(
        "update_endpoint",
        service_error_code="ValidationException",
        service_message=f'Cannot update in-progress endpoint "{ENDPOINT_ARN}".',
    )
    stubber.add_response("describe_endpoint", endpoint_description("Updating", OLD_CONFIG))
    with stubber:
        started = start_endpoint_deployment(update_plan(adoptEndpoint=adopt), sagemaker=sagemaker)
    assert started["action"] == "busy"


def test_a_malformed_adoption_in_the_plan_is_a_wiring_fault():
    with pytest.raises(InvalidEventError, match="adoptEndpoint"):
        start_endpoint_deployment(
            update_plan(adoptEndpoint={"ResourceArn": ENDPOINT_ARN, "Tags": []}),
            sagemaker=object(),
        )


def test_a_deployer_event_without_the_deployment_name_is_a_wiring_fault():
    event = load_event("plan_deployment")
    del event["deployment"]["name"]
    with pytest.raises(InvalidEventError, match="'name'"):
        plan_deployment_from_event(event, sagemaker=object(), autoscaling=object())


def test_plan_from_an_event_tags_with_the_deployment_name(ml_parameters, sagemaker, autoscaling):
    result = plan_deployment_from_event(
        load_event("plan_deployment"), sagemaker=sagemaker, autoscaling=autoscaling
    )
    assert {"Key": OWNER_TAG_KEY, "Value": "sagemaker-tuner"} in result["tags"]
