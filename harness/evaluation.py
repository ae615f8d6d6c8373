"""One evaluation: load versions, run them over the cases, score every answer, aggregate, gate."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from harness import HarnessError, first_line
from harness.config import HarnessConfig
from harness.gate import BASELINE_UNAVAILABLE, GateResult, evaluate_gate
from harness.golden import Case
from harness.runner import Progress, VersionRun, run_versions
from harness.scorers import Scorer, build_scorers, safe_score
from harness.scorers.base import Score, failed
from harness.stats import Estimate, latency_summary, mean_ci
from harness.versions import AgentOutput, Version, resolve

if TYPE_CHECKING:
    from harness.compare import Comparison
    from harness.latency import NodeBreakdown


@dataclass
class CaseResult:
    case: Case
    output: AgentOutput
    # The case's scores. With repeats, each scorer's verdict over every answer (combine_scores):
    # the mean value, passed by a strict majority of the answers.
    scores: dict[str, Score]
    repeats: list[AgentOutput] = field(default_factory=list)  # outputs of repeats 2..N
    answer_scores: list[dict[str, Score]] = field(default_factory=list)  # with repeats: every answer's own scores, in order

    @property
    def every_answer_scores(self) -> list[dict[str, Score]]:
        return self.answer_scores or [self.scores]

    @property
    def flipped(self) -> bool | None:
        """Whether any repeat answered (or failed) differently from the first call; None without repeats."""
        if not self.repeats:
            return None
        return any((o.text, o.error) != (self.output.text, self.output.error) for o in self.repeats)

    def pass_rate(self, scorer: str) -> float | None:
        """The share of this case's answers that passed `scorer`; None where it does not apply."""
        scores = [a[scorer] for a in self.every_answer_scores if scorer in a]
        if not scores or not scores[0].applicable:
            return None
        return sum(s.passed for s in scores) / len(scores)

    @property
    def pass_k(self) -> bool:
        """pass^k: every answer passed every scorer that applies."""
        return all(s.passed for a in self.every_answer_scores for s in a.values() if s.applicable)

    @property
    def unstable(self) -> bool | None:
        """Whether some scorer passed on some answers and failed on others; None without repeats."""
        if not self.answer_scores:
            return None
        return any(0.0 < rate < 1.0 for name in self.scores if (rate := self.pass_rate(name)) is not None)

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
            "trajectory": self.output.trajectory,
            "expectations": self.case.expectations,
            "scores": {name: s.to_dict() for name, s in self.scores.items()},
            "repeats": [{"answer": o.text, "error": o.error, "latency_ms": o.latency_ms} for o in self.repeats],
            "flipped": self.flipped,
            "answer_scores": [{name: s.to_dict() for name, s in a.items()} for a in self.answer_scores],
            "pass_rates": {name: rate for name in self.scores if (rate := self.pass_rate(name)) is not None},
            "pass_k": self.pass_k,
            "unstable": self.unstable,
        }


def combine_scores(answers: Sequence[dict[str, Score]]) -> dict[str, Score]:
    """One verdict per scorer over several answers to one case: the mean value, passed by a strict
    majority (a tie is a failure: a failure is never scored as a pass), an error if any answer's was."""
    combined: dict[str, Score] = {}
    for name, first in answers[0].items():
        scores = [a[name] for a in answers]
        if not first.applicable:
            combined[name] = first
            continue
        passes = sum(s.passed for s in scores)
        failing = next((s for s in scores if not s.passed), None)
        why = f"{passes} of {len(scores)} answers passed" + (f"; a failing one: {failing.rationale}" if failing else "")
        combined[name] = Score(name, sum(s.value for s in scores) / len(scores), 2 * passes > len(scores), why, first.judge,
                               error=any(s.error for s in scores))
    return combined


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
    first_answer: AgentOutput | None = None  # cold start: timed alone, not among `results`

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
        return sum(1 for s in self._judged_scores() if s.error)

    def _judged_scores(self) -> list[Score]:
        """LLM-judge scores of answers the agent gave (agent errors are not the judge's), applicable ones only."""
        return [s for r in self.results.values() if r.output.error is None for s in r.scores.values() if s.judge != "rule" and s.applicable]

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
            judged = len(self._judged_scores())
            rate = self.judge_errors / judged if judged else 0.0
            estimate = Estimate(rate, rate, rate, judged)
        elif metric == "pass_k":
            estimate = mean_ci([float(r.pass_k) for r in self.results.values()]) if self.results else None
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
        if self.repeated:
            names.insert(names.index("flip_rate") + 1, "pass_k")
        return {m: e for m in names if (e := self.metric_estimate(m)) is not None}

    @property
    def repeated(self) -> bool:
        return any(r.answer_scores for r in self.results.values())

    def unstable_cases(self) -> list[str]:
        """Cases whose answers passed some scorer on some calls and failed it on others (with repeats)."""
        return [cid for cid, r in self.results.items() if r.unstable]

    def failing_scorer(self, scorer: str) -> list[str]:
        """Cases where any answer failed `scorer` (an agent error is the error rate's, not a verdict of the scorer)."""
        return [
            cid for cid, r in self.results.items()
            if any(scorer in a and a[scorer].applicable and not a[scorer].passed
                   for a, o in zip(r.every_answer_scores, [r.output, *r.repeats]) if o.error is None)
        ]

    def failing_tagged(self, tag: str) -> list[str]:
        """Cases tagged `tag` where any answer failed any scorer or the agent errored."""
        return [cid for cid, r in self.results.items()
                if tag in r.case.tags and (not r.pass_k or any(o.error for o in [r.output, *r.repeats]))]


@dataclass
class Evaluation:
    config: HarnessConfig
    cases: list[Case]
    versions: list[VersionResult]
    gate: GateResult | None = None
    # Filled by the latency suite: per-version node breakdowns, pytest-benchmark's JSON.
    node_breakdowns: dict[str, NodeBreakdown] = field(default_factory=dict)
    benchmark_json: dict[str, Any] | None = None
    # A/B: the candidate against each other version, and one-line notes such as a
    # baseline that could not be loaded.
    comparisons: list[Comparison] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def candidate(self) -> VersionResult:
        return self.versions[0]


def score_answer(case: Case, output: AgentOutput, scorers: Sequence[Scorer]) -> dict[str, Score]:
    if output.error is not None:
        return {s.name: failed(s.name, s.judge, f"agent error: {output.error}") for s in scorers}
    return {s.name: safe_score(s, case, output) for s in scorers}


def score_run(run: VersionRun, cases: Sequence[Case], scorers: Sequence[Scorer]) -> dict[str, CaseResult]:
    """Score every answer (every repeat too); with repeats a case's scores combine all its answers."""
    results: dict[str, CaseResult] = {}
    for case in cases:
        outputs = run.outputs[case.id]
        answers = [score_answer(case, output, scorers) for output in outputs]
        if len(answers) == 1:
            results[case.id] = CaseResult(case, outputs[0], answers[0])
        else:
            results[case.id] = CaseResult(case, outputs[0], combine_scores(answers), outputs[1:], answers)
    return results


def load_versions(cfg: HarnessConfig, references: Sequence[str] | None = None, notes: list[str] | None = None,
                  resolver: Callable[[str, Path, str], Version] = resolve) -> list[Version]:
    """Resolve the candidate and what it is compared against; labels name them in reports.

    The candidate must load. A baseline that should be compared against but cannot be loaded (a
    configured one, or the default `models:/<model_name>@production` when it exists or when the
    store cannot be reached to check) is one `BASELINE_UNAVAILABLE` line appended to `notes`: the
    session goes on and the gate's `baseline` check fails on it; with `require_baseline` the
    session stops instead. `baseline = "none"` is the explicit opt-out of any baseline.
    """
    notes = notes if notes is not None else []
    references = [r for r in (references or cfg.all_versions) if r.strip().lower() != "none"]
    if len(references) == 1 and not cfg.baseline:
        default = default_baseline(cfg, references[0], notes)
        if default:
            references.append(default)
            notes.append(f"baseline: {default} (the default when no baseline is configured)")
    labels = version_labels(references)
    if any(r.strip().startswith(("models:/", "runs:/")) for r in references):
        from harness.tracking.connection import connect

        try:
            connect(cfg.root)
        except HarnessError:
            if references[0].strip().startswith(("models:/", "runs:/")):
                raise
    versions = [resolver(references[0], cfg.root, labels[0])]
    for ref, label in zip(references[1:], labels[1:]):
        try:
            versions.append(resolver(ref, cfg.root, label))
        except HarnessError as exc:
            if cfg.require_baseline:
                raise HarnessError(f"baseline {ref!r} cannot be loaded and require_baseline is set: {exc}") from None
            notes.append(f"{BASELINE_UNAVAILABLE}{ref!r} could not be loaded ({first_line(exc)}); {BASELINE_FAILS}")
    if cfg.require_baseline and len(versions) < 2:
        raise HarnessError(
            f"require_baseline is set but no baseline is configured (baseline, --baseline or --versions) "
            f"and models:/{cfg.model_name}@production does not exist"
        )
    return versions


BASELINE_FAILS = 'the gate fails on it (baseline = "none" evaluates without a baseline)'


def default_baseline(cfg: HarnessConfig, candidate: str, notes: list[str]) -> str | None:
    """`models:/<model_name>@production` when that alias exists in the tracking store, else None.

    Never creates a store: a SQLite file that does not exist yet has no aliases. A store that
    cannot be reached (or answers anything but "no such model or alias") cannot say whether the
    default baseline exists: that is a `BASELINE_UNAVAILABLE` note, which fails the gate.
    """
    from pathlib import Path

    from harness.tracking.connection import connect, tracking_uri

    reference = f"models:/{cfg.model_name}@production"
    uri = tracking_uri(cfg.root)
    if candidate.strip() == reference or (uri.startswith("sqlite:///") and not Path(uri[len("sqlite:///"):]).is_file()):
        return None
    try:
        connect(cfg.root)
        import mlflow
        from mlflow.exceptions import MlflowException

        try:
            mlflow.MlflowClient().get_model_version_by_alias(cfg.model_name, "production")
        except MlflowException as exc:
            if exc.error_code in NOT_FOUND_CODES:  # the first versions of a model have no production yet
                return None
            raise
    except Exception as exc:
        notes.append(f"{BASELINE_UNAVAILABLE}could not check for the default baseline {reference} ({first_line(exc)}); {BASELINE_FAILS}")
        return None
    return reference


NOT_FOUND_CODES = ("RESOURCE_DOES_NOT_EXIST", "INVALID_PARAMETER_VALUE")


def version_labels(references: Sequence[str]) -> list[str]:
    """How reports name each version: candidate and baseline, or candidate and the other references."""
    return ["candidate", "baseline"] if len(references) == 2 else ["candidate", *references[1:]]


def evaluate(cfg: HarnessConfig, cases: Sequence[Case], versions: Sequence[Version], scorers: Sequence[Scorer] | None = None,
             notes: Sequence[str] = (), progress: Progress | None = None) -> Evaluation:
    """Run and score every version over `cases`, then gate the first one (the candidate)."""
    scorers = list(scorers) if scorers is not None else build_scorers(cfg)
    runs = run_versions(versions, cases, cfg.concurrency, cfg.case_timeout_s, cfg.repeats, progress)
    results = [
        VersionResult(run.version.label, run.version.reference, run.version.kind, run.version.load_s, score_run(run, cases, scorers), run.version, dict(cfg.weights),
                      first_answer=run.first_answer)
        for run in runs
    ]
    evaluation = Evaluation(cfg, list(cases), results, notes=list(notes))
    return gate_evaluation(evaluation)


def gate_evaluation(evaluation: Evaluation, comparisons: list[Comparison] | None = None) -> Evaluation:
    """Compare the candidate with each other version (paired statistics), then gate the candidate."""
    from harness.compare import build_comparisons

    evaluation.comparisons = build_comparisons(evaluation) if comparisons is None else comparisons
    first = evaluation.comparisons[0] if evaluation.comparisons else None
    evaluation.gate = evaluate_gate(evaluation.config, evaluation.candidate, first, evaluation.notes)
    return evaluation


def case_result_from_row(case: Case, row: dict[str, Any]) -> CaseResult:
    """A CaseResult from its `to_dict` row (results.json, or an xdist worker's payload)."""
    from harness.scorers.base import Score

    def output(o: dict[str, Any]) -> AgentOutput:  # a repeat is {answer, ...} in results.json, {text, ...} from a worker
        return AgentOutput(o.get("text", o.get("answer", "")), o.get("metadata") or {}, o.get("latency_ms", 0.0), o.get("error"),
                           o.get("trajectory"))

    scores = {name: Score(**score) for name, score in row["scores"].items()}
    answers = [{name: Score(**score) for name, score in a.items()} for a in row.get("answer_scores") or []]
    return CaseResult(case, output(row), scores, [output(r) for r in row.get("repeats") or []], answers)


def evaluation_from_results(document: dict[str, Any], cfg: HarnessConfig) -> Evaluation:
    """Rebuild an Evaluation from a results.json document (no re-run), gated again under `cfg`."""
    from harness.golden import parse_case

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
            results[case.id] = case_result_from_row(case, row)
        versions.append(VersionResult(entry["label"], entry["reference"], entry["kind"], entry["load_s"], results, None, dict(cfg.weights)))
    evaluation = Evaluation(cfg, list(cases.values()), versions)
    evaluation.notes = [n for n in document.get("notes") or [] if isinstance(n, str)]
    return gate_evaluation(evaluation)
