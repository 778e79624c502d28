"""`smtune report`'s figures for an ML engineer, checked against a known tuning job.

The emulator's tuning jobs are deterministic per job name: `report-known-4` with eight training
jobs, the last two failing, always tries the same hyperparameters and gets the same values.
"""

from __future__ import annotations

import math
import re
import time
import xml.etree.ElementTree as ElementTree
from typing import Any

import pytest

from smtune.report import ParameterAxis
from tests.support.emulator import control

# One worker runs all CLI tests in a row: the moto server they share lives in its process.
pytestmark = [pytest.mark.emulator, pytest.mark.xdist_group("cli")]

NAME = "report-known-4"
NS = "{http://www.w3.org/2000/svg}"
# (objective, status, max_depth, learn_rate, distribution) per training job, in start order
JOBS = [
    (0.572823, "Completed", "6", "0.001435", "gaussian"),
    (0.575552, "Completed", "6", "0.004493", "bernoulli"),
    (0.833996, "Completed", "4", "0.001439", "bernoulli"),
    (0.719295, "Completed", "5", "0.001449", "gaussian"),
    (0.867298, "Completed", "5", "0.009739", "gaussian"),
    (0.762673, "Completed", "5", "0.00162", "bernoulli"),
    (None, "Failed", "5", "0.001392", "gaussian"),
    (None, "Failed", "7", "0.00252", "bernoulli"),
]
BEST_SO_FAR = [0.572823, 0.575552, 0.833996, 0.833996, 0.867298, 0.867298, 0.867298, 0.867298]


@pytest.fixture(scope="module")
def known_job(emulator_url: str, aws_at) -> str:
    """The tuning job NAME on the emulator, completed."""
    control(emulator_url, "training-jobs", {"count": 8, "failed": 2})
    from tests.cli.conftest import fake_aws_environment, tuning_job_request

    with pytest.MonkeyPatch.context() as patch:
        fake_aws_environment(patch)
        aws = aws_at(emulator_url)
        sagemaker = aws.client("sagemaker")
        sagemaker.create_hyper_parameter_tuning_job(
            **tuning_job_request(NAME, aws.role(), max_jobs=8)
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            described = sagemaker.describe_hyper_parameter_tuning_job(
                HyperParameterTuningJobName=NAME
            )
            if described["HyperParameterTuningJobStatus"] == "Completed":
                return NAME
            time.sleep(0.2)
    raise AssertionError(f"{NAME} did not complete")


def test_text_report(cli, emulator_url: str, monkeypatch, known_job: str) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", emulator_url)

    result = cli("report", "--tuning-job", known_job, "--format", "text")

    assert result.code == 0, result.err
    lines = result.out.splitlines()
    assert lines[0] == f"tuning job      {NAME} (Completed, strategy Bayesian)"
    assert lines[1] == "objective       validation:auc (higher is better)"
    assert (
        lines[2] == "training jobs   6 completed, 0 in progress, 2 failed, 0 stopped (of 8 planned)"
    )
    assert re.fullmatch(rf"best            {NAME}-005-\w+ \(validation:auc = 0.867298\)", lines[3])
    # the best-so-far table: one row per training job in start order
    header = lines.index(
        "Best validation:auc so far, training jobs in the order they started (higher is better):"
    )
    rows = [line.split() for line in lines[header + 2 : header + 2 + len(JOBS)]]
    assert [row[0] for row in rows] == [str(i) for i in range(1, 9)]
    assert [row[1].startswith(f"{NAME}-00{i}-") for i, row in enumerate(rows, 1)] == [True] * 8
    assert [row[2] for row in rows] == [job[1] for job in JOBS]
    assert [row[3] for row in rows] == [str(job[0]) if job[0] else "-" for job in JOBS]
    assert [float(row[4]) for row in rows] == BEST_SO_FAR
    assert [i for i, row in enumerate(rows, 1) if row[5:] == ["<-", "new", "best"]] == [1, 2, 3, 5]
    assert [i for i, row in enumerate(rows, 1) if row[5:] == ["x", "failed"]] == [7, 8]
    # each hyperparameter over its configured range: max_depth 3..7 has 40 cells, 4 -> cell 10,
    # 5 (the best, and three others) -> 20, 6 -> 29, 7 (only a failed job) -> 39
    [depth] = [line for line in lines if line.startswith("  max_depth ")]
    strip = depth.split("|")[1]
    assert depth.split("|")[0].split() == ["max_depth", "3"]
    assert {i: mark for i, mark in enumerate(strip) if mark != " "} == {
        10: "o",
        20: "*",
        29: "o",
        39: "x",
    }
    assert depth.endswith("| 7        (integer, linear)")
    [rate] = [line for line in lines if line.startswith("  learn_rate ")]
    assert rate.split("|")[0].split() == ["learn_rate", "0.001"]
    assert rate.split("|")[1][39] == "*"  # 0.009739 on a log axis from 0.001 to 0.01
    assert rate.endswith("| 0.01     (continuous, log scale)")
    [distribution] = [line for line in lines if line.startswith("  distribution ")]
    assert distribution.split() == [
        "distribution",
        "bernoulli:",
        "ooox",
        "gaussian:",
        "*oox",
        "(categorical)",
    ]


def test_html_report_figures(cli, emulator_url: str, monkeypatch, known_job, tmp_path) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", emulator_url)
    output = tmp_path / "report.html"

    result = cli("report", "--tuning-job", known_job, "--output", str(output))

    assert result.code == 0, result.err
    html = output.read_text()
    assert "<script" not in html and "http://" not in html.replace("http://www.w3.org", "")
    charts = {
        svg.get("aria-label"): svg
        for svg in map(ElementTree.fromstring, re.findall(r"<svg\b.*?</svg>", html, re.S))
    }
    assert list(charts) == [
        "validation:auc per training job",
        "best validation:auc so far (higher is better)",
        "max_depth against validation:auc",
        "learn_rate against validation:auc",
        "distribution against validation:auc",
    ]

    # THEN the best-so-far chart: a step line through four levels, a dot per job with a value,
    # the four new bests larger, the two failed jobs as red crosses
    curve = charts["best validation:auc so far (higher is better)"]
    groups = list(curve.iter(f"{NS}g"))
    titles = [g.find(f"{NS}title").text for g in groups]
    assert [float(t.rsplit("best so far ", 1)[1]) for t in titles if "best so far" in t] == (
        BEST_SO_FAR[:6]
    )
    assert [g.get("class") for g in groups] == ["job improved"] * 3 + [
        "job",
        "job improved",
        "job",
        "no-value",
        "no-value",
    ]
    assert [g.find(f"{NS}text").get("fill") for g in groups[6:]] == ["#c92a2a"] * 2
    [line] = [path for path in curve.iter(f"{NS}path") if path.get("class") == "best-so-far"]
    levels = re.findall(r"V([\d.]+)", line.get("d"))
    assert len(levels) == 3  # three steps up after the first value: four levels

    # AND each hyperparameter's axis spans its configured range, on its scale
    rate = charts["learn_rate against validation:auc"]
    ticks = [t.find(f"{NS}title").text for t in rate.iter(f"{NS}text") if t.get("class") == "tick"]
    assert ticks[0] == "0.001" and ticks[-1] == "0.01"
    [caption] = [t.text for t in rate.iter(f"{NS}text") if t.get("class") == "caption"]
    assert caption == "learn_rate (continuous, log scale, range 0.001 to 0.01)"
    best = next(g for g in rate.iter(f"{NS}g") if g.find(f"{NS}title").text.endswith("(best)"))
    axis = ParameterAxis.of(
        {
            "Name": "learn_rate",
            "kind": "continuous",
            "MinValue": "0.001",
            "MaxValue": "0.01",
            "ScalingType": "Logarithmic",
        },
        [],
    )
    assert axis.fraction("0.009739") == pytest.approx(math.log10(9.739), abs=1e-9)
    assert float(best.find(f"{NS}circle").get("cx")) == pytest.approx(
        66 + 280 * math.log10(9.739), abs=0.06
    )
    depth = charts["max_depth against validation:auc"]
    labels = [
        t.find(f"{NS}title").text for t in depth.iter(f"{NS}text") if t.get("class") == "tick"
    ]
    assert labels[0] == "3" and labels[-1] == "7"
    crosses = [g for g in depth.iter(f"{NS}g") if g.get("class") == "no-value"]
    assert len(crosses) == 2 and all("Failed" in g.find(f"{NS}title").text for g in crosses)
    # AND the categorical values are labelled positions, the configured order kept
    distribution = charts["distribution against validation:auc"]
    labels = [
        (t.find(f"{NS}title").text, float(t.get("x")))
        for t in distribution.iter(f"{NS}text")
        if t.get("class") == "tick"
    ]
    assert [label for label, _ in labels] == ["bernoulli", "gaussian"]
    assert labels[0][1] < labels[1][1]


def test_parameter_axes() -> None:
    def axis(**spec: Any) -> ParameterAxis:
        return ParameterAxis.of({"Name": "p", "kind": "continuous", **spec}, spec.pop("tried", []))

    linear = axis(MinValue="0.6", MaxValue="1.0", ScalingType="Auto")
    assert (linear.scale, linear.fraction("0.8")) == ("linear", pytest.approx(0.5))
    assert [label for _, label in linear.ticks()][0 :: len(linear.ticks()) - 1] == ["0.6", "1"]
    log = axis(MinValue="1e-4", MaxValue="1", ScalingType="Logarithmic")
    assert log.fraction("0.01") == pytest.approx(0.5)
    assert [label for _, label in log.ticks()] == ["0.0001", "0.001", "0.01", "0.1", "1"]
    reverse = axis(MinValue="0.9", MaxValue="0.9999", ScalingType="ReverseLogarithmic")
    assert reverse.scale == "reverse-log"
    assert reverse.fraction("0.999") == pytest.approx(2 / 3)
    assert [label for _, label in reverse.ticks()] == ["0.9", "0.99", "0.999", "0.9999"]
    # a value outside the configured range widens the axis rather than falling off it
    wide = ParameterAxis.of(
        {"Name": "p", "kind": "integer", "MinValue": "1", "MaxValue": "5"}, ["9", "x"]
    )
    assert (wide.low, wide.high, wide.fraction("9"), wide.fraction("x")) == (1, 9, 1.0, None)
    categories = ParameterAxis.of(
        {"Name": "c", "kind": "categorical", "Values": ["b", "a"]}, ["a", "z"]
    )
    assert categories.categories == ("b", "a", "z")
    assert [categories.fraction(v) for v in "baz"] == pytest.approx([1 / 6, 0.5, 5 / 6])


def test_text_report_to_a_file(cli, emulator_url: str, monkeypatch, known_job, tmp_path) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", emulator_url)
    shown = cli("report", "--tuning-job", known_job, "--format", "text").out
    output = tmp_path / "report.txt"

    result = cli("report", "--tuning-job", known_job, "--format", "text", "--output", str(output))

    assert result.code == 0
    assert result.out.startswith(f"wrote {output}: tuning job {NAME}, 8 training jobs, best ")
    assert output.read_text() == shown
