"""`smtune report`: one self-contained HTML page that pictures a tuning run.

A bar per training job (objective value, the best one marked), then for each tuned
hyperparameter a scatter of its value against the objective, then the table of all jobs.
Charts are inline SVG drawn here; the page loads nothing from anywhere.
"""

from __future__ import annotations

import math
from datetime import datetime, timezone
from typing import Any

from smtune.resources import TrainingJobResult, TuningRun, format_number
from smtune.svg import FONT, esc, format_tick, nice_ticks
from smtune.text import format_time

BEST = "#e8590c"
BAR = "#4c8bd6"
MUTED = "#adb5bd"
INK = "#212529"
GRID = "#e9ecef"


def best_job_name(run: TuningRun) -> str | None:
    """SageMaker's BestTrainingJob; failing that, the best objective value by direction."""
    named = run.best_job
    if named and any(job.name == named for job in run.jobs):
        return named
    scored = [job for job in run.jobs if job.objective is not None]
    if not scored:
        return named
    minimize = (run.progress.direction or "Maximize").lower() == "minimize"
    chosen = min(scored, key=lambda j: j.objective) if minimize else max(scored, key=_value)
    return chosen.name


def _value(job: TrainingJobResult) -> float:
    return job.objective if job.objective is not None else -math.inf


def _numeric(values: list[str]) -> list[float] | None:
    try:
        return [float(value) for value in values]
    except ValueError:
        return None


class _Axis:
    """A linear (or log) mapping from data to pixels with rounded ticks."""

    def __init__(self, low: float, high: float, start: float, end: float, log: bool = False):
        self.log = log and low > 0 and high > 0
        if self.log:
            low, high = math.log10(low), math.log10(high)
            self.ticks = [10**t for t in range(math.floor(low), math.ceil(high) + 1)]
            self.low, self.high = math.floor(low), math.ceil(high)
            if self.low == self.high:
                self.high += 1
        else:
            span = high - low
            pad = span * 0.08 if span else (abs(high) * 0.1 or 1.0)
            self.ticks = nice_ticks(low - pad, high + pad)
            self.low, self.high = self.ticks[0], self.ticks[-1]
        self.start, self.end = start, end

    def __call__(self, value: float) -> float:
        data = math.log10(value) if self.log else value
        fraction = (data - self.low) / ((self.high - self.low) or 1.0)
        return self.start + fraction * (self.end - self.start)


def bar_chart(run: TuningRun, best: str | None) -> str:
    jobs = run.jobs
    scored = [job.objective for job in jobs if job.objective is not None]
    metric = run.progress.metric or "objective"
    if not scored:
        return "<p>No training job reported an objective value.</p>"
    bar = min(36.0, max(6.0, 720.0 / len(jobs)))
    step = bar * 1.35
    left, top, plot_height = 64.0, 28.0, 240.0
    width = left + step * len(jobs) + 24
    height = top + plot_height + 46
    axis = _Axis(min(scored), max(scored), top + plot_height, top)
    out = [
        f'<svg class="chart" xmlns="http://www.w3.org/2000/svg" width="{width:.0f}" '
        f'height="{height:.0f}" viewBox="0 0 {width:.0f} {height:.0f}" '
        f'font-family="{esc(FONT)}" role="img" aria-label="{esc(metric)} per training job">'
    ]
    for tick in axis.ticks:
        y = axis(tick)
        out.append(
            f'<line x1="{left}" x2="{width - 12:.0f}" y1="{y:.1f}" y2="{y:.1f}" stroke="{GRID}"/>'
            f'<text x="{left - 6}" y="{y + 4:.1f}" font-size="11" fill="#495057" '
            f'text-anchor="end">{format_tick(tick)}</text>'
        )
    baseline = axis.start
    for index, job in enumerate(jobs):
        x = left + step * index + (step - bar) / 2
        tip = f"{job.name}: {job.status}"
        if job.objective is None:
            out.append(
                f"<g><title>{esc(tip)}, no objective value</title>"
                f'<text x="{x + bar / 2:.1f}" y="{baseline - 6:.1f}" font-size="11" '
                f'fill="{MUTED}" text-anchor="middle">&#215;</text></g>'
            )
        else:
            y = axis(job.objective)
            color = BEST if job.name == best else BAR
            tip += f", {metric} = {format_number(job.objective)}"
            out.append(
                f'<g><title>{esc(tip)}</title><rect x="{x:.1f}" y="{y:.1f}" width="{bar:.1f}" '
                f'height="{max(1.0, baseline - y):.1f}" fill="{color}" rx="2"/></g>'
            )
            if job.name == best:
                out.append(
                    f'<text x="{x + bar / 2:.1f}" y="{y - 6:.1f}" font-size="11" '
                    f'font-weight="600" fill="{BEST}" text-anchor="middle">best</text>'
                )
        if len(jobs) <= 40 or index % max(1, len(jobs) // 20) == 0:
            out.append(
                f'<text x="{x + bar / 2:.1f}" y="{baseline + 15:.1f}" font-size="10" '
                f'fill="#495057" text-anchor="middle">{index + 1}</text>'
            )
    out.append(
        f'<line x1="{left}" x2="{width - 12:.0f}" y1="{baseline:.1f}" y2="{baseline:.1f}" '
        f'stroke="#868e96"/>'
        f'<text x="{left}" y="{height - 8:.0f}" font-size="11" fill="#495057">'
        f"training jobs in the order they started (hover for names)</text>"
        f'<text x="12" y="16" font-size="11" fill="#495057">{esc(metric)}</text>'
        "</svg>"
    )
    return "".join(out)


def scatter_chart(run: TuningRun, parameter: dict[str, Any], best: str | None) -> str:
    name = str(parameter.get("Name"))
    metric = run.progress.metric or "objective"
    points = [
        (job, job.hyperparameters[name])
        for job in run.jobs
        if job.objective is not None and name in job.hyperparameters
    ]
    if not points:
        return ""
    width, height = 320.0, 230.0
    left, right, top, bottom = 56.0, 14.0, 30.0, 44.0
    numbers = None if parameter["kind"] == "categorical" else _numeric([v for _, v in points])
    objectives = [float(job.objective) for job, _ in points if job.objective is not None]
    y_axis = _Axis(min(objectives), max(objectives), height - bottom, top)
    out = [
        f'<svg class="chart" xmlns="http://www.w3.org/2000/svg" width="{width:.0f}" '
        f'height="{height:.0f}" viewBox="0 0 {width:.0f} {height:.0f}" '
        f'font-family="{esc(FONT)}" role="img" aria-label="{esc(name)} against {esc(metric)}">',
        f'<text x="{left}" y="16" font-size="12" font-weight="600" fill="{INK}">{esc(name)}</text>',
    ]
    for tick in y_axis.ticks:
        y = y_axis(tick)
        out.append(
            f'<line x1="{left}" x2="{width - right}" y1="{y:.1f}" y2="{y:.1f}" stroke="{GRID}"/>'
            f'<text x="{left - 6}" y="{y + 4:.1f}" font-size="10" fill="#495057" '
            f'text-anchor="end">{format_tick(tick)}</text>'
        )
    if numbers is not None:
        log = str(parameter.get("ScalingType", "")).startswith("Log")
        x_axis = _Axis(min(numbers), max(numbers), left + 8, width - right - 8, log=log)
        positions = [x_axis(value) for value in numbers]
        labels = [(x_axis(t), format_tick(t)) for t in x_axis.ticks]
        caption = f"{name} ({'log scale' if x_axis.log else parameter['kind']})"
    else:
        categories = sorted({value for _, value in points})
        span = (width - right - left) / len(categories)
        slot = {value: left + span * (i + 0.5) for i, value in enumerate(categories)}
        positions = [slot[value] for _, value in points]
        labels = [
            (slot[value], value if len(value) <= 12 else value[:11] + "…") for value in categories
        ]
        caption = f"{name} (categorical)"
    for x, label in labels:
        if left - 1 <= x <= width - right + 1:
            out.append(
                f'<text x="{x:.1f}" y="{height - bottom + 14:.1f}" font-size="10" '
                f'fill="#495057" text-anchor="middle">{esc(label)}</text>'
            )
    out.append(
        f'<line x1="{left}" x2="{width - right}" y1="{height - bottom:.1f}" '
        f'y2="{height - bottom:.1f}" stroke="#868e96"/>'
        f'<text x="{(left + width - right) / 2:.1f}" y="{height - 8:.0f}" font-size="10" '
        f'fill="#495057" text-anchor="middle">{esc(caption)}</text>'
    )
    ordered = sorted(zip(points, positions), key=lambda item: item[0][0].name == best)
    for (job, raw), x in ordered:
        y = y_axis(float(job.objective or 0.0))
        tip = f"{job.name}: {name} = {raw}, {metric} = {format_number(job.objective or 0.0)}"
        if job.name == best:
            out.append(
                f'<g><title>{esc(tip)} (best)</title><circle cx="{x:.1f}" cy="{y:.1f}" r="6.5" '
                f'fill="{BEST}" stroke="#ffffff" stroke-width="1.5"/></g>'
            )
        else:
            out.append(
                f'<g><title>{esc(tip)}</title><circle cx="{x:.1f}" cy="{y:.1f}" r="4.5" '
                f'fill="{BAR}" fill-opacity="0.75"/></g>'
            )
    out.append("</svg>")
    return "".join(out)


_STYLE = """
body { font-family: %(font)s; color: #212529; margin: 2rem auto; max-width: 1100px;
       padding: 0 1rem; line-height: 1.45; }
h1 { font-size: 1.5rem; margin-bottom: 0.2rem; } h2 { font-size: 1.15rem; margin-top: 2rem; }
.sub { color: #495057; margin-top: 0; }
dl { display: grid; grid-template-columns: max-content 1fr; gap: 0.25rem 1.2rem; }
dt { color: #495057; } dd { margin: 0; font-variant-numeric: tabular-nums; }
.charts { display: flex; flex-wrap: wrap; gap: 1rem; }
.chart { background: #fff; border: 1px solid #e9ecef; border-radius: 6px; max-width: 100%%; }
.scroll { overflow-x: auto; }
table { border-collapse: collapse; font-size: 0.85rem; font-variant-numeric: tabular-nums; }
th, td { border-bottom: 1px solid #e9ecef; padding: 0.3rem 0.6rem; text-align: left; }
tr.best td { background: #fff4e6; font-weight: 600; }
.best-key { color: %(best)s; font-weight: 600; }
.note { color: #495057; font-size: 0.85rem; }
"""


def render_report(
    run: TuningRun, execution: dict[str, Any] | None = None, now: datetime | None = None
) -> str:
    """The whole page. `execution` (optional) adds the run it belongs to."""
    progress = run.progress
    description = run.description
    best = best_job_name(run)
    best_job = next((job for job in run.jobs if job.name == best), None)
    metric = progress.metric or "objective"
    direction = (progress.direction or "Maximize").lower()
    config = description.get("HyperParameterTuningJobConfig", {})
    facts: list[tuple[str, str]] = [
        ("Status", progress.status),
        ("Strategy", str(config.get("Strategy", "-"))),
        ("Objective", f"{metric} ({'lower' if direction == 'minimize' else 'higher'} is better)"),
        (
            "Training jobs",
            f"{progress.completed} completed, {progress.in_progress} in progress, "
            f"{progress.failed} failed, {progress.stopped} stopped"
            + (f" (of {progress.planned} planned)" if progress.planned else ""),
        ),
        (
            "Best training job",
            f"{best} ({metric} = {format_number(best_job.objective)})"
            if best_job and best_job.objective is not None
            else (best or "none yet"),
        ),
        ("Created", format_time(description.get("CreationTime"))),
        ("Ended", format_time(description.get("HyperParameterTuningEndTime"))),
    ]
    if progress.failure_reason:
        facts.append(("Failure reason", progress.failure_reason))
    if execution:
        facts.append(("Execution", f"{execution.get('executionArn')} ({execution.get('status')})"))
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>Tuning job {esc(progress.name)}</title>",
        f"<style>{_STYLE % {'font': FONT, 'best': BEST}}</style></head><body>",
        f"<h1>Tuning job {esc(progress.name)}</h1>",
        f'<p class="sub">Report written {esc(format_time(now or datetime.now(timezone.utc)))}'
        "</p>",
        "<dl>" + "".join(f"<dt>{esc(k)}</dt><dd>{esc(v)}</dd>" for k, v in facts) + "</dl>",
        f"<h2>{esc(metric)} per training job</h2>",
        '<p class="note">The <span class="best-key">best</span> job is marked; '
        "&#215; marks a job without an objective value. The axis covers the range of the values, "
        "so it may not start at zero.</p>",
        f'<div class="scroll">{bar_chart(run, best)}</div>',
    ]
    charts = [scatter_chart(run, parameter, best) for parameter in run.parameter_ranges]
    charts = [chart for chart in charts if chart]
    if charts:
        parts += [
            f"<h2>Tuned hyperparameters against {esc(metric)}</h2>",
            '<p class="note">One point per training job; the '
            '<span class="best-key">best</span> job is the larger point.</p>',
            '<div class="charts">' + "".join(charts) + "</div>",
        ]
    parts.append(_jobs_table(run, best, metric))
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


def _jobs_table(run: TuningRun, best: str | None, metric: str) -> str:
    if not run.jobs:
        return "<h2>Training jobs</h2><p>No training jobs found for this tuning job.</p>"
    names = [str(p["Name"]) for p in run.parameter_ranges]
    for job in run.jobs:
        names += [name for name in job.hyperparameters if name not in names]
    head = "".join(f"<th>{esc(h)}</th>" for h in ["#", "training job", "status", metric, *names])
    rows = []
    for index, job in enumerate(run.jobs, start=1):
        value = format_number(job.objective) if job.objective is not None else "-"
        cells = [str(index), job.name, job.status, value]
        cells += [job.hyperparameters.get(name, "") for name in names]
        css = ' class="best"' if job.name == best else ""
        rows.append(f"<tr{css}>" + "".join(f"<td>{esc(c)}</td>" for c in cells) + "</tr>")
    return (
        "<h2>Training jobs</h2>"
        f'<div class="scroll"><table><thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table></div>"
    )
