"""`smtune report`: one self-contained HTML page that pictures a tuning run.

A bar per training job (objective value, the best one marked), the best objective so far over
the training jobs in the order they started, then for each tuned hyperparameter a scatter of its
value against the objective on an axis that spans its configured range (log scale where the range
says so, categorical values as labelled positions), then the table of all jobs. Failed and
stopped jobs are marked. Charts are inline SVG drawn here; the page loads nothing from anywhere.
`render_text` prints the same figures for a terminal.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
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
FAILED = "#c92a2a"
ENDED_WITHOUT_VALUE = ("Failed", "Stopped")


def best_job_name(run: TuningRun) -> str | None:
    """SageMaker's BestTrainingJob; failing that, the best objective value by direction."""
    named = run.best_job
    if named and any(job.name == named for job in run.jobs):
        return named
    scored = [job for job in run.jobs if job.objective is not None]
    if not scored:
        return named
    minimize = (run.progress.direction or "Maximize").lower() == "minimize"
    chosen = min(scored, key=_value) if minimize else max(scored, key=_value)
    return chosen.name


def _value(job: TrainingJobResult) -> float:
    return job.objective if job.objective is not None else -math.inf


def _numeric(values: list[str]) -> list[float] | None:
    try:
        return [float(value) for value in values]
    except ValueError:
        return None


def minimizing(run: TuningRun) -> bool:
    return (run.progress.direction or "Maximize").lower() == "minimize"


def best_so_far(run: TuningRun) -> list[float | None]:
    """For each training job in start order, the best objective value of it and the jobs
    before it (None until a job has reported one), by the objective's direction."""
    pick = min if minimizing(run) else max
    best: float | None = None
    found: list[float | None] = []
    for job in run.jobs:
        if job.objective is not None:
            best = job.objective if best is None else pick(best, job.objective)
        found.append(best)
    return found


def without_value(job: TrainingJobResult) -> bool:
    """A failed or stopped job (or any ended job without an objective value)."""
    return job.objective is None and job.status in ENDED_WITHOUT_VALUE


def _float(text: str) -> float | None:
    try:
        number = float(text)
    except ValueError:
        return None
    return number if math.isfinite(number) else None


@dataclass(frozen=True)
class ParameterAxis:
    """A tuned hyperparameter's axis: its configured range (widened to any value outside it),
    on the scale the range asks for, or its categorical values as positions."""

    name: str
    kind: str  # integer, continuous, categorical
    scale: str  # linear, log, reverse-log, categorical
    low: float = 0.0
    high: float = 1.0
    categories: tuple[str, ...] = ()

    @classmethod
    def of(cls, parameter: dict[str, Any], values: list[str]) -> ParameterAxis:
        name, kind = str(parameter.get("Name")), str(parameter.get("kind"))
        if kind == "categorical":
            configured = [str(value) for value in parameter.get("Values") or []]
            extra = sorted({value for value in values if value not in configured})
            return cls(name, kind, "categorical", categories=tuple(configured + extra))
        numbers = [n for n in map(_float, values) if n is not None]
        bounds = [_float(str(parameter.get(key, ""))) for key in ("MinValue", "MaxValue")]
        low = min([b for b in bounds[:1] if b is not None] + numbers, default=0.0)
        high = max([b for b in bounds[1:] if b is not None] + numbers, default=1.0)
        scaling = str(parameter.get("ScalingType") or "")
        if scaling == "Logarithmic" and low > 0:
            scale = "log"
        elif scaling == "ReverseLogarithmic" and low >= 0 and high < 1:
            scale = "reverse-log"
        else:
            scale = "linear"
        return cls(name, kind, scale, low, high)

    def _t(self, value: float) -> float:
        if self.scale == "log":
            return math.log10(value)
        if self.scale == "reverse-log":
            return -math.log10(1 - value)
        return value

    def fraction(self, value: str) -> float | None:
        """Where `value` sits on the axis, 0 (its start) to 1 (its end); None if it cannot."""
        if self.scale == "categorical":
            if value not in self.categories:
                return None
            return (self.categories.index(value) + 0.5) / len(self.categories)
        number = _float(value)
        if number is None or not self.low <= number <= self.high:
            return None
        span = self._t(self.high) - self._t(self.low)
        return (self._t(number) - self._t(self.low)) / span if span else 0.5

    def ticks(self) -> list[tuple[float, str]]:
        """(fraction, label): the range's ends, and round values between them."""
        if self.scale == "categorical":
            return [(self.fraction(c) or 0.0, c) for c in self.categories]
        if self.low == self.high:
            return [(0.5, format_tick(self.low))]
        if self.scale == "log":
            decades = range(math.floor(math.log10(self.low)), math.ceil(math.log10(self.high)))
            steps = (1, 2, 5) if math.log10(self.high / self.low) < 2 else (1,)
            inner = [m * 10.0**k for k in decades for m in steps]
            inner += [
                10.0**k
                for k in range(
                    math.ceil(math.log10(self.low)), math.floor(math.log10(self.high)) + 1
                )
            ]
        elif self.scale == "reverse-log":
            first = math.ceil(-math.log10(1 - self.low)) if self.low > 0 else 1
            inner = [
                1 - 10.0**-k
                for k in range(max(1, first), 1 + math.floor(-math.log10(1 - self.high)))
            ]
        else:
            inner = nice_ticks(self.low, self.high)
            if self.kind == "integer":
                inner = [t for t in inner if float(t).is_integer()]
        ticks = {format_tick(self.low): 0.0, format_tick(self.high): 1.0}
        for tick in inner:
            fraction = self.fraction(repr(tick))
            if fraction is not None and 0.12 <= fraction <= 0.88:
                ticks.setdefault(format_tick(tick), fraction)
        return sorted((fraction, label) for label, fraction in ticks.items())

    def caption(self) -> str:
        if self.scale == "categorical":
            return f"{self.name} (categorical, {len(self.categories)} values)"
        scale = {"log": "log scale", "reverse-log": "reverse log scale"}.get(self.scale, "linear")
        return (
            f"{self.name} ({self.kind}, {scale}, range {format_tick(self.low)} to "
            f"{format_tick(self.high)})"
        )


class _Axis:
    """A linear (or log) mapping from data to pixels with rounded ticks."""

    def __init__(self, low: float, high: float, start: float, end: float, log: bool = False):
        self.log = log and low > 0 and high > 0
        self.low: float
        self.high: float
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


def progress_chart(run: TuningRun, best: str | None) -> str:
    """The best objective so far over the training jobs in start order: each job's value as a
    dot, the best so far as a step line, failed and stopped jobs as red crosses."""
    jobs = run.jobs
    scored = [job.objective for job in jobs if job.objective is not None]
    metric = run.progress.metric or "objective"
    if not scored:
        return ""
    direction = "lower" if minimizing(run) else "higher"
    step = min(48.0, max(8.0, 760.0 / len(jobs)))
    left, right, top, plot_height = 64.0, 24.0, 28.0, 220.0
    step = max(step, (600.0 - left - right) / len(jobs))  # room for the legend below
    width = left + step * len(jobs) + right
    height = top + plot_height + 50
    axis = _Axis(min(scored), max(scored), top + plot_height, top)
    label = f"best {metric} so far ({direction} is better)"
    out = [
        f'<svg class="chart" xmlns="http://www.w3.org/2000/svg" width="{width:.0f}" '
        f'height="{height:.0f}" viewBox="0 0 {width:.0f} {height:.0f}" '
        f'font-family="{esc(FONT)}" role="img" aria-label="{esc(label)}">'
    ]
    for tick in axis.ticks:
        y = axis(tick)
        out.append(
            f'<line x1="{left}" x2="{width - 12:.0f}" y1="{y:.1f}" y2="{y:.1f}" stroke="{GRID}"/>'
            f'<text x="{left - 6}" y="{y + 4:.1f}" font-size="11" fill="#495057" '
            f'text-anchor="end">{format_tick(tick)}</text>'
        )
    baseline = axis.start

    def x_of(index: int) -> float:
        return left + step * (index + 0.5)

    path: list[str] = []
    previous: float | None = None
    for index, value in enumerate(best_so_far(run)):
        if value is None:
            continue
        x0, x1, y = x_of(index) - step / 2, x_of(index) + step / 2, axis(value)
        if previous is None:
            path.append(f"M{x_of(index):.1f},{y:.1f}")
        elif value != previous:
            path.append(f"H{x0:.1f}V{y:.1f}")
        path.append(f"H{x1:.1f}")
        previous = value
    out.append(
        f'<path class="best-so-far" d="{"".join(path)}" fill="none" stroke="{BEST}" '
        f'stroke-width="2.5" stroke-linejoin="round"/>'
    )
    running = best_so_far(run)
    for index, job in enumerate(jobs):
        x = x_of(index)
        if job.objective is None:
            tip = f"#{index + 1} {job.name}: {job.status}, no objective value"
            color = FAILED if without_value(job) else MUTED
            out.append(
                f'<g class="no-value"><title>{esc(tip)}</title><text x="{x:.1f}" '
                f'y="{baseline - 4:.1f}" font-size="13" font-weight="700" fill="{color}" '
                f'text-anchor="middle">&#215;</text></g>'
            )
            continue
        improved = running[index] == job.objective and (
            index == 0 or running[index - 1] != job.objective
        )
        tip = f"#{index + 1} {job.name}: {metric} = {format_number(job.objective)}"
        tip += f", best so far {format_number(running[index] or job.objective)}"
        radius, color = (5.0, BEST) if improved else (3.5, BAR)
        out.append(
            f'<g class="job{" improved" if improved else ""}"><title>{esc(tip)}</title>'
            f'<circle cx="{x:.1f}" cy="{axis(job.objective):.1f}" r="{radius}" fill="{color}" '
            f'stroke="#ffffff" stroke-width="1"/></g>'
        )
    for index in range(len(jobs)):
        if len(jobs) <= 40 or index % max(1, len(jobs) // 20) == 0:
            out.append(
                f'<text x="{x_of(index):.1f}" y="{baseline + 15:.1f}" font-size="10" '
                f'fill="#495057" text-anchor="middle">{index + 1}</text>'
            )
    out.append(
        f'<line x1="{left}" x2="{width - 12:.0f}" y1="{baseline:.1f}" y2="{baseline:.1f}" '
        f'stroke="#868e96"/>'
        f'<text x="{left}" y="{height - 10:.0f}" font-size="11" fill="#495057">'
        "training jobs in the order they started; line: best so far; larger dot: a new best; "
        f'<tspan fill="{FAILED}">&#215;</tspan> failed or stopped</text>'
        f'<text x="12" y="16" font-size="11" fill="#495057">{esc(label)}</text>'
        "</svg>"
    )
    return "".join(out)


def scatter_chart(run: TuningRun, parameter: dict[str, Any], best: str | None) -> str:
    """One tuned hyperparameter against the objective, on an axis over its configured range;
    jobs without a value are red crosses on the axis, at the value they tried."""
    name = str(parameter.get("Name"))
    metric = run.progress.metric or "objective"
    tried = [job for job in run.jobs if name in job.hyperparameters]
    points = [job for job in tried if job.objective is not None]
    if not tried:
        return ""
    axis = ParameterAxis.of(parameter, [job.hyperparameters[name] for job in tried])
    width = max(370.0, 56.0 + 14.0 + 70.0 * len(axis.categories))
    height = 236.0
    left, right, top, bottom = 56.0, 14.0, 30.0, 50.0
    objectives = [float(job.objective) for job in points if job.objective is not None]
    if objectives:
        y_axis = _Axis(min(objectives), max(objectives), height - bottom, top)
    else:
        y_axis = _Axis(0.0, 1.0, height - bottom, top)
    inset = 10.0 if axis.scale != "categorical" else 0.0

    def x_of(fraction: float) -> float:
        return left + inset + fraction * (width - right - left - 2 * inset)

    out = [
        f'<svg class="chart" xmlns="http://www.w3.org/2000/svg" width="{width:.0f}" '
        f'height="{height:.0f}" viewBox="0 0 {width:.0f} {height:.0f}" '
        f'font-family="{esc(FONT)}" role="img" aria-label="{esc(name)} against {esc(metric)}">',
        f'<text x="{left}" y="16" font-size="12" font-weight="600" fill="{INK}">{esc(name)}</text>',
    ]
    if objectives:
        for tick in y_axis.ticks:
            y = y_axis(tick)
            out.append(
                f'<line x1="{left}" x2="{width - right}" y1="{y:.1f}" y2="{y:.1f}" '
                f'stroke="{GRID}"/><text x="{left - 6}" y="{y + 4:.1f}" font-size="10" '
                f'fill="#495057" text-anchor="end">{format_tick(tick)}</text>'
            )
    axis_y = height - bottom
    for fraction, label in axis.ticks():
        shown = label if len(label) <= 12 else label[:11] + "…"
        out.append(
            f'<line x1="{x_of(fraction):.1f}" x2="{x_of(fraction):.1f}" y1="{axis_y:.1f}" '
            f'y2="{axis_y + 4:.1f}" stroke="#868e96"/>'
            f'<text class="tick" x="{x_of(fraction):.1f}" y="{axis_y + 16:.1f}" font-size="10" '
            f'fill="#495057" text-anchor="middle"><title>{esc(label)}</title>{esc(shown)}</text>'
        )
    out.append(
        f'<line x1="{x_of(0.0):.1f}" x2="{x_of(1.0):.1f}" y1="{axis_y:.1f}" y2="{axis_y:.1f}" '
        f'stroke="#868e96" stroke-width="1.5"/>'
        f'<text class="caption" x="{(left + width - right) / 2:.1f}" y="{height - 10:.0f}" '
        f'font-size="10" fill="#495057" text-anchor="middle">{esc(axis.caption())}</text>'
    )
    for job in sorted(tried, key=lambda job: job.name == best):
        raw = job.hyperparameters[name]
        position = axis.fraction(raw)
        if position is None:
            continue
        x = x_of(position)
        if job.objective is None:
            tip = f"{job.name}: {name} = {raw}, {job.status}, no objective value"
            color = FAILED if without_value(job) else MUTED
            out.append(
                f'<g class="no-value"><title>{esc(tip)}</title><text x="{x:.1f}" '
                f'y="{axis_y + 4:.1f}" font-size="13" font-weight="700" fill="{color}" '
                f'text-anchor="middle">&#215;</text></g>'
            )
            continue
        y = y_axis(float(job.objective))
        tip = f"{job.name}: {name} = {raw}, {metric} = {format_number(job.objective)}"
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
    progress_svg = progress_chart(run, best)
    if progress_svg:
        parts += [
            f"<h2>Best {esc(metric)} so far</h2>",
            f'<p class="note">How the tuner got there: the best value after each training job, '
            f"{'lowest' if direction == 'minimize' else 'highest'} first reached where the line "
            "steps; failed and stopped jobs are red crosses.</p>",
            f'<div class="scroll">{progress_svg}</div>',
        ]
    charts = [scatter_chart(run, parameter, best) for parameter in run.parameter_ranges]
    charts = [chart for chart in charts if chart]
    if charts:
        parts += [
            f"<h2>Tuned hyperparameters against {esc(metric)}</h2>",
            '<p class="note">One point per training job; the '
            '<span class="best-key">best</span> job is the larger point; each axis spans the '
            "hyperparameter's configured range, on the range's scale; a red cross on the axis "
            "is a job that failed or was stopped with that value.</p>",
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


STRIP = 40  # characters between the ends of a hyperparameter's axis in the text report


def _strip(axis: ParameterAxis, marks: list[tuple[str, str]]) -> str:
    """A row of STRIP cells over the axis: `*` the best job, `o` a job with a value, `x` a
    failed or stopped one (the strongest mark wins a shared cell)."""
    cells = [" "] * STRIP
    rank = {" ": 0, "x": 1, "o": 2, "*": 3}
    for value, mark in marks:
        fraction = axis.fraction(value)
        if fraction is None:
            continue
        cell = min(STRIP - 1, max(0, round(fraction * (STRIP - 1))))
        if rank[mark] > rank[cells[cell]]:
            cells[cell] = mark
    return "".join(cells)


def render_text(run: TuningRun, execution: dict[str, Any] | None = None) -> str:
    """The report's figures for a terminal: the facts, the best objective so far per training
    job in start order, and each hyperparameter's tried values over its configured range."""
    progress = run.progress
    best = best_job_name(run)
    metric = progress.metric or "objective"
    direction = "lower" if minimizing(run) else "higher"
    config = run.description.get("HyperParameterTuningJobConfig", {})
    lines = [
        f"tuning job      {progress.name} ({progress.status}, "
        f"strategy {config.get('Strategy', '-')})",
        f"objective       {metric} ({direction} is better)",
        f"training jobs   {progress.completed} completed, {progress.in_progress} in progress, "
        f"{progress.failed} failed, {progress.stopped} stopped"
        + (f" (of {progress.planned} planned)" if progress.planned else ""),
    ]
    best_job = next((job for job in run.jobs if job.name == best), None)
    if best_job and best_job.objective is not None:
        lines.append(f"best            {best} ({metric} = {format_number(best_job.objective)})")
    if execution:
        lines.append(f"execution       {execution.get('executionArn')} ({execution.get('status')})")
    if not run.jobs:
        return "\n".join([*lines, "", "No training jobs found for this tuning job."]) + "\n"
    width = max(len(job.name) for job in run.jobs)
    lines += [
        "",
        f"Best {metric} so far, training jobs in the order they started ({direction} is better):",
        f"  {'#':>3}  {'training job':<{width}}  {'status':<10}  {metric:>14}  {'best so far':>12}",
    ]
    previous: float | None = None
    for index, (job, value) in enumerate(zip(run.jobs, best_so_far(run)), start=1):
        objective = format_number(job.objective) if job.objective is not None else "-"
        running = format_number(value) if value is not None else "-"
        note = ""
        if value is not None and value != previous:
            note = "  <- new best"
        elif without_value(job):
            note = "  x " + job.status.lower()
        previous = value
        lines.append(
            f"  {index:>3}  {job.name:<{width}}  {job.status:<10}  {objective:>14}  "
            f"{running:>12}{note}"
        )
    axes = []
    for parameter in run.parameter_ranges:
        name = str(parameter.get("Name"))
        tried = [job for job in run.jobs if name in job.hyperparameters]
        if tried:
            axes.append(
                (ParameterAxis.of(parameter, [job.hyperparameters[name] for job in tried]), tried)
            )
    if axes:
        lines += [
            "",
            "Tuned hyperparameters over their configured ranges "
            "(* the best job, o a job with a value, x failed or stopped):",
        ]
        label_width = max(len(axis.name) for axis, _ in axes)
        for axis, tried in axes:
            marks = [
                (
                    job.hyperparameters[axis.name],
                    "*" if job.name == best else ("o" if job.objective is not None else "x"),
                )
                for job in tried
            ]
            if axis.scale == "categorical":
                counts = []
                for category in axis.categories:
                    here = [mark for value, mark in marks if value == category]
                    counts.append(f"{category}: {''.join(sorted(here, key='*ox'.index)) or '-'}")
                lines.append(f"  {axis.name:<{label_width}}  {'   '.join(counts)}  (categorical)")
                continue
            low, high = format_tick(axis.low), format_tick(axis.high)
            scale = {"log": "log scale", "reverse-log": "reverse log scale"}.get(
                axis.scale, "linear"
            )
            lines.append(
                f"  {axis.name:<{label_width}}  {low:>8} |{_strip(axis, marks)}| {high:<8} "
                f"({axis.kind}, {scale})"
            )
    return "\n".join(lines) + "\n"
