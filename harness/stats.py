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
