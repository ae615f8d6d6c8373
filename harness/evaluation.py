"""One evaluation: load versions, run them over the cases, score every answer, aggregate, gate."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from harness.config import HarnessConfig
from harness.gate import GateResult, evaluate_gate
from harness.golden import Case
from harness.runner import VersionRun, run_versions
from harness.scorers import Scorer, build_scorers, safe_score
from harness.scorers.base import Score, failed
from harness.stats import Estimate, latency_summary, mean_ci
from harness.versions import AgentOutput, Version, resolve

if TYPE_CHECKING:
    from harness.latency import NodeBreakdown


@dataclass
class CaseResult:
    case: Case
    output: AgentOutput
    scores: dict[str, Score]
    repeats: list[AgentOutput] = field(default_factory=list)  # outputs of repeats 2..N

    @property
    def flipped(self) -> bool | None:
        """Whether any repeat answered (or failed) differently from the first call; None without repeats."""
        if not self.repeats:
            return None
        return any((o.text, o.error) != (self.output.text, self.output.error) for o in self.repeats)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.case.id,
            "tags": self.case.tags,
            "question": self.case.question,
            "messages": self.case.messages,
            "answer": self.output.text,
            "error": self.output.error,
            "latency_ms": self.output.latency_ms,
            "metadata": self.output.metadata,
            "expectations": self.case.expectations,
            "scores": {name: s.to_dict() for name, s in self.scores.items()},
            "repeats": [{"answer": o.text, "error": o.error, "latency_ms": o.latency_ms} for o in self.repeats],
            "flipped": self.flipped,
        }


@dataclass
class VersionResult:
    label: str
    reference: str
    kind: str
    load_s: float
    results: dict[str, CaseResult]
    version: Version | None = None  # None when read back from results.json
    weights: dict[str, float] = field(default_factory=dict)
    _metrics: dict[str, Estimate] = field(default_factory=dict)
    first_answer: AgentOutput | None = None  # cold start (issue 6): timed alone, not among `results`

    @property
    def scorer_names(self) -> list[str]:
        first = next(iter(self.results.values()), None)
        return list(first.scores) if first else []

    def values(self, metric: str) -> list[float]:
        """Per-case values of a scorer metric, errors as 0, not-applicable cases left out."""
        if metric == "overall":
            return [v for v in (self._overall(r) for r in self.results.values()) if v is not None]
        return [r.scores[metric].value for r in self.results.values() if metric in r.scores and r.scores[metric].applicable]

    def _overall(self, result: CaseResult) -> float | None:
        applicable = [s for s in result.scores.values() if s.applicable]
        total = sum(self.weights.get(s.name, 1.0) for s in applicable)
        if not applicable or total == 0:
            return None
        return sum(self.weights.get(s.name, 1.0) * s.value for s in applicable) / total

    @property
    def latencies_ms(self) -> list[float]:
        return [r.output.latency_ms for r in self.results.values() if r.output.error is None]

    @property
    def agent_errors(self) -> list[CaseResult]:
        return [r for r in self.results.values() if r.output.error is not None]

    @property
    def judge_errors(self) -> int:
        return sum(1 for r in self.results.values() if r.output.error is None for s in r.scores.values() if s.error and s.judge != "rule")

    def metric_estimate(self, metric: str) -> Estimate | None:
        """Mean and CI of a scorer metric, a latency percentile, or an error rate."""
        if metric in self._metrics:
            return self._metrics[metric]
        estimate: Estimate | None
        n = len(self.results)
        if metric == "agent_error_rate":
            rate = len(self.agent_errors) / n if n else float("nan")
            estimate = Estimate(rate, rate, rate, n)
        elif metric == "judge_error_rate":
            judged = sum(1 for r in self.results.values() for s in r.scores.values() if s.judge != "rule")
            rate = self.judge_errors / judged if judged else 0.0
            estimate = Estimate(rate, rate, rate, judged)
        elif metric == "flip_rate":
            repeated = [r for r in self.results.values() if r.repeats]
            rate = sum(1 for r in repeated if r.flipped) / len(repeated) if repeated else None
            estimate = Estimate(rate, rate, rate, len(repeated)) if rate is not None else None
        elif metric.startswith("latency_p") and metric.endswith("_ms"):
            estimate = latency_summary(self.latencies_ms).get(metric[len("latency_"):-len("_ms")]) if self.latencies_ms else None
        else:
            values = self.values(metric)
            estimate = mean_ci(values) if values else None
        if estimate is not None:
            self._metrics[metric] = estimate
        return estimate

    def metrics(self) -> dict[str, Estimate]:
        names = [*self.scorer_names, "overall", "agent_error_rate", "flip_rate", "latency_p50_ms", "latency_p95_ms", "latency_p99_ms"]
        return {m: e for m in names if (e := self.metric_estimate(m)) is not None}


@dataclass
class Evaluation:
    config: HarnessConfig
    cases: list[Case]
    versions: list[VersionResult]
    gate: GateResult | None = None
    # Filled by the latency suite (issue 6): per-version node breakdowns, pytest-benchmark's JSON.
    node_breakdowns: dict[str, NodeBreakdown] = field(default_factory=dict)
    benchmark_json: dict[str, Any] | None = None

    @property
    def candidate(self) -> VersionResult:
        return self.versions[0]


def score_run(run: VersionRun, cases: Sequence[Case], scorers: Sequence[Scorer]) -> dict[str, CaseResult]:
    results: dict[str, CaseResult] = {}
    for case in cases:
        outputs = run.outputs[case.id]
        output = outputs[0]
        if output.error is not None:
            scores = {s.name: failed(s.name, s.judge, f"agent error: {output.error}") for s in scorers}
        else:
            scores = {s.name: safe_score(s, case, output) for s in scorers}
        results[case.id] = CaseResult(case, output, scores, outputs[1:])
    return results


def load_versions(cfg: HarnessConfig, references: Sequence[str] | None = None) -> list[Version]:
    """Resolve the candidate and what it is compared against; labels name them in reports."""
    references = list(references or cfg.all_versions)
    return [resolve(ref, cfg.root, label) for ref, label in zip(references, version_labels(references))]


def version_labels(references: Sequence[str]) -> list[str]:
    """How reports name each version: candidate and baseline, or candidate and the other references."""
    return ["candidate", "baseline"] if len(references) == 2 else ["candidate", *references[1:]]


def evaluate(cfg: HarnessConfig, cases: Sequence[Case], versions: Sequence[Version], scorers: Sequence[Scorer] | None = None) -> Evaluation:
    """Run and score every version over `cases`, then gate the first one (the candidate)."""
    scorers = list(scorers) if scorers is not None else build_scorers(cfg)
    runs = run_versions(versions, cases, cfg.concurrency, cfg.case_timeout_s, cfg.repeats)
    results = [
        VersionResult(run.version.label, run.version.reference, run.version.kind, run.version.load_s, score_run(run, cases, scorers), run.version, dict(cfg.weights),
                      first_answer=run.first_answer)
        for run in runs
    ]
    evaluation = Evaluation(cfg, list(cases), results)
    evaluation.gate = evaluate_gate(cfg, evaluation.candidate)
    return evaluation


def evaluation_from_results(document: dict[str, Any], cfg: HarnessConfig) -> Evaluation:
    """Rebuild an Evaluation from a results.json document (no re-run), gated again under `cfg`."""
    from harness.golden import parse_case
    from harness.scorers.base import Score

    versions: list[VersionResult] = []
    cases: dict[str, Case] = {}
    for entry in document["versions"]:
        results: dict[str, CaseResult] = {}
        for row in entry["cases"]:
            case = cases.setdefault(row["id"], parse_case(
                {"id": row["id"], "inputs": {"messages": row.get("messages") or [{"role": "user", "content": row["question"]}]},
                 "expectations": row.get("expectations", {}), "tags": row.get("tags", [])},
                f"{document.get('report_dir', 'results.json')}:{row['id']}",
            ))
            output = AgentOutput(row["answer"], row.get("metadata") or {}, row["latency_ms"], row.get("error"))
            scores = {name: Score(**score) for name, score in row["scores"].items()}
            repeats = [AgentOutput(r["answer"], {}, r.get("latency_ms", 0.0), r.get("error")) for r in row.get("repeats") or []]
            results[case.id] = CaseResult(case, output, scores, repeats)
        versions.append(VersionResult(entry["label"], entry["reference"], entry["kind"], entry["load_s"], results, None, dict(cfg.weights)))
    evaluation = Evaluation(cfg, list(cases.values()), versions)
    evaluation.gate = evaluate_gate(cfg, evaluation.candidate)
    return evaluation
