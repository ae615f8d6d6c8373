"""Aggregates, bootstrap confidence intervals and paired tests (seeded, so reruns give identical figures).

Every CI but one comes from `scipy.stats.bootstrap` with `BOOTSTRAP` (resample count and seed,
recorded in results.json): BCa for means and paired mean differences (smooth statistics, where
BCa's bias and skew corrections apply), the percentile method for latency percentiles and their
ratios (the jackknife that BCa relies on is not consistent for quantiles). The per-case latency
ratio's CI is Student's t on log ratios (`paired_log_ratio`: it must hold on three cases).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np

from harness.records.estimate import BETTER, BOOTSTRAP, NO_DIFFERENCE, SAME, WORSE, Estimate, LatencyVerdict, Verdict
from harness.records.gate import ALPHA

LATENCY_PERCENTILES = {"p50": 50, "p90": 90, "p95": 95, "p99": 99}


def _ci(
    data: tuple[np.ndarray, ...], statistic: Callable[..., np.ndarray], method: str, paired: bool = False
) -> tuple[np.ndarray, np.ndarray]:
    """The BOOTSTRAP-level CI of `statistic` (vectorized: takes arrays and `axis`; scalar or vector
    valued); BCa falls back to percentile where it is undefined (a sample with nearly one value gives
    BCa a zero acceleration denominator and scipy returns NaN)."""
    from scipy.stats import bootstrap

    for how in dict.fromkeys([method, BOOTSTRAP.percentiles]):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # scipy's DegenerateDataWarning: handled by the fallback below
            result = bootstrap(
                data,
                statistic,
                n_resamples=BOOTSTRAP.resamples,
                confidence_level=BOOTSTRAP.level,
                method=how,
                paired=paired,
                vectorized=True,
                axis=-1,
                random_state=np.random.default_rng(BOOTSTRAP.seed),
            )
        low, high = (
            np.asarray(result.confidence_interval.low, dtype=float),
            np.asarray(result.confidence_interval.high, dtype=float),
        )
        if np.isfinite(low).all() and np.isfinite(high).all():
            break
    return low, high


def _estimates(
    data: tuple[np.ndarray, ...], statistic: Callable[..., np.ndarray], method: str, paired: bool = False
) -> list[Estimate]:
    """One Estimate per value of `statistic` (one bootstrap for all of them)."""
    n = data[0].size
    points = np.atleast_1d(np.asarray(statistic(*data, axis=-1), dtype=float)) if n else np.array([float("nan")])
    if n == 0:
        return [Estimate(float("nan"), float("nan"), float("nan"), 0)]
    if n == 1 or all(np.ptp(d) == 0 for d in data):  # one value: every resample gives the point
        return [Estimate(float(p), float(p), float(p), n) for p in points]
    lows, highs = (np.atleast_1d(v) for v in _ci(data, statistic, method, paired))
    # Floating-point noise must not put the point outside its own CI.
    return [Estimate(float(p), float(min(lo, p)), float(max(hi, p)), n) for p, lo, hi in zip(points, lows, highs)]


def _estimate(
    data: tuple[np.ndarray, ...], statistic: Callable[..., np.ndarray], method: str, paired: bool = False
) -> Estimate:
    return _estimates(data, statistic, method, paired)[0]


def statistic_ci(values: Sequence[float], statistic: Callable[..., np.ndarray]) -> Estimate:
    """Point and percentile-bootstrap CI of any vectorized `statistic(x, axis=-1)` of one sample."""
    return _estimate((np.asarray(values, dtype=float),), statistic, BOOTSTRAP.percentiles)


def _mean(x: np.ndarray, axis: int = -1) -> np.ndarray:
    return np.mean(x, axis=axis)


def mean_ci(values: Sequence[float]) -> Estimate:
    return _estimate((np.asarray(values, dtype=float),), _mean, BOOTSTRAP.means)


def percentile_ci(values: Sequence[float], q: float) -> Estimate:
    return _estimate(
        (np.asarray(values, dtype=float),), lambda x, axis=-1: np.percentile(x, q, axis=axis), BOOTSTRAP.percentiles
    )


def latency_summary(latencies_ms: Sequence[float]) -> dict[str, Estimate]:
    """p50/p90/p95/p99 with bootstrap CIs (one bootstrap for the four), and the max (its CI is the observed value)."""
    qs = list(LATENCY_PERCENTILES.values())
    estimates = _estimates(
        (np.asarray(latencies_ms, dtype=float),),
        lambda x, axis=-1: np.percentile(x, qs, axis=axis),
        BOOTSTRAP.percentiles,
    )
    summary = dict(zip(LATENCY_PERCENTILES, estimates * (len(qs) if len(estimates) == 1 else 1)))
    top = float(np.max(latencies_ms)) if len(latencies_ms) else float("nan")
    summary["max"] = Estimate(top, top, top, len(latencies_ms))
    return summary


# --- Paired A/B statistics ---------------------------------------------------------------------
#
# Every function below takes the baseline's and the candidate's per-case values in the same case
# order (pairs), and reports differences as candidate − baseline, so a positive difference means
# the candidate scored higher.


def _pairs(baseline: Sequence[float], candidate: Sequence[float]) -> tuple[np.ndarray, np.ndarray]:
    a = np.asarray(baseline, dtype=float)
    b = np.asarray(candidate, dtype=float)
    if a.shape != b.shape:
        raise ValueError(f"paired samples differ in length: {a.size} baseline vs {b.size} candidate")
    return a, b


def paired_bootstrap_diff(baseline: Sequence[float], candidate: Sequence[float]) -> Estimate:
    """Mean of candidate − baseline with a paired BCa bootstrap CI (cases resampled as pairs)."""
    a, b = _pairs(baseline, candidate)
    # Resampling pairs and averaging their differences is resampling the differences.
    return _estimate((b - a,), _mean, BOOTSTRAP.means)


@dataclass(frozen=True)
class McNemarTable:
    """Discordant pairs of a paired pass/fail comparison."""

    baseline_only: int  # baseline passed, candidate failed (a loss for the candidate)
    candidate_only: int  # candidate passed, baseline failed (a win for the candidate)
    both: int = 0
    neither: int = 0

    @property
    def discordant(self) -> int:
        return self.baseline_only + self.candidate_only


def mcnemar_table(baseline: Sequence[bool | float], candidate: Sequence[bool | float]) -> McNemarTable:
    a = [bool(v) for v in baseline]
    b = [bool(v) for v in candidate]
    if len(a) != len(b):
        raise ValueError(f"paired samples differ in length: {len(a)} baseline vs {len(b)} candidate")
    return McNemarTable(
        baseline_only=sum(x and not y for x, y in zip(a, b)),
        candidate_only=sum(y and not x for x, y in zip(a, b)),
        both=sum(x and y for x, y in zip(a, b)),
        neither=sum(not x and not y for x, y in zip(a, b)),
    )


def mcnemar_exact(table: McNemarTable, alternative: str = "two-sided") -> float:
    """Exact (binomial) McNemar p-value: discordant pairs ~ Binomial(b + c, 1/2) under H0.

    alternative="less": the one-sided p-value that the candidate is worse (fewer wins than losses).
    """
    from scipy.stats import binomtest

    n = table.discordant
    if n == 0:
        return 1.0
    return float(min(1.0, binomtest(table.candidate_only, n, 0.5, alternative=alternative).pvalue))


def wilcoxon_signed_rank(
    baseline: Sequence[float], candidate: Sequence[float], alternative: str = "two-sided"
) -> float:
    """p-value of the Wilcoxon signed-rank test on candidate − baseline.

    Zero differences are dropped (Wilcoxon's own method); when every difference is zero the
    versions are indistinguishable and p is 1. scipy chooses the exact distribution for small
    samples without ties and the normal approximation otherwise. alternative="less": one-sided,
    the candidate is worse.
    """
    from scipy.stats import wilcoxon

    a, b = _pairs(baseline, candidate)
    diffs = b - a
    diffs = diffs[np.abs(diffs) > 1e-12]
    if diffs.size == 0:
        return 1.0
    p = float(wilcoxon(diffs, zero_method="wilcox", alternative=alternative).pvalue)
    return 1.0 if p != p else min(1.0, p)


@dataclass(frozen=True)
class PairedTest:
    test: Literal["mcnemar", "wilcoxon"]  # pass/fail metric (0 or 1 on every case), or scores
    p_value: float  # two-sided: is there a difference?
    p_worse: float  # one-sided: is the candidate worse? (what a regression gate asks)
    table: McNemarTable | None = None


def paired_test(baseline: Sequence[float], candidate: Sequence[float]) -> PairedTest:
    """Exact McNemar for pass/fail metrics, Wilcoxon signed-rank otherwise; both sidednesses."""
    if all(v in (0.0, 1.0) for v in [*baseline, *candidate]):
        table = mcnemar_table(baseline, candidate)
        return PairedTest("mcnemar", mcnemar_exact(table), mcnemar_exact(table, "less"), table)
    return PairedTest(
        "wilcoxon", wilcoxon_signed_rank(baseline, candidate), wilcoxon_signed_rank(baseline, candidate, "less")
    )


def holm(p_values: Sequence[float]) -> list[float]:
    """Holm-Bonferroni adjusted p-values, in the input order. NaN entries stay NaN and are not counted."""
    indexed = [(p, i) for i, p in enumerate(p_values) if p == p]
    m = len(indexed)
    adjusted = [float("nan")] * len(p_values)
    running = 0.0
    for rank, (p, i) in enumerate(sorted(indexed)):
        running = max(running, min(1.0, (m - rank) * p))
        adjusted[i] = running
    return adjusted


def cases_to_decide(value: float, low: float, high: float, bound: float, n: int) -> int | None:
    """About how many cases would put the 95% CI of a latency statistic (a percentile or a ratio of
    percentiles, positive) wholly on one side of `bound`, if the estimate stayed at `value`.

    On a log scale the CI's half-width shrinks as 1/√n; the cases needed are those where it is
    narrower than the distance from the estimate to the bound. None: the estimate is on the bound.
    """
    if min(value, low, high, bound) <= 0 or n <= 1 or not math.isfinite(high):
        return None
    half = (math.log(high) - math.log(low)) / 2
    distance = abs(math.log(value) - math.log(bound))
    if distance <= 1e-9:
        return None
    return max(n + 1, math.ceil(n * (half / distance) ** 2))


def paired_percentile_ratio(baseline_ms: Sequence[float], candidate_ms: Sequence[float], q: float) -> Estimate:
    """Ratio candidate / baseline of the q-th latency percentile, with a paired percentile-bootstrap CI.

    Cases are resampled as pairs (both versions answered the same case, interleaved in one run), so
    the difficulty of each case cancels out of the ratio. NaN when the baseline's percentile is 0.
    """
    a, b = _pairs(baseline_ms, candidate_ms)
    nan = float("nan")
    if a.size and float(np.percentile(a, q)) <= 0:
        return Estimate(nan, nan, nan, a.size)

    def ratio(base: np.ndarray, cand: np.ndarray, axis: int = -1) -> np.ndarray:
        den = np.percentile(base, q, axis=axis)
        return np.percentile(cand, q, axis=axis) / np.where(den > 0, den, nan)

    return _estimate((a, b), ratio, BOOTSTRAP.percentiles, paired=True)


def paired_log_ratio(baseline_ms: Sequence[float], candidate_ms: Sequence[float]) -> Estimate:
    """The per-case latency ratio candidate / baseline, summarised as its geometric mean, with a BCa CI.

    Each case's own ratio cancels its difficulty (a slow case is slow for both versions), so this
    resolves a slowdown with far fewer cases than a ratio of percentiles: it is what
    `latency_ratio_max` bounds. The mean and CI are of log ratios, reported exponentiated.
    """
    from scipy.stats import t

    a, b = _pairs(baseline_ms, candidate_ms)
    floor = 1e-3  # a 0 ms answer (a stub) has no log
    logs = np.log(np.maximum(b, floor)) - np.log(np.maximum(a, floor))
    n = logs.size
    if n == 0:
        return Estimate(float("nan"), float("nan"), float("nan"), 0)
    mean = float(np.mean(logs))
    if n == 1:  # one pair says nothing about the spread
        return Estimate(math.exp(mean), 0.0, float("inf"), 1)
    # Student's t on the log ratios, not the bootstrap: a bootstrap CI of a mean of a handful of
    # values is far too narrow (3 cases: about the range of the data), and per-case log ratios of
    # latencies are close to normal.
    half = float(t.ppf(0.5 + BOOTSTRAP.level / 2, n - 1)) * float(np.std(logs, ddof=1)) / math.sqrt(n)
    return Estimate(math.exp(mean), math.exp(mean - half), math.exp(mean + half), n)


def verdict(delta: float, p_adjusted: float, alpha: float = ALPHA, higher_is_better: bool = True) -> Verdict:
    """`better`, `worse` or `no significant difference`, from the Holm-adjusted p-value and the sign of Δ."""
    if p_adjusted != p_adjusted or delta != delta or p_adjusted >= alpha or delta == 0:
        return NO_DIFFERENCE
    improved = delta > 0 if higher_is_better else delta < 0
    return BETTER if improved else WORSE


def ratio_verdict(ratio: Estimate, band: float = 0.05) -> LatencyVerdict:
    """Latency, candidate/baseline: `same` when the whole CI lies within 1 ± band; `worse` when the
    whole CI is above 1 and the ratio beyond 1 + band; `better` the other way round."""
    if ratio.low != ratio.low or ratio.high != ratio.high:
        return NO_DIFFERENCE
    if 1 - band <= ratio.low and ratio.high <= 1 + band:
        return SAME
    if ratio.low > 1 and ratio.value > 1 + band:
        return WORSE
    if ratio.high < 1 and ratio.value < 1 - band:
        return BETTER
    return NO_DIFFERENCE
