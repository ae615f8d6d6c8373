"""An estimate with its 95% CI, how every CI is computed (recorded in results.json), and the
verdicts of a paired comparison: the statistics' records (`harness.stats` computes them)."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Literal, get_args

BOOTSTRAP_SAMPLES = 2000
SEED = 20261120


@dataclass(frozen=True)
class BootstrapSettings:
    resamples: int
    seed: int
    level: float = 0.95
    means: str = "BCa"  # scores and paired score differences
    percentiles: str = "percentile"  # latency percentiles and candidate/baseline ratios

    def to_dict(self) -> dict[str, object]:
        return {**asdict(self), "library": "scipy.stats.bootstrap", "paired": "cases resampled as pairs"}


BOOTSTRAP = BootstrapSettings(BOOTSTRAP_SAMPLES, SEED)


@dataclass(frozen=True)
class Estimate:
    value: float
    low: float
    high: float
    n: int

    def to_dict(self) -> dict[str, float]:
        return asdict(self)


Verdict = Literal["better", "worse", "no significant difference"]  # of a score metric
LatencyVerdict = Literal[Verdict, "same"]  # of a latency ratio: `same` within the band
BETTER, WORSE, NO_DIFFERENCE = get_args(Verdict)
SAME = get_args(LatencyVerdict)[-1]
