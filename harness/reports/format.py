"""Numbers as every report shows them: one rounding for milliseconds, one for scores."""

from __future__ import annotations


def ms(value: float | None) -> str:
    """Milliseconds: sub-millisecond calls (a cached or trivial agent) keep three decimals."""
    if value is None or value != value:
        return "n/a"
    return f"{value:.3f}" if abs(value) < 1 else f"{value:.1f}"


def num(value: float | None, fmt: str = ".3f") -> str:
    if value is None or value != value:
        return "n/a"
    if value in (float("inf"), float("-inf")):
        return "∞"
    return format(value, fmt)
