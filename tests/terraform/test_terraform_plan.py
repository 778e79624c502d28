"""Plan-JSON assertions: names, tags, IAM, SSM parameters, the manifest trigger.

Two roots outside the repository are planned once per session against a plain moto server
(conftest.py): `full_plan` (the seed's parameters, every option on) and `variant_plan`
(mixed-case names, training image, warm start, no VPC, bring-your-own role and topic).
"""

from __future__ import annotations

import fnmatch
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from python_terraform import IsFlagged

from tests.support.terraform import (
    ACCOUNT_ID,
    BRING_YOUR_OWN,
    KMS_KEYS,
    REGION,
    REPO_ROOT,
    TEST_RUNTIME,
    VARIANT_PACKAGE_S3,
    TerraformDir,
    as_list,
    planned_resources,
    policy_statements,
    role_policies,
    ssm_expected_values,
    write_root,
)

pytestmark = [
    pytest.mark.terraform,
    # One worker per group under pytest-xdist: the group shares its session fixtures (plans, or
    # the applied deployment) instead of building them once per worker.
    pytest.mark.xdist_group("terraform-plans"),
    # python-terraform logs a non-zero exit (plan's "changes" code 2) with a deprecated call.
    pytest.mark.filterwarnings("ignore:The 'warn' method is deprecated:DeprecationWarning"),
]

# Actions that AWS offers on "*" only (no resource-level permission), each allowed on "*".
ACTIONS_WITHOUT_RESOURCE_LEVEL = {
    "logs:CreateLogDelivery",
    "logs:DeleteLogDelivery",
    "logs:DescribeLogGroups",
    "logs:DescribeResourcePolicies",
    "logs:GetLogDelivery",
    "logs:ListLogDeliveries",
    "logs:PutResourcePolicy",
    "logs:UpdateLogDelivery",
    "xray:GetSamplingRules",
    "xray:GetSamplingTargets",
    "xray:PutTelemetryRecords",
    "xray:PutTraceSegments",
    "application-autoscaling:DescribeScalableTargets",
    "application-autoscaling:DeregisterScalableTarget",
    "application-autoscaling:PutScalingPolicy",
    "application-autoscaling:RegisterScalableTarget",
    "ec2:DescribeDhcpOptions",
    "ec2:DescribeNetworkInterfaces",
    "ec2:DescribeSecurityGroups",
    "ec2:DescribeSubnets",
    "ec2:DescribeVpcs",
    "ecr:GetAuthorizationToken",
    "cloudwatch:PutMetricData",
    "sagemaker:ListEndpointConfigs",
    "sagemaker:ListModelPackages",
    "sagemaker:ListModels",
}
# Actions that Step Functions' own policy template for a SageMaker .sync job allows on "*".
SYNC_INTEGRATION_ACTIONS_ON_STAR = {"sagemaker:ListTags"}
# Resuming a .waitForTaskToken task: IAM scopes SendTask* to activities only; the token names
# the task.
CALLBACK_ACTIONS_ON_STAR = {"states:SendTaskFailure", "states:SendTaskSuccess"}
# Application Auto Scaling calls that change scaling: on "*" (scalable targets have generated
# IDs) but only for SageMaker variants' instance counts.
SCALING_WRITE_ACTIONS = {
    "application-autoscaling:DeregisterScalableTarget",
    "application-autoscaling:PutScalingPolicy",
    "application-autoscaling:RegisterScalableTarget",
}
RUN_ID = "0123456789ab"


def all_statements(plan: dict[str, Any]) -> list[dict[str, Any]]:
    statements = [s for policy in role_policies(plan).values() for s in policy]
    for role in planned_resources(plan, "aws_iam_role"):
        statements.extend(policy_statements(role["assume_role_policy"]))
    return statements


def condition(statement: dict[str, Any], test: str, key: str) -> list[str]:
    """A condition's values as a list (providers render a single value as a string or a list)."""
    return as_list(statement.get("Condition", {}).get(test, {}).get(key, []))


def statements_with(plan: dict[str, Any], action: str) -> list[dict[str, Any]]:
    return [s for s in all_statements(plan) if action in as_list(s.get("Action", []))]


# ---------------------------------------------------------------------------------------------
# Names and tags
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("resource_type", "name_key"),
    [
        ("aws_iam_role", "name"),
        ("aws_iam_role_policy", "name"),
        ("aws_lambda_function", "function_name"),
        ("aws_sfn_state_machine", "name"),
        ("aws_sns_topic", "name"),
        ("aws_sqs_queue", "name"),
        ("aws_cloudwatch_log_group", "name"),
        ("aws_ssm_parameter", "name"),
    ],
)
def test_every_resource_name_derives_from_the_name_prefix(
    full_plan: dict[str, Any], resource_type: str, name_key: str
) -> None:
    resources = planned_resources(full_plan, resource_type)

    assert resources, f"no {resource_type} planned"
    for resource in resources:
        name = resource[name_key]
        if resource_type == "aws_ssm_parameter":
            # Parameter Store names are paths; the deployment's is /<name_prefix> by default.
            assert name.startswith("/tfplan-full/"), f"{resource['address']}: {name}"
        else:
            assert name.split("/")[-1].startswith("tfplan-full-"), f"{resource['address']}: {name}"


def test_the_parameter_store_path_defaults_to_the_name_prefix(default_plan: dict[str, Any]) -> None:
    names = [p["name"] for p in planned_resources(default_plan, "aws_ssm_parameter")]
    outputs = default_plan["planned_values"]["outputs"]["module"]["value"]

    # One parameter per file by default (parameter_store_layout "document").
    assert sorted(names) == ["/sagemaker-tuner/hyperparameters", "/sagemaker-tuner/ml-parameters"]
    assert outputs["ssm_parameter_path"] == "/sagemaker-tuner"


def test_every_taggable_resource_carries_the_environment_and_the_caller_tags(
    full_plan: dict[str, Any],
) -> None:
    taggable = [
        change["change"]["after"] | {"address": change["address"]}
        for change in full_plan["resource_changes"]
        if change["mode"] == "managed" and "tags" in (change["change"]["after"] or {})
    ]

    assert len(taggable) > 40
    for resource in taggable:
        # The seed's key, Environment; the caller's lowercase environment tag is replaced.
        assert resource["tags"] == {"Environment": "staging", "team": "ml-platform"}, resource[
            "address"
        ]


def test_log_groups_are_named_after_their_function_or_state_machine(
    full_plan: dict[str, Any],
) -> None:
    log_groups = {
        group["name"]: group for group in planned_resources(full_plan, "aws_cloudwatch_log_group")
    }
    functions = [f["function_name"] for f in planned_resources(full_plan, "aws_lambda_function")]
    machines = [m["name"] for m in planned_resources(full_plan, "aws_sfn_state_machine")]

    expected = {f"/aws/lambda/{name}" for name in functions} | {
        f"/aws/vendedlogs/states/{name}" for name in machines
    }
    assert set(log_groups) == expected
    for group in log_groups.values():
        assert group["retention_in_days"] == 30
        assert group["kms_key_id"] == KMS_KEYS["logs"]


def test_state_machines_are_standard_and_log_without_execution_data_by_default(
    full_plan: dict[str, Any],
) -> None:
    machines = planned_resources(full_plan, "aws_sfn_state_machine")

    assert sorted(m["name"] for m in machines) == [
        "tfplan-full-deployer",
        "tfplan-full-tuner",
        "tfplan-full-workflow",
    ]
    for machine in machines:
        assert machine["type"] == "STANDARD"
        logging = machine["logging_configuration"][0]
        assert logging["level"] == "ERROR"
        assert logging["include_execution_data"] is False
        assert machine["tracing_configuration"][0]["enabled"] is False


def test_lambda_functions_run_the_package_handlers_with_the_given_runtime(
    full_plan: dict[str, Any], lambda_package: Path
) -> None:
    functions = {
        f["function_name"].removeprefix("tfplan-full-"): f
        for f in planned_resources(full_plan, "aws_lambda_function")
    }

    assert {name: f["handler"] for name, f in functions.items()} == {
        "prepare-tuning-run": "tuning_workflow.handlers.prepare_tuning_run",
        "find-best-training-job": "tuning_workflow.handlers.find_best_training_job",
        "plan-deployment": "tuning_workflow.handlers.plan_deployment",
        "start-endpoint-deployment": "tuning_workflow.handlers.start_endpoint_deployment",
        "check-endpoint": "tuning_workflow.handlers.check_endpoint",
        "describe-failure": "tuning_workflow.handlers.describe_failure",
        "start-from-manifest": "tuning_workflow.handlers.start_from_manifest",
        "register-model": "tuning_workflow.handlers.register_model",
        "apply-retention": "tuning_workflow.handlers.apply_retention",
    }
    assert {f["runtime"] for f in functions.values()} == {"python3.8"}
    # The source hash makes an unchanged package plan no change.
    assert len({f["source_code_hash"] for f in functions.values()}) == 1
    # AND by default each function sends the local package itself
    assert {f["filename"] for f in functions.values()} == {str(lambda_package)}
    assert {f.get("s3_bucket") for f in functions.values()} == {None}


def test_functions_take_their_code_from_the_uploaded_package_when_given(
    variant_plan: dict[str, Any], full_plan: dict[str, Any]
) -> None:
    # GIVEN the variant, whose caller uploaded the package to S3 (lambda_package_s3)
    functions = planned_resources(variant_plan, "aws_lambda_function")

    # THEN every function reads that object, and none sends the local file
    assert len(functions) >= 9
    assert {
        (f["s3_bucket"], f["s3_key"], f["s3_object_version"], f.get("filename")) for f in functions
    } == {
        (
            VARIANT_PACKAGE_S3["bucket"],
            VARIANT_PACKAGE_S3["key"],
            VARIANT_PACKAGE_S3["object_version"],
            None,
        )
    }
    # AND the source hash is still the local package's, as with the local file
    hashes = {f["source_code_hash"] for f in planned_resources(full_plan, "aws_lambda_function")}
    assert {f["source_code_hash"] for f in functions} == hashes


# ---------------------------------------------------------------------------------------------
# IAM
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("plan_name", ["full_plan", "variant_plan"])
def test_no_policy_uses_an_action_wildcard(plan_name: str, request: pytest.FixtureRequest) -> None:
    plan = request.getfixturevalue(plan_name)

    actions = [a for s in all_statements(plan) for a in as_list(s.get("Action", []))]

    assert actions
    assert [a for a in actions if "*" in a] == []


@pytest.mark.parametrize("plan_name", ["full_plan", "variant_plan"])
def test_star_resources_only_where_the_api_has_no_resource_level_permission(
    plan_name: str, request: pytest.FixtureRequest
) -> None:
    plan = request.getfixturevalue(plan_name)

    on_star = [s for s in all_statements(plan) if "*" in as_list(s.get("Resource", []))]

    assert on_star
    for statement in on_star:
        actions = set(as_list(statement["Action"]))
        assert (
            actions
            <= ACTIONS_WITHOUT_RESOURCE_LEVEL
            | SYNC_INTEGRATION_ACTIONS_ON_STAR
            | CALLBACK_ACTIONS_ON_STAR
        ), statement
        if "cloudwatch:PutMetricData" in actions:
            assert condition(statement, "StringLike", "cloudwatch:namespace") == [
                "/aws/sagemaker/*"
            ]
        if actions & SCALING_WRITE_ACTIONS:
            assert condition(
                statement, "StringEquals", "application-autoscaling:service-namespace"
            ) == ["sagemaker"], statement
            assert condition(
                statement, "StringEquals", "application-autoscaling:scalable-dimension"
            ) == ["sagemaker:variant:DesiredInstanceCount"], statement


def test_pass_role_only_for_the_sagemaker_execution_role_and_only_to_sagemaker(
    full_plan: dict[str, Any], variant_plan: dict[str, Any]
) -> None:
    created_role = f"arn:aws:iam::{ACCOUNT_ID}:role/tfplan-full-sagemaker-execution"
    for plan, role in (
        (full_plan, created_role),
        (variant_plan, BRING_YOUR_OWN["sagemaker_execution_role_arn"]),
    ):
        statements = statements_with(plan, "iam:PassRole")

        assert len(statements) == 1
        assert as_list(statements[0]["Resource"]) == [role]
        assert list(statements[0]["Condition"]) == ["StringEquals"]
        assert condition(statements[0], "StringEquals", "iam:PassedToService") == [
            "sagemaker.amazonaws.com"
        ]


def test_sagemaker_permissions_are_scoped_to_the_lowercased_names_of_this_deployment(
    variant_plan: dict[str, Any],
) -> None:
    # GIVEN names with capitals (Churn-Tuning, Churn-Model, Churn-Endpoint): SageMaker ARNs
    # carry them lowercased.
    stem = f"arn:aws:sagemaker:{REGION}:{ACCOUNT_ID}"
    run = "????????????"  # one IAM "?" per hex digit of the run id
    allowed = {
        f"{stem}:hyper-parameter-tuning-job/churn-tuning-{run}",
        f"{stem}:training-job/churn-tuning-{run}-*",
        f"{stem}:model/churn-model-{run}",
        f"{stem}:endpoint-config/churn-endpoint-{run}",
        # Reads only: the live config an update replaces may predate this module.
        f"{stem}:endpoint-config/churn-endpoint-*",
        f"{stem}:endpoint/churn-endpoint",
        # The model registry (the variant registers with manual approval).
        f"{stem}:model-package-group/churn-models",
        f"{stem}:model-package/churn-models/*",
    }

    resources = {
        r
        for s in all_statements(variant_plan)
        for r in as_list(s.get("Resource", []))
        if r.startswith("arn:aws:sagemaker:")
    }

    assert resources == allowed


def test_tuner_may_run_the_sync_tuning_job_and_its_events_rule(full_plan: dict[str, Any]) -> None:
    tuner = role_policies(full_plan)["tfplan-full-tuner-permissions"]
    by_sid = {s["Sid"]: s for s in tuner}

    assert set(as_list(by_sid["RunTuningJobs"]["Action"])) == {
        "sagemaker:CreateHyperParameterTuningJob",
        "sagemaker:DescribeHyperParameterTuningJob",
        "sagemaker:StopHyperParameterTuningJob",
        "sagemaker:AddTags",
    }
    # As in the policy Step Functions generates for SageMaker .sync jobs: ListTags on "*",
    # and nothing else there.
    assert as_list(by_sid["ReadTagsForSyncIntegration"]["Action"]) == ["sagemaker:ListTags"]
    assert as_list(by_sid["ReadTagsForSyncIntegration"]["Resource"]) == ["*"]
    assert as_list(by_sid["ManageTuningJobEventsRule"]["Resource"]) == [
        f"arn:aws:events:{REGION}:{ACCOUNT_ID}:rule/StepFunctionsGetEventsForSageMakerTuningJobsRule"
    ]


def reachable(plan: dict[str, Any], role_policy: str, action: str, arn: str) -> bool:
    """Whether an Allow statement of the role policy grants `action` on `arn`. IAM's `*` and
    `?` match as fnmatch's do; the ARNs here hold no `[`, so fnmatch's classes never apply."""
    return any(
        action in as_list(statement["Action"])
        and any(fnmatch.fnmatchcase(arn, pattern) for pattern in as_list(statement["Resource"]))
        for statement in role_policies(plan)[role_policy]
    )


@pytest.mark.parametrize(
    ("role_policy", "action", "kind", "name"),
    [
        (
            "tuner",
            "sagemaker:CreateHyperParameterTuningJob",
            "hyper-parameter-tuning-job",
            "churn-tuning-{run}",
        ),
        (
            "tuner",
            "sagemaker:StopHyperParameterTuningJob",
            "hyper-parameter-tuning-job",
            "churn-tuning-{run}",
        ),
        (
            "find-best-training-job",
            "sagemaker:DescribeTrainingJob",
            "training-job",
            "churn-tuning-{run}-007-1a2b3c4d",
        ),
        ("tuner", "sagemaker:CreateModel", "model", "churn-model-{run}"),
        ("deployer", "sagemaker:CreateEndpointConfig", "endpoint-config", "churn-endpoint-{run}"),
        (
            "start-endpoint-deployment",
            "sagemaker:UpdateEndpoint",
            "endpoint-config",
            "churn-endpoint-{run}",
        ),
    ],
)
def test_run_resources_are_reachable_but_not_those_of_a_deployment_with_a_longer_base_name(
    variant_plan: dict[str, Any], role_policy: str, action: str, kind: str, name: str
) -> None:
    # GIVEN this deployment's run names, and another deployment whose base names extend these
    # ("churn-tuning-v2", "churn-model-v2", "churn-endpoint-v2").
    stem = f"arn:aws:sagemaker:{REGION}:{ACCOUNT_ID}:{kind}"
    own = f"{stem}/{name.format(run=RUN_ID)}"
    neighbour = f"{stem}/{name.replace('-{run}', '-v2-{run}').format(run=RUN_ID)}"
    policy = f"tfplan-variant-{role_policy}-permissions"

    # THEN the role reaches its own run's resource and not the neighbour's.
    assert reachable(variant_plan, policy, action, own)
    assert not reachable(variant_plan, policy, action, neighbour)


def test_endpoint_configs_are_written_by_run_name_and_read_by_endpoint_name(
    variant_plan: dict[str, Any],
) -> None:
    configs = f"arn:aws:sagemaker:{REGION}:{ACCOUNT_ID}:endpoint-config/churn-endpoint"
    # A config of the same endpoint that this module did not create (a timestamped name).
    older = f"{configs}-20240101120000"
    for role_policy in ("deployer", "start-endpoint-deployment"):
        policy = f"tfplan-variant-{role_policy}-permissions"
        for action in (
            "sagemaker:CreateEndpointConfig",
            "sagemaker:CreateEndpoint",
            "sagemaker:UpdateEndpoint",
            "sagemaker:AddTags",
        ):
            assert not reachable(variant_plan, policy, action, older), (policy, action)
    for role_policy in ("deployer", "plan-deployment"):
        policy = f"tfplan-variant-{role_policy}-permissions"
        assert reachable(variant_plan, policy, "sagemaker:DescribeEndpointConfig", older)


def test_endpoint_deployment_function_tags_and_describes_only_the_endpoint(
    full_plan: dict[str, Any],
) -> None:
    stem = f"arn:aws:sagemaker:{REGION}:{ACCOUNT_ID}"
    by_sid = {
        s["Sid"]: s
        for s in role_policies(full_plan)["tfplan-full-start-endpoint-deployment-permissions"]
    }

    assert sorted(as_list(by_sid["DeployEndpoint"]["Action"])) == [
        "sagemaker:CreateEndpoint",
        "sagemaker:UpdateEndpoint",
    ]
    assert sorted(as_list(by_sid["DeployEndpoint"]["Resource"])) == [
        f"{stem}:endpoint-config/survival-endpoint-????????????",
        f"{stem}:endpoint/survival-endpoint",
    ]
    assert sorted(as_list(by_sid["TagAndDescribeEndpoint"]["Action"])) == [
        "sagemaker:AddTags",
        "sagemaker:DescribeEndpoint",
    ]
    assert as_list(by_sid["TagAndDescribeEndpoint"]["Resource"]) == [
        f"{stem}:endpoint/survival-endpoint"
    ]


def test_only_the_plan_reads_the_endpoints_owner_tag_and_only_on_its_endpoint(
    full_plan: dict[str, Any], variant_plan: dict[str, Any]
) -> None:
    stem = f"arn:aws:sagemaker:{REGION}:{ACCOUNT_ID}"
    for plan, prefix, endpoint in (
        (full_plan, "tfplan-full", "survival-endpoint"),
        (variant_plan, "tfplan-variant", "churn-endpoint"),
    ):
        policies = role_policies(plan)
        by_sid = {s["Sid"]: s for s in policies[f"{prefix}-plan-deployment-permissions"]}
        assert as_list(by_sid["ReadEndpointOwner"]["Action"]) == ["sagemaker:ListTags"]
        assert as_list(by_sid["ReadEndpointOwner"]["Resource"]) == [f"{stem}:endpoint/{endpoint}"]
        # Elsewhere ListTags is only the tuner's .sync integration's, and retention's (owner
        # tags of configs and models).
        readers = {
            name
            for name, statements in policies.items()
            for s in statements
            if "sagemaker:ListTags" in as_list(s.get("Action", []))
        }
        assert readers == {
            f"{prefix}-plan-deployment-permissions",
            f"{prefix}-apply-retention-permissions",
            f"{prefix}-tuner-permissions",
        }


def test_scaling_calls_are_limited_to_sagemaker_variant_instance_counts(
    full_plan: dict[str, Any],
) -> None:
    deployer = {s["Sid"]: s for s in role_policies(full_plan)["tfplan-full-deployer-permissions"]}
    scaling = deployer["RegisterScaling"]

    assert set(as_list(scaling["Action"])) == SCALING_WRITE_ACTIONS
    assert list(scaling["Condition"]) == ["StringEquals"]
    assert condition(scaling, "StringEquals", "application-autoscaling:service-namespace") == [
        "sagemaker"
    ]
    assert condition(scaling, "StringEquals", "application-autoscaling:scalable-dimension") == [
        "sagemaker:variant:DesiredInstanceCount"
    ]
    # No other statement of any role grants these actions.
    assert [s for a in SCALING_WRITE_ACTIONS for s in statements_with(full_plan, a)] == [
        scaling
    ] * len(SCALING_WRITE_ACTIONS)


@pytest.fixture(scope="module")
def mixed_case_algorithm_plan(
    tmp_path_factory: pytest.TempPathFactory,
    terraform_dir: Callable[..., TerraformDir],
    moto_endpoint: str,
    seed_documents: dict[str, Any],
    lambda_package: Path,
) -> dict[str, Any]:
    """The seed's parameters with an algorithm resource whose name has capitals."""
    directory = tmp_path_factory.mktemp("mixed-case-algorithm")
    ml_parameters = json.loads(json.dumps(seed_documents["ml_parameters"]))
    ml_parameters["algorithmARN"] = (
        f"arn:aws:sagemaker:{REGION}:{ACCOUNT_ID}:algorithm/H2O-GBM-Algorithm"
    )
    (directory / "ml-parameters.json").write_text(json.dumps(ml_parameters))
    (directory / "hyperparameters.json").write_text(json.dumps(seed_documents["hyperparameters"]))
    inputs = {
        "name_prefix": "tfplan-algorithm",
        "s3_bucket": "sagemaker-tuner-demo",
        "ml_parameters_file": str(directory / "ml-parameters.json"),
        "hyperparameters_file": str(directory / "hyperparameters.json"),
        "lambda_runtime": TEST_RUNTIME,
        "lambda_package_path": str(lambda_package),
    }
    root = write_root(directory / "root", REPO_ROOT, inputs)
    terraform = terraform_dir(root)
    terraform.init()
    return terraform.plan_json({"endpoint_url": moto_endpoint}, root / "plan.bin")


def test_algorithm_is_described_by_its_lowercased_arn(
    mixed_case_algorithm_plan: dict[str, Any],
) -> None:
    # GIVEN algorithmARN .../algorithm/H2O-GBM-Algorithm: SageMaker's ARN carries it lowercased.
    statements = statements_with(mixed_case_algorithm_plan, "sagemaker:DescribeAlgorithm")

    assert [as_list(s["Resource"]) for s in statements] == [
        [f"arn:aws:sagemaker:{REGION}:{ACCOUNT_ID}:algorithm/h2o-gbm-algorithm"]
    ]


def test_workflow_may_only_start_and_follow_its_two_children(full_plan: dict[str, Any]) -> None:
    workflow = {s["Sid"]: s for s in role_policies(full_plan)["tfplan-full-workflow-permissions"]}
    machines = f"arn:aws:states:{REGION}:{ACCOUNT_ID}"

    assert sorted(as_list(workflow["StartChildWorkflows"]["Resource"])) == [
        f"{machines}:stateMachine:tfplan-full-deployer",
        f"{machines}:stateMachine:tfplan-full-tuner",
    ]
    assert sorted(as_list(workflow["FollowChildExecutions"]["Resource"])) == [
        f"{machines}:execution:tfplan-full-deployer:*",
        f"{machines}:execution:tfplan-full-tuner:*",
    ]
    assert as_list(workflow["ManageChildExecutionEventsRule"]["Resource"]) == [
        f"arn:aws:events:{REGION}:{ACCOUNT_ID}:rule/StepFunctionsGetEventsForStepFunctionsExecutionRule"
    ]


def test_service_linked_role_creation_is_limited_to_application_auto_scaling(
    full_plan: dict[str, Any],
) -> None:
    statements = statements_with(full_plan, "iam:CreateServiceLinkedRole")

    assert len(statements) == 1
    assert list(statements[0]["Condition"]) == ["StringEquals"]
    assert condition(statements[0], "StringEquals", "iam:AWSServiceName") == [
        "sagemaker.application-autoscaling.amazonaws.com"
    ]


def test_trust_policies_carry_confused_deputy_conditions(full_plan: dict[str, Any]) -> None:
    for role in planned_resources(full_plan, "aws_iam_role"):
        (statement,) = policy_statements(role["assume_role_policy"])
        service = statement["Principal"]["Service"]
        if service == "states.amazonaws.com":
            machine = role["name"].removesuffix("-role")
            assert condition(statement, "StringEquals", "aws:SourceAccount") == [ACCOUNT_ID]
            assert condition(statement, "ArnLike", "aws:SourceArn") == [
                f"arn:aws:states:{REGION}:{ACCOUNT_ID}:stateMachine:{machine}"
            ]
        elif service == "sagemaker.amazonaws.com":
            assert condition(statement, "StringEquals", "aws:SourceAccount") == [ACCOUNT_ID]
        else:
            assert service == "lambda.amazonaws.com", role["name"]


def test_lambda_logs_permissions_name_only_the_functions_own_log_group(
    full_plan: dict[str, Any],
) -> None:
    for function in planned_resources(full_plan, "aws_lambda_function"):
        name = function["function_name"]
        statements = {s["Sid"]: s for s in role_policies(full_plan)[f"{name}-permissions"]}

        assert as_list(statements["WriteOwnLogGroup"]["Resource"]) == [
            f"arn:aws:logs:{REGION}:{ACCOUNT_ID}:log-group:/aws/lambda/{name}:*"
        ]


def test_s3_permissions_stay_in_the_given_buckets(full_plan: dict[str, Any]) -> None:
    buckets = {"sagemaker-tuner-demo", "extra-training-data"}

    resources = [
        r
        for s in all_statements(full_plan)
        for r in as_list(s.get("Resource", []))
        if r.startswith("arn:aws:s3:::")
    ]

    assert resources
    assert {r.removeprefix("arn:aws:s3:::").split("/")[0] for r in resources} == buckets
    writes = [
        s for s in all_statements(full_plan) if "s3:PutObject" in as_list(s.get("Action", []))
    ]
    assert sorted(as_list(writes[0]["Resource"])) == [
        "arn:aws:s3:::sagemaker-tuner-demo/model-artifacts/*",
        "arn:aws:s3:::sagemaker-tuner-demo/model-training-checkpoint/*",
    ]


def test_sagemaker_role_gets_vpc_and_kms_permissions_only_when_configured(
    full_plan: dict[str, Any], variant_plan: dict[str, Any]
) -> None:
    # GIVEN the full plan (VPC subnets, KMS keys) THEN its SageMaker role may use them.
    role = {
        s["Sid"]: s for s in role_policies(full_plan)["tfplan-full-sagemaker-execution-permissions"]
    }
    assert (
        f"arn:aws:ec2:{REGION}:{ACCOUNT_ID}:subnet/subnet-0a1b2c3d4e5f60001"
        in role["CreateNetworkInterfacesInTheGivenSubnets"]["Resource"]
    )
    assert sorted(as_list(role["UseEncryptionKeys"]["Resource"])) == sorted(
        [KMS_KEYS["training_volume"], KMS_KEYS["training_output"], KMS_KEYS["endpoint"]]
    )
    # The algorithm's images are unknown at plan time: this account's repositories only.
    assert as_list(role["PullImages"]["Resource"]) == [
        f"arn:aws:ecr:{REGION}:{ACCOUNT_ID}:repository/*"
    ]
    # GIVEN the variant (its own role, no VPC) THEN no role of the module touches EC2 or KMS.
    variant_actions = {
        a for s in all_statements(variant_plan) for a in as_list(s.get("Action", []))
    }
    assert not {a for a in variant_actions if a.startswith(("ec2:", "kms:"))}
    assert "tfplan-variant-sagemaker-execution-permissions" not in role_policies(variant_plan)


def test_publishers_may_use_the_customer_managed_topic_key(full_plan: dict[str, Any]) -> None:
    for machine in ("tuner", "deployer", "workflow"):
        statements = {
            s["Sid"]: s for s in role_policies(full_plan)[f"tfplan-full-{machine}-permissions"]
        }

        assert as_list(statements["EncryptNotifications"]["Resource"]) == [KMS_KEYS["sns"]]
        assert as_list(statements["NotifyFailures"]["Resource"]) == [
            f"arn:aws:sns:{REGION}:{ACCOUNT_ID}:tfplan-full-notifications"
        ]


# ---------------------------------------------------------------------------------------------
# SSM parameters
# ---------------------------------------------------------------------------------------------


def test_by_default_each_parameter_file_is_published_whole_as_one_json_parameter(
    full_plan: dict[str, Any], seed_documents: dict[str, Any]
) -> None:
    planned = {p["name"]: p for p in planned_resources(full_plan, "aws_ssm_parameter")}
    outputs = full_plan["planned_values"]["outputs"]["module"]["value"]

    assert sorted(planned) == ["/tfplan-full/hyperparameters", "/tfplan-full/ml-parameters"]
    assert (
        json.loads(planned["/tfplan-full/ml-parameters"]["value"])
        == (seed_documents["ml_parameters"])
    )
    assert (
        json.loads(planned["/tfplan-full/hyperparameters"]["value"])
        == (seed_documents["hyperparameters"])
    )
    # The seed's traps survive: a "True"-style string stays a string, lists stay lists.
    hyperparameters = json.loads(planned["/tfplan-full/hyperparameters"]["value"])
    assert hyperparameters["staticHyperParameters"]["balance_classes"] == "True"
    assert {p["type"] for p in planned.values()} == {"String"}
    assert {p["tier"] for p in planned.values()} == {"Standard"}
    assert outputs["ssm_parameter_names"] == {
        "ml-parameters": "/tfplan-full/ml-parameters",
        "hyperparameters": "/tfplan-full/hyperparameters",
    }


def test_the_leaves_layout_publishes_every_leaf_of_the_parameter_files_as_the_seed_did(
    all_options_plan: dict[str, Any], seed_documents: dict[str, Any]
) -> None:
    # parameter_store_layout = "leaves", under /tfplan-all.
    expected = ssm_expected_values(
        seed_documents["ml_parameters"], seed_documents["hyperparameters"]
    )

    planned = {p["name"]: p for p in planned_resources(all_options_plan, "aws_ssm_parameter")}
    outputs = all_options_plan["planned_values"]["outputs"]["module"]["value"]

    assert {name: p["value"] for name, p in planned.items()} == {
        f"/tfplan-all/{key}": value for key, value in expected.items()
    }
    assert outputs["ssm_parameter_names"] == {key: f"/tfplan-all/{key}" for key in expected}
    assert {p["type"] for p in planned.values()} == {"String"}
    assert {p["tier"] for p in planned.values()} == {"Standard"}
    # The seed's traps: a string "False"-style boolean stays text, lists stay whole JSON.
    assert planned["/tfplan-all/model/hosting/subnets"]["value"] == json.dumps(
        seed_documents["ml_parameters"]["model"]["hosting"]["subnets"], separators=(",", ":")
    )
    assert (
        planned["/tfplan-all/hyperparameters/staticHyperParameters/balance_classes"]["value"]
        == "True"
    )


def test_a_document_over_4096_bytes_goes_to_the_advanced_tier(
    variant_plan: dict[str, Any], variant_documents: dict[str, Any]
) -> None:
    # The variant publishes under a path of its own (/teams/churn), not /<name_prefix>; its
    # hyperparameters hold a value of 2,100 characters that are 4,200 bytes.
    planned = {p["name"]: p for p in planned_resources(variant_plan, "aws_ssm_parameter")}

    assert {name: json.loads(p["value"]) for name, p in planned.items()} == {
        "/teams/churn/ml-parameters": variant_documents["ml_parameters"],
        "/teams/churn/hyperparameters": variant_documents["hyperparameters"],
    }
    assert {name: p["tier"] for name, p in planned.items()} == {
        "/teams/churn/ml-parameters": "Standard",
        "/teams/churn/hyperparameters": "Advanced",
    }


@pytest.mark.parametrize("layout", ["document", "leaves"])
def test_a_value_over_8192_bytes_fails_the_plan_naming_its_file(
    layout: str,
    tmp_path_factory: pytest.TempPathFactory,
    terraform_dir: Callable[..., TerraformDir],
    moto_endpoint: str,
    seed_documents: dict[str, Any],
    lambda_package: Path,
) -> None:
    directory = tmp_path_factory.mktemp(f"oversized-{layout}")
    hyperparameters = json.loads(json.dumps(seed_documents["hyperparameters"]))
    # 2,100 characters (SageMaker allows 2,500 in a value) but 8,400 bytes.
    hyperparameters["staticHyperParameters"]["feature_notes"] = "\U0001f600" * 2100
    hyperparameters_file = directory / "hyperparameters.json"
    hyperparameters_file.write_text(json.dumps(hyperparameters, ensure_ascii=False))
    (directory / "ml-parameters.json").write_text(json.dumps(seed_documents["ml_parameters"]))
    inputs = {
        "name_prefix": f"tfplan-oversized-{layout}",
        "s3_bucket": "sagemaker-tuner-demo",
        "ml_parameters_file": str(directory / "ml-parameters.json"),
        "hyperparameters_file": str(hyperparameters_file),
        "parameter_store_layout": layout,
        "lambda_runtime": TEST_RUNTIME,
        "lambda_package_path": str(lambda_package),
    }
    terraform = terraform_dir(write_root(directory / "root", REPO_ROOT, inputs))
    terraform.init()

    result = terraform.run(
        "plan", None, var={"endpoint_url": moto_endpoint}, input=False, no_color=IsFlagged
    )

    assert result.returncode == 1, result.output
    output = " ".join(result.output.split())
    assert str(hyperparameters_file) in output
    assert "Parameter Store holds at most 8192 bytes (Advanced tier)" in output
    if layout == "document":
        assert f"/tfplan-oversized-{layout}/hyperparameters (the whole of" in output
        assert 'parameter_store_layout = "leaves"' in output
    else:
        assert "$.staticHyperParameters.feature_notes of" in output


# ---------------------------------------------------------------------------------------------
# Manifest trigger
# ---------------------------------------------------------------------------------------------


def test_manifest_trigger_is_invocable_by_the_bucket_of_this_account_only(
    full_plan: dict[str, Any],
) -> None:
    (permission,) = planned_resources(full_plan, "aws_lambda_permission")
    (function,) = [
        f
        for f in planned_resources(full_plan, "aws_lambda_function")
        if f["function_name"].endswith("start-from-manifest")
    ]

    assert permission["principal"] == "s3.amazonaws.com"
    assert permission["source_arn"] == "arn:aws:s3:::sagemaker-tuner-demo"
    assert permission["source_account"] == ACCOUNT_ID
    assert function["environment"][0]["variables"] == {
        "STATE_MACHINE_ARN": f"arn:aws:states:{REGION}:{ACCOUNT_ID}:stateMachine:tfplan-full-workflow",
        "MANIFEST_PREFIX": "manifests/",
    }


def test_bucket_notification_only_when_the_caller_lets_the_module_own_it(
    full_plan: dict[str, Any], variant_plan: dict[str, Any]
) -> None:
    (notification,) = planned_resources(full_plan, "aws_s3_bucket_notification")
    (target,) = notification["lambda_function"]

    assert notification["bucket"] == "sagemaker-tuner-demo"
    assert target["events"] == ["s3:ObjectCreated:*"]
    assert (target["filter_prefix"], target["filter_suffix"]) == ("manifests/", ".json")
    # The variant has the trigger but not manage_bucket_notification.
    assert planned_resources(variant_plan, "aws_s3_bucket_notification") == []
    # (its trigger's permission, beside the approval callback's)
    permitted = [
        p["function_name"] for p in planned_resources(variant_plan, "aws_lambda_permission")
    ]
    assert "tfplan-variant-start-from-manifest" in permitted


def test_failed_trigger_invocations_go_to_an_encrypted_queue_kept_14_days(
    full_plan: dict[str, Any], variant_plan: dict[str, Any], default_plan: dict[str, Any]
) -> None:
    (queue,) = planned_resources(full_plan, "aws_sqs_queue")
    (config,) = planned_resources(full_plan, "aws_lambda_function_event_invoke_config")
    queue_arn = f"arn:aws:sqs:{REGION}:{ACCOUNT_ID}:tfplan-full-start-from-manifest-failures"

    assert queue["name"] == "tfplan-full-start-from-manifest-failures"
    assert queue["message_retention_seconds"] == 14 * 24 * 3600
    assert queue["kms_master_key_id"] == KMS_KEYS["sqs"]
    assert config["function_name"] == "tfplan-full-start-from-manifest"
    assert (config["maximum_retry_attempts"], config["maximum_event_age_in_seconds"]) == (2, 3600)
    (destinations,) = config["destination_config"]
    assert destinations["on_failure"] == [{"destination": queue_arn}]
    assert not destinations["on_success"]
    outputs = full_plan["planned_values"]["outputs"]["module"]["value"]
    assert outputs["manifest_trigger_failure_queue_arn"] == queue_arn
    assert outputs["manifest_trigger_failure_queue_url"] == (
        f"https://sqs.{REGION}.amazonaws.com/{ACCOUNT_ID}/tfplan-full-start-from-manifest-failures"
    )
    # Without a key the AWS managed key encrypts it; without the trigger there is no queue.
    (variant_queue,) = planned_resources(variant_plan, "aws_sqs_queue")
    assert variant_queue["kms_master_key_id"] == "alias/aws/sqs"
    assert planned_resources(default_plan, "aws_sqs_queue") == []
    assert planned_resources(default_plan, "aws_lambda_function_event_invoke_config") == []


def test_trigger_may_send_only_to_its_failure_queue(
    full_plan: dict[str, Any], variant_plan: dict[str, Any]
) -> None:
    queue_arn = f"arn:aws:sqs:{REGION}:{ACCOUNT_ID}:tfplan-full-start-from-manifest-failures"
    statements = {
        s["Sid"]: s for s in role_policies(full_plan)["tfplan-full-start-from-manifest-permissions"]
    }
    variant = {
        s["Sid"]
        for s in role_policies(variant_plan)["tfplan-variant-start-from-manifest-permissions"]
    }
    sqs_statements = [
        s
        for s in all_statements(full_plan)
        if any(a.startswith("sqs:") for a in as_list(s.get("Action", [])))
    ]

    assert set(statements) == {
        "WriteOwnLogGroup",
        "StartWorkflow",
        "SendFailedInvocationRecords",
        "EncryptFailedInvocationRecords",
    }
    assert sqs_statements == [statements["SendFailedInvocationRecords"]]
    assert as_list(statements["SendFailedInvocationRecords"]["Action"]) == ["sqs:SendMessage"]
    assert as_list(statements["SendFailedInvocationRecords"]["Resource"]) == [queue_arn]
    assert sorted(as_list(statements["EncryptFailedInvocationRecords"]["Action"])) == [
        "kms:Decrypt",
        "kms:GenerateDataKey",
    ]
    assert as_list(statements["EncryptFailedInvocationRecords"]["Resource"]) == [KMS_KEYS["sqs"]]
    # The AWS managed key needs no KMS permission.
    assert variant == {"WriteOwnLogGroup", "StartWorkflow", "SendFailedInvocationRecords"}


def test_bring_your_own_role_and_topic_create_neither(variant_plan: dict[str, Any]) -> None:
    roles = [r["name"] for r in planned_resources(variant_plan, "aws_iam_role")]

    assert planned_resources(variant_plan, "aws_sns_topic") == []
    assert not any(fnmatch.fnmatch(name, "*sagemaker*") for name in roles)
    outputs = variant_plan["planned_values"]["outputs"]["module"]["value"]
    assert outputs["sagemaker_execution_role_arn"] == BRING_YOUR_OWN["sagemaker_execution_role_arn"]
    assert outputs["sns_topic_arn"] == BRING_YOUR_OWN["sns_topic_arn"]


def test_created_topic_is_encrypted_with_the_given_key(full_plan: dict[str, Any]) -> None:
    (topic,) = planned_resources(full_plan, "aws_sns_topic")

    assert topic["name"] == "tfplan-full-notifications"
    assert topic["kms_master_key_id"] == KMS_KEYS["sns"]


def test_manual_approval_wires_the_registry_the_rule_and_the_callback(
    variant_plan: dict[str, Any], full_plan: dict[str, Any]
) -> None:
    stem = f"arn:aws:sagemaker:{REGION}:{ACCOUNT_ID}"
    groups = planned_resources(variant_plan, "aws_sagemaker_model_package_group")
    assert [g["model_package_group_name"] for g in groups] == ["Churn-Models"]
    (rule,) = planned_resources(variant_plan, "aws_cloudwatch_event_rule")
    assert json.loads(rule["event_pattern"]) == {
        "source": ["aws.sagemaker"],
        "detail-type": ["SageMaker Model Package State Change"],
        "detail": {
            "ModelPackageGroupName": ["Churn-Models"],
            "ModelApprovalStatus": ["Approved", "Rejected"],
        },
    }
    permission = {
        p["function_name"]: p for p in planned_resources(variant_plan, "aws_lambda_permission")
    }["tfplan-variant-approval-callback"]
    assert permission["principal"] == "events.amazonaws.com"
    assert permission["function_name"] == "tfplan-variant-approval-callback"

    policies = role_policies(variant_plan)
    register = {s["Sid"]: s for s in policies["tfplan-variant-register-model-permissions"]}
    assert set(as_list(register["RegisterVersions"]["Resource"])) == {
        f"{stem}:model-package-group/churn-models",
        f"{stem}:model-package/churn-models/*",
    }
    tokens = "/sagemaker-tuner-deployer/tfplan-variant/pending-approvals/*"
    assert as_list(register["KeepTaskTokens"]["Resource"]) == [
        f"arn:aws:ssm:{REGION}:{ACCOUNT_ID}:parameter{tokens}"
    ]
    callback = {s["Sid"]: s for s in policies["tfplan-variant-approval-callback-permissions"]}
    assert set(as_list(callback["TakeTaskTokens"]["Action"])) == {
        "ssm:DeleteParameter",
        "ssm:GetParameter",
    }
    # Without a registry: no group, no rule, and the register function may do nothing.
    assert planned_resources(full_plan, "aws_sagemaker_model_package_group") == []
    assert planned_resources(full_plan, "aws_cloudwatch_event_rule") == []
    unused = role_policies(full_plan)["tfplan-full-register-model-permissions"]
    assert not [
        action
        for statement in unused
        for action in as_list(statement["Action"])
        if not action.startswith("logs:")
    ]
