"""SageMaker: tuning jobs with real training jobs, the .sync integration, endpoints, algorithms."""

from __future__ import annotations

import copy
import gzip
import io
import json
import tarfile
import time

import pytest
from botocore.exceptions import ClientError

from tests.support.emulator import caught, moto_as_released, output_of, task, wait_for_execution

pytestmark = pytest.mark.emulator

ROLE = "arn:aws:iam::123456789012:role/sagemaker"
TUNE_SYNC = "arn:aws:states:::sagemaker:createHyperParameterTuningJob.sync"


def tuning_request(name: str = "tune", objective: str = "Maximize", max_jobs: int = 4) -> dict:
    return {
        "HyperParameterTuningJobName": name,
        "HyperParameterTuningJobConfig": {
            "Strategy": "Bayesian",
            "HyperParameterTuningJobObjective": {"Type": objective, "MetricName": "validation:auc"},
            "ResourceLimits": {"MaxNumberOfTrainingJobs": max_jobs, "MaxParallelTrainingJobs": 2},
            "ParameterRanges": {
                "IntegerParameterRanges": [{"Name": "max_depth", "MinValue": "2", "MaxValue": "9"}],
                "ContinuousParameterRanges": [
                    {
                        "Name": "eta",
                        "MinValue": "0.01",
                        "MaxValue": "0.3",
                        "ScalingType": "Logarithmic",
                    }
                ],
                "CategoricalParameterRanges": [{"Name": "booster", "Values": ["gbtree", "dart"]}],
            },
        },
        "TrainingJobDefinition": {
            "StaticHyperParameters": {"objective": "binary:logistic"},
            "AlgorithmSpecification": {
                "TrainingImage": "123456789012.dkr.ecr.us-east-1.amazonaws.com/xgb:1",
                "TrainingInputMode": "File",
                "MetricDefinitions": [{"Name": "validation:auc", "Regex": "auc:([0-9.]+)"}],
            },
            "RoleArn": ROLE,
            "InputDataConfig": [
                {
                    "ChannelName": "train",
                    "DataSource": {
                        "S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": "s3://models/train"}
                    },
                }
            ],
            "OutputDataConfig": {"S3OutputPath": "s3://models/output"},
            "ResourceConfig": {
                "InstanceType": "ml.c5.2xlarge",
                "InstanceCount": 1,
                "VolumeSizeInGB": 5,
            },
            "StoppingCondition": {"MaxRuntimeInSeconds": 3600},
        },
    }


def objective_values(sagemaker, name: str) -> dict[str, float]:
    summaries = sagemaker.list_training_jobs_for_hyper_parameter_tuning_job(
        HyperParameterTuningJobName=name, MaxResults=100
    )["TrainingJobSummaries"]
    return {
        s["TrainingJobName"]: s["FinalHyperParameterTuningJobObjectiveMetric"]["Value"]
        for s in summaries
        if s["TrainingJobStatus"] == "Completed"
    }


# Tuning jobs -----------------------------------------------------------------------------------


def test_tuning_job_runs_training_jobs_with_sampled_hyperparameters(aws):
    sagemaker = aws("sagemaker")

    sagemaker.create_hyper_parameter_tuning_job(**tuning_request(max_jobs=3))

    names = [s["TrainingJobName"] for s in sagemaker.list_training_jobs()["TrainingJobSummaries"]]
    assert len(names) == 3
    for name in names:
        assert name.startswith("tune-00")
        job = sagemaker.describe_training_job(TrainingJobName=name)
        params = job["HyperParameters"]
        assert params["objective"] == "binary:logistic"
        assert 2 <= int(params["max_depth"]) <= 9
        assert 0.01 <= float(params["eta"]) <= 0.3
        assert params["booster"] in {"gbtree", "dart"}
        assert job["TuningJobArn"].endswith(":hyper-parameter-tuning-job/tune")
        assert (
            job["ModelArtifacts"]["S3ModelArtifacts"]
            == f"s3://models/output/{name}/output/model.tar.gz"
        )
        assert job["AlgorithmSpecification"]["MetricDefinitions"][0]["Name"] == "validation:auc"


def test_at_most_five_training_jobs_by_default(aws):
    sagemaker = aws("sagemaker")

    sagemaker.create_hyper_parameter_tuning_job(**tuning_request(max_jobs=50))

    description = sagemaker.describe_hyper_parameter_tuning_job(HyperParameterTuningJobName="tune")
    assert description["TrainingJobStatusCounters"]["Completed"] == 5
    assert len(objective_values(sagemaker, "tune")) == 5


@pytest.mark.parametrize(("objective", "pick"), [("Maximize", max), ("Minimize", min)])
def test_best_training_job_honours_the_objective_direction(aws, objective, pick):
    sagemaker = aws("sagemaker")

    sagemaker.create_hyper_parameter_tuning_job(**tuning_request(objective=objective))

    values = objective_values(sagemaker, "tune")
    assert len(set(values.values())) == 4, "objective values must differ per training job"
    best = sagemaker.describe_hyper_parameter_tuning_job(HyperParameterTuningJobName="tune")[
        "BestTrainingJob"
    ]
    expected = pick(values, key=values.get)
    assert best["TrainingJobName"] == expected
    assert best["FinalHyperParameterTuningJobObjectiveMetric"]["Value"] == values[expected]


def test_same_tuning_job_name_gives_the_same_training_jobs(aws, emulator):
    sagemaker = aws("sagemaker")
    sagemaker.create_hyper_parameter_tuning_job(**tuning_request())
    first = objective_values(sagemaker, "tune")

    emulator.reset()
    sagemaker.create_hyper_parameter_tuning_job(**tuning_request())

    assert objective_values(sagemaker, "tune") == first


def test_model_artifacts_are_written_when_the_bucket_exists(aws):
    s3, sagemaker = aws("s3"), aws("sagemaker")
    s3.create_bucket(Bucket="models")

    sagemaker.create_hyper_parameter_tuning_job(**tuning_request(max_jobs=2))

    best = sagemaker.describe_hyper_parameter_tuning_job(HyperParameterTuningJobName="tune")[
        "BestTrainingJob"
    ]["TrainingJobName"]
    body = s3.get_object(Bucket="models", Key=f"output/{best}/output/model.tar.gz")["Body"].read()
    with tarfile.open(fileobj=io.BytesIO(gzip.decompress(body))) as archive:
        model = json.load(archive.extractfile("model.json"))
    assert model["trainingJobName"] == best


def test_list_training_jobs_for_a_tuning_job_sorts_and_filters(aws, emulator):
    sagemaker = aws("sagemaker")
    emulator.set_training_jobs(4, failed=1)
    sagemaker.create_hyper_parameter_tuning_job(**tuning_request())

    listing = sagemaker.list_training_jobs_for_hyper_parameter_tuning_job
    ranked = listing(
        HyperParameterTuningJobName="tune",
        SortBy="FinalObjectiveMetricValue",
        SortOrder="Descending",
        StatusEquals="Completed",
    )["TrainingJobSummaries"]
    values = [s["FinalHyperParameterTuningJobObjectiveMetric"]["Value"] for s in ranked]
    assert len(values) == 3
    assert values == sorted(values, reverse=True)
    failed = listing(HyperParameterTuningJobName="tune", StatusEquals="Failed")
    assert [s["TrainingJobName"] for s in failed["TrainingJobSummaries"]] == [
        s["TrainingJobName"]
        for s in listing(HyperParameterTuningJobName="tune")["TrainingJobSummaries"]
        if s["TrainingJobStatus"] == "Failed"
    ]
    page = listing(HyperParameterTuningJobName="tune", MaxResults=3)
    assert len(page["TrainingJobSummaries"]) == 3
    assert (
        len(
            listing(HyperParameterTuningJobName="tune", NextToken=page["NextToken"])[
                "TrainingJobSummaries"
            ]
        )
        == 1
    )


def test_when_every_training_job_fails_there_is_no_best_job(aws, emulator):
    sagemaker = aws("sagemaker")
    emulator.set_training_jobs(2, failed=2)

    sagemaker.create_hyper_parameter_tuning_job(**tuning_request())

    description = sagemaker.describe_hyper_parameter_tuning_job(HyperParameterTuningJobName="tune")
    assert description["HyperParameterTuningJobStatus"] == "Completed"
    assert "BestTrainingJob" not in description
    assert description["TrainingJobStatusCounters"]["NonRetryableError"] == 2


def test_injected_failure_fails_the_tuning_job(aws, emulator):
    sagemaker = aws("sagemaker")
    emulator.queue_tuning_job_outcome("Failed", "ResourceLimitExceeded: no ml.c5.2xlarge left")

    sagemaker.create_hyper_parameter_tuning_job(**tuning_request("first"))
    sagemaker.create_hyper_parameter_tuning_job(**tuning_request("second"))

    first = sagemaker.describe_hyper_parameter_tuning_job(HyperParameterTuningJobName="first")
    second = sagemaker.describe_hyper_parameter_tuning_job(HyperParameterTuningJobName="second")
    assert (first["HyperParameterTuningJobStatus"], first["FailureReason"]) == (
        "Failed",
        "ResourceLimitExceeded: no ml.c5.2xlarge left",
    )
    assert second["HyperParameterTuningJobStatus"] == "Completed"


def test_progression_shows_the_tuning_job_in_progress_first(aws, emulator):
    sagemaker = aws("sagemaker")
    emulator.set_progression(2)
    sagemaker.create_hyper_parameter_tuning_job(**tuning_request(max_jobs=4))

    def describe():
        return sagemaker.describe_hyper_parameter_tuning_job(HyperParameterTuningJobName="tune")

    first, second, third = describe(), describe(), describe()
    assert first["HyperParameterTuningJobStatus"] == "InProgress"
    assert first["TrainingJobStatusCounters"]["Completed"] == 2
    assert "BestTrainingJob" in first
    assert second["HyperParameterTuningJobStatus"] == "Completed"
    assert second["TrainingJobStatusCounters"]["Completed"] == 4
    assert third["HyperParameterTuningJobStatus"] == "Completed"


def test_invalid_ranges_are_rejected_before_the_job_exists(aws):
    sagemaker = aws("sagemaker")
    request = tuning_request()
    request["HyperParameterTuningJobConfig"]["ParameterRanges"]["IntegerParameterRanges"][0][
        "MinValue"
    ] = "ten"

    with pytest.raises(ClientError, match="MinValue: 'ten' is not a number"):
        sagemaker.create_hyper_parameter_tuning_job(**request)
    assert sagemaker.list_hyper_parameter_tuning_jobs()["HyperParameterTuningJobSummaries"] == []


# The .sync integration --------------------------------------------------------------------------


def test_jobs_created_without_tags_list_no_tags(aws):
    sagemaker = aws("sagemaker")
    arn = sagemaker.create_hyper_parameter_tuning_job(**tuning_request(max_jobs=1))[
        "HyperParameterTuningJobArn"
    ]
    training = sagemaker.list_training_jobs()["TrainingJobSummaries"][0]["TrainingJobArn"]

    assert sagemaker.list_tags(ResourceArn=arn)["Tags"] == []
    assert sagemaker.list_tags(ResourceArn=training)["Tags"] == []


def test_sync_task_returns_the_completed_description(run_state_machine, aws):
    result = output_of(run_state_machine(task(TUNE_SYNC, tuning_request())))

    assert result["HyperParameterTuningJobStatus"] == "Completed"
    values = objective_values(aws("sagemaker"), "tune")
    assert result["BestTrainingJob"]["TrainingJobName"] == max(values, key=values.get)
    assert isinstance(result["CreationTime"], str)


def test_sync_task_fails_with_states_task_failed_when_the_job_fails(run_state_machine, emulator):
    emulator.queue_tuning_job_outcome("Failed", "AlgorithmError: out of memory")

    description = run_state_machine(task(TUNE_SYNC, tuning_request()))

    assert description["status"] == "FAILED"
    assert description["error"] == "States.TaskFailed"
    cause = json.loads(description["cause"])
    assert cause["FailureReason"] == "AlgorithmError: out of memory"


def test_sync_task_waits_while_the_job_is_in_progress(run_state_machine, emulator):
    emulator.set_progression(3)

    started = time.monotonic()
    result = output_of(run_state_machine(task(TUNE_SYNC, tuning_request())))

    assert result["HyperParameterTuningJobStatus"] == "Completed"
    assert time.monotonic() - started >= 1.0  # three describes, half a second apart


def test_stopping_the_execution_stops_the_tuning_job(aws, role_arn, emulator):
    sfn, sagemaker = aws("stepfunctions"), aws("sagemaker")
    emulator.set_progression(100)
    machine = sfn.create_state_machine(
        name="tuner", definition=json.dumps(task(TUNE_SYNC, tuning_request())), roleArn=role_arn
    )
    execution = sfn.start_execution(stateMachineArn=machine["stateMachineArn"], input="{}")
    deadline = time.monotonic() + 10
    while not sagemaker.list_hyper_parameter_tuning_jobs()["HyperParameterTuningJobSummaries"]:
        assert time.monotonic() < deadline
        time.sleep(0.1)

    sfn.stop_execution(executionArn=execution["executionArn"])

    assert wait_for_execution(sfn, execution["executionArn"])["status"] == "ABORTED"
    deadline = time.monotonic() + 10
    while True:
        status = sagemaker.list_hyper_parameter_tuning_jobs()["HyperParameterTuningJobSummaries"][
            0
        ]["HyperParameterTuningJobStatus"]
        if status == "Stopped" or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert status == "Stopped"


def test_sync_training_job_task(run_state_machine):
    definition = copy.deepcopy(tuning_request()["TrainingJobDefinition"])
    definition["HyperParameters"] = definition.pop("StaticHyperParameters")
    definition["TrainingJobName"] = "single"

    result = output_of(
        run_state_machine(task("arn:aws:states:::sagemaker:createTrainingJob.sync", definition))
    )

    assert (result["TrainingJobName"], result["TrainingJobStatus"]) == ("single", "Completed")


def test_unknown_parameters_fail_the_task_with_a_clear_cause(run_state_machine):
    definition = copy.deepcopy(tuning_request()["TrainingJobDefinition"])
    definition["TrainingJobName"] = "single"

    description = run_state_machine(
        task("arn:aws:states:::sagemaker:createTrainingJob.sync", definition)
    )

    assert description["status"] == "FAILED"
    assert "The field 'StaticHyperParameters' is not supported" in description["cause"]


def test_sync_task_fails_without_the_patch(run_state_machine):
    with moto_as_released():
        description = run_state_machine(task(TUNE_SYNC, tuning_request()))

    assert description["status"] == "FAILED"
    assert "Unsupported" in description["cause"]


def test_training_jobs_are_fake_without_the_patch(aws):
    sagemaker = aws("sagemaker")
    with moto_as_released():
        sagemaker.create_hyper_parameter_tuning_job(**tuning_request())
        best = sagemaker.describe_hyper_parameter_tuning_job(HyperParameterTuningJobName="tune")

    assert best["BestTrainingJob"]["TrainingJobName"] == "FakeTrainingJobName"


def test_optimised_sagemaker_errors_are_catchable_with_aws_names(run_state_machine):
    definition = caught(
        "arn:aws:states:::sagemaker:createEndpointConfig",
        {
            "EndpointConfigName": "config",
            "ProductionVariants": [
                {
                    "VariantName": "AllTraffic",
                    "ModelName": "missing",
                    "InstanceType": "ml.c5.2xlarge",
                }
            ],
        },
    )

    result = output_of(run_state_machine(definition))

    assert result["error"]["Error"] == "SageMaker.AmazonSageMakerException"
    assert "Could not find model" in result["error"]["Cause"]
    assert "Error Code: ValidationException" in result["error"]["Cause"]


# Endpoints -------------------------------------------------------------------------------------


@pytest.fixture
def endpoint(aws):
    """An InService endpoint `ep` on config `config-1`, and a second config `config-2`."""
    sagemaker = aws("sagemaker")
    sagemaker.create_model(
        ModelName="model", ExecutionRoleArn=ROLE, PrimaryContainer={"Image": "i"}
    )
    for name, instance_type in [("config-1", "ml.c5.2xlarge"), ("config-2", "ml.c5.2xlarge")]:
        sagemaker.create_endpoint_config(
            EndpointConfigName=name,
            ProductionVariants=[
                {
                    "VariantName": "AllTraffic",
                    "ModelName": "model",
                    "InitialInstanceCount": 1,
                    "InstanceType": instance_type,
                }
            ],
        )
    sagemaker.create_endpoint(EndpointName="ep", EndpointConfigName="config-1")
    return sagemaker


def test_update_switches_the_config(endpoint):
    endpoint.update_endpoint(EndpointName="ep", EndpointConfigName="config-2")

    described = endpoint.describe_endpoint(EndpointName="ep")
    assert (described["EndpointStatus"], described["EndpointConfigName"]) == (
        "InService",
        "config-2",
    )


def test_optimised_endpoint_tasks_create_and_update(endpoint, run_state_machine):
    definition = {
        "StartAt": "Create",
        "States": {
            "Create": {
                "Type": "Task",
                "Resource": "arn:aws:states:::sagemaker:createEndpoint",
                "Parameters": {"EndpointName": "ep-2", "EndpointConfigName": "config-1"},
                "ResultPath": "$.created",
                "Next": "Update",
            },
            "Update": {
                "Type": "Task",
                "Resource": "arn:aws:states:::sagemaker:updateEndpoint",
                "Parameters": {"EndpointName": "ep-2", "EndpointConfigName": "config-2"},
                "ResultPath": "$.updated",
                "End": True,
            },
        },
    }

    result = output_of(run_state_machine(definition))

    assert result["created"]["EndpointArn"].endswith(":endpoint/ep-2")
    assert result["updated"]["EndpointArn"] == result["created"]["EndpointArn"]
    assert endpoint.describe_endpoint(EndpointName="ep-2")["EndpointConfigName"] == "config-2"


def test_rolled_back_update_ends_in_service_on_the_old_config(endpoint, emulator):
    emulator.queue_endpoint_outcome("RolledBack", "Ping health check failed")

    endpoint.update_endpoint(EndpointName="ep", EndpointConfigName="config-2")

    described = endpoint.describe_endpoint(EndpointName="ep")
    assert (described["EndpointStatus"], described["EndpointConfigName"]) == (
        "InService",
        "config-1",
    )
    assert described["FailureReason"] == "Ping health check failed"


def test_failed_update_ends_failed(endpoint, emulator):
    emulator.queue_endpoint_outcome("Failed", "Capacity error")

    endpoint.update_endpoint(EndpointName="ep", EndpointConfigName="config-2")

    described = endpoint.describe_endpoint(EndpointName="ep")
    assert (described["EndpointStatus"], described["FailureReason"]) == ("Failed", "Capacity error")


def test_failed_creation(aws, endpoint, emulator):
    emulator.queue_endpoint_outcome("Failed", "No capacity")

    endpoint.create_endpoint(EndpointName="ep-2", EndpointConfigName="config-1")

    assert endpoint.describe_endpoint(EndpointName="ep-2")["EndpointStatus"] == "Failed"


def test_progression_passes_through_updating(endpoint, emulator):
    emulator.set_progression(2)

    endpoint.update_endpoint(EndpointName="ep", EndpointConfigName="config-2")

    statuses = [endpoint.describe_endpoint(EndpointName="ep") for _ in range(3)]
    assert [(d["EndpointStatus"], d["EndpointConfigName"]) for d in statuses] == [
        ("Updating", "config-1"),
        ("InService", "config-2"),
        ("InService", "config-2"),
    ]
    with pytest.raises(ClientError, match="Could not find endpoint configuration"):
        endpoint.update_endpoint(EndpointName="ep", EndpointConfigName="config-3")


def test_update_of_an_updating_endpoint_is_refused(endpoint, emulator):
    emulator.set_progression(5)
    endpoint.update_endpoint(EndpointName="ep", EndpointConfigName="config-2")

    with pytest.raises(ClientError, match='Cannot update in-progress endpoint ".*:endpoint/ep"'):
        endpoint.update_endpoint(EndpointName="ep", EndpointConfigName="config-1")


def test_delete_of_an_endpoint_in_progress_is_refused(endpoint, emulator):
    emulator.set_progression(5)
    endpoint.update_endpoint(EndpointName="ep", EndpointConfigName="config-2")

    with pytest.raises(ClientError, match="Cannot update in-progress endpoint"):
        endpoint.delete_endpoint(EndpointName="ep")


def test_create_of_an_existing_endpoint_is_refused_not_replaced(endpoint):
    with pytest.raises(
        ClientError, match='Cannot create already existing endpoint ".*:endpoint/ep"'
    ):
        endpoint.create_endpoint(EndpointName="ep", EndpointConfigName="config-2")

    assert endpoint.describe_endpoint(EndpointName="ep")["EndpointConfigName"] == "config-1"


def test_a_deleted_endpoint_is_deleting_before_it_is_gone(endpoint, emulator):
    emulator.set_progression(2)

    endpoint.delete_endpoint(EndpointName="ep")

    assert endpoint.describe_endpoint(EndpointName="ep")["EndpointStatus"] == "Deleting"
    with pytest.raises(ClientError, match="Cannot create already existing endpoint"):
        endpoint.create_endpoint(EndpointName="ep", EndpointConfigName="config-2")
    with pytest.raises(ClientError, match="Could not find endpoint"):
        endpoint.describe_endpoint(EndpointName="ep")
    endpoint.create_endpoint(EndpointName="ep", EndpointConfigName="config-2")


def test_a_failed_endpoint_cannot_be_updated_only_deleted(aws, endpoint, emulator):
    emulator.queue_endpoint_outcome("Failed", "No capacity")
    endpoint.create_endpoint(EndpointName="ep-2", EndpointConfigName="config-1")

    with pytest.raises(ClientError, match="in status Failed"):
        endpoint.update_endpoint(EndpointName="ep-2", EndpointConfigName="config-2")
    endpoint.delete_endpoint(EndpointName="ep-2")
    with pytest.raises(ClientError, match="Could not find endpoint"):
        endpoint.describe_endpoint(EndpointName="ep-2")


def test_retyping_a_variant_under_auto_scaling_is_refused(endpoint, aws):
    # GIVEN auto scaling on the live variant and a config with another instance type
    scaling = aws("application-autoscaling")
    target = {
        "ServiceNamespace": "sagemaker",
        "ResourceId": "endpoint/ep/variant/AllTraffic",
        "ScalableDimension": "sagemaker:variant:DesiredInstanceCount",
    }
    scaling.register_scalable_target(**target, MinCapacity=1, MaxCapacity=2)
    endpoint.create_endpoint_config(
        EndpointConfigName="bigger",
        ProductionVariants=[
            {
                "VariantName": "AllTraffic",
                "ModelName": "model",
                "InitialInstanceCount": 1,
                "InstanceType": "ml.c5.4xlarge",
            }
        ],
    )

    # WHEN the endpoint is updated THEN SageMaker refuses while the target is registered
    with pytest.raises(ClientError, match="must be deregistered as scalable targets"):
        endpoint.update_endpoint(EndpointName="ep", EndpointConfigName="bigger")
    scaling.deregister_scalable_target(**target)
    endpoint.update_endpoint(EndpointName="ep", EndpointConfigName="bigger")
    assert endpoint.describe_endpoint(EndpointName="ep")["EndpointConfigName"] == "bigger"


def test_deregistering_a_target_deletes_its_policies(aws):
    scaling = aws("application-autoscaling")
    target = {
        "ServiceNamespace": "sagemaker",
        "ResourceId": "endpoint/ep/variant/AllTraffic",
        "ScalableDimension": "sagemaker:variant:DesiredInstanceCount",
    }
    policy = {
        "PolicyName": "p",
        "PolicyType": "TargetTrackingScaling",
        "TargetTrackingScalingPolicyConfiguration": {
            "TargetValue": 70.0,
            "PredefinedMetricSpecification": {
                "PredefinedMetricType": "SageMakerVariantInvocationsPerInstance"
            },
        },
    }
    with pytest.raises(ClientError, match="ObjectNotFoundException"):
        scaling.put_scaling_policy(**target, **policy)
    scaling.register_scalable_target(**target, MinCapacity=1, MaxCapacity=2)
    scaling.put_scaling_policy(**target, **policy)

    scaling.deregister_scalable_target(**target)

    assert scaling.describe_scaling_policies(ServiceNamespace="sagemaker")["ScalingPolicies"] == []


def test_update_endpoint_is_missing_without_the_patch(endpoint):
    with moto_as_released(), pytest.raises(ClientError):
        endpoint.update_endpoint(EndpointName="ep", EndpointConfigName="config-2")


def test_add_tags_overwrites_a_key_the_endpoint_has(endpoint):
    arn = endpoint.describe_endpoint(EndpointName="ep")["EndpointArn"]
    endpoint.add_tags(ResourceArn=arn, Tags=[{"Key": "owner", "Value": "a"}])

    endpoint.add_tags(
        ResourceArn=arn, Tags=[{"Key": "owner", "Value": "b"}, {"Key": "team", "Value": "ml"}]
    )

    assert endpoint.list_tags(ResourceArn=arn)["Tags"] == [
        {"Key": "owner", "Value": "b"},
        {"Key": "team", "Value": "ml"},
    ]


def test_add_tags_appends_a_second_tag_of_the_key_without_the_patch(endpoint):
    arn = endpoint.describe_endpoint(EndpointName="ep")["EndpointArn"]
    with moto_as_released():
        endpoint.add_tags(ResourceArn=arn, Tags=[{"Key": "owner", "Value": "a"}])
        endpoint.add_tags(ResourceArn=arn, Tags=[{"Key": "owner", "Value": "b"}])
        tags = endpoint.list_tags(ResourceArn=arn)["Tags"]

    assert [tag["Key"] for tag in tags] == ["owner", "owner"]


def test_tag_calls_on_a_missing_endpoint_are_validation_errors(endpoint):
    arn = endpoint.describe_endpoint(EndpointName="ep")["EndpointArn"].replace("/ep", "/gone")

    for call in (
        lambda: endpoint.list_tags(ResourceArn=arn),
        lambda: endpoint.add_tags(ResourceArn=arn, Tags=[{"Key": "k", "Value": "v"}]),
    ):
        with pytest.raises(ClientError) as caught:
            call()
        assert caught.value.response["Error"]["Code"] == "ValidationException"
        assert "Could not find endpoint" in caught.value.response["Error"]["Message"]


def test_the_lowercased_arn_finds_an_endpoint_named_with_capitals(endpoint):
    endpoint.create_endpoint(
        EndpointName="Churn-Endpoint",
        EndpointConfigName="config-1",
        Tags=[{"Key": "owner", "Value": "churn"}],
    )
    arn = "arn:aws:sagemaker:us-east-1:123456789012:endpoint/churn-endpoint"

    assert endpoint.list_tags(ResourceArn=arn)["Tags"] == [{"Key": "owner", "Value": "churn"}]


# Algorithms ------------------------------------------------------------------------------------


def test_registered_algorithm_is_described_by_arn(aws, emulator):
    emulator.register_algorithm("xgb-algo", inference_image="images/xgb-serve:1")

    described = aws("sagemaker").describe_algorithm(
        AlgorithmName="arn:aws:sagemaker:us-east-1:123456789012:algorithm/xgb-algo"
    )

    assert described["InferenceSpecification"]["Containers"][0]["Image"] == "images/xgb-serve:1"


def test_unknown_algorithm_arn_gets_a_synthesised_image(aws):
    described = aws("sagemaker").describe_algorithm(
        AlgorithmName="arn:aws:sagemaker:eu-west-1:210987654321:algorithm/vendor-algo"
    )

    assert described["InferenceSpecification"]["Containers"][0]["Image"] == (
        "210987654321.dkr.ecr.eu-west-1.amazonaws.com/vendor-algo:latest"
    )


def test_created_algorithm_is_described_by_name(aws):
    sagemaker = aws("sagemaker")
    sagemaker.create_algorithm(
        AlgorithmName="mine",
        TrainingSpecification={
            "TrainingImage": "images/train:1",
            "SupportedTrainingInstanceTypes": ["ml.m5.xlarge"],
            "TrainingChannels": [
                {
                    "Name": "train",
                    "SupportedContentTypes": ["text/csv"],
                    "SupportedInputModes": ["File"],
                }
            ],
        },
        InferenceSpecification={
            "Containers": [{"Image": "images/serve:1"}],
            "SupportedContentTypes": ["text/csv"],
            "SupportedResponseMIMETypes": ["text/csv"],
        },
    )

    described = sagemaker.describe_algorithm(AlgorithmName="mine")

    assert described["AlgorithmArn"] == "arn:aws:sagemaker:us-east-1:123456789012:algorithm/mine"
    assert described["TrainingSpecification"]["TrainingImage"] == "images/train:1"
    assert described["InferenceSpecification"]["Containers"][0]["Image"] == "images/serve:1"


def test_unknown_algorithm_name_is_a_validation_error(aws):
    with pytest.raises(ClientError, match="Could not find algorithm 'nothing'"):
        aws("sagemaker").describe_algorithm(AlgorithmName="nothing")
