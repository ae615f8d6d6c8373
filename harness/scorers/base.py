"""The Scorer protocol and the Score every scorer returns."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from harness.golden import Case
from harness.records.answers import AgentOutput, Score


@runtime_checkable
class Scorer(Protocol):
    name: str
    judge: str

    def score(self, case: Case, output: AgentOutput) -> Score: ...


def not_applicable(name: str, judge: str, why: str) -> Score:
    return Score(name, 1.0, True, why, judge, applicable=False)


def failed(name: str, judge: str, why: str, error: bool = True) -> Score:
    """A score that can never count as a pass: agent errors, scorer errors, judge errors."""
    return Score(name, 0.0, False, why, judge, error=error)
