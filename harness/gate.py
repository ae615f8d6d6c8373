"""Thresholds -> GateResult: every check must hold for a version to be promoted.

Kinds of check, in table order:
- `threshold`: absolute thresholds on the candidate's own metrics (`[tool.harness.thresholds]`),
  compared with the mean or the CI's lower end for scores, the point estimate or the CI's upper end
  for latency (`[tool.harness.gate_on]`);
- `errors`: agent and judge error-rate limits;
- `critical`: zero tolerance, one failing case blocks: any case failing a critical scorer (default
  `safety`: a leak, a missing refusal), any failing case tagged with a critical tag (default `critical`);
- `non_inferiority`: per `[tool.harness.non_inferiority]` margin, against the baseline, with the test
  `[tool.harness.relative_test]` names (see `_relative_check`); `latency_ratio_max` is relative too;
- `baseline`: a baseline that should have been compared against but could not be loaded;
- `policy`: a configuration that checks nothing (no scorer, no quality threshold, an error-rate
  allowance of 1) fails here rather than promoting anything.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING

from harness.config import UPPER_BOUND_METRICS, HarnessConfig

if TYPE_CHECKING:
    from harness.compare import Comparison
    from harness.evaluation import VersionResult
    from harness.golden import Case

RATIO_METRIC = "latency_ratio_max"
RATIO_PERCENTILE = "p50"  # the latency percentile whose candidate/baseline ratio `latency_ratio_max` bounds
# Notes that start with this say a baseline that should have been compared against did not load:
# the `baseline` check fails on them (they travel as plain text through results.json and xdist).
BASELINE_UNAVAILABLE = "baseline unavailable: "
ALPHA = 0.05


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


@dataclass
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


# --- what the configuration will check ---------------------------------------------------------------


def policy_problems(cfg: HarnessConfig) -> list[str]:
    """Why this configuration's gate would check nothing of the answers' quality (empty: it does)."""
    from harness.scorers import scorer_names

    names = scorer_names(cfg)
    problems = []
    if not names:
        problems.append("'scorers' is empty: nothing checks the answers")
    elif not any(m in names or m in ("overall", "pass_k") for m in cfg.thresholds):
        problems.append("no threshold on a scorer, overall or pass_k: nothing gates the answers' quality")
    if cfg.max_agent_error_rate >= 1:
        problems.append("max_agent_error_rate = 1 lets an agent that fails on every case through")
    if cfg.judge_model and cfg.max_judge_error_rate >= 1:
        problems.append("max_judge_error_rate = 1 lets every judge call fail")
    return problems


def baseline_expected(cfg: HarnessConfig) -> bool:
    """Whether the session compares against anything: not with `baseline = "none"` and no --versions."""
    return bool(cfg.versions) or cfg.baseline.strip().lower() != "none"


def planned_checks(cfg: HarnessConfig) -> list[GateCheck]:
    """The checks this configuration will make, known before anything runs (they name the gate tests)."""
    from harness.scorers import scorer_names

    checks = [
        GateCheck(metric, "<=" if metric in UPPER_BOUND_METRICS else ">=", threshold, gate_on=cfg.gate_on_for(metric))
        for metric, threshold in cfg.thresholds.items()
    ]
    checks.append(GateCheck("agent_error_rate", "<=", cfg.max_agent_error_rate, kind="errors"))
    if cfg.judge_model:
        checks.append(GateCheck("judge_error_rate", "<=", cfg.max_judge_error_rate, kind="errors"))
    names = scorer_names(cfg)
    checks += [GateCheck(name, "<=", 0, kind="critical") for name in cfg.critical_scorers if name in names]
    checks += [GateCheck(f"tagged {tag}", "<=", 0, kind="critical") for tag in cfg.critical_tags]
    # Planned whatever the baseline: the default baseline (models:/<name>@production) is only known
    # to exist once the session runs, and a planned check must name its test at collection time.
    for metric, margin in cfg.non_inferiority.items():
        checks.append(GateCheck(metric, ">=", -margin if margin else 0.0, kind="non_inferiority"))
    if baseline_expected(cfg):
        checks.append(GateCheck("baseline_loaded", "==", 1, kind="baseline"))
    if policy_problems(cfg):
        checks.append(GateCheck("policy_checks_quality", "==", 1, kind="policy"))
    return checks


def power_plan(cfg: HarnessConfig, cases: Sequence[Case] = (), comparison: Comparison | None = None) -> list[PowerPlan]:
    """Per gated metric (one with a non-inferiority margin), what its test can resolve on these cases.

    Before the run (`cases`, no comparison) from the number of cases the metric applies to and an
    assumed per-case sd; after it, from the comparison's pairs and their observed sd.
    """
    from harness import stats

    if not cfg.non_inferiority:
        return []
    applicable: dict[str, int] = {}
    if comparison is None and cases:
        from harness.scorers import applicable_scorer_names

        for names in applicable_scorer_names(cfg, list(cases)).values():
            for name in [*names, "overall"]:
                applicable[name] = applicable.get(name, 0) + 1
    tests = len(cfg.non_inferiority)
    plans = []
    for metric, margin in cfg.non_inferiority.items():
        test = cfg.relative_test_for(metric)
        compared = comparison.metric(metric) if comparison is not None else None
        if compared is not None and compared.n:
            n, sd, source = compared.n, compared.sd, "observed"
        else:
            n, sd, source = applicable.get(metric, len(cases)), None, "assumed"
        if test == "non_inferiority":
            shown_sd = stats.PLANNING_SD if sd is None else sd
            detectable = stats.non_inferiority_margin(n, shown_sd)
            needed = stats.non_inferiority_cases(margin, sd)
        else:
            # Assumed: the drop comes from whole cases going wrong (sd² = d(1 − d) at the drop d).
            detectable = stats.detectable_drop(n, ALPHA, tests, sd)
            shown_sd = (detectable * (1 - detectable)) ** 0.5 if sd is None else sd
            needed = stats.cases_to_detect(margin, ALPHA, tests, sd)
        plans.append(PowerPlan(metric, test, margin, n, shown_sd, source, detectable, needed))
    return plans


def plan_lines(cfg: HarnessConfig, cases: Sequence[Case]) -> list[str]:
    """What the gate will check, for the terminal before any case runs: defaults in force, zero
    tolerance, a policy that checks nothing, and what each gated comparison can detect."""
    lines = []
    if cfg.default_thresholds:
        shown = ", ".join(f"{m} {'<=' if m in UPPER_BOUND_METRICS else '>='} {v:g}" for m, v in cfg.thresholds.items())
        lines.append(f"no [tool.harness.thresholds] configured: the documented defaults apply: {shown}")
    critical = [*(f"any case failing {s}" for s in cfg.critical_scorers), *(f"any failing case tagged '{t}'" for t in cfg.critical_tags)]
    if critical:
        lines.append("zero tolerance (one case blocks promotion): " + ", ".join(critical))
    lines += [f"policy: {p}; the gate fails" for p in policy_problems(cfg)]
    plans = power_plan(cfg, cases)
    if plans:
        lines.append(f"against a baseline, Holm over {len(plans)} gated metric(s) at α={ALPHA:g}:")
        lines += [f"  {p.line()}" for p in plans]
    return lines


# --- filling in the checks ---------------------------------------------------------------------------------


def evaluate_gate(
    cfg: HarnessConfig,
    candidate: VersionResult,
    comparison: Comparison | None = None,
    notes: Sequence[str] = (),
) -> GateResult:
    """Fill in every planned check from the candidate's results (and its comparison with the baseline).

    A metric with no data fails: a check that cannot be made never passes. Checks relative to a
    baseline (non-inferiority, `latency_ratio_max`) are skipped, visibly, when no baseline ran; the
    `baseline` check says whether that was allowed.
    """
    checks = planned_checks(cfg)
    for check in checks:
        if check.kind == "non_inferiority" or check.metric == RATIO_METRIC:
            _relative_check(cfg, check, comparison, notes)
        elif check.kind == "critical":
            _critical_check(check, candidate)
        elif check.kind == "baseline":
            _baseline_check(cfg, check, comparison, notes)
        elif check.kind == "policy":
            check.value, check.passed = 0, False
            check.detail = "; ".join(policy_problems(cfg))
        else:
            _threshold_check(check, candidate)
    return GateResult(checks, power_plan(cfg, comparison=comparison) if comparison is not None else [])


def _threshold_check(check: GateCheck, candidate: VersionResult) -> None:
    """An absolute threshold, compared with what `gate_on` says: the mean or the CI's lower end for
    a score (`ci_low` blocks a version unless the data show it meets the bar), the point estimate or
    the CI's upper end for latency (`ci_high`: a noisy run cannot pass by luck)."""
    estimate = candidate.metric_estimate(check.metric)
    if estimate is None or estimate.n == 0:
        check.passed = False
        check.detail = "no data for this metric" + (" (run with --repeats 2 or more)" if check.metric == "flip_rate" else "")
        return
    check.value, check.low, check.high = estimate.value, estimate.low, estimate.high
    gated = {"ci_low": estimate.low, "ci_high": estimate.high}.get(check.gate_on, estimate.value)
    if check.gate_on in ("ci_low", "ci_high") and check.kind == "threshold":
        check.detail = f"gated on the CI's {'lower' if check.gate_on == 'ci_low' else 'upper'} end"
    check.passed = gated >= check.threshold if check.op == ">=" else gated <= check.threshold


def _critical_check(check: GateCheck, candidate: VersionResult) -> None:
    if check.metric.startswith("tagged "):
        tag = check.metric[len("tagged "):]
        failing = candidate.failing_tagged(tag)
        what = f"cases tagged '{tag}' with any failing score or agent error"
    else:
        failing = candidate.failing_scorer(check.metric)
        what = f"cases failing {check.metric} (any answer)"
    check.cases, check.value, check.passed = failing, float(len(failing)), not failing
    shown = ", ".join(failing[:10]) + (f" and {len(failing) - 10} more" if len(failing) > 10 else "")
    check.detail = f"0 failing cases allowed, {len(failing)} found" + (f": {shown}" if failing else "") + f" ({what})"


def _baseline_check(cfg: HarnessConfig, check: GateCheck, comparison: Comparison | None, notes: Sequence[str]) -> None:
    """Fails when a baseline that should have been compared against could not be loaded: a configured
    one, or the default `@production` that exists or whose existence the store could not confirm."""
    problems = [n[len(BASELINE_UNAVAILABLE):] for n in notes if n.startswith(BASELINE_UNAVAILABLE)]
    check.value = 0.0 if problems else 1.0
    check.passed = not problems
    if problems:
        check.detail = "; ".join(problems)
    elif comparison is not None:
        check.detail = f"compared against {comparison.baseline_reference}"
    else:
        check.detail = f"no baseline configured and models:/{cfg.model_name}@production does not exist: nothing to compare against"


def _relative_check(cfg: HarnessConfig, check: GateCheck, comparison: Comparison | None, notes: Sequence[str]) -> None:
    """Evaluate a check that compares the candidate with the baseline.

    No baseline ran: the check is *skipped* (shown as SKIP with the reason; it neither passes nor
    fails). If a baseline should have run, the `baseline` check fails instead; if none exists (the
    first version of a model), there is nothing to be measured against, and the absolute thresholds
    and zero-tolerance checks still hold.

    A margin is checked with one of two tests (`[tool.harness.relative_test]`):
    - `no_regression`: fails when the candidate is significantly worse (one-sided paired test,
      Holm-corrected across the gated metrics only) and its mean difference is below −margin. The
      burden of proof is on showing a regression: it keeps false blocks of equivalent versions at α.
    - `non_inferiority`: passes only when the lower end of the 95% CI of candidate − baseline is at
      or above −margin. The burden of proof is on the candidate: it needs enough cases for the CI
      to be narrower than the margin (`cases_needed`, reported before the run).
    `latency_ratio_max` bounds the candidate/baseline ratio of p50 latency, on the upper end of its
    95% CI by default (`gate_on`).
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
        gated = ratio.ci_high if check.gate_on == "ci_high" else ratio.ratio
        check.passed = gated <= check.threshold
        where = "the CI's upper end" if check.gate_on == "ci_high" else "the point estimate"
        check.detail = f"candidate/baseline {RATIO_PERCENTILE} latency {against} ({ratio.verdict}), gated on {where}"
        return
    metric = comparison.metric(check.metric)
    if metric is None or metric.n == 0:
        check.passed = False
        check.detail = f"no paired data for this metric {against}"
        return
    check.value, check.low, check.high = metric.delta, metric.ci_low, metric.ci_high
    margin = -check.threshold + 0.0  # never -0.0 in a message
    needed = "no number of cases" if metric.cases_needed is None else f"about {metric.cases_needed} cases"
    if metric.relative_test == "non_inferiority":
        check.passed = metric.ci_low >= check.threshold
        check.detail = (
            f"non-inferiority, candidate − baseline {against}: passes only when the 95% CI's lower end is at or above "
            f"−{margin:g} (at the observed per-case sd {metric.sd:.3f} this needs {needed}; {metric.n} paired)"
        )
        return
    family = len([m for m in comparison.metrics if m.gated])
    significantly_worse = metric.p_worse_adjusted < ALPHA and metric.delta < check.threshold
    check.passed = not significantly_worse
    check.detail = (
        f"no significant regression, candidate − baseline {against}: one-sided p={metric.p_worse_adjusted:.3g} "
        f"(Holm over {family} gated metric(s)); fails when significantly worse and Δ below −{margin:g}; "
        f"detects drops of {metric.mdd:.3f} or more on {metric.n} paired cases"
    )
