"""Comparison records: one candidate against one baseline, per metric, per latency percentile and
per case (see `harness.compare` for how they are computed). `comparison_schema()` is the JSON schema
of `Comparison.to_dict`, one `comparisons[]` entry of results.json, generated from these records."""

from __future__ import annotations

import functools
import math
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from typing_extensions import TypedDict  # pydantic reads typing's TypedDict only from Python 3.12

from harness.records.estimate import NO_DIFFERENCE, LatencyVerdict, Verdict

if TYPE_CHECKING:
    from harness.records.results import VersionResult


Test = Literal[
    "mcnemar", "wilcoxon", "none"
]  # exact McNemar (pass/fail metric), Wilcoxon (scores), none (no paired cases)
RelativeTest = Literal["no_regression", "non_inferiority"]
ComparedPercentile = Literal["p50", "p95", "p99"]  # of stats.LATENCY_PERCENTILES: the ratios an A/B comparison reports
# The geometric mean of the per-case ratios (stats.paired_log_ratio): what latency_ratio_max bounds.
PER_CASE: Literal["per-case"] = "per-case"
LatencyStatistic = Literal[ComparedPercentile, "per-case"]
Outcome = Literal["win", "loss", "tie"]
# Every writer names a comparison's p-values with these words (terminal, gate, reports, results.json).
P_NAME = "p (two-sided)"
P_HOLM_NAME = "p (two-sided, Holm over the gated metrics)"
GATE_P_NAME = "p worse (one-sided, Holm over the gated metrics)"
P_FIELDS = {
    "p_value": P_NAME,
    "p_adjusted": P_HOLM_NAME,
    "p_worse": "p worse (one-sided)",
    "p_worse_adjusted": GATE_P_NAME,
}
NOT_GATED = "not gated"


class _JsonRecord:
    def to_dict(self) -> dict[str, Any]:
        """The record's fields as JSON values: NaN and infinities written as null."""
        return {k: _json_number(v) for k, v in asdict(self).items()}  # type: ignore[call-overload]


@dataclass(frozen=True)
class MetricComparison(_JsonRecord):
    metric: str
    test: Test
    n: int  # paired cases where both versions have a value for this metric
    baseline: float  # mean over the paired cases
    candidate: float
    delta: float  # candidate − baseline
    ci_low: float  # paired bootstrap 95% CI of delta
    ci_high: float
    p_value: float
    p_adjusted: float  # Holm across the comparison's metrics
    verdict: Verdict
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
    relative_test: RelativeTest | None = None  # for a gated metric
    sd: float = float("nan")  # observed sd of the per-case differences
    cases_needed: int | None = (
        None  # cases the gated test needs for its margin at the observed sd (None: no count suffices)
    )

    @property
    def significant(self) -> bool:
        return self.verdict != NO_DIFFERENCE

    def p_cells(self) -> tuple[str, str, str]:
        """The three p-values as every writer prints them (P_NAME, P_HOLM_NAME, GATE_P_NAME)."""
        if not self.gated:
            return fmt_p(self.p_value), NOT_GATED, NOT_GATED
        return fmt_p(self.p_value), fmt_p(self.p_adjusted), fmt_p(self.p_worse_adjusted)

    def headline(self) -> str:
        p, holm, worse = self.p_cells()
        adjusted = f", {P_HOLM_NAME} {holm}, {GATE_P_NAME} {worse}" if self.gated else " (not gated: uncorrected)"
        return (
            f"{self.metric}: {self.baseline:.3f} -> {self.candidate:.3f}, Δ {self.delta:+.3f} "
            f"[{self.ci_low:+.3f}, {self.ci_high:+.3f}], {P_NAME} {p}{adjusted}: {self.verdict}"
        )

    def explain(self) -> str:
        """The failure message of `test_ab[<metric>]`."""
        test = {"mcnemar": "exact McNemar", "wilcoxon": "Wilcoxon signed-rank"}.get(self.test, self.test)
        return (
            f"{self.metric} is significantly worse than the baseline: {self.headline()}\n"
            f"  candidate: {self.candidate_reference}\n"
            f"  baseline:  {self.baseline_reference}\n"
            f"  {self.n} paired cases: {self.wins} better, {self.losses} worse, {self.ties} tied; "
            f"{test} test{', Holm over the gated metrics' if self.gated else ', uncorrected (not gated)'} at "
            f"α={self.alpha:g}. "
            "See comparison.md / comparison.html in the report."
        )


@dataclass(frozen=True)
class LatencyComparison(_JsonRecord):
    percentile: LatencyStatistic  # a percentile's ratio, or PER_CASE
    baseline_ms: float
    candidate_ms: float
    ratio: float  # candidate / baseline
    ci_low: float
    ci_high: float
    n: int  # cases both versions answered without error
    verdict: LatencyVerdict

    def short(self) -> str:
        """`1.18x (slower)`: the candidate's time as a multiple of the baseline's."""
        if self.ratio != self.ratio:
            return "n/a"
        shown = round(self.ratio, 2)
        word = "slower" if shown > 1 else "faster" if shown < 1 else "same"
        return f"{_ratio(self.ratio)}x ({word})"

    def describe(self) -> str:
        """`1.18x (slower) [1.09, 1.27]`."""
        ci = (
            f" [{_ratio(self.ci_low)}, {_ratio(self.ci_high)}]"
            if self.ci_low == self.ci_low and self.ratio == self.ratio
            else ""
        )
        return self.short() + ci


@dataclass(frozen=True)
class CaseDiff(_JsonRecord):
    case_id: str
    tags: list[str]
    outcome: Outcome  # from the overall score, candidate − baseline
    overall_delta: float | None
    deltas: dict[str, float | None]  # per scorer, None where not applicable to both
    candidate_error: str | None = None
    baseline_error: str | None = None
    candidate_latency_ms: float = 0.0
    baseline_latency_ms: float = 0.0


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
    latency_source: str = (
        "untraced calls"  # which calls the latency ratios were timed on (records.results.latency_source)
    )
    candidate: VersionResult | None = field(default=None, repr=False, compare=False)  # for answers in HTML
    baseline: VersionResult | None = field(default=None, repr=False, compare=False)

    def metric(self, name: str) -> MetricComparison | None:
        return next((m for m in self.metrics if m.metric == name), None)

    def latency_ratio(self, percentile: str) -> LatencyComparison | None:
        return next((r for r in self.latency if r.percentile == percentile), None)

    @property
    def family(self) -> list[str]:
        """The gated metrics: the Holm family, exactly."""
        return [m.metric for m in self.metrics if m.gated and m.n]

    def family_text(self) -> str:
        """`Holm over the 1 gated metric(s) (correctness)`: how every writer names the family."""
        if not self.family:
            return "no gated metric (no [tool.harness.non_inferiority] margin): p-values uncorrected"
        return f"Holm over the {len(self.family)} gated metric(s) ({', '.join(self.family)}); other metrics uncorrected"

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
            f"A/B: candidate {self.candidate_reference} vs baseline {self.baseline_reference} on "
            f"{self.n_shared} shared case(s): "
            f"{len(by['worse'])} worse, {len(by['better'])} better, {len(by[NO_DIFFERENCE])} {NO_DIFFERENCE}"
        ]
        lines += [f"  {m.headline()}" for m in by["worse"] + by["better"]]
        if by[NO_DIFFERENCE]:
            lines.append(
                f"  {NO_DIFFERENCE}: "
                + ", ".join(
                    f"{m.metric} Δ {m.delta:+.3f} [{m.ci_low:+.3f}, {m.ci_high:+.3f}]" for m in by[NO_DIFFERENCE]
                )
            )
        lines.append(f"  {self.family_text()}")
        if self.latency:
            lines.append(
                f"  latency candidate/baseline ({self.latency_source}): "
                + ", ".join(f"{r.percentile} {r.describe()}" for r in self.latency)
            )
        lines += [f"  warning: {w}" for w in self.warnings]
        return lines

    def to_dict(self) -> dict[str, Any]:
        from harness.records.estimate import BOOTSTRAP

        return {
            "candidate": {"label": self.candidate_label, "reference": self.candidate_reference},
            "baseline": {"label": self.baseline_label, "reference": self.baseline_reference},
            "n_shared": self.n_shared,
            "dropped": {"only_candidate": self.only_candidate, "only_baseline": self.only_baseline},
            "alpha": self.alpha,
            "correction": "holm",
            "family": self.family,
            "p_values": dict(P_FIELDS),
            "latency_source": self.latency_source,
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


def fmt_p(p: float | None) -> str:
    """A p-value as every writer prints it."""
    if p is None or p != p:
        return "n/a"
    return f"{p:.2g}" if p < 0.001 else f"{p:.3f}"


# --- the results.json form of a comparison (documented in the README) ----------------------------


class VersionName(TypedDict):
    label: str
    reference: str


class Dropped(TypedDict):
    only_candidate: list[str]  # case ids only the candidate has
    only_baseline: list[str]


class ComparisonDocument(TypedDict):
    """`Comparison.to_dict`: one `comparisons[]` entry of results.json."""

    candidate: VersionName
    baseline: VersionName
    n_shared: int
    dropped: Dropped
    alpha: float
    correction: Literal["holm"]
    family: list[str]  # the gated metrics, Holm-corrected together
    p_values: dict[str, str]  # each p field of a metric and its name (one- or two-sided, Holm or not)
    latency_source: str  # which calls the latency ratios were timed on
    bootstrap: dict[str, Any]  # stats.BOOTSTRAP: resamples, seed, level, methods
    latency_band: float
    metrics: list[MetricComparison]
    latency: list[LatencyComparison]
    cases: list[CaseDiff]
    warnings: list[str]


@functools.cache
def comparison_schema() -> dict[str, Any]:
    """The JSON schema of `ComparisonDocument`, generated from the records by pydantic. NaN and
    infinities are written as null, so every number may be null."""
    from pydantic import TypeAdapter
    from pydantic.json_schema import GenerateJsonSchema

    class NullableNumbers(GenerateJsonSchema):
        def float_schema(self, schema: Any) -> dict[str, Any]:
            return {"type": ["number", "null"]}

    schema = TypeAdapter(ComparisonDocument).json_schema(schema_generator=NullableNumbers, mode="serialization")
    return {"$schema": NullableNumbers.schema_dialect, **schema, "title": "results.json comparisons[] entry"}
