"""What a version answered to one case and how each scorer judged the answer."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class AgentOutput:
    text: str
    metadata: dict[str, Any] = field(default_factory=dict)
    latency_ms: float = 0.0
    error: str | None = None
    # The steps the answer took, read from its MLflow trace (harness/trajectory.py); None: not traced.
    trajectory: list[dict[str, Any]] | None = None
    traced: bool = False  # answered under tracing: its latency includes the tracing cost


@dataclass(frozen=True)
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
