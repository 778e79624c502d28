"""The emulation layer's pure helpers: sampling, naming, planning, JSON and key casing."""

from __future__ import annotations

import datetime
import random
import re

import pytest

from smtune.emulator.control import EmulatorControl
from smtune.emulator.sagemaker_sim import (
    plan_training_jobs,
    sample_hyper_parameters,
    training_job_name,
)
from smtune.emulator.sfn_tasks import json_safe, sdk_error_name, sfn_request_keys, sfn_response_keys

RANGES = {
    "IntegerParameterRanges": [
        {"Name": "rounds", "MinValue": "10", "MaxValue": "1000", "ScalingType": "Logarithmic"}
    ],
    "ContinuousParameterRanges": [
        {"Name": "alpha", "MinValue": 0.1, "MaxValue": 0.99, "ScalingType": "ReverseLogarithmic"},
        {"Name": "eta", "MinValue": "0.1", "MaxValue": "0.5"},
    ],
    "CategoricalParameterRanges": [{"Name": "booster", "Values": ["gbtree", "dart"]}],
}


def test_sampled_hyperparameters_are_strings_inside_their_ranges():
    rng = random.Random(7)
    for _ in range(200):
        sample = sample_hyper_parameters(RANGES, rng)
        assert all(isinstance(value, str) for value in sample.values())
        assert 10 <= int(sample["rounds"]) <= 1000
        assert 0.1 <= float(sample["alpha"]) <= 0.99
        assert 0.1 <= float(sample["eta"]) <= 0.5
        assert sample["booster"] in {"gbtree", "dart"}


def test_training_job_names_follow_sagemakers_pattern():
    name = training_job_name("a-tuning-job-name-of-32-chars-xy", 7)

    assert re.fullmatch(r"a-tuning-job-name-of-32-chars-xy-007-[0-9a-f]{8}", name)
    assert len(name) <= 63


def test_plans_are_deterministic_per_name_and_differ_between_names():
    def plan(name: str):
        return plan_training_jobs(name, RANGES, "Maximize", 5, 0, "Completed", None)

    assert plan("job-a") == plan("job-a")
    assert [p.objective_value for p in plan("job-a")] != [p.objective_value for p in plan("job-b")]
    assert len({p.objective_value for p in plan("job-a")}) == 5


def test_failed_jobs_are_the_last_ones_of_a_completed_tuning_job():
    planned = plan_training_jobs("job", RANGES, "Minimize", 4, 2, "Completed", None)

    assert [p.final_status for p in planned] == ["Completed", "Completed", "Failed", "Failed"]
    assert all(p.failure_reason for p in planned[2:])


def test_every_job_of_a_failed_tuning_job_fails_with_its_reason():
    planned = plan_training_jobs("job", RANGES, "Maximize", 3, 0, "Failed", "no capacity")

    assert {(p.final_status, p.failure_reason) for p in planned} == {("Failed", "no capacity")}


def test_json_safe_turns_timestamps_into_iso_strings():
    when = datetime.datetime(2024, 5, 1, 12, 0, tzinfo=datetime.timezone.utc)

    assert json_safe({"a": [when, {"b": when}], "c": 1}) == {
        "a": ["2024-05-01T12:00:00+00:00", {"b": "2024-05-01T12:00:00+00:00"}],
        "c": 1,
    }


def test_start_execution_keys_go_to_botocore_case_and_back():
    request = {"StateMachineArn": "arn", "Input": "{}", "Name": "n"}
    sfn_request_keys(request)
    assert request == {"stateMachineArn": "arn", "input": "{}", "name": "n"}

    response = {
        "executionArn": "arn",
        "output": {"keepMyCase": 1},
        "outputDetails": {"included": True},
        "startDate": datetime.datetime(2024, 5, 1, tzinfo=datetime.timezone.utc),
    }
    sfn_response_keys(response)
    assert response == {
        "ExecutionArn": "arn",
        "Output": {"keepMyCase": 1},
        "OutputDetails": {"Included": True},
        "StartDate": "2024-05-01T00:00:00+00:00",
    }


@pytest.mark.parametrize(
    ("service", "code", "expected"),
    [
        ("sagemaker", "ResourceNotFound", "SageMaker.ResourceNotFoundException"),
        ("sagemaker", "ValidationException", "SageMaker.Fallback"),
        ("application-autoscaling", "ObjectNotFoundException", "SageMaker.ObjectNotFoundException"),
    ],
)
def test_sdk_error_names_use_modelled_errors_only(service, code, expected):
    assert sdk_error_name("SageMaker", service, code, "Fallback") == expected


def test_control_queues_are_consumed_in_order_then_default():
    control = EmulatorControl()
    control.queue_tuning_job_outcome("Failed", "boom", times=2)
    control.queue_tuning_job_outcome("Stopped")

    outcomes = [control.next_tuning_job_outcome() for _ in range(4)]

    assert [(o.status, o.failure_reason) for o in outcomes] == [
        ("Failed", "boom"),
        ("Failed", "boom"),
        ("Stopped", None),
        ("Completed", None),
    ]
