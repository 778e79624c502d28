"""The CLI against the project's emulator: a parent runs two children with
startExecution.sync:2, the first tunes (`createHyperParameterTuningJob.sync`, real training jobs
with differing objective values), the second deploys an endpoint and waits for it.

The emulator runs as a separate process (the `emulator_url` fixture), so its patches never touch
the plain moto server of the other CLI tests.
"""

from __future__ import annotations

import json
import re
import uuid
from pathlib import Path
from typing import Any

import pytest

from tests.support.emulator import control

# One worker runs all CLI tests in a row: the moto server they share lives in its process.
pytestmark = [pytest.mark.emulator, pytest.mark.xdist_group("cli")]

LINE = re.compile(r"^\[ *\d+:\d\d\] ")


def workflow(aws, suffix: str, tuning_request) -> str:
    """Parent -> tuner-like child -> deployer-like child; returns the parent's ARN."""
    role, echo = aws.role(), aws.echo_lambda()
    tuning_job, model, endpoint = f"emu-{suffix}", f"model-{suffix}", f"endpoint-{suffix}"
    tuner = aws.state_machine(
        {
            "StartAt": "CreateTuningJob",
            "States": {
                "CreateTuningJob": {
                    "Type": "Task",
                    "Resource": "arn:aws:states:::sagemaker:createHyperParameterTuningJob.sync",
                    "Parameters": tuning_request(tuning_job, role, max_jobs=6),
                    "ResultPath": "$.tuning",
                    "Next": "FindBestTrainingJob",
                },
                "FindBestTrainingJob": {
                    "Type": "Task",
                    "Resource": "arn:aws:states:::lambda:invoke",
                    "Parameters": {
                        "FunctionName": echo,
                        "Payload": {
                            "trainingJobName.$": "$.tuning.BestTrainingJob.TrainingJobName",
                            "objective": {
                                "metricName": "validation:auc",
                                "type": "Maximize",
                                "value.$": "$.tuning.BestTrainingJob"
                                ".FinalHyperParameterTuningJobObjectiveMetric.Value",
                            },
                        },
                    },
                    "ResultSelector": {"trainingJobName.$": "$.Payload.trainingJobName"},
                    "ResultPath": "$.best",
                    "Next": "CreateModel",
                },
                "CreateModel": {
                    "Type": "Task",
                    "Resource": "arn:aws:states:::sagemaker:createModel",
                    "Parameters": {
                        "ModelName": model,
                        "ExecutionRoleArn": role,
                        "PrimaryContainer": {"Image": "image:1"},
                    },
                    "ResultPath": None,
                    "Next": "TuningSucceeded",
                },
                "TuningSucceeded": {"Type": "Succeed"},
            },
        },
        name=f"tuner-{suffix}",
    )
    deployer = aws.state_machine(
        {
            "StartAt": "CreateEndpointConfig",
            "States": {
                "CreateEndpointConfig": {
                    "Type": "Task",
                    "Resource": "arn:aws:states:::sagemaker:createEndpointConfig",
                    "Parameters": {
                        "EndpointConfigName": f"{endpoint}-config",
                        "ProductionVariants": [
                            {
                                "VariantName": "AllTraffic",
                                "ModelName": model,
                                "InitialInstanceCount": 1,
                                "InstanceType": "ml.m5.large",
                            }
                        ],
                    },
                    "ResultPath": None,
                    "Next": "StartEndpointDeployment",
                },
                "StartEndpointDeployment": {
                    "Type": "Task",
                    "Resource": "arn:aws:states:::sagemaker:createEndpoint",
                    "Parameters": {
                        "EndpointName": endpoint,
                        "EndpointConfigName": f"{endpoint}-config",
                    },
                    "ResultPath": None,
                    "Next": "WaitForEndpoint",
                },
                "WaitForEndpoint": {"Type": "Wait", "Seconds": 1, "Next": "CheckEndpoint"},
                "CheckEndpoint": {
                    "Type": "Task",
                    "Resource": "arn:aws:states:::aws-sdk:sagemaker:describeEndpoint",
                    "Parameters": {"EndpointName": endpoint},
                    "ResultSelector": {"status.$": "$.EndpointStatus"},
                    "ResultPath": "$.check",
                    "Next": "EndpointOutcome?",
                },
                "EndpointOutcome?": {
                    "Type": "Choice",
                    "Choices": [
                        {
                            "Variable": "$.check.status",
                            "StringEquals": "InService",
                            "Next": "DeploymentSucceeded",
                        }
                    ],
                    "Default": "WaitForEndpoint",
                },
                "DeploymentSucceeded": {"Type": "Succeed"},
            },
        },
        name=f"deployer-{suffix}",
    )

    def start(machine: str) -> dict[str, Any]:
        return {
            "Type": "Task",
            "Resource": "arn:aws:states:::states:startExecution.sync:2",
            "Parameters": {
                "StateMachineArn": machine,
                "Input": {"runExecutionArn.$": "$$.Execution.Id"},
            },
            "ResultSelector": {"executionArn.$": "$.ExecutionArn"},
        }

    parent = aws.state_machine(
        {
            "StartAt": "Tune",
            "States": {
                "Tune": {**start(tuner), "ResultPath": "$.tuning", "Next": "Deploy"},
                "Deploy": {**start(deployer), "ResultPath": "$.deployment", "End": True},
            },
        },
        name=f"workflow-{suffix}",
    )
    return aws.start(parent)


def test_watch_status_history_and_report_of_a_real_run(
    cli, emulator_url: str, monkeypatch, tuning_request, aws_at, tmp_path: Path
) -> None:
    # GIVEN the emulator runs six training jobs per tuning job (one fails), paced so that jobs
    # and the endpoint stay in progress over a few describes
    monkeypatch.setenv("AWS_ENDPOINT_URL", emulator_url)
    aws = aws_at(emulator_url)
    control(emulator_url, "training-jobs", {"count": 6, "failed": 1})
    control(emulator_url, "progression", {"describes": 2})
    suffix = uuid.uuid4().hex[:6]
    execution = workflow(aws, suffix, tuning_request)

    # WHEN the parent is watched
    watched = cli("watch", execution, "--interval", "0.3", "--timeout", "90")

    # THEN it follows both children, the tuning job and the endpoint, and ends with SUCCEEDED
    assert watched.code == 0, watched.out + watched.err
    texts = [LINE.sub("", line) for line in watched.out.splitlines()]
    assert "state: Tune > CreateTuningJob" in texts
    assert any(text.startswith("state: Deploy > ") for text in texts)
    tuning = [text for text in texts if text.startswith(f"tuning job emu-{suffix}: ")]
    assert tuning[-1].startswith(
        f"tuning job emu-{suffix}: Completed, 5 of 6 training jobs completed, 1 failed; "
        "best validation:auc "
    )
    assert f"endpoint endpoint-{suffix}: InService (config endpoint-{suffix}-config)" in texts
    assert any(text.startswith(f"best training job emu-{suffix}-") for text in texts)
    assert texts[-1].startswith("execution SUCCEEDED after ")

    # AND status names both children and what the run made
    status = json.loads(cli("status", execution, "--json").out)
    assert [child["status"] for child in status["childExecutions"]] == ["SUCCEEDED", "SUCCEEDED"]
    assert status["models"] == [f"model-{suffix}"]
    assert status["endpoints"][0]["status"] == "InService"

    # AND history nests each child under the state that started it
    history = cli("history", execution).out.splitlines()
    tune_line = next(i for i, line in enumerate(history) if line.split()[1:2] == ["Tune"])
    assert history[tune_line + 1].strip().startswith("execution ")
    assert f"of tuner-{suffix}: SUCCEEDED" in history[tune_line + 1]

    # AND the report pictures the six training jobs, the emulator's best one marked
    output = tmp_path / "report.html"
    reported = cli("report", "--execution", execution, "--output", str(output))
    assert reported.code == 0, reported.err
    best = status["tuningJobs"][0]["bestTrainingJob"]
    assert reported.out.endswith(f"6 training jobs, best {best}\n")
    assert re.search(rf'<tr class="best"><td>\d+</td><td>{best}</td>', output.read_text())
