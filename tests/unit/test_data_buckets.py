"""Data stays inside the deployment's buckets: channels and manifests on other buckets are refused."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tuning_workflow.exceptions import InvalidEventError
from tuning_workflow.prepare import prepare_tuning_run
from tuning_workflow.validation import (
    foreign_bucket_message,
    s3_bucket_of,
    validate_manifest,
    validate_run_documents,
)

from .conftest import load_event

BUCKET = "sagemaker-tuner-demo"
BUCKETS = [BUCKET, "shared-features"]
MANIFEST_KEY = "manifests/titanic.json"


class NoS3:
    """An S3 client that must not be called."""

    def get_object(self, **kwargs: Any) -> Any:
        raise AssertionError(f"S3 was read: {kwargs}")


def event_with_buckets(buckets: Any) -> dict[str, Any]:
    event = load_event("prepare_tuning_run")
    event["deployment"]["dataBuckets"] = buckets
    return event


def errors_of(result: dict[str, Any]) -> list[tuple[str, str, str]]:
    assert result["valid"] is False
    return [(error["document"], error["path"], error["message"]) for error in result["errors"]]


@pytest.mark.parametrize(
    ("uri", "bucket"),
    [
        ("s3://my-bucket/data/train.csv", "my-bucket"),
        ("s3://my.dotted.bucket/", "my.dotted.bucket"),
        ("https://my-bucket.s3.us-east-1.amazonaws.com/data/", "my-bucket"),
        ("https://my-bucket.s3.amazonaws.com/data/", "my-bucket"),
        ("https://my-bucket.s3-eu-west-1.amazonaws.com/data/", "my-bucket"),
        ("https://my.s3.dotted.s3.eu-west-1.amazonaws.com/x", "my.s3.dotted"),
        ("https://my-bucket.s3.dualstack.us-east-1.amazonaws.com/x", "my-bucket"),
        ("https://my-bucket.s3.cn-north-1.amazonaws.com.cn/x", "my-bucket"),
        ("HTTPS://My-Bucket.S3.Amazonaws.com:443/x", "my-bucket"),
        ("https://s3.us-west-2.amazonaws.com/my-bucket/data/", "my-bucket"),
        ("https://s3.amazonaws.com/my-bucket", "my-bucket"),
        ("https://s3.amazonaws.com/", None),
        ("https://example.com/my-bucket/data/", None),
        ("https://my-bucket.s3.amazonaws.com.example.com/x", None),
        ("https://my-bucket.s3.amazonaws.com@example.com/x", None),
        ("https://[broken/x", None),
        ("s3:///key", None),
        ("ftp://my-bucket/x", None),
    ],
)
def test_the_bucket_of_an_s3_uri(uri: str, bucket: str | None) -> None:
    assert s3_bucket_of(uri) == bucket


def test_no_buckets_means_no_restriction() -> None:
    assert foreign_bucket_message("s3://anything/x", []) is None
    assert foreign_bucket_message("https://example.com/x", ()) is None


def test_a_channel_on_a_foreign_bucket_names_the_channel_and_the_bucket(manifest) -> None:
    # GIVEN a manifest whose second channel reads another bucket, path style over https
    manifest["channels"][1]["s3DataSource"]["S3Uri"] = (
        "https://s3.us-east-1.amazonaws.com/someone-elses-bucket/validation/"
    )

    # WHEN it is validated against the deployment's buckets
    problems = validate_manifest(manifest, data_buckets=BUCKETS)

    # THEN the channel's URI is the problem, naming the channel, the bucket and the allowed ones
    assert [str(problem) for problem in problems] == [
        "$.channels[1].s3DataSource.S3Uri: channel 'validation': bucket 'someone-elses-bucket' "
        "is not one of this deployment's buckets: sagemaker-tuner-demo, shared-features"
    ]


def test_channels_on_any_of_the_deployments_buckets_are_valid(manifest) -> None:
    manifest["channels"][1]["s3DataSource"]["S3Uri"] = (
        "https://shared-features.s3.eu-west-1.amazonaws.com/validation/"
    )
    assert validate_manifest(manifest, data_buckets=BUCKETS) == []
    assert validate_manifest(manifest) == []


def test_a_uri_whose_bucket_cannot_be_told_is_refused(manifest) -> None:
    manifest["channels"][0]["s3DataSource"]["S3Uri"] = "https://example.com/data/"
    [problem] = validate_manifest(manifest, data_buckets=BUCKETS)
    assert problem.path == "$.channels[0].s3DataSource.S3Uri"
    assert problem.message.startswith(
        "channel 'training': names no bucket this workflow can tell ('https://example.com/data/')"
    )


def test_a_uri_the_schema_refused_is_not_reported_again(manifest) -> None:
    manifest["channels"][0]["s3DataSource"]["S3Uri"] = "not-a-uri"
    problems = validate_manifest(manifest, data_buckets=BUCKETS)
    assert [problem.message for problem in problems] == [
        "must be an S3 URI such as s3://bucket/prefix/, got 'not-a-uri'"
    ]


def test_run_documents_pass_the_buckets_to_the_manifest(
    ml_parameters, hyperparameters, manifest
) -> None:
    manifest["channels"][0]["s3DataSource"]["S3Uri"] = "s3://elsewhere/train/"
    result = validate_run_documents(ml_parameters, hyperparameters, manifest, BUCKETS)
    assert [problem.path for problem in result["manifest"]] == ["$.channels[0].s3DataSource.S3Uri"]


# ---------------------------------------------------------------------------------------------
# The tuner's first step
# ---------------------------------------------------------------------------------------------


def test_a_channel_on_a_foreign_bucket_is_an_input_problem_before_any_call() -> None:
    # GIVEN the deployment's buckets and a wrapped manifest with a foreign channel
    event = event_with_buckets(BUCKETS)
    manifest = event["input"]
    manifest["channels"][1]["s3DataSource"]["S3Uri"] = "s3://someone-elses-bucket/validation/"
    event["input"] = {"manifest": manifest}

    # WHEN the run is prepared
    result = prepare_tuning_run(event, s3=NoS3())

    # THEN the problem points into the execution input and names channel and bucket
    [(document, path, message)] = errors_of(result)
    assert (document, path) == ("manifest", "$.manifest.channels[1].s3DataSource.S3Uri")
    assert "'validation'" in message and "'someone-elses-bucket'" in message
    assert "someone-elses-bucket" in result["message"]


def test_a_manifest_on_a_foreign_bucket_is_refused_before_it_is_read() -> None:
    event = event_with_buckets(BUCKETS)
    event["input"] = {"manifestS3Uri": f"s3://someone-elses-bucket/{MANIFEST_KEY}"}

    result = prepare_tuning_run(event, s3=NoS3())

    assert errors_of(result) == [
        (
            "execution input",
            "$.manifestS3Uri",
            f"s3://someone-elses-bucket/{MANIFEST_KEY}: bucket 'someone-elses-bucket' is not one "
            "of this deployment's buckets: sagemaker-tuner-demo, shared-features",
        )
    ]


def test_a_manifest_and_its_channels_on_the_deployments_buckets_prepare_a_run(s3) -> None:
    s3.create_bucket(Bucket=BUCKET)
    manifest = load_event("prepare_tuning_run")["input"]
    s3.put_object(Bucket=BUCKET, Key=MANIFEST_KEY, Body=json.dumps(manifest).encode())
    event = load_event("prepare_tuning_run_from_parent")
    event["deployment"]["dataBuckets"] = BUCKETS

    assert prepare_tuning_run(event, s3=s3)["valid"] is True


def test_channels_of_a_manifest_read_from_s3_are_checked_too(s3) -> None:
    s3.create_bucket(Bucket=BUCKET)
    manifest = load_event("prepare_tuning_run")["input"]
    manifest["channels"][0]["s3DataSource"]["S3Uri"] = "s3://elsewhere/train/"
    s3.put_object(Bucket=BUCKET, Key=MANIFEST_KEY, Body=json.dumps(manifest).encode())
    event = load_event("prepare_tuning_run_from_parent")
    event["deployment"]["dataBuckets"] = BUCKETS

    [(document, path, _)] = errors_of(prepare_tuning_run(event, s3=s3))
    assert (document, path) == (
        f"manifest s3://{BUCKET}/{MANIFEST_KEY}",
        "$.channels[0].s3DataSource.S3Uri",
    )


@pytest.mark.parametrize("buckets", [None, []])
def test_without_data_buckets_any_bucket_is_accepted(buckets: Any) -> None:
    event = event_with_buckets(buckets)
    event["input"]["channels"][0]["s3DataSource"]["S3Uri"] = "s3://anyone/train/"
    assert prepare_tuning_run(event, s3=NoS3())["valid"] is True


@pytest.mark.parametrize("buckets", ["sagemaker-tuner-demo", [1], [""], {"a": 1}])
def test_malformed_data_buckets_are_a_wiring_fault(buckets: Any) -> None:
    with pytest.raises(InvalidEventError, match="event.deployment.dataBuckets"):
        prepare_tuning_run(event_with_buckets(buckets), s3=NoS3())


# ---------------------------------------------------------------------------------------------
# The S3 locations of ml-parameters
# ---------------------------------------------------------------------------------------------


def test_the_s3_locations_of_ml_parameters_are_the_schemas_marked_fields() -> None:
    # GIVEN the schema's x-deploymentBucket marks THEN the training output and checkpoint
    # locations are the fields that must be on a deployment bucket
    from tuning_workflow.validation import deployment_bucket_paths

    assert deployment_bucket_paths() == [
        ("model", "artifactsS3OutputPath"),
        ("spotTrainingCheckpointS3Uri",),
    ]


def test_a_training_output_on_another_bucket_is_an_input_problem(ml_parameters) -> None:
    # GIVEN ml-parameters whose training output and checkpoints are on a bucket the deployment
    # was not given
    ml_parameters["model"]["artifactsS3OutputPath"] = "s3://someone-elses-bucket/out/"
    ml_parameters["spotTrainingCheckpointS3Uri"] = "s3://<bucket-name>/checkpoints/"
    hyperparameters = json.loads(json.dumps(load_event("prepare_tuning_run")["hyperparameters"]))

    # WHEN the run's documents are validated with the deployment's buckets
    found = validate_run_documents(ml_parameters, hyperparameters, {"channels": []}, BUCKETS)

    # THEN each location is a problem at its path, naming the buckets allowed
    assert [(p.path, p.message) for p in found["ml-parameters"]] == [
        (
            "$.model.artifactsS3OutputPath",
            "bucket 'someone-elses-bucket' is not one of this deployment's buckets: "
            "sagemaker-tuner-demo, shared-features; the roles may use only those",
        ),
        (
            "$.spotTrainingCheckpointS3Uri",
            "bucket '<bucket-name>' is not one of this deployment's buckets: "
            "sagemaker-tuner-demo, shared-features; the roles may use only those",
        ),
    ]
    # AND without buckets to check against (smtune validate without --bucket) they are valid
    assert (
        validate_run_documents(ml_parameters, hyperparameters, {"channels": []})["ml-parameters"]
        == []
    )


def test_hyperband_infers_max_resource_from_the_schemas_epoch_hyperparameters(
    ml_parameters,
) -> None:
    from tuning_workflow.validation import hyperband_epoch_keys, load_schema

    config = load_schema("ml-parameters")["properties"]["hyperbandStrategyConfig"]
    assert hyperband_epoch_keys() == tuple(config["x-epochHyperparameters"])
    ml_parameters.update(tuningStrategy="Hyperband", trainingJobEarlyStoppingType="Off")
    hyperparameters = json.loads(json.dumps(load_event("prepare_tuning_run")["hyperparameters"]))
    hyperparameters["staticHyperParameters"].pop("epochs", None)
    found = validate_run_documents(ml_parameters, hyperparameters, {"channels": []})
    assert [p.path for p in found["ml-parameters"]] == ["$.hyperbandStrategyConfig"]
    hyperparameters["staticHyperParameters"][hyperband_epoch_keys()[-1]] = "10"
    found = validate_run_documents(ml_parameters, hyperparameters, {"channels": []})
    assert found["ml-parameters"] == []
