"""Gate records: each check with its threshold and outcome, the power plan, and the decision
(see `harness.gate` for how they are filled in)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

RATIO_METRIC = "latency_ratio_max"
# The latency statistic whose candidate/baseline ratio `latency_ratio_max` bounds: the geometric
# mean of the per-case ratios (records.comparison.PER_CASE; a case's difficulty cancels out).
RATIO_STATISTIC = "per-case"
# Notes that start with this say a baseline that should have been compared against did not load:
# the `baseline` check fails on them (they travel as plain text through results.json and xdist).
BASELINE_UNAVAILABLE = "baseline unavailable: "
ALPHA = 0.05
# The `max_detectable_drop` check: the smallest drop the golden set detects, bounded by the policy.
DETECTABLE_METRIC = "detectable_drop"


def detectable_text(drop: float) -> str:
    """A smallest detectable drop on a 0..1 scale: `0.095`, or `none` where no drop is detectable."""
    return f"{drop:.3f}" if drop == drop and drop <= 1 else "none (no drop in 0..1 is detectable)"


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
    kind: str = "threshold"  # threshold | errors | critical | non_inferiority | power | baseline | policy
    skipped: bool = False  # a check relative to the baseline when no baseline ran: shown, not counted
    cases: list[str] = field(default_factory=list)  # critical checks: the failing case ids
    gate_on: str = ""  # threshold checks: what the threshold was compared with (mean, ci_low, ci, point, ci_high)
    checked: float | None = None  # the value actually compared with the bound (a CI end, a mean, a Δ)
    undecided: bool = False  # a latency check whose 95% CI lies across its bound (see harness.gate._latency_bound)
    cases_needed: int | None = None  # undecided: about how many cases would decide it

    @property
    def id(self) -> str:
        """The pytest id: `correctness>=0.85`, `correctness_vs_baseline>=-0.02`, `safety_failing_cases<=0`."""
        if self.kind == "non_inferiority":
            return f"{self.metric}_vs_baseline{self.op}{self.threshold:g}"
        if self.kind == "critical":
            return f"{self.metric.replace(' ', '_')}_failing_cases<=0"
        if self.kind in ("baseline", "policy"):
            return self.metric
        if self.kind == "power":
            return f"{self.metric}<={self.threshold:g}"
        return f"{self.metric}{self.op}{self.threshold:g}"

    @property
    def label(self) -> str:
        """The metric as the gate table names it."""
        if self.kind == "non_inferiority":
            return f"{self.metric} Δ vs baseline"
        if self.kind == "critical":
            return f"{self.metric} (zero tolerance)"
        return self.metric

    def sentence(self, baseline: str = "the baseline") -> str:
        """This check's outcome in words, with its kind, the value actually checked and its bound:
        `correctness Δ vs @production −0.97 (allowed ≥ −0.02)`, `1 answer failed safety (zero
        tolerance: case order-007)`, `p95 latency not measured`. The decision line joins the failing ones."""
        unit = "x" if self.metric == RATIO_METRIC else " ms" if self.metric.startswith("latency_") else ""
        bound = (
            f"{'≥' if self.op == '>=' else '≤' if self.op == '<=' else '='} "
            f"{_plain(self.threshold).replace('-', '−')}{unit}"
        )
        checked = self.value if self.checked is None else self.checked
        if self.kind == "critical":
            return self._critical_sentence()
        if self.kind == "baseline":
            return f"baseline not loaded: {self.detail}" if not self.passed else "baseline loaded"
        if self.kind == "policy":
            return f"the policy checks nothing: {self.detail}"
        if self.kind == "power":
            return (
                f"the golden set detects drops of {detectable_text(checked or float('nan'))} or more "
                f"(max_detectable_drop, allowed {bound})"
            )
        if self.metric == RATIO_METRIC or self.metric.startswith("latency_"):
            name = (
                f"latency vs {baseline} (per-case ratio)"
                if self.metric == RATIO_METRIC
                else f"{self.metric.split('_')[1]} latency"
            )
            if checked is None or checked != checked:
                return f"{name} not measured"

            def shown(v: float) -> str:
                return f"{v:.2f}x" if unit == "x" else f"{v:.1f} ms"

            if self.undecided and self.value is not None and self.low is not None and self.high is not None:
                more = (
                    "no number of cases tells"
                    if self.cases_needed is None
                    else f"about {self.cases_needed} cases would tell"
                )
                return (
                    f"{name} {shown(self.value)}, 95% CI [{shown(self.low)}, {shown(self.high)}]: undecided "
                    "on this set, "
                    f"{more} (allowed {bound})"
                )
            return f"{name} {shown(checked)} ({GATE_ON_WORDS[self.checked_as]}; allowed {bound})"
        if checked is None or checked != checked:
            return f"{self.metric} not measured ({self.detail})" if self.detail else f"{self.metric} not measured"
        if self.kind == "non_inferiority":
            return f"{self.metric} Δ vs {baseline} {_signed(checked)} (allowed {bound})"
        if self.kind == "errors":
            return f"{self.metric.replace('_', ' ')} {checked:.1%} (allowed {bound})"
        return f"{self.metric} {GATE_ON_WORDS[self.checked_as]} {checked:.3f} (threshold {bound})"

    def _critical_sentence(self) -> str:
        ids = ", ".join(self.cases[:5]) + (f" and {len(self.cases) - 5} more" if len(self.cases) > 5 else "")
        which = f"case{'s' if len(self.cases) != 1 else ''} {ids}" if self.cases else "no case"
        if self.metric.startswith("tagged "):
            tag = self.metric[len("tagged ") :]
            return f"{len(self.cases)} case(s) tagged '{tag}' failed (zero tolerance: {which})"
        what = CRITICAL_WORDS.get(self.metric, f"failed {self.metric}")
        return (
            f"{len(self.cases)} answer{'s' if len(self.cases) != 1 else ''} {what} ({self.metric}, "
            f"zero tolerance: {which})"
        )

    @property
    def checked_as(self) -> str:
        """Which value `checked` is: the CI end, the mean or the point estimate."""
        if self.checked is None or self.value is None or self.checked == self.value:
            return (
                self.gate_on
                if self.gate_on in ("mean", "point")
                else "mean"
                if self.kind == "threshold" and not self.metric.startswith("latency")
                else "point"
            )
        return "ci_low" if self.low is not None and self.checked == self.low else "ci_high"

    def to_dict(self) -> dict:
        from harness.records.comparison import _json_number

        return {**{k: _json_number(v) for k, v in asdict(self).items()}, "id": self.id, "sentence": self.sentence()}


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
            what = (
                f"smallest margin shown {detectable_text(self.detectable)} (non-inferiority: the 95% CI's "
                "lower end must clear −margin)"
            )
        else:
            what = (
                f"smallest detectable drop {detectable_text(self.detectable)} (no significant regression, "
                "one-sided, 80% power)"
            )
        needed = "no number of cases" if self.cases_needed is None else f"about {self.cases_needed} cases"
        sd = f"{self.sd:.3f}" if self.sd == self.sd else "n/a"
        text = (
            f"{self.metric}: {self.n} cases, {self.sd_source} per-case sd {sd}: {what}; margin "
            f"{self.margin:g} needs {needed}"
        )
        return f"warning: {text}, more than this golden set has" if self.warning else text

    def to_dict(self) -> dict:
        from harness.records.comparison import _json_number

        return {**{k: _json_number(v) for k, v in asdict(self).items()}, "warning": self.warning}


@dataclass(frozen=True)
class GateResult:
    checks: list[GateCheck] = field(default_factory=list)
    plan: list[PowerPlan] = field(default_factory=list)
    detectable: str = ""  # one line: the smallest drop the golden set detects, and what the policy requires

    @property
    def passed(self) -> bool:
        return all(c.passed or c.skipped for c in self.checks)

    @property
    def failures(self) -> list[GateCheck]:
        return [c for c in self.checks if not c.passed and not c.skipped]

    def check(self, check_id: str) -> GateCheck:
        return next(c for c in self.checks if c.id == check_id)

    def to_dict(self) -> dict:
        from harness.records.estimate import BOOTSTRAP

        return {
            "passed": self.passed,
            "checks": [c.to_dict() for c in self.checks],
            "plan": [p.to_dict() for p in self.plan],
            "detectable": self.detectable,
            "bootstrap": BOOTSTRAP.to_dict(),
        }


# How a failing zero-tolerance check of a scorer reads: `1 answer leaked a secret`.
CRITICAL_WORDS = {"safety": "leaked a secret or forbidden text, or missed a refusal"}
GATE_ON_WORDS = {"mean": "mean", "ci_low": "95% CI lower end", "ci_high": "95% CI upper end", "point": "point estimate"}


def _plain(value: float) -> str:
    return format(value + 0.0, "g")  # never -0


def _signed(value: float) -> str:
    """A difference with its sign, `−0.97` (two decimals, more where it is smaller)."""
    return (f"{value + 0.0:+.2f}" if abs(value) >= 0.01 or value == 0 else f"{value:+.2g}").replace("-", "−")
