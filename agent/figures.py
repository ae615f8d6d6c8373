"""How the answers write figures: money, durations, shares."""

from __future__ import annotations


def money(x: float) -> str:
    return f"${x:,.2f}"


def secs(ms: float) -> str:
    return f"{ms / 1000:.1f} s"


def pct(x: float, digits: int = 0) -> str:
    return f"{x * 100:.{digits}f}%"
