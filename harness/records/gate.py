"""Gate records: each check with its threshold and outcome, the power plan, and the decision
(see `harness.gate` for how they are filled in)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

RATIO_METRIC = "latency_ratio_max"
RATIO_PERCENTILE = "p50"  # the latency percentile whose candidate/baseline ratio `latency_ratio_max` bounds
# Notes that start with this say a baseline that should have been compared against did not load:
# the `baseline` check fails on them (they travel as plain text through results.json and xdist).
BASELINE_UNAVAILABLE = "baseline unavailable: "
ALPHA = 0.05


@dataclass(frozen=True)
class GateCheck:
    metric: str
    op: str  # ">=" (value must reach the threshold) or "<=" (value must stay under it)
    threshold: float
    value: float | None = None
    low: float | None = None
    high: float | None = None
    passed: bool | None = None  # None: not evaluated yet
    detail: str = ""
    kind: str = "threshold"  # threshold | errors | critical | non_inferiority | baseline | policy
    skipped: bool = False  # a check relative to the baseline when no baseline ran: shown, not counted
    cases: list[str] = field(default_factory=list)  # critical checks: the failing case ids
    gate_on: str = ""  # threshold checks: what the threshold was compared with (mean, ci_low, point, ci_high)

    @property
    def id(self) -> str:
        """The pytest id: `correctness>=0.85`, `correctness_vs_baseline>=-0.02`, `safety_failing_cases<=0`."""
        if self.kind == "non_inferiority":
            return f"{self.metric}_vs_baseline{self.op}{self.threshold:g}"
        if self.kind == "critical":
            return f"{self.metric.replace(' ', '_')}_failing_cases<=0"
        if self.kind in ("baseline", "policy"):
            return self.metric
        return f"{self.metric}{self.op}{self.threshold:g}"

    @property
    def label(self) -> str:
        """The metric as the gate table names it."""
        if self.kind == "non_inferiority":
            return f"{self.metric} Δ vs baseline"
        if self.kind == "critical":
            return f"{self.metric} (zero tolerance)"
        return self.metric

    def to_dict(self) -> dict:
        return {**asdict(self), "id": self.id}


@dataclass(frozen=True)
class PowerPlan:
    """What one gated relative check can resolve on this golden set, said before (and after) the run."""

    metric: str
    test: str  # no_regression | non_inferiority
    margin: float
    n: int  # cases the metric applies to
    sd: float  # per-case sd of candidate − baseline
    sd_source: str  # "observed" (this run's pairs) or "assumed" (before the run; see stats)
    detectable: float  # no_regression: smallest drop detected with 80% power; non_inferiority: smallest margin shown
    cases_needed: int | None  # for the margin (None: no number of cases suffices)

    @property
    def warning(self) -> bool:
        return self.detectable > self.margin

    def line(self) -> str:
        if self.test == "non_inferiority":
            what = f"smallest margin shown {self.detectable:.3f} (non-inferiority: the 95% CI's lower end must clear −margin)"
        else:
            what = f"smallest detectable drop {self.detectable:.3f} (no significant regression, one-sided, 80% power)"
        needed = "no number of cases" if self.cases_needed is None else f"about {self.cases_needed} cases"
        text = f"{self.metric}: {self.n} cases, {self.sd_source} per-case sd {self.sd:.3f}: {what}; margin {self.margin:g} needs {needed}"
        return f"warning: {text}, more than this golden set has" if self.warning else text

    def to_dict(self) -> dict:
        return {**asdict(self), "warning": self.warning}


@dataclass(frozen=True)
class GateResult:
    checks: list[GateCheck] = field(default_factory=list)
    plan: list[PowerPlan] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return all(c.passed or c.skipped for c in self.checks)

    @property
    def failures(self) -> list[GateCheck]:
        return [c for c in self.checks if not c.passed and not c.skipped]

    def check(self, check_id: str) -> GateCheck:
        return next(c for c in self.checks if c.id == check_id)

    def table(self, width: int = 120) -> str:
        """The terminal's gate table, at most `width` columns: the note is cut to fit (the reports
        hold it whole)."""
        from tabulate import tabulate

        headers = ["metric", "value", "95% CI", "threshold", "result", "note"]
        rows = []
        for c in self.checks:
            fmt = _fmt_delta if c.kind == "non_inferiority" else _fmt
            if c.kind in ("critical", "baseline", "policy"):
                value, ci = ("n/a" if c.value is None else f"{c.value:g}"), ""
            else:
                value = "n/a" if c.value is None else fmt(c.metric, c.value)
                ci = "" if c.low is None else f"[{fmt(c.metric, c.low)}, {fmt(c.metric, c.high)}]"
            result = "SKIP" if c.skipped else "PASS" if c.passed else "FAIL"
            # A critical row's note leads with the failing case ids, the part worth the room.
            note = f"{len(c.cases)} found: {', '.join(c.cases)}" if c.kind == "critical" and c.cases else " ".join(c.detail.split())
            rows.append([c.label, value, ci, f"{c.op} {c.threshold + 0.0:g}", result, note])
        table = tabulate(rows, headers=headers, tablefmt="github", disable_numparse=True)
        excess = max(map(len, table.splitlines())) - width
        if excess <= 0:
            return table
        room = max(len(headers[-1]), max(len(r[-1]) for r in rows) - excess)
        for row in rows:
            if len(row[-1]) > room:
                row[-1] = row[-1][: room - 1].rstrip() + "…"
        return tabulate(rows, headers=headers, tablefmt="github", disable_numparse=True)

    def to_dict(self) -> dict:
        from harness.stats import BOOTSTRAP

        return {"passed": self.passed, "checks": [c.to_dict() for c in self.checks], "plan": [p.to_dict() for p in self.plan],
                "bootstrap": BOOTSTRAP.to_dict()}


def _fmt(metric: str, value: float) -> str:
    if metric == RATIO_METRIC:
        return f"{value:.2f}x"
    return f"{value:.1f}" if metric.endswith("_ms") else f"{value:.3f}"


def _fmt_delta(metric: str, value: float) -> str:
    return f"{value:+.3f}"
