"""Aggregates and bootstrap confidence intervals (seeded, so reruns give identical figures)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass

import numpy as np

BOOTSTRAP_SAMPLES = 2000
SEED = 20261120
LATENCY_PERCENTILES = {"p50": 50, "p90": 90, "p95": 95, "p99": 99}


@dataclass
class Estimate:
    value: float
    low: float
    high: float
    n: int

    def to_dict(self) -> dict[str, float]:
        return asdict(self)


def bootstrap(values: Sequence[float], statistic: Callable[[np.ndarray], np.ndarray], level: float = 0.95) -> Estimate:
    """Percentile-bootstrap CI of a statistic; `statistic` maps a (B, n) array to B values (axis=1)."""
    data = np.asarray(values, dtype=float)
    n = data.size
    if n == 0:
        return Estimate(float("nan"), float("nan"), float("nan"), 0)
    point = float(statistic(data[None, :])[0])
    if n == 1:
        return Estimate(point, point, point, 1)
    rng = np.random.default_rng(SEED)
    samples = statistic(data[rng.integers(0, n, size=(BOOTSTRAP_SAMPLES, n))])
    alpha = (1 - level) / 2
    low, high = np.quantile(samples, [alpha, 1 - alpha])
    return Estimate(point, float(low), float(high), n)


def mean_ci(values: Sequence[float]) -> Estimate:
    return bootstrap(values, lambda a: a.mean(axis=1))


def percentile_ci(values: Sequence[float], q: float) -> Estimate:
    return bootstrap(values, lambda a: np.percentile(a, q, axis=1))


def latency_summary(latencies_ms: Sequence[float]) -> dict[str, Estimate]:
    """p50/p90/p95/p99 with bootstrap CIs, and the max (its CI is the observed value)."""
    summary = {name: percentile_ci(latencies_ms, q) for name, q in LATENCY_PERCENTILES.items()}
    top = float(np.max(latencies_ms)) if len(latencies_ms) else float("nan")
    summary["max"] = Estimate(top, top, top, len(latencies_ms))
    return summary


# --- Paired A/B statistics ---------------------------------------------------------------------
#
# Every function below takes the baseline's and the candidate's per-case values in the same case
# order (pairs), and reports differences as candidate − baseline, so a positive difference means
# the candidate scored higher.

ALPHA = 0.05
POWER = 0.80
PLANNING_SD = 0.5  # sd of per-case differences assumed when the sample shows none (0..1 scores)


def paired_bootstrap_diff(
    baseline: Sequence[float],
    candidate: Sequence[float],
    level: float = 0.95,
    samples: int = BOOTSTRAP_SAMPLES,
    seed: int = SEED,
) -> Estimate:
    """Mean of candidate − baseline with a paired percentile-bootstrap CI (cases resampled as pairs)."""
    a = np.asarray(baseline, dtype=float)
    b = np.asarray(candidate, dtype=float)
    if a.shape != b.shape:
        raise ValueError(f"paired samples differ in length: {a.size} baseline vs {b.size} candidate")
    diffs = b - a
    n = diffs.size
    if n == 0:
        return Estimate(float("nan"), float("nan"), float("nan"), 0)
    point = float(diffs.mean())
    if n == 1:
        return Estimate(point, point, point, 1)
    rng = np.random.default_rng(seed)
    means = diffs[rng.integers(0, n, size=(samples, n))].mean(axis=1)
    alpha = (1 - level) / 2
    low, high = np.quantile(means, [alpha, 1 - alpha])
    # Guard against floating-point noise putting an all-equal sample's point outside its own CI.
    return Estimate(point, float(min(low, point)), float(max(high, point)), n)


def wilcoxon_signed_rank(baseline: Sequence[float], candidate: Sequence[float]) -> float:
    """Two-sided p-value of the Wilcoxon signed-rank test on candidate − baseline.

    Zero differences are dropped (Wilcoxon's own method); when every difference is zero the
    versions are indistinguishable and p is 1. scipy chooses the exact distribution for small
    samples without ties and the normal approximation otherwise.
    """
    from scipy.stats import wilcoxon

    diffs = np.asarray(candidate, dtype=float) - np.asarray(baseline, dtype=float)
    diffs = diffs[np.abs(diffs) > 1e-12]
    if diffs.size == 0:
        return 1.0
    result = wilcoxon(diffs, zero_method="wilcox", alternative="two-sided")
    p = float(result.pvalue)
    return 1.0 if p != p else min(1.0, p)


@dataclass
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


def mcnemar_exact(table: McNemarTable) -> float:
    """Exact (binomial) two-sided McNemar p-value: discordant pairs ~ Binomial(b + c, 1/2) under H0."""
    from scipy.stats import binomtest

    n = table.discordant
    if n == 0:
        return 1.0
    return float(min(1.0, binomtest(table.candidate_only, n, 0.5, alternative="two-sided").pvalue))


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


def min_cases_for_significance(alpha: float = ALPHA, tests: int = 1) -> int:
    """Fewest cases that differ between versions for an exact paired test to possibly reach significance.

    With n differing pairs the smallest two-sided p-value of the exact sign/McNemar test (and of the
    exact Wilcoxon signed-rank test) is 2 / 2**n; under Holm the smallest p must beat alpha / tests.
    """
    n = 1
    while 2.0 / 2**n >= alpha / max(1, tests):
        n += 1
    return n


def minimum_detectable_difference(
    diffs: Sequence[float], alpha: float = ALPHA, power: float = POWER, tests: int = 1
) -> float:
    """The smallest mean difference a paired test on these n cases detects with `power` (normal approximation).

    MDD = (z[1 − α'/2] + z[power]) · sd(diffs) / √n, with α' = α / tests (Bonferroni, the strictest
    Holm step). When no case differs the sample says nothing of the sd, and PLANNING_SD is used.
    """
    from scipy.stats import norm

    d = np.asarray(diffs, dtype=float)
    n = d.size
    if n == 0:
        return float("inf")
    sd = float(d.std(ddof=1)) if n > 1 else 0.0
    if sd <= 1e-12:
        sd = PLANNING_SD
    z = norm.ppf(1 - alpha / max(1, tests) / 2) + norm.ppf(power)
    return float(z * sd / np.sqrt(n))


def paired_percentile_ratio(
    baseline_ms: Sequence[float],
    candidate_ms: Sequence[float],
    q: float,
    level: float = 0.95,
    samples: int = BOOTSTRAP_SAMPLES,
    seed: int = SEED,
) -> Estimate:
    """Ratio candidate / baseline of the q-th latency percentile, with a paired bootstrap CI.

    Cases are resampled as pairs (both versions answered the same case, interleaved in one run), so
    the difficulty of each case cancels out of the ratio. NaN when the baseline's percentile is 0.
    """
    a = np.asarray(baseline_ms, dtype=float)
    b = np.asarray(candidate_ms, dtype=float)
    if a.shape != b.shape:
        raise ValueError(f"paired samples differ in length: {a.size} baseline vs {b.size} candidate")
    n = a.size
    nan = float("nan")
    if n == 0:
        return Estimate(nan, nan, nan, 0)
    base = float(np.percentile(a, q))
    if base <= 0:
        return Estimate(nan, nan, nan, n)
    point = float(np.percentile(b, q)) / base
    if n == 1:
        return Estimate(point, point, point, 1)
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, n, size=(samples, n))
    num = np.percentile(b[idx], q, axis=1)
    den = np.percentile(a[idx], q, axis=1)
    ok = den > 0
    ratios = num[ok] / den[ok]
    if ratios.size == 0:
        return Estimate(point, nan, nan, n)
    alpha = (1 - level) / 2
    low, high = np.quantile(ratios, [alpha, 1 - alpha])
    return Estimate(point, float(min(low, point)), float(max(high, point)), n)


def verdict(delta: float, p_adjusted: float, alpha: float = ALPHA, higher_is_better: bool = True) -> str:
    """`better`, `worse` or `no significant difference`, from the Holm-adjusted p-value and the sign of Δ."""
    if p_adjusted != p_adjusted or delta != delta or p_adjusted >= alpha or delta == 0:
        return NO_DIFFERENCE
    improved = delta > 0 if higher_is_better else delta < 0
    return BETTER if improved else WORSE


def ratio_verdict(ratio: Estimate) -> str:
    """Latency: `worse` when the whole CI of candidate/baseline is above 1, `better` when below 1."""
    if ratio.low != ratio.low or ratio.high != ratio.high:
        return NO_DIFFERENCE
    if ratio.low > 1:
        return WORSE
    if ratio.high < 1:
        return BETTER
    return NO_DIFFERENCE


BETTER = "better"
WORSE = "worse"
NO_DIFFERENCE = "no significant difference"
