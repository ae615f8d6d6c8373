"""Thresholds -> GateResult: every check must hold for a version to be promoted."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING

from harness.config import UPPER_BOUND_METRICS, HarnessConfig

if TYPE_CHECKING:
    from harness.evaluation import VersionResult


@dataclass
class GateCheck:
    metric: str
    op: str  # ">=" (value must reach the threshold) or "<=" (value must stay under it)
    threshold: float
    value: float | None = None
    low: float | None = None
    high: float | None = None
    passed: bool | None = None  # None: not evaluated yet
    detail: str = ""
    kind: str = "threshold"  # threshold | errors | non_inferiority

    @property
    def id(self) -> str:
        """The pytest id: `correctness>=0.85`."""
        return f"{self.metric}{self.op}{self.threshold:g}"

    def to_dict(self) -> dict:
        return {**asdict(self), "id": self.id}


@dataclass
class GateResult:
    checks: list[GateCheck] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return all(c.passed for c in self.checks)

    @property
    def failures(self) -> list[GateCheck]:
        return [c for c in self.checks if not c.passed]

    def check(self, check_id: str) -> GateCheck:
        return next(c for c in self.checks if c.id == check_id)

    def table(self) -> str:
        from tabulate import tabulate

        rows = []
        for c in self.checks:
            value = "n/a" if c.value is None else _fmt(c.metric, c.value)
            ci = "" if c.low is None else f"[{_fmt(c.metric, c.low)}, {_fmt(c.metric, c.high)}]"
            rows.append([c.metric, value, ci, f"{c.op} {c.threshold:g}", "PASS" if c.passed else "FAIL", c.detail])
        return tabulate(rows, headers=["metric", "value", "95% CI", "threshold", "result", "note"], tablefmt="github", disable_numparse=True)

    def to_dict(self) -> dict:
        return {"passed": self.passed, "checks": [c.to_dict() for c in self.checks]}


def _fmt(metric: str, value: float) -> str:
    return f"{value:.1f}" if metric.endswith("_ms") else f"{value:.3f}"


def planned_checks(cfg: HarnessConfig) -> list[GateCheck]:
    """The checks this configuration will make, known before anything runs (they name the gate tests)."""
    checks = [
        GateCheck(metric, "<=" if metric in UPPER_BOUND_METRICS else ">=", threshold)
        for metric, threshold in cfg.thresholds.items()
    ]
    checks.append(GateCheck("agent_error_rate", "<=", cfg.max_agent_error_rate, kind="errors"))
    if cfg.judge_model:
        checks.append(GateCheck("judge_error_rate", "<=", cfg.max_judge_error_rate, kind="errors"))
    return checks


def evaluate_gate(cfg: HarnessConfig, candidate: VersionResult) -> GateResult:
    """Fill in every planned check from the candidate's results.

    Scores gate on their mean; latency percentiles gate on the upper end of their CI, so a noisy
    run cannot pass by luck. A metric with no data fails: a check that cannot be made never passes.
    """
    checks = planned_checks(cfg)
    for check in checks:
        estimate = candidate.metric_estimate(check.metric)
        if estimate is None or estimate.n == 0:
            check.passed = False
            check.detail = "no data for this metric"
            continue
        check.value, check.low, check.high = estimate.value, estimate.low, estimate.high
        if check.metric.startswith("latency_"):
            gated = estimate.high
            check.detail = "gated on the CI's upper end"
        else:
            gated = estimate.value
        check.passed = gated >= check.threshold if check.op == ">=" else gated <= check.threshold
    return GateResult(checks)
