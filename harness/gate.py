"""Thresholds -> GateResult: every check must hold for a version to be promoted.

Three kinds of check: absolute thresholds on the candidate's own metrics (`[tool.harness.thresholds]`),
error-rate limits, and checks relative to the baseline when one ran: non-inferiority margins
(`[tool.harness.non_inferiority]`, kind "non_inferiority") and `latency_ratio_max`.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from collections.abc import Sequence
from typing import TYPE_CHECKING

from harness.config import UPPER_BOUND_METRICS, HarnessConfig

if TYPE_CHECKING:
    from harness.compare import Comparison
    from harness.evaluation import VersionResult

RATIO_METRIC = "latency_ratio_max"
RATIO_PERCENTILE = "p50"  # the latency percentile whose candidate/baseline ratio `latency_ratio_max` bounds


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
    skipped: bool = False  # a check relative to the baseline when no baseline ran: shown, not counted

    @property
    def id(self) -> str:
        """The pytest id: `correctness>=0.85`, or `correctness_vs_baseline>=-0.02` for non-inferiority."""
        if self.kind == "non_inferiority":
            return f"{self.metric}_vs_baseline{self.op}{self.threshold:g}"
        return f"{self.metric}{self.op}{self.threshold:g}"

    @property
    def label(self) -> str:
        """The metric as the gate table names it."""
        return f"{self.metric} Δ vs baseline" if self.kind == "non_inferiority" else self.metric

    def to_dict(self) -> dict:
        return {**asdict(self), "id": self.id}


@dataclass
class GateResult:
    checks: list[GateCheck] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return all(c.passed or c.skipped for c in self.checks)

    @property
    def failures(self) -> list[GateCheck]:
        return [c for c in self.checks if not c.passed and not c.skipped]

    def check(self, check_id: str) -> GateCheck:
        return next(c for c in self.checks if c.id == check_id)

    def table(self) -> str:
        from tabulate import tabulate

        rows = []
        for c in self.checks:
            fmt = _fmt_delta if c.kind == "non_inferiority" else _fmt
            value = "n/a" if c.value is None else fmt(c.metric, c.value)
            ci = "" if c.low is None else f"[{fmt(c.metric, c.low)}, {fmt(c.metric, c.high)}]"
            result = "SKIP" if c.skipped else "PASS" if c.passed else "FAIL"
            rows.append([c.label, value, ci, f"{c.op} {c.threshold:g}", result, c.detail])
        return tabulate(rows, headers=["metric", "value", "95% CI", "threshold", "result", "note"], tablefmt="github", disable_numparse=True)

    def to_dict(self) -> dict:
        return {"passed": self.passed, "checks": [c.to_dict() for c in self.checks]}


def _fmt(metric: str, value: float) -> str:
    if metric == "latency_ratio_max":
        return f"{value:.2f}x"
    return f"{value:.1f}" if metric.endswith("_ms") else f"{value:.3f}"


def _fmt_delta(metric: str, value: float) -> str:
    return f"{value:+.3f}"


def planned_checks(cfg: HarnessConfig) -> list[GateCheck]:
    """The checks this configuration will make, known before anything runs (they name the gate tests)."""
    checks = [
        GateCheck(metric, "<=" if metric in UPPER_BOUND_METRICS else ">=", threshold)
        for metric, threshold in cfg.thresholds.items()
    ]
    checks.append(GateCheck("agent_error_rate", "<=", cfg.max_agent_error_rate, kind="errors"))
    if cfg.judge_model:
        checks.append(GateCheck("judge_error_rate", "<=", cfg.max_judge_error_rate, kind="errors"))
    # Planned whatever the baseline: the default baseline (models:/<name>@production) is only known
    # to exist once the session runs, and a planned check must name its test at collection time.
    for metric, margin in cfg.non_inferiority.items():
        checks.append(GateCheck(metric, ">=", -margin if margin else 0.0, kind="non_inferiority"))
    return checks


def evaluate_gate(
    cfg: HarnessConfig,
    candidate: VersionResult,
    comparison: Comparison | None = None,
    notes: Sequence[str] = (),
) -> GateResult:
    """Fill in every planned check from the candidate's results (and its comparison with the baseline).

    Scores gate on their mean; latency percentiles gate on the upper end of their CI, so a noisy
    run cannot pass by luck. A metric with no data fails: a check that cannot be made never passes.
    Checks relative to a baseline (non-inferiority, `latency_ratio_max`) are skipped, visibly, when
    no baseline ran; see `_relative_check`.
    """
    checks = planned_checks(cfg)
    for check in checks:
        if check.kind == "non_inferiority" or check.metric == RATIO_METRIC:
            _relative_check(check, comparison, notes)
            continue
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


def _relative_check(check: GateCheck, comparison: Comparison | None, notes: Sequence[str]) -> None:
    """Evaluate a check that compares the candidate with the baseline.

    No baseline ran: the check is *skipped* (shown as SKIP with the reason; it neither passes nor
    fails the gate). A relative check has nothing to be measured against, unlike an absolute
    check with missing data, which fails. Failing it instead would make the first version of a
    model unpromotable (there is no `@production` to compare with yet) and would turn a missing
    optional baseline into a release blocker, which is what `require_baseline` is for: with it set,
    a baseline that cannot be loaded stops the session before anything is gated. The absolute
    thresholds, `latency_p95_ms` included, still hold either way.

    Non-inferiority fails when the candidate is significantly worse than the baseline by more than
    the margin: the Holm-corrected paired test says `worse` *and* the whole 95% CI of
    candidate − baseline lies below −margin. `latency_ratio_max` bounds the upper end of the 95% CI
    of the candidate/baseline ratio of p50 latency (the same "no pass by luck" rule as latency_p95_ms).
    """
    if comparison is None:
        why = "; ".join(notes) if notes else "no baseline configured (set baseline or --baseline)"
        check.skipped, check.passed = True, True
        check.detail = f"skipped: no baseline ran ({why})"
        return
    against = f"vs {comparison.baseline_reference}"
    if check.metric == RATIO_METRIC:
        ratio = comparison.latency_ratio(RATIO_PERCENTILE)
        if ratio is None or ratio.ratio != ratio.ratio or ratio.ci_high != ratio.ci_high:
            check.passed = False
            check.detail = f"no paired latency data {against}"
            return
        check.value, check.low, check.high = ratio.ratio, ratio.ci_low, ratio.ci_high
        check.passed = ratio.ci_high <= check.threshold
        check.detail = f"candidate/baseline {RATIO_PERCENTILE} latency {against}, gated on the CI's upper end"
        return
    metric = comparison.metric(check.metric)
    if metric is None or metric.n == 0:
        check.passed = False
        check.detail = f"no paired data for this metric {against}"
        return
    check.value, check.low, check.high = metric.delta, metric.ci_low, metric.ci_high
    significantly_worse = metric.verdict == "worse" and metric.ci_high < check.threshold
    check.passed = not significantly_worse
    check.detail = (
        f"candidate − baseline {against}, p={metric.p_adjusted:.3g} (Holm), {metric.verdict}; "
        f"fails when significantly worse by more than the margin {-check.threshold:g}"
    )
