"""One evaluation, as published: the cases, every version's results, the comparisons and the gate.
Built once at the end of the pipeline (`harness.pipeline`); the session's end adds the latency
suite's findings with `dataclasses.replace`, never by changing it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from harness.golden import Case
    from harness.records.comparison import Comparison
    from harness.records.gate import GateResult
    from harness.records.latency import NodeBreakdown
    from harness.records.results import VersionResult
    from harness.settings import HarnessConfig


@dataclass(frozen=True)
class Evaluation:
    config: HarnessConfig
    cases: list[Case]
    versions: list[VersionResult]
    gate: GateResult | None = None
    # From the latency suite, added at the session's end: per-version node breakdowns, pytest-benchmark's JSON.
    node_breakdowns: dict[str, NodeBreakdown] = field(default_factory=dict)
    benchmark_json: dict[str, Any] | None = None
    started_s: float | None = None  # when the session began (epoch seconds), the start of its MLflow run
    # A/B: the candidate against each other version, and one-line notes such as a
    # baseline that could not be loaded.
    comparisons: list[Comparison] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def candidate(self) -> VersionResult:
        return self.versions[0]

    @property
    def gated(self) -> GateResult:
        """The gate's result: every evaluation past the pipeline has one."""
        if self.gate is None:
            raise ValueError("this evaluation was not gated (harness.pipeline.gate_evaluation)")
        return self.gate
