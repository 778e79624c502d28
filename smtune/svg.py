"""Helpers for the hand-written SVG of `graph` and `report` (no drawing library needed)."""

from __future__ import annotations

import math
from html import escape

FONT = "-apple-system, 'Segoe UI', Helvetica, Arial, sans-serif"


def esc(text: object) -> str:
    return escape(str(text), quote=True)


def text_width(text: str, size: float = 13.0, bold: bool = False) -> float:
    """A generous estimate of rendered width: boxes must never be narrower than their text."""
    per_char = 0.58 if bold else 0.55
    wide = sum(1 for char in text if char.isupper() or char in "mwMW@%")
    return size * (per_char * len(text) + 0.12 * wide)


def nice_ticks(low: float, high: float, count: int = 5) -> list[float]:
    """Round axis ticks covering [low, high] (1, 2, 2.5, 5 x 10^n steps)."""
    if not math.isfinite(low) or not math.isfinite(high):
        return [0.0, 1.0]
    if high <= low:
        pad = abs(low) * 0.1 or 1.0
        low, high = low - pad, high + pad
    raw = (high - low) / max(1, count)
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    start = math.floor(low / step) * step
    ticks: list[float] = []
    value = start
    while value < high + step * 0.999:
        ticks.append(round(value, 12))
        value += step
    return ticks


def format_tick(value: float) -> str:
    return f"{value:.4g}"
