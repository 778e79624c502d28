"""Model registry versions, the approval callback and retention, against moto in-process.

moto serves model package groups and versions (CreateModelPackage with ModelPackageGroupName,
versions numbered from 1, ListModelPackages by group, DescribeModelPackage), Parameter Store,
and SageMaker models, endpoint configs and tags. Its ListModels ignores NameContains and
NextToken, so paging of ListModels goes through a proxy that pages moto's answer; its
SendTaskSuccess accepts any token, so Step Functions' refusals are stubbed with botocore's
Stubber. Creation times come from a clock that advances one minute per resource, so "newest"
and "created after the live config" never depend on how fast the test runs.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from botocore.stub import Stubber

from tuning_workflow import handlers, lifecycle
from tuning_workflow.exceptions import InvalidEventError
from tuning_workflow.lifecycle import (
    apply_retention,
    apply_retention_from_event,
    approval_callback,
    register_model_from_event,
)
from tuning_workflow.lifecycle_tags import OWNER_TAG_KEY, REPLACES_TAG_KEY

from .conftest import ACCOUNT, REGION, ROLE_ARN

GROUP = "survival-models"
MODEL = "survival-model-0123456789ab"
TRAINING_JOB = "survival-tuning-0123456789ab-001-1a2b3c4d"
TUNING_JOB = "survival-tuning-0123456789ab"
RUN_EXECUTION = f"arn:aws:states:{REGION}:{ACCOUNT}:execution:survival-tuner:run-1"
DEPLOYER_EXECUTION = f"arn:aws:states:{REGION}:{ACCOUNT}:execution:survival-deployer:dep-1"
TOKEN_PARAMETER = "/survival/approval/0123456789ab"
TOKEN = "AQCEAAAAKgAAAAMAAAAAAAAAAb3example-task-token"

DEPLOYMENT = "survival"
ENDPOINT = "survival-endpoint"
MODEL_BASE = "survival-model"


@pytest.fixture
def ssm(mocked_aws: None) -> Any:
    return boto3.client("ssm", region_name=REGION)


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> list[datetime]:
    """moto's SageMaker creation times: one minute apart, in the order of creation."""
    times = [datetime(2026, 1, 1, 12, 0, 0)]

    def tick() -> datetime:
        times[0] += timedelta(minutes=1)
        return times[0]

    monkeypatch.setattr("moto.sagemaker.models.utcnow", tick)
    return times


class Recorder:
    """A client proxy that appends every call it forwards to a shared list."""

    def __init__(self, client: Any, calls: list[str]) -> None:
        self._client = client
        self._calls = calls

    def __getattr__(self, name: str) -> Any:
        method = getattr(self._client, name)

        def call(*args: Any, **kwargs: Any) -> Any:
            self._calls.append(name)
            return method(*args, **kwargs)

        return call


# ---------------------------------------------------------------------------------------------
# register_model
# ---------------------------------------------------------------------------------------------


def registry(sagemaker: Any, hyperparameters: dict[str, str] | None = None) -> None:
    """A group, the run's model and its best training job."""
    sagemaker.create_model_package_group(ModelPackageGroupName=GROUP)
    sagemaker.create_model(
        ModelName=MODEL,
        ExecutionRoleArn=ROLE_ARN,
        PrimaryContainer={
            "Image": "123.dkr.ecr.us-east-1.amazonaws.com/xgboost:1",
            "ModelDataUrl": "s3://bucket/out/model.tar.gz",
            "Environment": {"A": "B"},
        },
    )
    sagemaker.create_training_job(
        TrainingJobName=TRAINING_JOB,
        HyperParameters=hyperparameters
        if hyperparameters is not None
        else {
            "eta": "0.2",
            "max_depth": "6",
            "_tuning_objective_metric": "validation:auc",
            "sagemaker_program": '"train.py"',
        },
        AlgorithmSpecification={"TrainingImage": "image:1", "TrainingInputMode": "File"},
        RoleArn=ROLE_ARN,
        OutputDataConfig={"S3OutputPath": "s3://bucket/out"},
        ResourceConfig={"InstanceType": "ml.m5.large", "InstanceCount": 1, "VolumeSizeInGB": 30},
        StoppingCondition={"MaxRuntimeInSeconds": 3600},
    )


def register_event(**changes: Any) -> dict[str, Any]:
    event = {
        "modelName": MODEL,
        "modelPackageGroupName": GROUP,
        "approvalStatus": "PendingManualApproval",
        "approvalDescription": "better than the live model: 0.91 > 0.88",
        "objective": {"metricName": "validation:auc", "type": "Maximize", "value": 0.91},
        "tuningJobName": TUNING_JOB,
        "bestTrainingJobName": TRAINING_JOB,
        "runExecutionArn": RUN_EXECUTION,
        "deployerExecutionArn": DEPLOYER_EXECUTION,
        "runId": "0123456789ab",
        "tags": [{"Key": "run-id", "Value": "0123456789ab"}],
    }
    event.update(changes)
    return event


def test_a_version_records_the_model_the_run_and_the_tuned_hyperparameters(sagemaker, ssm):
    registry(sagemaker)
    result = register_model_from_event(register_event(), sagemaker=sagemaker, ssm=ssm)

    assert result == {
        "modelPackageArn": f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:model-package/{GROUP}/1",
        "approvalStatus": "PendingManualApproval",
        "version": 1,
        "reused": False,
    }
    package = sagemaker.describe_model_package(ModelPackageName=result["modelPackageArn"])
    assert package["ModelPackageGroupName"] == GROUP
    assert package["ModelApprovalStatus"] == "PendingManualApproval"
    assert package["InferenceSpecification"] == {
        "Containers": [
            {
                "Image": "123.dkr.ecr.us-east-1.amazonaws.com/xgboost:1",
                "ModelDataUrl": "s3://bucket/out/model.tar.gz",
            }
        ]
    }
    assert package["CustomerMetadataProperties"] == {
        "objectiveMetric": "validation:auc",
        "objectiveType": "Maximize",
        "objectiveValue": "0.91",
        "tuningJobName": TUNING_JOB,
        "trainingJobName": TRAINING_JOB,
        "runExecutionArn": RUN_EXECUTION,
        "deployerExecutionArn": DEPLOYER_EXECUTION,
        "runId": "0123456789ab",
        "modelName": MODEL,
        "hyperparameter:eta": "0.2",
        "hyperparameter:max_depth": "6",
    }
    description = package["ModelPackageDescription"]
    assert DEPLOYER_EXECUTION in description
    assert "better than the live model: 0.91 > 0.88" in description


@pytest.mark.parametrize("status", ["Approved", "Rejected", "PendingManualApproval"])
def test_the_version_has_the_approval_status_asked_for(sagemaker, ssm, status):
    registry(sagemaker)
    result = register_model_from_event(
        register_event(approvalStatus=status), sagemaker=sagemaker, ssm=ssm
    )
    assert result["approvalStatus"] == status
    package = sagemaker.describe_model_package(ModelPackageName=result["modelPackageArn"])
    assert package["ModelApprovalStatus"] == status


def test_content_types_are_recorded_when_given(sagemaker, ssm):
    registry(sagemaker)
    result = register_model_from_event(
        register_event(supportedContentTypes=["text/csv"], supportedResponseMimeTypes=["text/csv"]),
        sagemaker=sagemaker,
        ssm=ssm,
    )
    spec = sagemaker.describe_model_package(ModelPackageName=result["modelPackageArn"])[
        "InferenceSpecification"
    ]
    assert spec["SupportedContentTypes"] == ["text/csv"]
    assert spec["SupportedResponseMIMETypes"] == ["text/csv"]


def test_metadata_keeps_to_sagemakers_characters_and_lengths(sagemaker, ssm):
    long_value = '{"layers": [' + ", ".join(["128"] * 100) + "]}"
    registry(sagemaker, {"layers": long_value, "k" * 200: "1"})
    result = register_model_from_event(register_event(), sagemaker=sagemaker, ssm=ssm)
    metadata = sagemaker.describe_model_package(ModelPackageName=result["modelPackageArn"])[
        "CustomerMetadataProperties"
    ]
    layers = metadata["hyperparameter:layers"]
    assert len(long_value) > 256
    assert len(layers) == 256
    assert layers.startswith("__layers_: _128_ 128_ 128")
    for key, value in metadata.items():
        assert 1 <= len(key) <= 128
        assert 1 <= len(value) <= 256
        assert not set(key + value) & set("{}[]\",'")
    assert ("hyperparameter:" + "k" * 200)[:128] in metadata


def test_hyperparameters_beyond_the_entry_limit_are_named_not_stored(sagemaker, ssm):
    registry(sagemaker, {f"p{index:02d}": str(index) for index in range(60)})
    result = register_model_from_event(register_event(), sagemaker=sagemaker, ssm=ssm)
    metadata = sagemaker.describe_model_package(ModelPackageName=result["modelPackageArn"])[
        "CustomerMetadataProperties"
    ]
    assert len(metadata) == 50
    stored = sorted(key for key in metadata if key.startswith("hyperparameter:"))
    assert stored[0] == "hyperparameter:p00"
    assert stored[-1] == f"hyperparameter:p{len(stored) - 1:02d}"
    omitted = metadata["hyperparametersOmitted"].split(" ")
    assert omitted[0] == f"p{len(stored):02d}"
    assert omitted[-1] == "p59"


def test_the_task_token_is_stored_before_the_version_exists(sagemaker, ssm):
    registry(sagemaker)
    calls: list[str] = []
    result = register_model_from_event(
        register_event(taskToken=TOKEN, tokenParameterName=TOKEN_PARAMETER),
        sagemaker=Recorder(sagemaker, calls),
        ssm=Recorder(ssm, calls),
    )
    assert calls.index("put_parameter") < calls.index("create_model_package")
    parameter = ssm.get_parameter(Name=TOKEN_PARAMETER)["Parameter"]
    assert parameter["Value"] == TOKEN
    assert parameter["Type"] == "String"
    metadata = sagemaker.describe_model_package(ModelPackageName=result["modelPackageArn"])[
        "CustomerMetadataProperties"
    ]
    assert metadata["taskTokenParameter"] == TOKEN_PARAMETER


def test_a_retry_reuses_the_version_of_its_deployer_execution(sagemaker, ssm):
    registry(sagemaker)
    event = register_event(taskToken=TOKEN, tokenParameterName=TOKEN_PARAMETER)
    first = register_model_from_event(event, sagemaker=sagemaker, ssm=ssm)
    retry = register_model_from_event(
        {**event, "taskToken": TOKEN + "-retry"}, sagemaker=sagemaker, ssm=ssm
    )

    assert retry["modelPackageArn"] == first["modelPackageArn"]
    assert retry["version"] == 1
    assert retry["reused"] is True
    versions = sagemaker.list_model_packages(ModelPackageGroupName=GROUP)
    assert len(versions["ModelPackageSummaryList"]) == 1
    # the retry's token is the one the approval will answer
    assert ssm.get_parameter(Name=TOKEN_PARAMETER)["Parameter"]["Value"] == TOKEN + "-retry"


def test_the_deployers_nested_request_is_read_with_the_token_beside_it(sagemaker, ssm):
    registry(sagemaker)
    request = register_event(tokenParameterName=TOKEN_PARAMETER, endpointConfigName="x-1")
    result = register_model_from_event(
        {"request": request, "taskToken": TOKEN}, sagemaker=sagemaker, ssm=ssm
    )
    assert ssm.get_parameter(Name=TOKEN_PARAMETER)["Parameter"]["Value"] == TOKEN
    metadata = sagemaker.describe_model_package(ModelPackageName=result["modelPackageArn"])[
        "CustomerMetadataProperties"
    ]
    assert metadata["taskTokenParameter"] == TOKEN_PARAMETER
    assert metadata["deployerExecutionArn"] == DEPLOYER_EXECUTION


def test_another_deployer_execution_gets_a_new_version(sagemaker, ssm):
    registry(sagemaker)
    register_model_from_event(register_event(), sagemaker=sagemaker, ssm=ssm)
    other = register_model_from_event(
        register_event(deployerExecutionArn=DEPLOYER_EXECUTION + "-2"), sagemaker=sagemaker, ssm=ssm
    )
    assert other["version"] == 2
    assert other["reused"] is False


def test_the_version_lookup_reads_every_page(sagemaker, ssm, monkeypatch):
    registry(sagemaker)
    register_model_from_event(register_event(), sagemaker=sagemaker, ssm=ssm)
    for index in range(3):
        register_model_from_event(
            register_event(deployerExecutionArn=f"{DEPLOYER_EXECUTION}-{index}"),
            sagemaker=sagemaker,
            ssm=ssm,
        )
    monkeypatch.setattr(lifecycle, "LIST_PAGE_SIZE", 1)
    retry = register_model_from_event(register_event(), sagemaker=sagemaker, ssm=ssm)
    assert retry["version"] == 1
    assert retry["reused"] is True


def test_a_model_of_several_containers_registers_each(sagemaker, ssm):
    registry(sagemaker)
    sagemaker.create_model(
        ModelName="survival-model-ffffffffffff",
        ExecutionRoleArn=ROLE_ARN,
        Containers=[{"Image": "a:1", "ModelDataUrl": "s3://b/a.tar.gz"}, {"Image": "b:1"}],
    )
    result = register_model_from_event(
        register_event(modelName="survival-model-ffffffffffff", bestTrainingJobName=None),
        sagemaker=sagemaker,
        ssm=ssm,
    )
    package = sagemaker.describe_model_package(ModelPackageName=result["modelPackageArn"])
    assert package["InferenceSpecification"]["Containers"] == [
        {"Image": "a:1", "ModelDataUrl": "s3://b/a.tar.gz"},
        {"Image": "b:1"},
    ]
    assert not any(
        key.startswith("hyperparameter:") for key in package["CustomerMetadataProperties"]
    )


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"modelName": None}, "modelName"),
        ({"modelPackageGroupName": ""}, "modelPackageGroupName"),
        ({"approvalStatus": "Maybe"}, "approvalStatus"),
        ({"deployerExecutionArn": None}, "deployerExecutionArn"),
        ({"runId": 5}, "runId"),
        ({"taskToken": TOKEN}, "tokenParameterName"),
        ({"objective": [0.9]}, "objective"),
        ({"tags": [{"Value": "x"}]}, "tags[0]"),
        ({"tuningJobName": 3}, "tuningJobName"),
        ({"supportedContentTypes": "text/csv"}, "supportedContentTypes"),
    ],
)
def test_a_wrong_register_event_names_the_field(changes, field):
    with pytest.raises(InvalidEventError, match=field.replace("[", r"\[").replace("]", r"\]")):
        register_model_from_event(register_event(**changes), sagemaker=object(), ssm=object())


@pytest.mark.parametrize(
    ("event", "field"),
    [([], "event must be a JSON object"), ({"request": "x"}, "event.request")],
)
def test_a_register_event_that_is_no_object_is_refused(event, field):
    with pytest.raises(InvalidEventError, match=field):
        register_model_from_event(event, sagemaker=object(), ssm=object())


def test_tags_may_be_given_as_an_object(sagemaker, ssm):
    registry(sagemaker)
    calls: list[dict[str, Any]] = []
    original = sagemaker.create_model_package

    class Spy:
        def __getattr__(self, name: str) -> Any:
            return getattr(sagemaker, name)

        def create_model_package(self, **request: Any) -> Any:
            calls.append(request)
            return original(**request)

    register_model_from_event(
        register_event(tags={"team": "risk", "run-id": "0123456789ab"}), sagemaker=Spy(), ssm=ssm
    )
    assert calls[0]["Tags"] == [
        {"Key": "run-id", "Value": "0123456789ab"},
        {"Key": "team", "Value": "risk"},
    ]


# ---------------------------------------------------------------------------------------------
# approval_callback
# ---------------------------------------------------------------------------------------------


def state_change(arn: str, status: str) -> dict[str, Any]:
    return {
        "version": "0",
        "source": "aws.sagemaker",
        "detail-type": "SageMaker Model Package State Change",
        "detail": {
            "ModelPackageGroupName": GROUP,
            "ModelPackageArn": arn,
            "ModelApprovalStatus": status,
        },
    }


def waiting_version(sagemaker: Any, ssm: Any) -> str:
    registry(sagemaker)
    result = register_model_from_event(
        register_event(taskToken=TOKEN, tokenParameterName=TOKEN_PARAMETER),
        sagemaker=sagemaker,
        ssm=ssm,
    )
    return str(result["modelPackageArn"])


def decide(sagemaker: Any, arn: str, status: str, description: str) -> None:
    package = sagemaker.describe_model_package(ModelPackageName=arn)
    sagemaker.update_model_package(
        ModelPackageArn=arn,
        ModelApprovalStatus=status,
        ApprovalDescription=description,
        CustomerMetadataProperties=package["CustomerMetadataProperties"],
    )


def stubbed_stepfunctions() -> tuple[Any, Stubber]:
    client = boto3.client("stepfunctions", region_name=REGION)
    return client, Stubber(client)


@pytest.mark.parametrize("status", ["Approved", "Rejected"])
def test_a_decision_answers_the_waiting_deployer_and_deletes_the_token(sagemaker, ssm, status):
    arn = waiting_version(sagemaker, ssm)
    decide(sagemaker, arn, status, f"{status} by the risk team")
    stepfunctions, stubber = stubbed_stepfunctions()
    output = {
        "approvalStatus": status,
        "approvalDescription": f"{status} by the risk team",
        "modelPackageArn": arn,
    }
    stubber.add_response(
        "send_task_success", {}, {"taskToken": TOKEN, "output": json.dumps(output)}
    )
    with stubber:
        result = approval_callback(
            state_change(arn, status), sagemaker=sagemaker, ssm=ssm, stepfunctions=stepfunctions
        )
    stubber.assert_no_pending_responses()
    assert result == {
        "modelPackageArn": arn,
        "approvalStatus": status,
        "action": "sent",
        "tokenParameterName": TOKEN_PARAMETER,
    }
    with pytest.raises(ClientError, match="ParameterNotFound"):
        ssm.get_parameter(Name=TOKEN_PARAMETER)


def test_a_version_without_a_token_parameter_answers_nobody(sagemaker, ssm):
    registry(sagemaker)
    arn = register_model_from_event(register_event(), sagemaker=sagemaker, ssm=ssm)[
        "modelPackageArn"
    ]
    decide(sagemaker, arn, "Approved", "fine")
    stepfunctions, stubber = stubbed_stepfunctions()
    with stubber:  # no response queued: any call would fail the test
        result = approval_callback(
            state_change(arn, "Approved"), sagemaker=sagemaker, ssm=ssm, stepfunctions=stepfunctions
        )
    assert result["action"] == "no-parameter"


def test_a_token_answered_already_is_not_sent_again(sagemaker, ssm):
    arn = waiting_version(sagemaker, ssm)
    decide(sagemaker, arn, "Approved", "fine")
    ssm.delete_parameter(Name=TOKEN_PARAMETER)
    stepfunctions, stubber = stubbed_stepfunctions()
    with stubber:
        result = approval_callback(
            state_change(arn, "Approved"), sagemaker=sagemaker, ssm=ssm, stepfunctions=stepfunctions
        )
    assert result["action"] == "no-token"


@pytest.mark.parametrize("code", ["TaskTimedOut", "InvalidToken", "TaskDoesNotExist"])
def test_a_token_nobody_waits_on_is_deleted(sagemaker, ssm, code):
    arn = waiting_version(sagemaker, ssm)
    decide(sagemaker, arn, "Approved", "late")
    stepfunctions, stubber = stubbed_stepfunctions()
    stubber.add_client_error("send_task_success", service_error_code=code, http_status_code=400)
    with stubber:
        result = approval_callback(
            state_change(arn, "Approved"), sagemaker=sagemaker, ssm=ssm, stepfunctions=stepfunctions
        )
    assert result["action"] == "stale-token"
    with pytest.raises(ClientError, match="ParameterNotFound"):
        ssm.get_parameter(Name=TOKEN_PARAMETER)


def test_another_step_functions_error_keeps_the_token_for_a_retry(sagemaker, ssm):
    arn = waiting_version(sagemaker, ssm)
    decide(sagemaker, arn, "Approved", "fine")
    stepfunctions, stubber = stubbed_stepfunctions()
    stubber.add_client_error(
        "send_task_success", service_error_code="AccessDeniedException", http_status_code=400
    )
    with stubber, pytest.raises(ClientError, match="AccessDenied"):
        approval_callback(
            state_change(arn, "Approved"), sagemaker=sagemaker, ssm=ssm, stepfunctions=stepfunctions
        )
    assert ssm.get_parameter(Name=TOKEN_PARAMETER)["Parameter"]["Value"] == TOKEN


def test_a_pending_status_is_no_decision(sagemaker, ssm):
    arn = waiting_version(sagemaker, ssm)
    result = approval_callback(
        state_change(arn, "PendingManualApproval"),
        sagemaker=object(),
        ssm=object(),
        stepfunctions=object(),
    )
    assert result["action"] == "ignored"
    assert ssm.get_parameter(Name=TOKEN_PARAMETER)["Parameter"]["Value"] == TOKEN


@pytest.mark.parametrize(
    ("event", "field"),
    [
        ({}, "detail"),
        ({"detail": "Approved"}, "detail"),
        ([], "event must be a JSON object"),
        ({"detail": {"ModelApprovalStatus": "Approved"}}, "ModelPackageArn"),
        ({"detail": {"ModelPackageArn": "arn:x"}}, "ModelApprovalStatus"),
    ],
)
def test_a_wrong_state_change_event_names_the_field(event, field):
    with pytest.raises(InvalidEventError, match=field):
        approval_callback(event, sagemaker=object(), ssm=object(), stepfunctions=object())


# ---------------------------------------------------------------------------------------------
# apply_retention
# ---------------------------------------------------------------------------------------------

RUNS = [f"00000000000{digit}" for digit in "12345"]


def run_id(index: int) -> str:
    return RUNS[index - 1]


def config_name(index: int) -> str:
    return f"{ENDPOINT}-{run_id(index)}"


def model_name(index: int) -> str:
    return f"{MODEL_BASE}-{run_id(index)}"


def owner(deployment: str | None) -> list[dict[str, str]]:
    return [] if deployment is None else [{"Key": OWNER_TAG_KEY, "Value": deployment}]


def make_model(sagemaker: Any, name: str, deployment: str | None = DEPLOYMENT) -> None:
    sagemaker.create_model(
        ModelName=name,
        ExecutionRoleArn=ROLE_ARN,
        PrimaryContainer={"Image": "image:1", "ModelDataUrl": f"s3://b/{name}.tar.gz"},
        Tags=[{"Key": "run-id", "Value": name[-12:]}, *owner(deployment)],
    )


def make_config(
    sagemaker: Any,
    name: str,
    model: str,
    deployment: str | None = DEPLOYMENT,
    replaces: str | None = None,
) -> None:
    tags = owner(deployment)
    if replaces:
        tags.append({"Key": REPLACES_TAG_KEY, "Value": replaces})
    sagemaker.create_endpoint_config(
        EndpointConfigName=name,
        ProductionVariants=[
            {
                "VariantName": "AllTraffic",
                "ModelName": model,
                "InitialInstanceCount": 1,
                "InstanceType": "ml.m5.large",
            }
        ],
        Tags=tags,
    )


def five_runs(sagemaker: Any) -> None:
    """Runs 1-5, each a model then a config replacing the one before; 4 is live, 5 came after."""
    for index in range(1, 6):
        make_model(sagemaker, model_name(index))
        make_config(
            sagemaker,
            config_name(index),
            model_name(index),
            replaces=config_name(index - 1) if index > 1 else None,
        )
        if index == 4:
            sagemaker.create_endpoint(
                EndpointName=ENDPOINT,
                EndpointConfigName=config_name(4),
                Tags=owner(DEPLOYMENT),
            )


def created(sagemaker: Any, config: str) -> datetime:
    return sagemaker.describe_endpoint_config(EndpointConfigName=config)["CreationTime"]


def retain(sagemaker: Any, *, keep: int, protect: int = 0, at: datetime | None = None) -> Any:
    moment = at or created(sagemaker, config_name(5)) + timedelta(days=30)
    return apply_retention(
        endpoint_name=ENDPOINT,
        deployment_name=DEPLOYMENT,
        keep_models=keep,
        model_base_name=MODEL_BASE,
        protect_seconds=protect,
        sagemaker=sagemaker,
        now=lambda: moment,
    )


def config_names(sagemaker: Any) -> set[str]:
    return {
        item["EndpointConfigName"]
        for item in sagemaker.list_endpoint_configs(MaxResults=100)["EndpointConfigs"]
    }


def model_names(sagemaker: Any) -> set[str]:
    return {item["ModelName"] for item in sagemaker.list_models()["Models"]}


def test_retention_keeps_the_newest_and_the_live_and_previous_configs(sagemaker, clock):
    five_runs(sagemaker)
    result = retain(sagemaker, keep=1)
    assert result == {
        "kept": {
            "endpointConfigs": [config_name(3), config_name(4), config_name(5)],
            "models": [model_name(3), model_name(4), model_name(5)],
        },
        "deleted": {
            "endpointConfigs": [config_name(1), config_name(2)],
            "models": [model_name(1), model_name(2)],
        },
    }
    assert config_names(sagemaker) == {config_name(3), config_name(4), config_name(5)}
    assert model_names(sagemaker) == {model_name(3), model_name(4), model_name(5)}


def test_retention_of_none_still_keeps_the_live_config_its_predecessor_and_their_models(
    sagemaker, clock
):
    five_runs(sagemaker)
    result = retain(sagemaker, keep=0)
    assert result["kept"] == {
        "endpointConfigs": [config_name(3), config_name(4)],
        "models": [model_name(3), model_name(4)],
    }
    assert config_names(sagemaker) == {config_name(3), config_name(4)}
    assert model_names(sagemaker) == {model_name(3), model_name(4)}


def test_keeping_more_than_exist_deletes_nothing(sagemaker, clock):
    five_runs(sagemaker)
    result = retain(sagemaker, keep=10)
    assert result["deleted"] == {"endpointConfigs": [], "models": []}
    assert len(config_names(sagemaker)) == 5


def test_other_deployments_untagged_and_foreign_named_resources_are_untouched(sagemaker, clock):
    five_runs(sagemaker)
    foreign = {
        # another deployment's run-named resources
        "config-other": (f"{ENDPOINT}-aaaaaaaaaaaa", "other"),
        "model-other": (f"{MODEL_BASE}-aaaaaaaaaaaa", "other"),
        # this deployment's names, without an owner tag
        "config-untagged": (f"{ENDPOINT}-bbbbbbbbbbbb", None),
        "model-untagged": (f"{MODEL_BASE}-bbbbbbbbbbbb", None),
        # owner tag right, names not `<base>-<12 lowercase hex>`
        "config-manual": (f"{ENDPOINT}-manual", DEPLOYMENT),
        "config-upper": (f"{ENDPOINT}-ABCDEF012345", DEPLOYMENT),
        "config-longer": (f"{ENDPOINT}-2-cccccccccccc", DEPLOYMENT),
        "model-suffixed": (f"{MODEL_BASE}-cccccccccccc-copy", DEPLOYMENT),
        "model-short": (f"{MODEL_BASE}-ccccccccccc", DEPLOYMENT),
    }
    for key, (name, deployment) in foreign.items():
        if key.startswith("model"):
            make_model(sagemaker, name, deployment)
    for key, (name, deployment) in foreign.items():
        if key.startswith("config"):
            make_config(sagemaker, name, f"{MODEL_BASE}-aaaaaaaaaaaa", deployment)

    result = retain(sagemaker, keep=0)

    assert result["deleted"]["endpointConfigs"] == [config_name(1), config_name(2), config_name(5)]
    assert result["deleted"]["models"] == [model_name(1), model_name(2), model_name(5)]
    for key, (name, _) in foreign.items():
        present = model_names(sagemaker) if key.startswith("model") else config_names(sagemaker)
        assert name in present, key


def test_a_model_used_by_a_config_that_stays_is_kept(sagemaker, clock):
    five_runs(sagemaker)
    make_config(sagemaker, f"{ENDPOINT}-manual", model_name(1), deployment=None)
    result = retain(sagemaker, keep=0)
    assert model_name(1) in result["kept"]["models"]
    assert model_name(1) in model_names(sagemaker)
    assert model_name(2) not in model_names(sagemaker)


def test_a_run_under_way_keeps_what_it_created_after_the_live_config(sagemaker, clock):
    five_runs(sagemaker)
    make_model(sagemaker, f"{MODEL_BASE}-dddddddddddd")  # a run that has no config yet
    shortly_after = created(sagemaker, config_name(5)) + timedelta(minutes=10)

    result = retain(sagemaker, keep=0, protect=3600, at=shortly_after)

    assert result["kept"]["endpointConfigs"] == [config_name(3), config_name(4), config_name(5)]
    assert result["kept"]["models"] == [
        model_name(3),
        model_name(4),
        model_name(5),
        f"{MODEL_BASE}-dddddddddddd",
    ]
    assert result["deleted"]["endpointConfigs"] == [config_name(1), config_name(2)]


def test_protection_ends_after_protect_seconds(sagemaker, clock):
    five_runs(sagemaker)
    much_later = created(sagemaker, config_name(5)) + timedelta(hours=2)
    result = retain(sagemaker, keep=0, protect=3600, at=much_later)
    assert config_name(5) in result["deleted"]["endpointConfigs"]
    assert model_name(5) in result["deleted"]["models"]


def test_young_resources_from_before_the_live_config_are_not_protected(sagemaker, clock):
    five_runs(sagemaker)
    # every resource is younger than protectSeconds; runs 1 and 2 predate the live config
    result = retain(
        sagemaker, keep=0, protect=86_400, at=created(sagemaker, config_name(5)) + timedelta(1 / 24)
    )
    assert result["deleted"] == {
        "endpointConfigs": [config_name(1), config_name(2)],
        "models": [model_name(1), model_name(2)],
    }


def test_a_young_model_without_a_config_from_before_the_live_config_goes(sagemaker, clock):
    # a run whose promotion kept the live model: its model, no config
    make_model(sagemaker, f"{MODEL_BASE}-eeeeeeeeeeee")
    five_runs(sagemaker)
    soon = created(sagemaker, config_name(5)) + timedelta(minutes=5)
    result = retain(sagemaker, keep=0, protect=3600, at=soon)
    assert f"{MODEL_BASE}-eeeeeeeeeeee" in result["deleted"]["models"]
    assert model_name(5) in result["kept"]["models"]


def test_without_an_endpoint_only_old_resources_beyond_the_newest_go(sagemaker, clock):
    for index in range(1, 4):
        make_model(sagemaker, model_name(index))
        make_config(sagemaker, config_name(index), model_name(index))
    third = created(sagemaker, config_name(3))
    result = retain(sagemaker, keep=1, protect=3600, at=third + timedelta(minutes=2))
    # everything is younger than an hour and nothing is live: a run may be under way
    assert result["deleted"] == {"endpointConfigs": [], "models": []}
    result = retain(sagemaker, keep=1, protect=3600, at=third + timedelta(hours=2))
    assert result["deleted"] == {
        "endpointConfigs": [config_name(1), config_name(2)],
        "models": [model_name(1), model_name(2)],
    }


def test_an_endpoint_of_another_deployment_stops_retention(sagemaker, clock):
    for index in (1, 2):
        make_model(sagemaker, model_name(index))
        make_config(sagemaker, config_name(index), model_name(index))
    sagemaker.create_endpoint(
        EndpointName=ENDPOINT, EndpointConfigName=config_name(2), Tags=owner("other")
    )
    result = retain(sagemaker, keep=0, at=created(sagemaker, config_name(2)) + timedelta(days=1))
    assert result["deleted"] == {"endpointConfigs": [], "models": []}
    assert len(config_names(sagemaker)) == 2


class GoneFirst:
    """SageMaker where every deleted resource had been deleted by someone else just before."""

    def __init__(self, sagemaker: Any) -> None:
        self._sagemaker = sagemaker

    def __getattr__(self, name: str) -> Any:
        return getattr(self._sagemaker, name)

    def delete_endpoint_config(self, **request: Any) -> Any:
        self._sagemaker.delete_endpoint_config(**request)
        return self._sagemaker.delete_endpoint_config(**request)

    def delete_model(self, **request: Any) -> Any:
        self._sagemaker.delete_model(**request)
        return self._sagemaker.delete_model(**request)


def test_a_resource_deleted_already_is_no_error(sagemaker, clock):
    five_runs(sagemaker)
    moment = created(sagemaker, config_name(5)) + timedelta(days=1)
    result = apply_retention(
        endpoint_name=ENDPOINT,
        deployment_name=DEPLOYMENT,
        keep_models=1,
        model_base_name=MODEL_BASE,
        protect_seconds=0,
        sagemaker=GoneFirst(sagemaker),
        now=lambda: moment,
    )
    assert result["deleted"]["endpointConfigs"] == [config_name(1), config_name(2)]
    assert model_names(sagemaker) == {model_name(3), model_name(4), model_name(5)}


def test_another_delete_error_is_raised(sagemaker, clock):
    five_runs(sagemaker)

    class Denied(GoneFirst):
        def delete_endpoint_config(self, **request: Any) -> Any:
            raise ClientError(
                {"Error": {"Code": "AccessDeniedException", "Message": "no"}},
                "DeleteEndpointConfig",
            )

    with pytest.raises(ClientError, match="AccessDenied"):
        apply_retention(
            endpoint_name=ENDPOINT,
            deployment_name=DEPLOYMENT,
            keep_models=1,
            model_base_name=MODEL_BASE,
            protect_seconds=0,
            sagemaker=Denied(sagemaker),
        )
    assert len(config_names(sagemaker)) == 5


class Paged:
    """SageMaker whose ListModels and ListTags answer one item a page (moto's ListModels ignores
    NextToken; ListTags takes MaxResults of 50 or more)."""

    def __init__(self, sagemaker: Any) -> None:
        self._sagemaker = sagemaker
        self.pages = 0
        self.tag_pages = 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self._sagemaker, name)

    def list_models(self, **request: Any) -> Any:
        self.pages += 1
        models = sorted(self._sagemaker.list_models()["Models"], key=lambda m: m["ModelName"])
        start = int(request.get("NextToken") or 0)
        page = {"Models": models[start : start + 1]}
        if start + 1 < len(models):
            page["NextToken"] = str(start + 1)
        return page

    def list_tags(self, **request: Any) -> Any:
        self.tag_pages += 1
        tags = self._sagemaker.list_tags(ResourceArn=request["ResourceArn"])["Tags"]
        start = int(request.get("NextToken") or 0)
        page = {"Tags": tags[start : start + 1]}
        if start + 1 < len(tags):
            page["NextToken"] = str(start + 1)
        return page


def test_retention_reads_every_page_of_every_list(sagemaker, clock, monkeypatch):
    five_runs(sagemaker)
    monkeypatch.setattr(lifecycle, "LIST_PAGE_SIZE", 1)  # moto pages ListEndpointConfigs
    paged = Paged(sagemaker)
    moment = created(sagemaker, config_name(5)) + timedelta(days=1)
    result = apply_retention(
        endpoint_name=ENDPOINT,
        deployment_name=DEPLOYMENT,
        keep_models=1,
        model_base_name=MODEL_BASE,
        protect_seconds=0,
        sagemaker=paged,
        now=lambda: moment,
    )
    assert paged.pages == 5
    # each model's owner tag is on the second page of its tags (run-id comes first)
    assert paged.tag_pages > 10
    assert result["deleted"] == {
        "endpointConfigs": [config_name(1), config_name(2)],
        "models": [model_name(1), model_name(2)],
    }


def retention_event(**changes: Any) -> dict[str, Any]:
    event = {
        "endpointName": ENDPOINT,
        "deploymentName": DEPLOYMENT,
        "keepModels": 2,
        "modelBaseName": MODEL_BASE,
        "protectSeconds": 3600,
    }
    event.update(changes)
    return event


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"endpointName": None}, "endpointName"),
        ({"deploymentName": ""}, "deploymentName"),
        ({"keepModels": -1}, "keepModels"),
        ({"keepModels": "2"}, "keepModels"),
        ({"modelBaseName": 3}, "modelBaseName"),
        ({"protectSeconds": True}, "protectSeconds"),
        ({"protectSeconds": -5}, "protectSeconds"),
    ],
)
def test_a_wrong_retention_event_names_the_field(changes, field):
    with pytest.raises(InvalidEventError, match=field):
        apply_retention_from_event(retention_event(**changes), sagemaker=object())


# ---------------------------------------------------------------------------------------------
# handlers
# ---------------------------------------------------------------------------------------------


def test_the_handlers_run_the_lifecycle_end_to_end(sagemaker, ssm):
    registry(sagemaker)
    registered = handlers.register_model(
        register_event(taskToken=TOKEN, tokenParameterName=TOKEN_PARAMETER), None
    )
    decide(sagemaker, registered["modelPackageArn"], "Approved", "ok")
    # moto's SendTaskSuccess accepts any token
    answered = handlers.approval_callback(
        state_change(registered["modelPackageArn"], "Approved"), None
    )
    assert answered["action"] == "sent"
    retention = handlers.apply_retention(retention_event(), None)
    assert retention["deleted"] == {"endpointConfigs": [], "models": []}
    assert retention["kept"]["models"] == []  # the registry's model has no owner tag
    json.dumps([registered, answered, retention])


def test_the_models_and_configs_of_runs_under_way_are_kept_however_old(sagemaker, clock):
    # GIVEN runs 1 to 5, of which runs 1 and 2 are still under way (another run went live
    # before them), and a retention that would keep only the newest one
    five_runs(sagemaker)
    moment = created(sagemaker, config_name(5)) + timedelta(days=30)
    result = apply_retention(
        endpoint_name=ENDPOINT,
        deployment_name=DEPLOYMENT,
        keep_models=1,
        model_base_name=MODEL_BASE,
        protect_seconds=0,
        running_run_ids={run_id(1), run_id(2)},
        sagemaker=sagemaker,
        now=lambda: moment,
    )
    # THEN their resources stay (without them, runs 1 and 2 lose theirs: see the test above);
    # run 3's is the live config's rollback target, run 5's the newest
    assert result["deleted"] == {"endpointConfigs": [], "models": []}
    assert {config_name(1), config_name(2)} <= config_names(sagemaker)
    assert {model_name(1), model_name(2)} <= model_names(sagemaker)


def test_runs_under_way_are_read_from_the_state_machines(sagemaker):
    from tuning_workflow.lifecycle import running_run_ids
    from tuning_workflow.naming import run_id as derive_run_id

    sfn = boto3.client("stepfunctions", region_name="us-east-1")
    role = "arn:aws:iam::123456789012:role/sfn"
    definition = '{"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 600, "End": true}}}'
    machine = sfn.create_state_machine(name="team-a-workflow", definition=definition, roleArn=role)
    arns = [sfn.start_execution(stateMachineArn=machine["stateMachineArn"])["executionArn"]]
    arns.append(sfn.start_execution(stateMachineArn=machine["stateMachineArn"])["executionArn"])
    sfn.stop_execution(executionArn=arns[1])

    assert running_run_ids([machine["stateMachineArn"]], sfn) == {derive_run_id(arns[0])}
