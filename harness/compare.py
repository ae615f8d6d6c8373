"""A/B comparison of a candidate against a baseline, with paired statistics; the `harness compare` command.

A comparison pairs the two versions' results case by case (only the cases both have), and per
metric reports both means, the difference candidate − baseline with a paired bootstrap 95% CI, a
p-value (exact McNemar when the metric is pass/fail, 0 or 1 on every case; Wilcoxon signed-rank
otherwise) two-sided and one-sided ("is the candidate worse?"), and a verdict: `better`, `worse` or
`no significant difference`. The multiple-comparison family is the gated metrics only (those with a
`[tool.harness.non_inferiority]` margin): their p-values are Holm-corrected among themselves, and
the other metrics are reported uncorrected, so reporting more metrics costs the gate no power.
Latency is compared as the candidate/baseline ratio of p50, p95 and p99 with a paired bootstrap CI
(`same` within the equivalence band, `worse` when the whole CI is above 1 and the ratio beyond it).

`harness compare A B` compares B (the candidate) against A (the baseline), like `diff A B`: either
two agent references, both re-run over the golden set in one interleaved run, or two earlier
results.json files (or report folders), compared without re-running anything.

The comparison part of results.json (`comparisons`, one entry per baseline) follows
`COMPARISON_SCHEMA` below.
"""

from __future__ import annotations

import argparse
import math
import statistics
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from harness import HarnessError

if TYPE_CHECKING:
    from harness.config import HarnessConfig
    from harness.evaluation import CaseResult, Evaluation, VersionResult

LATENCY_PERCENTILES = {"p50": 50.0, "p95": 95.0, "p99": 99.0}
TIE_EPSILON = 1e-9


@dataclass
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
        return self.verdict != "no significant difference"

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


@dataclass
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


@dataclass
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


@dataclass
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
        by = {v: [m for m in self.metrics if m.verdict == v] for v in ("worse", "better", "no significant difference")}
        lines = [
            f"A/B: candidate {self.candidate_reference} vs baseline {self.baseline_reference} on {self.n_shared} shared case(s): "
            f"{len(by['worse'])} worse, {len(by['better'])} better, {len(by['no significant difference'])} no significant difference"
        ]
        lines += [f"  {m.headline()}" for m in by["worse"] + by["better"]]
        if by["no significant difference"]:
            lines.append("  no significant difference: " + ", ".join(
                f"{m.metric} Δ {m.delta:+.3f} [{m.ci_low:+.3f}, {m.ci_high:+.3f}]" for m in by["no significant difference"]
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


# --- building comparisons -------------------------------------------------------------------------


def _value(version: VersionResult, result: CaseResult, metric: str) -> float | None:
    if metric == "overall":
        return version._overall(result)
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
    uses (config.DEFAULT_RELATIVE_TEST otherwise); `latency_band` is the ± ratio band called `same`.
    """
    from harness import stats
    from harness.config import DEFAULT_RELATIVE_TEST

    non_inferiority = non_inferiority or {}
    relative_tests = relative_tests or {}
    shared = [cid for cid in candidate.results if cid in baseline.results]
    only_candidate = [cid for cid in candidate.results if cid not in baseline.results]
    only_baseline = [cid for cid in baseline.results if cid not in candidate.results]
    names = [m for m in candidate.scorer_names if m in set(baseline.scorer_names)] + ["overall"]

    pairs: dict[str, tuple[list[float], list[float], list[str]]] = {}
    for metric in names:
        base_values, cand_values, ids = [], [], []
        for cid in shared:
            b = _value(baseline, baseline.results[cid], metric)
            c = _value(candidate, candidate.results[cid], metric)
            if b is not None and c is not None:
                base_values.append(b)
                cand_values.append(c)
                ids.append(cid)
        pairs[metric] = (base_values, cand_values, ids)

    family = [m for m in names if pairs[m][2] and m in non_inferiority]
    k = max(1, len(family))
    metrics: list[MetricComparison] = []
    for metric in names:
        base_values, cand_values, ids = pairs[metric]
        n = len(ids)
        nan = float("nan")
        gated = metric in non_inferiority
        margin = non_inferiority.get(metric)
        test_name = relative_tests.get(metric, DEFAULT_RELATIVE_TEST) if gated else None
        if n == 0:
            metrics.append(MetricComparison(metric, "none", 0, nan, nan, nan, nan, nan, nan, nan, stats.NO_DIFFERENCE,
                                            0, 0, 0, float("inf"), margin, None, alpha, candidate.reference, baseline.reference,
                                            gated=gated, relative_test=test_name))
            continue
        diffs = [c - b for b, c in zip(base_values, cand_values)]
        sd = statistics.stdev(diffs) if n > 1 else 0.0
        estimate = stats.paired_bootstrap_diff(base_values, cand_values)
        test = stats.paired_test(base_values, cand_values)
        if test_name == "non_inferiority":
            needed = stats.non_inferiority_cases(margin or 0.0, sd, alpha)
        else:
            needed = stats.cases_to_detect(margin or 0.0, alpha, k if gated else 1, sd)
        metrics.append(MetricComparison(
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
            mdd=stats.detectable_drop(n, alpha, k if gated else 1, sd),
            margin=margin,
            mcnemar=asdict(test.table) if test.table else None,
            alpha=alpha,
            candidate_reference=candidate.reference,
            baseline_reference=baseline.reference,
            gated=gated,
            p_worse=test.p_worse,
            relative_test=test_name,
            sd=sd,
            cases_needed=needed,
        ))
    in_family = [m for m in metrics if m.metric in family]
    for m, p_adj, p_worse_adj in zip(in_family, stats.holm([m.p_value for m in in_family]), stats.holm([m.p_worse for m in in_family])):
        m.p_adjusted, m.p_worse_adjusted = p_adj, p_worse_adj
        m.verdict = stats.verdict(m.delta, p_adj, alpha)

    latency = _compare_latency(candidate, baseline, shared, latency_band)
    cases = [_case_diff(candidate, baseline, cid, names) for cid in shared]
    comparison = Comparison(
        candidate_label=candidate.label,
        candidate_reference=candidate.reference,
        baseline_label=baseline.label,
        baseline_reference=baseline.reference,
        n_shared=len(shared),
        only_candidate=only_candidate,
        only_baseline=only_baseline,
        alpha=alpha,
        metrics=metrics,
        latency=latency,
        cases=cases,
        candidate=candidate,
        baseline=baseline,
    )
    comparison.warnings = _warnings(comparison, k)
    comparison.latency_band = latency_band
    return comparison


def _compare_latency(candidate: VersionResult, baseline: VersionResult, shared: Sequence[str], band: float) -> list[LatencyComparison]:
    from harness import stats

    ok = [cid for cid in shared if candidate.results[cid].output.error is None and baseline.results[cid].output.error is None]
    if not ok:
        return []
    base = [baseline.results[cid].output.latency_ms for cid in ok]
    cand = [candidate.results[cid].output.latency_ms for cid in ok]
    import numpy as np

    out = []
    for name, q in LATENCY_PERCENTILES.items():
        ratio = stats.paired_percentile_ratio(base, cand, q)
        out.append(LatencyComparison(name, float(np.percentile(base, q)), float(np.percentile(cand, q)), ratio.value,
                                     ratio.low, ratio.high, len(ok), stats.ratio_verdict(ratio, band)))
    return out


def _case_diff(candidate: VersionResult, baseline: VersionResult, cid: str, names: Sequence[str]) -> CaseDiff:
    rc, rb = candidate.results[cid], baseline.results[cid]
    deltas: dict[str, float | None] = {}
    for metric in names:
        c, b = _value(candidate, rc, metric), _value(baseline, rb, metric)
        deltas[metric] = None if c is None or b is None else c - b
    overall = deltas.pop("overall", None)
    outcome = "tie" if overall is None or abs(overall) <= TIE_EPSILON else "win" if overall > 0 else "loss"
    return CaseDiff(cid, list(rc.case.tags), outcome, overall, deltas, rc.output.error, rb.output.error,
                    rc.output.latency_ms, rb.output.latency_ms)


def _warnings(comparison: Comparison, tests: int) -> list[str]:
    from harness import stats

    warnings: list[str] = []
    if comparison.dropped:
        warnings.append(
            f"compared only the {comparison.n_shared} case(s) both versions have: dropped {len(comparison.only_candidate)} "
            f"only in the candidate and {len(comparison.only_baseline)} only in the baseline"
        )
    needed = stats.min_cases_for_significance(comparison.alpha, tests, one_sided=True)
    if comparison.n_shared < needed:
        warnings.append(
            f"too few cases: with {comparison.n_shared} paired case(s) and Holm over {tests} gated metric(s) at α={comparison.alpha:g}, "
            f"no regression can be significant (an exact paired test needs at least {needed} cases that differ); add golden cases"
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
            return [f"too few cases for {m.metric}: showing non-inferiority at margin {margin:g} with 80% power at the observed "
                    f"per-case sd {m.sd:.3f} needs the CI's lower end within {margin:g}; {m.n} paired cases do not suffice, {more}"]
        return []
    if margin and m.mdd > margin:
        more = f"; about {m.cases_needed} cases would detect it" if m.cases_needed else ""
        return [f"too few cases for {m.metric}: {m.n} paired cases detect drops of {m.mdd:.3f} or more (80% power, observed "
                f"per-case sd {m.sd:.3f}), larger than the margin {margin:g}{more}"]
    return []


def build_comparisons(evaluation: Evaluation) -> list[Comparison]:
    """The candidate (first version) against every other version of the evaluation."""
    cfg = evaluation.config
    return [compare_versions(evaluation.candidate, other, cfg.non_inferiority, relative_tests=cfg.relative_test,
                             latency_band=cfg.latency_equivalence) for other in evaluation.versions[1:]]


# --- results.json inputs --------------------------------------------------------------------------


def results_path(arg: str) -> Path | None:
    """The results.json that `arg` names (the file, or a report folder holding one), else None."""
    path = Path(arg)
    if path.is_dir() and (path / "results.json").is_file():
        return path / "results.json"
    if path.suffix == ".json" and path.is_file():
        return path
    if path.suffix == ".json":
        raise HarnessError(f"{arg}: results file not found")
    return None


def load_results(path: Path) -> dict[str, Any]:
    import json

    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise HarnessError(f"{path}: cannot read: {exc.strerror}") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise HarnessError(f"{path}: not a results.json document: {exc}") from None
    if not isinstance(document, dict) or not isinstance(document.get("versions"), list) or not document["versions"]:
        raise HarnessError(f"{path}: not a results.json document (no 'versions' list)")
    for entry in document["versions"]:
        if not isinstance(entry, dict) or not isinstance(entry.get("cases"), list):
            raise HarnessError(f"{path}: every entry of 'versions' needs a 'cases' list")
    document.setdefault("report_dir", str(path.parent))
    return document


def evaluation_from_files(baseline_path: Path, candidate_path: Path, cfg: HarnessConfig) -> Evaluation:
    """Compare the candidate of one stored run against the candidate of another, on the cases they share."""
    from harness.evaluation import Evaluation, VersionResult, evaluation_from_results, gate_evaluation

    try:
        base_doc, cand_doc = load_results(baseline_path), load_results(candidate_path)
        baseline = evaluation_from_results({**base_doc, "versions": base_doc["versions"][:1]}, cfg).candidate
        candidate = evaluation_from_results({**cand_doc, "versions": cand_doc["versions"][:1]}, cfg).candidate
    except (KeyError, TypeError, ValueError) as exc:
        raise HarnessError(f"{baseline_path} / {candidate_path}: a case record is incomplete: {type(exc).__name__}: {exc}") from None
    baseline.label, candidate.label = "baseline", "candidate"
    comparison = compare_versions(candidate, baseline, cfg.non_inferiority, relative_tests=cfg.relative_test,
                                  latency_band=cfg.latency_equivalence)
    if not comparison.n_shared:
        raise HarnessError(f"{candidate_path} and {baseline_path} have no case ids in common: nothing to compare")
    notes = [f"compared stored results without re-running: candidate {candidate_path}, baseline {baseline_path}"]
    digests = [[g.get("sha256") for g in doc.get("config", {}).get("golden", [])] for doc in (base_doc, cand_doc)]
    if digests[0] != digests[1]:
        notes.append("the two runs used different golden files; only the cases they share by id are compared")
    shared = comparison.shared_ids

    def restrict(v: VersionResult) -> VersionResult:
        return VersionResult(v.label, v.reference, v.kind, v.load_s, {cid: v.results[cid] for cid in shared}, None, dict(v.weights))

    evaluation = Evaluation(cfg, [candidate.results[cid].case for cid in shared], [restrict(candidate), restrict(baseline)])
    evaluation.notes = notes
    comparison.candidate, comparison.baseline = evaluation.versions
    gate_evaluation(evaluation, comparisons=[comparison])
    return evaluation


# --- the `harness compare` command ----------------------------------------------------------------


def configure_compare(parser: argparse.ArgumentParser) -> None:
    parser.description = (
        "Compare version B (the candidate) against version A (the baseline) with paired statistics. "
        "A and B are agent references (both are run over the golden set, interleaved, each from a process "
        "of its own) or two earlier results.json files / report folders (compared without re-running). "
        "Writes comparison.md, comparison.html, results.json and plots to a new report folder. Exit status "
        "1 when a metric is significantly worse or a version failed on a case, unless --exit-zero."
    )
    parser.add_argument("baseline", metavar="A", help="baseline: agent reference, results.json, or report folder")
    parser.add_argument("candidate", metavar="B", help="candidate: agent reference, results.json, or report folder")
    parser.add_argument("--golden", action="append", help="golden JSONL file for re-runs (repeatable; replaces [tool.harness] golden)")
    parser.add_argument("--report-dir", dest="report_dir", help="where the report folder is written (default [tool.harness] report_dir)")
    parser.add_argument("--concurrency", type=int, help="agent calls in flight at once (re-runs)")
    parser.add_argument("--case-timeout", dest="case_timeout_s", type=float, help="seconds before a case is abandoned (re-runs)")
    parser.add_argument("--exit-zero", action="store_true", help="exit 0 even when a metric is significantly worse or a version errored")


def run_compare(args: argparse.Namespace) -> int:
    from harness.comparison_report import comparison_markdown
    from harness.config import load_config
    from harness.explain import safe
    from harness.report import write_reports

    overrides = {"golden": args.golden, "report_dir": args.report_dir, "concurrency": args.concurrency, "case_timeout_s": args.case_timeout_s}
    cfg = load_config(Path.cwd(), overrides)
    paths = [results_path(args.baseline), results_path(args.candidate)]
    if all(paths):
        evaluation = evaluation_from_files(paths[0], paths[1], cfg)
    elif any(paths):
        raise HarnessError("give two agent references or two results.json files (a stored run cannot be paired with a fresh one)")
    else:
        evaluation = _rerun(cfg, args.candidate, args.baseline)
    report_dir = write_reports(evaluation, cfg.report_path)
    # A comparison is not a gated session: `harness log` must never promote from this folder.
    (report_dir / "session.json").write_text(
        '{"promote": false, "blockers": ["written by harness compare: a comparison, not a gated pytest session"]}\n', encoding="utf-8"
    )
    comparison = evaluation.comparisons[0]
    print(safe(comparison_markdown(evaluation)))
    for line in evaluation.notes:
        print(f"note: {line}")
    for line in comparison.headline_lines():
        print(line)
    errored = [f"{v.label} failed on {len(v.agent_errors)} case(s)" for v in evaluation.versions if v.agent_errors]
    for line in errored:
        print(f"error: {line}: an answer that failed is never compared as a pass")
    print(f"reports: {report_dir}")
    return 1 if (comparison.regressions or errored) and not args.exit_zero else 0


def _rerun(cfg: HarnessConfig, candidate: str, baseline: str) -> Evaluation:
    """Both versions answer from processes of their own, the same way, whatever their kind: a registry
    version loaded with pyfunc is not measured against an import in the harness's process."""
    from harness.agent_process.client import LoggedAgent, isolated_version
    from harness.evaluation import evaluate
    from harness.golden import load_golden

    cases = load_golden(cfg.golden_paths)
    env: dict[str, str] = {}
    if any(r.startswith(("models:/", "runs:/")) for r in (candidate, baseline)):
        from harness.tracking.connection import connect

        uri = connect(cfg.root)
        env = {"MLFLOW_TRACKING_URI": uri, "MLFLOW_REGISTRY_URI": uri}
    versions = []
    try:
        for reference, label in ((candidate, "candidate"), (baseline, "baseline")):
            stored = reference.startswith(("models:/", "runs:/"))
            versions.append(isolated_version(LoggedAgent(reference, reference if stored else "", None), cfg.root, label, env=env))
        return evaluate(cfg, cases, versions)
    finally:
        for version in versions:
            version.isolated.close()


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
                "verdict": {"enum": ["better", "worse", "no significant difference"]},
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
                           "verdict": {"enum": ["better", "worse", "same", "no significant difference"]}},
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
