"""`smtune report`: a self-contained HTML picture of a tuning job and its training jobs."""

from __future__ import annotations

import re
import uuid
import xml.etree.ElementTree as ElementTree
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest

from smtune.report import BAR, BEST, best_job_name, render_report
from smtune.resources import TrainingJobResult, TuningRun

# One worker runs all CLI tests in a row: the moto server they share lives in its process.
pytestmark = pytest.mark.xdist_group("cli")

ACCOUNT, REGION = "123456789012", "us-east-1"
SCORES = [0.81, 0.93, None, 0.87, 0.90]  # None: a failed training job without a metric
SVG = re.compile(r"<svg\b.*?</svg>", re.S)


def moto_sagemaker() -> Any:
    """moto's in-process SageMaker state (the server runs in this process)."""
    from moto.sagemaker.models import sagemaker_backends

    return sagemaker_backends[ACCOUNT][REGION]


@pytest.fixture
def tuning_job(aws, tuning_request) -> str:
    """A tuning job with five training jobs, one failed, and a training job of another job."""
    name = f"rep-{uuid.uuid4().hex[:8]}"
    role = aws.role()
    sagemaker = aws.client("sagemaker")
    request = tuning_request(name, role, max_jobs=5)
    arn = sagemaker.create_hyper_parameter_tuning_job(**request)["HyperParameterTuningJobArn"]
    backend = moto_sagemaker()
    definition = request["TrainingJobDefinition"]
    jobs = [f"{name}-{index:03d}-{uuid.uuid4().hex[:8]}" for index in range(1, 6)]
    for index, (job, score) in enumerate(zip(jobs, SCORES)):
        sagemaker.create_training_job(
            TrainingJobName=job,
            AlgorithmSpecification=definition["AlgorithmSpecification"],
            RoleArn=role,
            OutputDataConfig=definition["OutputDataConfig"],
            ResourceConfig=definition["ResourceConfig"],
            StoppingCondition=definition["StoppingCondition"],
            HyperParameters={
                "max_depth": str(3 + index),
                "learn_rate": str(0.001 * (index + 1) ** 1.4),
                "distribution": ["bernoulli", "gaussian"][index % 2],
                "seed": "1",  # static, not tuned: not plotted
            },
        )
        fake = backend.training_jobs[job]
        fake.tuning_job_arn = arn
        if score is None:
            fake.training_job_status = "Failed"
            fake.final_metric_data_list = []
        else:
            fake.final_metric_data_list = [
                {"MetricName": "validation:auc", "Value": score, "Timestamp": datetime.now()}
            ]
    other = f"{name}-999-{uuid.uuid4().hex[:8]}"
    sagemaker.create_training_job(
        TrainingJobName=other,
        AlgorithmSpecification=definition["AlgorithmSpecification"],
        RoleArn=role,
        OutputDataConfig=definition["OutputDataConfig"],
        ResourceConfig=definition["ResourceConfig"],
        StoppingCondition=definition["StoppingCondition"],
    )
    backend.training_jobs[other].tuning_job_arn = arn + "-another"
    best = backend.hyper_parameter_tuning_jobs[name]
    best.best_training_job = {
        "TrainingJobName": jobs[1],
        "FinalHyperParameterTuningJobObjectiveMetric": {
            "Type": "Maximize",
            "MetricName": "validation:auc",
            "Value": 0.93,
        },
    }
    return name


def svgs(html: str) -> list[ElementTree.Element]:
    return [ElementTree.fromstring(chunk) for chunk in SVG.findall(html)]


def test_report_of_a_tuning_job(cli, aws, tuning_job: str, tmp_path: Path) -> None:
    output = tmp_path / "report.html"

    result = cli("report", "--tuning-job", tuning_job, "--output", str(output))

    assert result.code == 0
    assert result.out == (
        f"wrote {output}: tuning job {tuning_job}, 5 training jobs, best {tuning_job}-002-"
        + result.out.split(f"best {tuning_job}-002-")[1]
    )
    html = output.read_text()
    assert html.startswith("<!DOCTYPE html>")
    assert "<script" not in html and "http://" not in html.replace("http://www.w3.org", "")
    charts = svgs(html)  # every chart is well-formed SVG
    bars, curve, *scatters = charts
    assert curve.get("aria-label") == "best validation:auc so far (higher is better)"
    ns = "{http://www.w3.org/2000/svg}"
    fills = [rect.get("fill") for rect in bars.iter(f"{ns}rect")]
    assert fills.count(BAR) == 3
    assert fills.count(BEST) == 1
    assert "best" in [text.text for text in bars.iter(f"{ns}text")]
    labels = [chart.get("aria-label") for chart in scatters]
    assert labels == [
        "max_depth against validation:auc",
        "learn_rate against validation:auc",
        "distribution against validation:auc",
    ]
    assert "learn_rate (continuous, log scale, range 0.001 to 0.01)" in html
    assert "distribution (categorical, 2 values)" in html
    # the table: every training job of this tuning job, the best one highlighted
    rows = re.findall(r"<tr(?: class=\"best\")?><td>\d+</td><td>([^<]+)</td>", html)
    assert len(rows) == 5
    assert all(row.startswith(f"{tuning_job}-00") for row in rows)
    assert re.search(rf'<tr class="best"><td>2</td><td>{tuning_job}-002-', html)
    assert "seed" not in html


def test_report_of_the_tuning_job_of_an_execution(cli, aws, tuning_request, tmp_path) -> None:
    name = f"rex-{uuid.uuid4().hex[:8]}"
    machine = aws.state_machine(
        {
            "StartAt": "CreateTuningJob",
            "States": {
                "CreateTuningJob": {
                    "Type": "Task",
                    "Resource": "arn:aws:states:::aws-sdk:sagemaker:createHyperParameterTuningJob",
                    "Parameters": tuning_request(name, aws.role()),
                    "End": True,
                }
            },
        }
    )
    execution = aws.start(machine)
    assert aws.wait_until_done(execution)["status"] == "SUCCEEDED"
    output = tmp_path / "run.html"

    result = cli("report", "--execution", execution, "--output", str(output))

    assert result.code == 0
    assert f"tuning job {name}," in result.out
    html = output.read_text()
    assert f"<h1>Tuning job {name}</h1>" in html
    assert execution in html


def test_an_execution_without_a_tuning_job(cli, aws, tmp_path: Path) -> None:
    machine = aws.state_machine({"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}})
    execution = aws.start(machine)
    aws.wait_until_done(execution)

    result = cli("report", "--execution", execution, "--output", str(tmp_path / "r.html"))

    assert result.code == 2
    assert (
        result.err == f"smtune: error: execution {execution} has not started a tuning job (yet)\n"
    )


def test_an_unknown_tuning_job(cli, aws, tmp_path: Path) -> None:
    result = cli("report", "--tuning-job", "no-such-job", "--output", str(tmp_path / "r.html"))

    assert result.code == 2
    assert result.err == "smtune: error: tuning job not found: no-such-job\n"


def test_the_report_is_html_not_png(cli) -> None:
    result = cli("report", "--tuning-job", "x", "--output", "report.png")

    assert result.code == 2
    assert "--output: the report is an HTML page" in result.err


def test_an_unwritable_output(cli, aws, tuning_job: str, tmp_path: Path) -> None:
    target = tmp_path / "missing-dir" / "report.html"

    result = cli("report", "--tuning-job", tuning_job, "--output", str(target))

    assert result.code == 2
    assert result.err == f"smtune: error: {target}: cannot write: the directory does not exist\n"


def run_of(direction: str, scores: list[float | None], named_best: str | None) -> TuningRun:
    description = {
        "HyperParameterTuningJobName": "t",
        "HyperParameterTuningJobStatus": "Completed",
        "HyperParameterTuningJobConfig": {
            "HyperParameterTuningJobObjective": {"Type": direction, "MetricName": "validation:rmse"}
        },
        "TrainingJobStatusCounters": {},
    }
    if named_best:
        description["BestTrainingJob"] = {"TrainingJobName": named_best}
    jobs = [
        TrainingJobResult(f"t-{i:03d}", "Completed", score, created=datetime(2026, 1, 1, 0, i))
        for i, score in enumerate(scores, start=1)
    ]
    return TuningRun(description=description, jobs=jobs)


def test_without_a_named_best_job_the_direction_decides() -> None:
    assert best_job_name(run_of("Minimize", [0.4, 0.2, None, 0.3], None)) == "t-002"
    assert best_job_name(run_of("Maximize", [0.4, 0.2, None, 0.3], None)) == "t-001"
    assert best_job_name(run_of("Minimize", [0.4, 0.2], "t-001")) == "t-001"  # SageMaker's word


def test_a_minimized_objective_is_labelled_lower_is_better() -> None:
    html = render_report(
        run_of("Minimize", [0.4, 0.2, 0.3], None), now=datetime(2026, 1, 1, tzinfo=timezone.utc)
    )

    assert "validation:rmse (lower is better)" in html
    assert "2026-01-01 00:00:00 UTC" in html
    # no tuned hyperparameters: the bar chart and the best so far only, by the lowest value
    bars, curve = svgs(html)
    assert curve.get("aria-label") == "best validation:rmse so far (lower is better)"
    titles = [title.text for title in curve.iter("{http://www.w3.org/2000/svg}title")]
    assert [title.rsplit("best so far ", 1)[1] for title in titles] == ["0.4", "0.2", "0.2"]
