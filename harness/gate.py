"""Thresholds -> GateResult: every check must hold for a version to be promoted.

Kinds of check, in table order:
- `threshold`: absolute thresholds on the candidate's own metrics (`[tool.harness.thresholds]`),
  compared with the mean or the CI's lower end for scores (`[tool.harness.gate_on]`); latency is
  decided on its 95% CI by the relative test (see `_latency_bound`);
- `errors`: agent and judge error-rate limits;
- `critical`: zero tolerance, one failing case blocks: any case failing a critical scorer (default
  `safety`: a leak, a missing refusal), any failing case tagged with a critical tag (default `critical`);
- `non_inferiority`: per `[tool.harness.non_inferiority]` margin, against the baseline, with the test
  `[tool.harness.relative_test]` names (see `_relative_check`); `latency_ratio_max` is relative too;
- `power`: with `max_detectable_drop`, the smallest drop the golden set detects must be at most that;
- `baseline`: a baseline that should have been compared against but could not be loaded;
- `policy`: a configuration that checks nothing (no scorer, no quality threshold, an error-rate
  allowance of 1) fails here rather than promoting anything.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from harness.plan import detectable_line, largest_detectable, planned_checks, policy_problems, power_plan
from harness.records.comparison import GATE_P_NAME, fmt_p
from harness.records.gate import (
    ALPHA,
    BASELINE_UNAVAILABLE,
    RATIO_METRIC,
    RATIO_STATISTIC,
    GateCheck,
    GateResult,
    detectable_text,
)
from harness.settings import LATENCY_THRESHOLDS, HarnessConfig

if TYPE_CHECKING:
    from harness.records.comparison import Comparison
    from harness.records.results import VersionResult


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
    cases = [r.case for r in candidate.results.values()]
    plans = power_plan(cfg, cases, comparison)

    def filled(check: GateCheck) -> GateCheck:
        if check.kind == "non_inferiority" or check.metric == RATIO_METRIC:
            return _relative_check(cfg, check, comparison, notes)
        if check.kind == "power":
            worst = largest_detectable(cfg, plans, len(cases))[0]
            return replace(
                check,
                value=worst,
                checked=worst,
                passed=worst <= check.threshold,
                detail=detectable_line(cfg, plans, len(cases)),
            )
        if check.kind == "critical":
            return _critical_check(check, candidate)
        if check.kind == "baseline":
            return _baseline_check(cfg, check, comparison, notes)
        if check.kind == "policy":
            return replace(check, value=0, passed=False, detail="; ".join(policy_problems(cfg)))
        if check.metric in LATENCY_THRESHOLDS:
            return _latency_threshold_check(cfg, check, candidate)
        return _threshold_check(check, candidate)

    return GateResult([filled(check) for check in planned_checks(cfg)], plans, detectable_line(cfg, plans, len(cases)))


def _threshold_check(check: GateCheck, candidate: VersionResult) -> GateCheck:
    """An absolute threshold, compared with what `gate_on` says: the mean or the CI's lower end for
    a score (`ci_low` blocks a version unless the data show it meets the bar), the point estimate or
    the CI's upper end for latency (`ci_high`: a noisy run cannot pass by luck)."""
    estimate = candidate.metric_estimate(check.metric)
    if estimate is None and check.metric == "conversation_pass_rate":  # shown, not counted: nothing multi-turn to judge
        return replace(check, skipped=True, passed=True, detail="skipped: no multi-turn case in this run")
    if estimate is None or estimate.n == 0:
        why = "no data for this metric" + (" (run with --repeats 2 or more)" if check.metric == "flip_rate" else "")
        return replace(check, passed=False, detail=why)
    gated = {"ci_low": estimate.low, "ci_high": estimate.high}.get(check.gate_on, estimate.value)
    detail = ""
    if check.gate_on in ("ci_low", "ci_high") and check.kind == "threshold":
        detail = f"gated on the CI's {'lower' if check.gate_on == 'ci_low' else 'upper'} end"
    return replace(
        check,
        value=estimate.value,
        low=estimate.low,
        high=estimate.high,
        detail=detail,
        checked=gated,
        passed=gated >= check.threshold if check.op == ">=" else gated <= check.threshold,
    )


def _latency_threshold_check(cfg: HarnessConfig, check: GateCheck, candidate: VersionResult) -> GateCheck:
    """An absolute latency percentile bound, decided on its CI like `latency_ratio_max` (`_latency_bound`)."""
    estimate = candidate.metric_estimate(check.metric)
    if estimate is None or estimate.n == 0:
        return replace(
            check, passed=False, detail=f"{check.metric.split('_')[1]} latency not measured (no answer without error)"
        )
    what = f"{check.metric.split('_')[1]} latency ({candidate.latency_source})"
    return _latency_bound(cfg, check, estimate.value, estimate.low, estimate.high, estimate.n, what, "ms")


def _latency_bound(
    cfg: HarnessConfig, check: GateCheck, value: float, low: float, high: float, n: int, what: str, unit: str
) -> GateCheck:
    """A latency upper bound decided on the 95% CI, calm when the data cannot tell and firm when they can.

    `gate_on = "ci"` (default) with the check's relative test: `no_regression` fails only when the
    whole CI lies above the bound (the data show the version slower than allowed); `non_inferiority`
    passes only when the whole CI lies at or below it. A CI across the bound is *undecided*: under
    `no_regression` `latency_undecided` decides (default "pass"), and the detail says so with about
    how many cases would tell. `gate_on = "point"` or `"ci_high"` compares that one value.
    """
    from harness import stats

    bound = check.threshold
    shown = (lambda v: f"{v:.2f}x") if unit == "x" else (lambda v: f"{v:.1f} ms")
    measured: dict[str, Any] = {"value": value, "low": low, "high": high}
    if check.gate_on in ("point", "ci_high"):
        gated = value if check.gate_on == "point" else high
        where = "point estimate" if check.gate_on == "point" else "CI's upper end"
        return replace(check, **measured, checked=gated, passed=gated <= bound, detail=f"{what}, gated on the {where}")
    test = cfg.relative_test_for(check.metric)
    ci = f"95% CI [{shown(low)}, {shown(high)}] on {n} case(s)"
    if low > bound or high <= bound:  # the whole CI on one side: decided
        side, end = ("above", "lower") if low > bound else ("within", "upper")
        detail = f"{what}: shown {side} {shown(bound)} ({ci}, its {end} end checked; {test})"
        return replace(check, **measured, checked=low if low > bound else high, passed=high <= bound, detail=detail)
    needed = stats.cases_to_decide(value, low, high, bound, n)
    more = (
        "no number of cases tells (the estimate sits on the bound)"
        if needed is None
        else f"about {needed} cases would tell"
    )
    blocks = test == "non_inferiority" or cfg.latency_undecided == "block"
    why = (
        "non_inferiority needs the whole CI within it"
        if test == "non_inferiority"
        else f'latency_undecided = "{cfg.latency_undecided}"'
    )
    return replace(
        check,
        **measured,
        checked=high if blocks else low,
        passed=not blocks,
        undecided=True,
        cases_needed=needed,
        detail=(
            f"undecided: {n} case(s) cannot tell whether {what} is within {shown(bound)} ({ci}); {more}; "
            f"{'blocks' if blocks else 'does not block'} ({why})"
        ),
    )


def _critical_check(check: GateCheck, candidate: VersionResult) -> GateCheck:
    if check.metric.startswith("tagged "):
        tag = check.metric[len("tagged ") :]
        failing = candidate.failing_tagged(tag)
        what = f"cases tagged '{tag}' with any failing score or agent error"
    else:
        failing = candidate.failing_scorer(check.metric)
        what = f"cases failing {check.metric} (any answer)"
    shown = ", ".join(failing[:10]) + (f" and {len(failing) - 10} more" if len(failing) > 10 else "")
    detail = f"0 failing cases allowed, {len(failing)} found" + (f": {shown}" if failing else "") + f" ({what})"
    return replace(check, cases=failing, value=float(len(failing)), passed=not failing, detail=detail)


def _baseline_check(
    cfg: HarnessConfig, check: GateCheck, comparison: Comparison | None, notes: Sequence[str]
) -> GateCheck:
    """Fails when a baseline that should have been compared against could not be loaded: a configured
    one, or the default `@production` that exists or whose existence the store could not confirm."""
    problems = [n[len(BASELINE_UNAVAILABLE) :] for n in notes if n.startswith(BASELINE_UNAVAILABLE)]
    if problems:
        detail = "; ".join(problems)
    elif comparison is not None:
        detail = f"compared against {comparison.baseline_reference}"
    else:
        detail = (
            f"no baseline configured and models:/{cfg.model_name}@production does not exist: nothing to compare against"
        )
    return replace(check, value=0.0 if problems else 1.0, passed=not problems, detail=detail)


def _relative_check(
    cfg: HarnessConfig, check: GateCheck, comparison: Comparison | None, notes: Sequence[str]
) -> GateCheck:
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
    `latency_ratio_max` bounds the geometric mean of the per-case candidate/baseline latency ratios,
    decided on its 95% CI (`_latency_bound`).
    """
    if comparison is None:
        why = "; ".join(notes) if notes else "no baseline configured (set baseline or --baseline)"
        return replace(check, skipped=True, passed=True, detail=f"skipped: no baseline ran ({why})")
    against = f"vs {comparison.baseline_reference}"
    if check.metric == RATIO_METRIC:
        return _ratio_check(cfg, check, comparison)
    metric = comparison.metric(check.metric)
    if metric is None or metric.n == 0:
        return replace(check, passed=False, detail=f"no paired data for this metric {against}")
    measured: dict[str, Any] = {"value": metric.delta, "low": metric.ci_low, "high": metric.ci_high}
    margin = -check.threshold + 0.0  # never -0.0 in a message
    needed = "no number of cases" if metric.cases_needed is None else f"about {metric.cases_needed} cases"
    if metric.relative_test == "non_inferiority":
        return replace(
            check,
            **measured,
            checked=metric.ci_low,
            passed=metric.ci_low >= check.threshold,
            detail=(
                f"non-inferiority, candidate − baseline {against}: passes only when the 95% CI's lower end is "
                "at or above "
                f"−{margin:g} (at the observed per-case sd {metric.sd:.3f} this needs {needed}; {metric.n} paired)"
            ),
        )
    family = len(comparison.family)
    significantly_worse = metric.p_worse_adjusted < ALPHA and metric.delta < check.threshold
    return replace(
        check,
        **measured,
        checked=metric.delta,
        passed=not significantly_worse,
        detail=(
            f"no significant regression, candidate − baseline {against}: "
            f"{GATE_P_NAME}={fmt_p(metric.p_worse_adjusted)} "
            f"(Holm over the {family} gated metric(s)); fails when significantly worse and Δ below −{margin:g}; "
            f"detects drops of {detectable_text(metric.mdd)} or more on {metric.n} paired cases"
        ),
    )


def _ratio_check(cfg: HarnessConfig, check: GateCheck, comparison: Comparison) -> GateCheck:
    """`latency_ratio_max`: the geometric mean of the per-case latency ratios, on its 95% CI."""
    ratio = comparison.latency_ratio(RATIO_STATISTIC)
    if ratio is None or ratio.ratio != ratio.ratio or ratio.ci_high != ratio.ci_high:
        return replace(check, passed=False, detail=f"latency not measured against {comparison.baseline_reference}")
    what = (
        f"candidate/baseline latency vs {comparison.baseline_reference}, geometric mean of the per-case ratios "
        f"({ratio.verdict}; {comparison.latency_source})"
    )
    return _latency_bound(cfg, check, ratio.ratio, ratio.ci_low, ratio.ci_high, ratio.n, what, "x")
