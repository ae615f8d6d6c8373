"""Comparison records: one candidate against one baseline, per metric, per latency percentile and
per case (see `harness.compare` for how they are computed). `COMPARISON_SCHEMA` is the JSON schema
of `Comparison.to_dict`, one `comparisons[]` entry of results.json."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from harness.stats import NO_DIFFERENCE

if TYPE_CHECKING:
    from harness.records.results import VersionResult


@dataclass(frozen=True)
class MetricComparison:
    metric: str
    test: str  # "mcnemar" (pass/fail metric), "wilcoxon" (scores), "none" (no paired cases)
    n: int  # paired cases where both versions have a value for this metric
    baseline: float  # mean over the paired cases
    candidate: float
    delta: float  # candidate − baseline
    ci_low: float  # paired bootstrap 95% CI of delta
    ci_high: float
    p_value: float
    p_adjusted: float  # Holm across the comparison's metrics
    verdict: str
    wins: int  # cases where the candidate scored higher
    losses: int
    ties: int
    mdd: float  # smallest drop the one-sided test detects with 80% power at the observed sd (stats.detectable_drop)
    margin: float | None = None  # non-inferiority margin, when configured
    mcnemar: dict[str, int] | None = None  # the discordant-pair table, for a pass/fail metric
    alpha: float = 0.05
    candidate_reference: str = ""
    baseline_reference: str = ""
    gated: bool = False  # in the gate's family (has a margin): Holm-corrected with the other gated metrics only
    p_worse: float = float("nan")  # one-sided p-value that the candidate is worse
    p_worse_adjusted: float = float("nan")  # the same, Holm across the gated metrics (NaN when not gated)
    relative_test: str | None = None  # "no_regression" | "non_inferiority" for a gated metric
    sd: float = float("nan")  # observed sd of the per-case differences
    cases_needed: int | None = None  # cases the gated test needs for its margin at the observed sd (None: no count suffices)

    @property
    def significant(self) -> bool:
        return self.verdict != NO_DIFFERENCE

    def headline(self) -> str:
        return (
            f"{self.metric}: {self.baseline:.3f} -> {self.candidate:.3f}, Δ {self.delta:+.3f} "
            f"[{self.ci_low:+.3f}, {self.ci_high:+.3f}], p={_p(self.p_value)} (Holm {_p(self.p_adjusted)}): {self.verdict}"
        )

    def explain(self) -> str:
        """The failure message of `test_ab[<metric>]`."""
        test = {"mcnemar": "exact McNemar", "wilcoxon": "Wilcoxon signed-rank"}.get(self.test, self.test)
        return (
            f"{self.metric} is significantly worse than the baseline: {self.headline()}\n"
            f"  candidate: {self.candidate_reference}\n"
            f"  baseline:  {self.baseline_reference}\n"
            f"  {self.n} paired cases: {self.wins} better, {self.losses} worse, {self.ties} tied; "
            f"{test} test, Holm-corrected at α={self.alpha:g}. See comparison.md / comparison.html in the report."
        )

    def to_dict(self) -> dict[str, Any]:
        return {k: _json_number(v) for k, v in asdict(self).items()}


@dataclass(frozen=True)
class LatencyComparison:
    percentile: str  # p50 | p95 | p99
    baseline_ms: float
    candidate_ms: float
    ratio: float  # candidate / baseline
    ci_low: float
    ci_high: float
    n: int  # cases both versions answered without error
    verdict: str

    def short(self) -> str:
        """`1.18x (slower)`: the candidate's time as a multiple of the baseline's."""
        if self.ratio != self.ratio:
            return "n/a"
        shown = round(self.ratio, 2)
        word = "slower" if shown > 1 else "faster" if shown < 1 else "same"
        return f"{_ratio(self.ratio)}x ({word})"

    def describe(self) -> str:
        """`1.18x (slower) [1.09, 1.27]`."""
        ci = f" [{_ratio(self.ci_low)}, {_ratio(self.ci_high)}]" if self.ci_low == self.ci_low and self.ratio == self.ratio else ""
        return self.short() + ci

    def to_dict(self) -> dict[str, Any]:
        return {k: _json_number(v) for k, v in asdict(self).items()}


@dataclass(frozen=True)
class CaseDiff:
    case_id: str
    tags: list[str]
    outcome: str  # win | loss | tie (from the overall score, candidate − baseline)
    overall_delta: float | None
    deltas: dict[str, float | None]  # per scorer, None where not applicable to both
    candidate_error: str | None = None
    baseline_error: str | None = None
    candidate_latency_ms: float = 0.0
    baseline_latency_ms: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return {k: _json_number(v) for k, v in asdict(self).items()}


@dataclass(frozen=True)
class Comparison:
    candidate_label: str
    candidate_reference: str
    baseline_label: str
    baseline_reference: str
    n_shared: int
    only_candidate: list[str]  # case ids dropped because only the candidate has them
    only_baseline: list[str]
    alpha: float
    metrics: list[MetricComparison]
    latency: list[LatencyComparison]
    cases: list[CaseDiff]
    warnings: list[str] = field(default_factory=list)
    latency_band: float = 0.05  # a candidate/baseline latency ratio within 1 ± this is `same`
    candidate: VersionResult | None = field(default=None, repr=False, compare=False)  # for answers in HTML
    baseline: VersionResult | None = field(default=None, repr=False, compare=False)

    def metric(self, name: str) -> MetricComparison | None:
        return next((m for m in self.metrics if m.metric == name), None)

    def latency_ratio(self, percentile: str) -> LatencyComparison | None:
        return next((r for r in self.latency if r.percentile == percentile), None)

    @property
    def dropped(self) -> int:
        return len(self.only_candidate) + len(self.only_baseline)

    @property
    def regressions(self) -> list[MetricComparison]:
        return [m for m in self.metrics if m.verdict == "worse"]

    @property
    def shared_ids(self) -> list[str]:
        return [c.case_id for c in self.cases]

    def headline_lines(self) -> list[str]:
        """The lines printed at the end of a session and by `harness compare`."""
        by = {v: [m for m in self.metrics if m.verdict == v] for v in ("worse", "better", NO_DIFFERENCE)}
        lines = [
            f"A/B: candidate {self.candidate_reference} vs baseline {self.baseline_reference} on {self.n_shared} shared case(s): "
            f"{len(by['worse'])} worse, {len(by['better'])} better, {len(by[NO_DIFFERENCE])} {NO_DIFFERENCE}"
        ]
        lines += [f"  {m.headline()}" for m in by["worse"] + by["better"]]
        if by[NO_DIFFERENCE]:
            lines.append(f"  {NO_DIFFERENCE}: " + ", ".join(
                f"{m.metric} Δ {m.delta:+.3f} [{m.ci_low:+.3f}, {m.ci_high:+.3f}]" for m in by[NO_DIFFERENCE]
            ))
        if self.latency:
            lines.append("  latency candidate/baseline: " + ", ".join(f"{r.percentile} {r.describe()}" for r in self.latency))
        lines += [f"  warning: {w}" for w in self.warnings]
        return lines

    def to_dict(self) -> dict[str, Any]:
        from harness.stats import BOOTSTRAP

        return {
            "candidate": {"label": self.candidate_label, "reference": self.candidate_reference},
            "baseline": {"label": self.baseline_label, "reference": self.baseline_reference},
            "n_shared": self.n_shared,
            "dropped": {"only_candidate": self.only_candidate, "only_baseline": self.only_baseline},
            "alpha": self.alpha,
            "correction": "holm",
            "family": [m.metric for m in self.metrics if m.gated],
            "bootstrap": BOOTSTRAP.to_dict(),
            "latency_band": self.latency_band,
            "metrics": [m.to_dict() for m in self.metrics],
            "latency": [r.to_dict() for r in self.latency],
            "cases": [c.to_dict() for c in self.cases],
            "warnings": self.warnings,
        }


def _json_number(value: Any) -> Any:
    """NaN and infinities are not JSON: write them as null."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _ratio(value: float) -> str:
    return f"{value:.2f}" if value >= 0.1 else f"{value:.2g}"


def _p(p: float) -> str:
    if p != p:
        return "n/a"
    return f"{p:.2g}" if p < 0.001 else f"{p:.3f}"


# --- the results.json schema of a comparison (documented in the README) ---------------------------

_NUM = {"type": ["number", "null"]}
COMPARISON_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "results.json comparisons[] entry",
    "type": "object",
    "required": ["candidate", "baseline", "n_shared", "dropped", "alpha", "correction", "metrics", "latency", "cases", "warnings"],
    "properties": {
        "candidate": {"type": "object", "required": ["label", "reference"]},
        "baseline": {"type": "object", "required": ["label", "reference"]},
        "n_shared": {"type": "integer", "minimum": 0},
        "dropped": {
            "type": "object",
            "properties": {"only_candidate": {"type": "array", "items": {"type": "string"}},
                           "only_baseline": {"type": "array", "items": {"type": "string"}}},
        },
        "alpha": {"type": "number"},
        "correction": {"const": "holm"},
        "family": {"type": "array", "items": {"type": "string"}},
        "bootstrap": {"type": "object", "required": ["resamples", "seed", "level"]},
        "latency_band": {"type": "number"},
        "metrics": {"type": "array", "items": {
            "type": "object",
            "required": ["metric", "test", "n", "baseline", "candidate", "delta", "ci_low", "ci_high", "p_value",
                         "p_adjusted", "verdict", "wins", "losses", "ties", "mdd"],
            "properties": {
                "metric": {"type": "string"},
                "test": {"enum": ["mcnemar", "wilcoxon", "none"]},
                "n": {"type": "integer"},
                "baseline": _NUM, "candidate": _NUM, "delta": _NUM, "ci_low": _NUM, "ci_high": _NUM,
                "p_value": _NUM, "p_adjusted": _NUM, "mdd": _NUM, "margin": _NUM,
                "verdict": {"enum": ["better", "worse", NO_DIFFERENCE]},
                "wins": {"type": "integer"}, "losses": {"type": "integer"}, "ties": {"type": "integer"},
                "mcnemar": {"type": ["object", "null"]},
                "gated": {"type": "boolean"}, "p_worse": _NUM, "p_worse_adjusted": _NUM, "sd": _NUM,
                "relative_test": {"enum": ["no_regression", "non_inferiority", None]},
                "cases_needed": {"type": ["integer", "null"]},
            },
        }},
        "latency": {"type": "array", "items": {
            "type": "object",
            "required": ["percentile", "baseline_ms", "candidate_ms", "ratio", "ci_low", "ci_high", "n", "verdict"],
            "properties": {"percentile": {"enum": ["p50", "p95", "p99"]}, "ratio": _NUM, "ci_low": _NUM, "ci_high": _NUM,
                           "verdict": {"enum": ["better", "worse", "same", NO_DIFFERENCE]}},
        }},
        "cases": {"type": "array", "items": {
            "type": "object",
            "required": ["case_id", "tags", "outcome", "overall_delta", "deltas"],
            "properties": {"outcome": {"enum": ["win", "loss", "tie"]}, "overall_delta": _NUM,
                           "deltas": {"type": "object", "additionalProperties": _NUM}},
        }},
        "warnings": {"type": "array", "items": {"type": "string"}},
    },
}
