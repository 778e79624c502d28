"""Run ids and resource names."""

from __future__ import annotations

import hashlib

import pytest

from tuning_workflow.naming import (
    NAME_LIMIT,
    TUNING_JOB_NAME_LIMIT,
    name_problem,
    run_id,
    run_names,
)

ARN = "arn:aws:states:us-east-1:123456789012:execution:model-tuner:run-1"


def test_run_id_is_the_first_12_hex_digits_of_sha256_of_the_execution_arn():
    assert run_id(ARN) == hashlib.sha256(ARN.encode()).hexdigest()[:12]
    assert len(run_id(ARN)) == 12


def test_run_id_is_stable_so_a_retried_lambda_computes_the_same_names():
    assert run_id(ARN) == run_id(ARN)


def test_seed_defect_two_runs_in_the_same_second_get_different_names():
    # The old stack named jobs <name>-YYYYMMDDHHMMSS: two runs in one second collided. Executions
    # started in the same second still have different ARNs, so their names differ.
    first = "arn:aws:states:us-east-1:123456789012:execution:model-tuner:20240501T120000-a"
    second = "arn:aws:states:us-east-1:123456789012:execution:model-tuner:20240501T120000-b"
    names = [
        run_names(
            tuning_job_base="survival-tuning",
            model_base="survival-model",
            endpoint_name="survival-endpoint",
            run_id_value=run_id(arn),
        )
        for arn in (first, second)
    ]
    assert names[0].tuning_job != names[1].tuning_job
    assert names[0].model != names[1].model
    assert names[0].endpoint_config != names[1].endpoint_config
    assert names[0].endpoint == names[1].endpoint == "survival-endpoint"


def test_run_id_needs_an_arn():
    with pytest.raises(ValueError, match="execution ARN"):
        run_id("")


def test_run_names_follow_the_documented_scheme():
    names = run_names(
        tuning_job_base="survival-tuning",
        model_base="survival-model",
        endpoint_name="survival-endpoint",
        run_id_value="0123456789ab",
    )
    assert names.to_dict() == {
        "tuningJob": "survival-tuning-0123456789ab",
        "model": "survival-model-0123456789ab",
        "endpointConfig": "survival-endpoint-0123456789ab",
        "endpoint": "survival-endpoint",
    }


def test_a_19_character_tuning_job_base_fits_the_32_character_limit():
    names = run_names(
        tuning_job_base="t" * 19, model_base="m", endpoint_name="e", run_id_value="0123456789ab"
    )
    assert len(names.tuning_job) == TUNING_JOB_NAME_LIMIT


def test_a_20_character_tuning_job_base_does_not():
    with pytest.raises(ValueError, match="tuning job name: .* 33 characters long"):
        run_names(
            tuning_job_base="t" * 20, model_base="m", endpoint_name="e", run_id_value="0123456789ab"
        )


@pytest.mark.parametrize(
    ("name", "problem"),
    [
        ("survival-model", None),
        ("a--b", None),
        ("a" * NAME_LIMIT, None),
        ("a" * (NAME_LIMIT + 1), "64 characters long"),
        ("-leading", "not a valid SageMaker name"),
        ("trailing-", "not a valid SageMaker name"),
        ("under_score", "not a valid SageMaker name"),
        ("", "must not be empty"),
    ],
)
def test_names_are_checked_against_sagemaker_rules(name, problem):
    found = name_problem(name)
    if problem is None:
        assert found is None
    else:
        assert problem in found
