"""The Scorer protocol and the Score every scorer returns."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Protocol, runtime_checkable

from harness.golden import Case
from harness.versions.version import AgentOutput


@dataclass
class Score:
    name: str
    value: float  # 0..1
    passed: bool
    rationale: str
    judge: str = "rule"
    applicable: bool = True  # False: the case has nothing for this scorer to check (excluded from means)
    error: bool = False  # True: the scorer itself (or the judge behind it) failed; never a pass

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


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
