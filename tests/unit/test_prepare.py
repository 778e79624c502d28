"""The tuner's first step: every input form, every input problem, the run's names."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tuning_workflow.exceptions import InvalidEventError
from tuning_workflow.naming import run_id
from tuning_workflow.prepare import prepare_tuning_run

from .conftest import load_event

BUCKET = "sagemaker-tuner-demo"
MANIFEST_KEY = "manifests/titanic.json"
PARENT_ARN = (
    "arn:aws:states:us-east-1:123456789012:execution:tuning-with-deployment:"
    "5b2d7c1e-0a4f-4e8b-9c3d-2f6a1b0e9d44"
)


def errors_of(result: dict[str, Any]) -> list[tuple[str, str, str]]:
    assert result["valid"] is False
    return [(error["document"], error["path"], error["message"]) for error in result["errors"]]


def test_the_seed_manifest_as_input_prepares_a_complete_run():
    event = load_event("prepare_tuning_run")
    expected_run_id = run_id(event["executionArn"])

    result = prepare_tuning_run(event, s3=object())

    assert result["valid"] is True
    assert result["runId"] == expected_run_id
    assert result["names"] == {
        "tuningJob": f"survival-tuning-{expected_run_id}",
        "model": f"survival-model-{expected_run_id}",
        "endpointConfig": f"survival-endpoint-{expected_run_id}",
        "endpoint": "survival-endpoint",
    }
    job = result["tuningJob"]
    assert job["HyperParameterTuningJobName"] == result["names"]["tuningJob"]
    assert job["TrainingJobDefinition"]["RoleArn"] == (
        "arn:aws:iam::123456789012:role/sagemaker-execution"
    )
    assert len(job["TrainingJobDefinition"]["InputDataConfig"]) == 2
    assert result["model"] == {
        "inferenceImage": None,
        "environment": {"MODEL_TYPE": "MOJO"},
        "VpcConfig": {
            "SecurityGroupIds": ["sg-0a1b2c3d4e5f60718"],
            "Subnets": [
                "subnet-0a1b2c3d4e5f60001",
                "subnet-0a1b2c3d4e5f60002",
                "subnet-0a1b2c3d4e5f60003",
            ],
        },
    }
    assert result["qualityGate"] is None
    assert result["tags"] == [
        {"Key": "artifact-type", "Value": "MOJO"},
        {"Key": "environment", "Value": "development"},
        {"Key": "run-id", "Value": expected_run_id},
    ]
    assert job["Tags"] == result["tags"]
    assert job["TrainingJobDefinition"]["EnableNetworkIsolation"] is True
    assert result["warnings"] == []


def test_the_manifest_may_be_wrapped_in_a_manifest_key():
    event = load_event("prepare_tuning_run")
    event["input"] = {"manifest": event["input"]}
    assert prepare_tuning_run(event, s3=object())["valid"] is True


def test_force_deploy_beside_the_manifest_must_be_a_boolean():
    event = load_event("prepare_tuning_run")
    manifest = event["input"]
    event["input"] = {"manifest": manifest, "forceDeploy": True}
    assert prepare_tuning_run(event, s3=object())["valid"] is True
    event["input"] = {"request": {**manifest, "forceDeploy": "yes"}, "runExecutionArn": "arn"}
    [(document, path, message)] = errors_of(prepare_tuning_run(event, s3=object()))
    assert (document, path) == ("execution input", "$.forceDeploy")
    assert message == "must be true or false, got 'yes'"


def test_a_manifest_read_from_s3(s3):
    # GIVEN the parent's request naming a manifest in S3
    s3.create_bucket(Bucket=BUCKET)
    manifest = load_event("prepare_tuning_run")["input"]
    s3.put_object(Bucket=BUCKET, Key=MANIFEST_KEY, Body=json.dumps(manifest).encode())
    event = load_event("prepare_tuning_run_from_parent")

    # WHEN the run is prepared
    result = prepare_tuning_run(event, s3=s3)

    # THEN the run is named after the parent's execution and uses the S3 manifest's channels
    assert result["valid"] is True
    assert result["runId"] == run_id(PARENT_ARN)
    channels = result["tuningJob"]["TrainingJobDefinition"]["InputDataConfig"]
    assert [channel["ChannelName"] for channel in channels] == ["training", "validation"]


def test_a_missing_manifest_object_is_an_input_error_not_a_crash(s3):
    s3.create_bucket(Bucket=BUCKET)
    result = prepare_tuning_run(load_event("prepare_tuning_run_from_parent"), s3=s3)
    assert errors_of(result) == [
        (
            "execution input",
            "$.manifestS3Uri",
            f"s3://{BUCKET}/{MANIFEST_KEY} does not exist",
        )
    ]


def test_a_missing_bucket_is_an_input_error_too(s3):
    result = prepare_tuning_run(load_event("prepare_tuning_run_from_parent"), s3=s3)
    assert errors_of(result)[0][1:] == (
        "$.manifestS3Uri",
        f"s3://{BUCKET}/{MANIFEST_KEY} does not exist",
    )


def test_a_manifest_that_is_not_json_is_an_input_error(s3):
    s3.create_bucket(Bucket=BUCKET)
    s3.put_object(Bucket=BUCKET, Key=MANIFEST_KEY, Body=b'{"channels": [,]}')
    result = prepare_tuning_run(load_event("prepare_tuning_run_from_parent"), s3=s3)
    assert errors_of(result) == [
        (
            "execution input",
            "$.manifestS3Uri",
            f"s3://{BUCKET}/{MANIFEST_KEY} is not valid JSON: Expecting value at line 1 column 15",
        )
    ]


def test_problems_in_the_s3_manifest_name_the_object(s3):
    s3.create_bucket(Bucket=BUCKET)
    s3.put_object(Bucket=BUCKET, Key=MANIFEST_KEY, Body=b'{"channels": []}')
    result = prepare_tuning_run(load_event("prepare_tuning_run_from_parent"), s3=s3)
    assert errors_of(result) == [
        (f"manifest s3://{BUCKET}/{MANIFEST_KEY}", "$.channels", "needs at least 1 item, got 0")
    ]


@pytest.mark.parametrize(
    ("execution_input", "path", "fragment"),
    [
        (
            {"manifestS3Uri": "https://example/manifest.json"},
            "$.manifestS3Uri",
            "must be an S3 URI",
        ),
        ({"something": "else"}, "$", "found none of its keys"),
        ({"channels": [], "manifestS3Uri": "s3://b/k"}, "$", "give one of channels, manifestS3Uri"),
        (["not", "an", "object"], "$", "expected the manifest"),
    ],
)
def test_an_unusable_execution_input_says_which_forms_are_accepted(execution_input, path, fragment):
    event = load_event("prepare_tuning_run")
    event["input"] = execution_input
    [(document, found_path, message)] = errors_of(prepare_tuning_run(event, s3=object()))
    assert (document, found_path) == ("execution input", path)
    assert fragment in message


def test_every_problem_in_every_document_is_reported_at_once():
    # GIVEN mistakes in all three documents
    event = load_event("prepare_tuning_run")
    event["mlParameters"]["tuningStrategy"] = "Bayes"
    event["mlParameters"]["model"]["hosting"]["instanceType"] = "c5"
    event["hyperparameters"]["parameterRanges"]["IntegerParameterRanges"][0]["MinValue"] = "500"
    event["input"] = {"manifest": {"channels": [{"channelName": "training"}]}}

    # WHEN the run is prepared
    result = prepare_tuning_run(event, s3=object())

    # THEN each is reported, labelled with its document, paths as the user wrote them
    assert errors_of(result) == [
        ("ml-parameters", "$.model.hosting.instanceType",
         "must be a SageMaker instance type such as ml.c5.2xlarge, got 'c5'"),
        ("ml-parameters", "$.tuningStrategy",
         "'Bayes' is not one of Bayesian, Random, Hyperband, Grid"),
        ("hyperparameters", "$.parameterRanges.IntegerParameterRanges[0].MinValue",
         "500 is greater than MaxValue (100)"),
        ("manifest", "$.manifest.channels[0]", "'s3DataSource' is required"),
    ]  # fmt: skip
    assert result["message"].startswith(
        "4 problems in the input: ml-parameters $.model.hosting.instanceType: must be"
    )


def test_a_quality_gate_and_an_inference_image_are_passed_on():
    event = load_event("prepare_tuning_run")
    ml = event["mlParameters"]
    del ml["algorithmARN"]
    ml["trainingImage"] = "123456789012.dkr.ecr.us-east-1.amazonaws.com/gbm-train:1"
    ml["qualityGate"] = {"threshold": "0.85"}
    result = prepare_tuning_run(event, s3=object())
    assert result["qualityGate"] == {"threshold": 0.85, "direction": "Maximize"}
    assert result["model"]["inferenceImage"] == ml["trainingImage"]
    ml["inferenceImage"] = "123456789012.dkr.ecr.us-east-1.amazonaws.com/gbm-serve:1"
    assert prepare_tuning_run(event, s3=object())["model"]["inferenceImage"].endswith("serve:1")


def test_hosting_without_a_vpc_sends_no_vpc_config():
    event = load_event("prepare_tuning_run")
    del event["mlParameters"]["model"]["hosting"]["subnets"]
    del event["mlParameters"]["model"]["hosting"]["securityGroupIds"]
    assert prepare_tuning_run(event, s3=object())["model"] == {
        "inferenceImage": None,
        "environment": {"MODEL_TYPE": "MOJO"},
    }


@pytest.mark.parametrize("field", ["executionArn", "mlParameters", "hyperparameters", "input"])
def test_an_event_without_a_field_the_state_machine_must_pass_is_a_fault(field):
    event = load_event("prepare_tuning_run")
    del event[field]
    with pytest.raises(InvalidEventError, match=field):
        prepare_tuning_run(event, s3=object())


def test_the_sagemaker_role_is_required():
    event = load_event("prepare_tuning_run")
    del event["deployment"]["sagemakerRoleArn"]
    with pytest.raises(
        InvalidEventError, match="event.deployment lacks the field 'sagemakerRoleArn'"
    ):
        prepare_tuning_run(event, s3=object())


def test_the_seeds_hosting_keys_run_with_a_logged_and_returned_warning(caplog):
    # GIVEN the seed's inference image and its retired Elastic Inference accelerator
    event = load_event("prepare_tuning_run")
    hosting = event["mlParameters"]["model"]["hosting"]
    hosting["inferenceImage"] = "123456789012.dkr.ecr.us-east-1.amazonaws.com/gbm-serve:1"
    hosting["acceleratorType"] = "ml.eia2.medium"

    # WHEN the run is prepared
    with caplog.at_level("WARNING", logger="tuning_workflow"):
        result = prepare_tuning_run(event, s3=object())

    # THEN it is valid, uses the seed's image, and reports the accelerator without sending it
    assert result["valid"] is True
    assert result["model"]["inferenceImage"] == hosting["inferenceImage"]
    [warning] = result["warnings"]
    assert warning["document"] == "ml-parameters"
    assert warning["path"] == "$.model.hosting.acceleratorType"
    assert "Elastic Inference was retired in April 2024" in warning["message"]
    assert "ml.eia2.medium" not in json.dumps(result["tuningJob"])
    assert any(
        record.levelname == "WARNING" and "$.model.hosting.acceleratorType" in record.getMessage()
        for record in caplog.records
    )


def test_warnings_come_with_an_invalid_result_too():
    event = load_event("prepare_tuning_run")
    event["mlParameters"]["model"]["hosting"]["acceleratorType"] = "ml.eia1.large"
    event["mlParameters"]["model"]["hosting"]["instanceType"] = "c5.2xlarge"

    result = prepare_tuning_run(event, s3=object())

    assert result["valid"] is False
    assert [w["path"] for w in result["warnings"]] == ["$.model.hosting.acceleratorType"]


def test_the_model_environment_is_passed_to_the_model_step():
    event = load_event("prepare_tuning_run")
    event["mlParameters"]["model"]["environment"] = {"JAVA_OPTS": "-Xmx4g"}
    result = prepare_tuning_run(event, s3=object())
    assert result["model"]["environment"] == {"MODEL_TYPE": "MOJO", "JAVA_OPTS": "-Xmx4g"}
