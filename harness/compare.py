"""A/B comparison of a candidate against a baseline, with paired statistics.

A comparison pairs the two versions' results case by case (only the cases both have), and per
metric reports both means, the difference candidate − baseline with a paired bootstrap 95% CI, a
p-value (exact McNemar when the metric is pass/fail, 0 or 1 on every case; Wilcoxon signed-rank
otherwise) two-sided and one-sided ("is the candidate worse?"), and a verdict: `better`, `worse` or
`no significant difference`. The multiple-comparison family is the gated metrics only (those with a
`[tool.harness.non_inferiority]` margin): their p-values are Holm-corrected among themselves, and
the other metrics are reported uncorrected, so reporting more metrics costs the gate no power.
Latency is compared as the candidate/baseline ratio of p50, p95 and p99 and as the geometric mean
of the per-case ratios (`per-case`, what `latency_ratio_max` bounds), each with a paired bootstrap
CI (`same` within the equivalence band, `worse` when the whole CI is above 1 and the ratio beyond it).

The records are in `harness.records.comparison`; `harness compare` is `harness.commands.compare`.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import asdict, replace
from typing import TYPE_CHECKING, Any, get_args

from harness.records.comparison import (
    PER_CASE,
    CaseDiff,
    ComparedPercentile,
    Comparison,
    LatencyComparison,
    MetricComparison,
    Outcome,
)

if TYPE_CHECKING:
    from harness.records.evaluation import Evaluation
    from harness.records.results import CaseResult, VersionResult

COMPARED_PERCENTILES = get_args(ComparedPercentile)
TIE_EPSILON = 1e-9


def _value(version: VersionResult, result: CaseResult, metric: str) -> float | None:
    if metric == "overall":
        return version.case_overall(result)
    score = result.scores.get(metric)
    if score is None or not score.applicable:
        return None
    return float(score.value)


def compare_versions(
    candidate: VersionResult,
    baseline: VersionResult,
    non_inferiority: dict[str, float] | None = None,
    alpha: float = 0.05,
    *,
    relative_tests: dict[str, str] | None = None,
    latency_band: float = 0.05,
) -> Comparison:
    """Pair two versions' results on the cases both have and compare every metric they share.

    `non_inferiority` names the gated metrics (with their margins) and `relative_tests` the test each
    uses (settings.DEFAULT_RELATIVE_TEST otherwise); `latency_band` is the ± ratio band called `same`.
    """
    from harness.settings import DEFAULT_RELATIVE_TEST

    non_inferiority = non_inferiority or {}
    relative_tests = relative_tests or {}
    shared = [cid for cid in candidate.results if cid in baseline.results]
    names = [m for m in candidate.scorer_names if m in set(baseline.scorer_names)] + ["overall"]
    pairs = {metric: _paired_values(candidate, baseline, shared, metric) for metric in names}
    family = [m for m in names if pairs[m][2] and m in non_inferiority]
    metrics = [
        _compare_metric(
            metric,
            pairs[metric],
            alpha,
            margin=non_inferiority.get(metric),
            test_name=relative_tests.get(metric, DEFAULT_RELATIVE_TEST) if metric in non_inferiority else None,
            tests=max(1, len(family)) if metric in non_inferiority else 1,
            references=(candidate.reference, baseline.reference),
        )
        for metric in names
    ]
    comparison = Comparison(
        latency_source=_latency_source(candidate, baseline, shared),
        candidate_label=candidate.label,
        candidate_reference=candidate.reference,
        baseline_label=baseline.label,
        baseline_reference=baseline.reference,
        n_shared=len(shared),
        only_candidate=[cid for cid in candidate.results if cid not in baseline.results],
        only_baseline=[cid for cid in baseline.results if cid not in candidate.results],
        alpha=alpha,
        metrics=_holm_family(metrics, family, alpha),
        latency=_compare_latency(candidate, baseline, shared, latency_band),
        cases=[_case_diff(candidate, baseline, cid, names) for cid in shared],
        latency_band=latency_band,
        candidate=candidate,
        baseline=baseline,
    )
    return replace(comparison, warnings=_warnings(comparison, len(family)))


Pairs = tuple[list[float], list[float], list[str]]  # baseline values, candidate values, case ids


def _paired_values(candidate: VersionResult, baseline: VersionResult, shared: Sequence[str], metric: str) -> Pairs:
    """A metric's per-case values on the shared cases where it applies to both versions."""
    base_values, cand_values, ids = [], [], []
    for cid in shared:
        b = _value(baseline, baseline.results[cid], metric)
        c = _value(candidate, candidate.results[cid], metric)
        if b is not None and c is not None:
            base_values.append(b)
            cand_values.append(c)
            ids.append(cid)
    return base_values, cand_values, ids


def _compare_metric(
    metric: str,
    pairs: Pairs,
    alpha: float,
    *,
    margin: float | None,
    test_name: str | None,
    tests: int,
    references: tuple[str, str],
) -> MetricComparison:
    """One metric compared on its pairs; a gated one (`test_name` set) is Holm-corrected later, with its family."""
    from harness import plan, stats

    base_values, cand_values, ids = pairs
    n, nan, gated = len(ids), float("nan"), test_name is not None
    common: dict[str, Any] = dict(margin=margin, alpha=alpha, gated=gated, relative_test=test_name)
    common |= dict(candidate_reference=references[0], baseline_reference=references[1])
    if n == 0:
        common |= dict.fromkeys(("baseline", "candidate", "delta", "ci_low", "ci_high", "p_value", "p_adjusted"), nan)
        common |= dict(test="none", n=0, verdict=stats.NO_DIFFERENCE, wins=0, losses=0, ties=0, mdd=float("inf"))
        return MetricComparison(metric, **common)
    diffs = [c - b for b, c in zip(base_values, cand_values)]
    sd = statistics.stdev(diffs) if n > 1 else 0.0
    estimate = stats.paired_bootstrap_diff(base_values, cand_values)
    test = stats.paired_test(base_values, cand_values)
    if test_name == "non_inferiority":
        needed = plan.non_inferiority_cases(margin or 0.0, sd, alpha)
    else:
        needed = plan.cases_to_detect(margin or 0.0, alpha, tests, sd)
    return MetricComparison(
        metric=metric,
        test=test.test,
        n=n,
        baseline=sum(base_values) / n,
        candidate=sum(cand_values) / n,
        delta=estimate.value,
        ci_low=estimate.low,
        ci_high=estimate.high,
        p_value=test.p_value,
        p_adjusted=nan,
        verdict=stats.verdict(estimate.value, test.p_value, alpha),  # ungated: uncorrected
        wins=sum(d > TIE_EPSILON for d in diffs),
        losses=sum(d < -TIE_EPSILON for d in diffs),
        ties=sum(abs(d) <= TIE_EPSILON for d in diffs),
        mdd=plan.detectable_drop(n, alpha, tests, sd),
        mcnemar=asdict(test.table) if test.table else None,
        p_worse=test.p_worse,
        sd=sd,
        cases_needed=needed,
        **common,
    )


def _holm_family(metrics: list[MetricComparison], family: Sequence[str], alpha: float) -> list[MetricComparison]:
    """The gated metrics' p-values Holm-corrected among themselves, their verdicts from the corrected p."""
    from harness import stats

    in_family = [m for m in metrics if m.metric in family]
    adjusted = {
        m.metric: replace(
            m, p_adjusted=p_adj, p_worse_adjusted=p_worse_adj, verdict=stats.verdict(m.delta, p_adj, alpha)
        )
        for m, p_adj, p_worse_adj in zip(
            in_family, stats.holm([m.p_value for m in in_family]), stats.holm([m.p_worse for m in in_family])
        )
    }
    return [adjusted.get(m.metric, m) for m in metrics]


def _compare_latency(
    candidate: VersionResult, baseline: VersionResult, shared: Sequence[str], band: float
) -> list[LatencyComparison]:
    from harness import stats

    ok = _latency_pairs(candidate, baseline, shared)
    if not ok:
        return []
    base = [baseline.results[cid].output.latency_ms for cid in ok]
    cand = [candidate.results[cid].output.latency_ms for cid in ok]
    import numpy as np

    out = []
    for name in COMPARED_PERCENTILES:
        q = stats.LATENCY_PERCENTILES[name]
        ratio = stats.paired_percentile_ratio(base, cand, q)
        out.append(
            LatencyComparison(
                name,
                float(np.percentile(base, q)),
                float(np.percentile(cand, q)),
                ratio.value,
                ratio.low,
                ratio.high,
                len(ok),
                stats.ratio_verdict(ratio, band),
            )
        )
    per_case = stats.paired_log_ratio(base, cand)
    base_mean, cand_mean = (float(np.exp(np.mean(np.log(np.maximum(v, 1e-3))))) for v in (base, cand))
    out.append(
        LatencyComparison(
            PER_CASE,
            base_mean,
            cand_mean,
            per_case.value,
            per_case.low,
            per_case.high,
            len(ok),
            stats.ratio_verdict(per_case, band),
        )
    )
    return out


def _latency_source(candidate: VersionResult, baseline: VersionResult, shared: Sequence[str]) -> str:
    from harness.records.results import latency_source

    if not _latency_pairs(candidate, baseline, shared):
        return "no paired answers without error"
    return latency_source(candidate.results[cid] for cid in shared if candidate.results[cid].output.error is None)


def _latency_pairs(candidate: VersionResult, baseline: VersionResult, shared: Sequence[str]) -> list[str]:
    """The shared cases both versions answered without error, untraced by both unless none was
    (tracing time is not the agent's latency)."""
    ok = [
        cid
        for cid in shared
        if candidate.results[cid].output.error is None and baseline.results[cid].output.error is None
    ]
    untraced = [
        cid for cid in ok if not candidate.results[cid].output.traced and not baseline.results[cid].output.traced
    ]
    return untraced or ok


def _case_diff(candidate: VersionResult, baseline: VersionResult, cid: str, names: Sequence[str]) -> CaseDiff:
    rc, rb = candidate.results[cid], baseline.results[cid]
    deltas: dict[str, float | None] = {}
    for metric in names:
        c, b = _value(candidate, rc, metric), _value(baseline, rb, metric)
        deltas[metric] = None if c is None or b is None else c - b
    overall = deltas.pop("overall", None)
    outcome: Outcome = "tie" if overall is None or abs(overall) <= TIE_EPSILON else "win" if overall > 0 else "loss"
    return CaseDiff(
        cid,
        list(rc.case.tags),
        outcome,
        overall,
        deltas,
        rc.output.error,
        rb.output.error,
        rc.output.latency_ms,
        rb.output.latency_ms,
    )


def _warnings(comparison: Comparison, tests: int) -> list[str]:
    from harness import plan

    warnings: list[str] = []
    if comparison.dropped:
        warnings.append(
            f"compared only the {comparison.n_shared} case(s) both versions have: dropped "
            f"{len(comparison.only_candidate)} "
            f"only in the candidate and {len(comparison.only_baseline)} only in the baseline"
        )
    needed = plan.min_cases_for_significance(comparison.alpha, tests, one_sided=True)
    if comparison.n_shared < needed:
        family = f"Holm over the {tests} gated metric(s)" if tests else "no gated metric"
        warnings.append(
            f"too few cases: with {comparison.n_shared} paired case(s) and {family} at α={comparison.alpha:g}, "
            f"no regression can be significant (an exact paired test needs at least {needed} cases that "
            "differ); add golden cases"
        )
    for m in comparison.metrics:
        if m.gated and m.n:
            warnings += _power_warning(m)
    errors_c = sum(1 for c in comparison.cases if c.candidate_error)
    errors_b = sum(1 for c in comparison.cases if c.baseline_error)
    if errors_c or errors_b:
        warnings.append(f"agent errors count as failed cases: {errors_c} in the candidate, {errors_b} in the baseline")
    return warnings


def _power_warning(m: MetricComparison) -> list[str]:
    """A gated metric whose test cannot resolve its margin on these cases, said with the figures."""
    margin = m.margin or 0.0
    if m.relative_test == "non_inferiority":
        if m.cases_needed is None or m.cases_needed > m.n:
            more = "no number of cases can show it" if m.cases_needed is None else f"about {m.cases_needed} cases would"
            return [
                f"too few cases for {m.metric}: showing non-inferiority at margin {margin:g} with 80% power "
                "at the observed "
                f"per-case sd {m.sd:.3f} needs the CI's lower end within {margin:g}; {m.n} paired cases do "
                f"not suffice, {more}"
            ]
        return []
    if margin and m.mdd > margin:
        from harness.records.gate import detectable_text

        more = f"; about {m.cases_needed} cases would detect it" if m.cases_needed else ""
        return [
            f"too few cases for {m.metric}: {m.n} paired cases detect drops of {detectable_text(m.mdd)} or "
            "more (80% power, observed "
            f"per-case sd {m.sd:.3f}), larger than the margin {margin:g}{more}"
        ]
    return []


def build_comparisons(evaluation: Evaluation) -> list[Comparison]:
    """The candidate (first version) against every other version of the evaluation."""
    cfg = evaluation.config
    return [
        compare_versions(
            evaluation.candidate,
            other,
            cfg.non_inferiority,
            relative_tests=cfg.relative_test,
            latency_band=cfg.latency_equivalence,
        )
        for other in evaluation.versions[1:]
    ]
