"""The promotion policy and the lifecycle parts of the deployer's plan: promotion, lineage tags,
registration, retention, and deploying an existing endpoint config (a rollback)."""

from __future__ import annotations

from typing import Any

import pytest

from tuning_workflow import promotion
from tuning_workflow.deployment import (
    DeploymentRequest,
    Turn,
    plan_deployment,
)
from tuning_workflow.exceptions import ConfigurationError
from tuning_workflow.lifecycle_tags import (
    OBJECTIVE_VALUE_TAG_KEY,
    OWNER_TAG_KEY,
    REPLACES_TAG_KEY,
    objective_from_tags,
    objective_tags,
    tag_value,
    tags_to_dict,
)
from tuning_workflow.params import Promotion, parse_ml_parameters

from .conftest import ROLE_ARN

ENDPOINT = "survival-endpoint"
RUN_ID = "0123456789ab"
OLD_CONFIG = f"{ENDPOINT}-fedcba987654"
DEPLOYMENT = "team-a"
EXECUTION = "arn:aws:states:us-east-1:123456789012:execution:team-a-deployer:run-1"


def objective(value: float, kind: str = "Maximize", metric: str = "validation:auc") -> dict:
    return {"metricName": metric, "type": kind, "value": value}


IF_BETTER = Promotion(policy="ifBetter", min_improvement=0.0)


@pytest.mark.parametrize(
    ("new", "live", "expected"),
    [
        (objective(0.9), objective(0.8), promotion.DEPLOY),
        (objective(0.8), objective(0.9), promotion.KEEP),
        (objective(0.8), objective(0.8), promotion.KEEP),  # equal is not better
        (objective(0.1, "Minimize"), objective(0.2, "Minimize"), promotion.DEPLOY),
        (objective(0.3, "Minimize"), objective(0.2, "Minimize"), promotion.KEEP),
        (None, objective(0.2), promotion.KEEP),  # no objective: cannot be shown better
        (objective(0.1), None, promotion.DEPLOY),  # live objective not recorded
        (objective(0.1, metric="f1"), objective(0.9), promotion.DEPLOY),  # metric changed
    ],
)
def test_if_better_compares_in_the_objectives_direction(new, live, expected):
    verdict = promotion.decide(IF_BETTER, new, live, live_config=OLD_CONFIG)
    assert verdict.decision == expected
    assert verdict.reason


def test_min_improvement_is_a_margin_the_new_value_must_exceed():
    margin = Promotion(policy="ifBetter", min_improvement=0.05)
    assert (
        promotion.decide(margin, objective(0.84), objective(0.8), live_config="c").decision
        == promotion.KEEP
    )
    verdict = promotion.decide(margin, objective(0.86), objective(0.8), live_config="c")
    assert verdict.decision == promotion.DEPLOY
    assert "0.06" in verdict.reason


def test_always_force_and_a_first_deployment_deploy():
    worse = (objective(0.1), objective(0.9))
    assert promotion.decide(Promotion(), *worse, live_config="c").decision == promotion.DEPLOY
    forced = promotion.decide(IF_BETTER, *worse, live_config="c", force=True)
    assert (forced.decision, forced.forced) == (promotion.DEPLOY, True)
    assert promotion.decide(IF_BETTER, *worse, live_config=None).decision == promotion.DEPLOY


def test_objective_tags_round_trip_and_stay_valid_tag_values():
    tags = tags_to_dict(objective_tags(objective(0.123456789, metric="val loss (%)")))
    assert objective_from_tags(tags) == {
        "metricName": "val loss ___",
        "type": "Maximize",
        "value": 0.123456789,
    }
    assert objective_tags(None) == [] and objective_tags({"value": float("nan")}) == []
    assert objective_from_tags({OBJECTIVE_VALUE_TAG_KEY: "high"}) is None
    assert len(tag_value("x" * 300)) == 256


# ---------------------------------------------------------------------------------------------
# The plan
# ---------------------------------------------------------------------------------------------


def lifecycle_doc(ml_parameters: dict[str, Any], **extra: Any) -> Any:
    return parse_ml_parameters({**ml_parameters, **extra})


def live_endpoint(sagemaker: Any, *, tags: list[dict[str, str]]) -> None:
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
                "InitialInstanceCount": 1,
                "InstanceType": "ml.c5.2xlarge",
            }
        ],
        Tags=tags,
    )
    sagemaker.create_endpoint(
        EndpointName=ENDPOINT,
        EndpointConfigName=OLD_CONFIG,
        Tags=[{"Key": OWNER_TAG_KEY, "Value": DEPLOYMENT}],
    )


def plan_with(ml, sagemaker, autoscaling, **request: Any) -> dict[str, Any]:
    return plan_deployment(
        ml,
        model_name=f"survival-model-{RUN_ID}",
        run_id=RUN_ID,
        tags=[{"Key": "run-id", "Value": RUN_ID}],
        deployment_name=DEPLOYMENT,
        request=DeploymentRequest(execution_arn=EXECUTION, **request),
        sagemaker=sagemaker,
        autoscaling=autoscaling,
    )


OWNED = [{"Key": OWNER_TAG_KEY, "Value": DEPLOYMENT}]


def test_a_worse_model_keeps_the_live_one_under_if_better(ml_parameters, sagemaker, autoscaling):
    live_endpoint(sagemaker, tags=OWNED + objective_tags(objective(0.9)))
    ml = lifecycle_doc(ml_parameters, promotion={"policy": "ifBetter"})
    plan = plan_with(ml, sagemaker, autoscaling, objective=objective(0.7))
    assert plan["decision"] == "keep"
    assert plan["endpointConfigName"] == OLD_CONFIG
    assert plan["promotion"]["liveObjective"]["value"] == 0.9
    assert "not better" in plan["promotion"]["reason"]
    assert plan["retention"]["keepModels"] == 5


def test_a_better_model_deploys_with_its_lineage_tags(ml_parameters, sagemaker, autoscaling):
    live_endpoint(sagemaker, tags=OWNED + objective_tags(objective(0.7)))
    ml = lifecycle_doc(ml_parameters, promotion={"policy": "ifBetter"})
    plan = plan_with(ml, sagemaker, autoscaling, objective=objective(0.9))
    assert plan["decision"] == "deploy" and plan["createEndpointConfig"] is True
    tags = tags_to_dict(plan["endpointConfig"]["Tags"])
    assert tags[REPLACES_TAG_KEY] == OLD_CONFIG
    assert objective_from_tags(tags)["value"] == 0.9
    assert plan["turn"]["promotion"]["decision"] == "deploy"


def test_force_deploy_overrides_if_better(ml_parameters, sagemaker, autoscaling):
    live_endpoint(sagemaker, tags=OWNED + objective_tags(objective(0.9)))
    ml = lifecycle_doc(ml_parameters, promotion={"policy": "ifBetter"})
    plan = plan_with(ml, sagemaker, autoscaling, objective=objective(0.1), force_deploy=True)
    assert plan["decision"] == "deploy" and plan["promotion"]["forced"] is True


@pytest.mark.parametrize(
    ("approval", "action", "status"),
    [("auto", "register", "Approved"), ("manual", "awaitApproval", "PendingManualApproval")],
)
def test_the_registry_plan_follows_the_approval_mode(
    ml_parameters, sagemaker, autoscaling, approval, action, status
):
    ml = lifecycle_doc(
        ml_parameters,
        modelRegistry={
            "modelPackageGroupName": "survival",
            "approval": approval,
            "approvalTimeoutHours": "0.5",
        },
    )
    plan = plan_deployment(
        ml,
        model_name=f"survival-model-{RUN_ID}",
        run_id=RUN_ID,
        tags=[],
        deployment_name=DEPLOYMENT,
        request=DeploymentRequest(
            execution_arn=EXECUTION,
            objective=objective(0.8),
            tuning_job_name="tuning-1",
            best_training_job_name="tuning-1-001-abc",
            approval_parameter_path="/sagemaker-tuner-deployer/team-a/pending-approvals",
        ),
        sagemaker=sagemaker,
        autoscaling=autoscaling,
    )
    registry = plan["registry"]
    assert (registry["action"], registry["request"]["approvalStatus"]) == (action, status)
    assert registry["timeoutSeconds"] == 1800
    assert registry["request"]["endpointConfigName"] == f"{ENDPOINT}-{RUN_ID}"
    if approval == "manual":
        assert registry["request"]["tokenParameterName"] == (
            "/sagemaker-tuner-deployer/team-a/pending-approvals/run-1"
        )
        assert plan["retention"]["protectSeconds"] > 1800


def test_a_kept_model_is_registered_rejected(ml_parameters, sagemaker, autoscaling):
    live_endpoint(sagemaker, tags=OWNED + objective_tags(objective(0.9)))
    ml = lifecycle_doc(
        ml_parameters,
        promotion={"policy": "ifBetter"},
        modelRegistry={"modelPackageGroupName": "survival", "approval": "manual"},
    )
    plan = plan_with(ml, sagemaker, autoscaling, objective=objective(0.5))
    assert plan["decision"] == "keep"
    assert plan["registry"]["action"] == "register"
    assert plan["registry"]["request"]["approvalStatus"] == "Rejected"


def test_manual_approval_without_a_parameter_path_is_a_configuration_error(
    ml_parameters, sagemaker, autoscaling
):
    ml = lifecycle_doc(
        ml_parameters, modelRegistry={"modelPackageGroupName": "g", "approval": "manual"}
    )
    with pytest.raises(ConfigurationError, match="approvalParameterPath"):
        plan_with(ml, sagemaker, autoscaling, objective=objective(0.5))


def test_after_registration_a_new_plan_registers_nothing_and_keeps_the_verdict(
    ml_parameters, sagemaker, autoscaling
):
    ml = lifecycle_doc(ml_parameters, modelRegistry={"modelPackageGroupName": "g"})
    verdict = {"policy": "always", "decision": "deploy", "reason": "approved", "forced": False}
    plan = plan_deployment(
        ml,
        model_name=f"survival-model-{RUN_ID}",
        run_id=RUN_ID,
        tags=[],
        deployment_name=DEPLOYMENT,
        turn=Turn(registration={"approvalStatus": "Approved"}, promotion=verdict),
        request=DeploymentRequest(execution_arn=EXECUTION),
        sagemaker=sagemaker,
        autoscaling=autoscaling,
    )
    assert plan["registry"] == {"action": "none"}
    assert plan["promotion"] == verdict
    assert plan["turn"]["registration"] == {"approvalStatus": "Approved"}


def test_a_rollback_deploys_an_existing_config_of_this_deployment(
    ml_parameters, sagemaker, autoscaling
):
    live_endpoint(sagemaker, tags=OWNED)
    sagemaker.create_endpoint_config(
        EndpointConfigName=f"{ENDPOINT}-aaaaaaaaaaaa",
        ProductionVariants=[
            {
                "VariantName": "AllTraffic",
                "ModelName": "survival-model-fedcba987654",
                "InitialInstanceCount": 1,
                "InstanceType": "ml.m5.large",
            }
        ],
        Tags=OWNED + objective_tags(objective(0.7)),
    )
    ml = lifecycle_doc(ml_parameters)
    plan = plan_with(ml, sagemaker, autoscaling, endpoint_config_name=f"{ENDPOINT}-aaaaaaaaaaaa")
    assert plan["decision"] == "deploy"
    assert plan["createEndpointConfig"] is False
    assert plan["endpointConfigName"] == f"{ENDPOINT}-aaaaaaaaaaaa"
    assert plan["previousEndpointConfigName"] == OLD_CONFIG
    assert plan["registry"] == {"action": "none"}
    assert plan["promotion"]["newObjective"]["value"] == 0.7


@pytest.mark.parametrize(
    ("config", "tags", "error"),
    [
        (OLD_CONFIG, None, "EndpointConfigAlreadyLive"),
        (f"{ENDPOINT}-bbbbbbbbbbbb", None, "EndpointConfigNotFound"),
        (
            f"{ENDPOINT}-cccccccccccc",
            [{"Key": OWNER_TAG_KEY, "Value": "team-b"}],
            "EndpointConfigOwnedByAnotherDeployment",
        ),
        (f"{ENDPOINT}-dddddddddddd", [], "EndpointConfigOwnedByAnotherDeployment"),
    ],
)
def test_a_rollback_to_a_config_it_cannot_deploy_is_refused(
    ml_parameters, sagemaker, autoscaling, config, tags, error
):
    live_endpoint(sagemaker, tags=OWNED)
    if tags is not None:
        sagemaker.create_endpoint_config(
            EndpointConfigName=config,
            ProductionVariants=[
                {
                    "VariantName": "AllTraffic",
                    "ModelName": "survival-model-fedcba987654",
                    "InitialInstanceCount": 1,
                    "InstanceType": "ml.m5.large",
                }
            ],
            Tags=tags,
        )
    plan = plan_with(
        lifecycle_doc(ml_parameters), sagemaker, autoscaling, endpoint_config_name=config
    )
    assert plan["decision"] == "refuse"
    assert plan["error"]["Error"] == error
    assert config in plan["error"]["Cause"]
