"""The pipeline: run versions over the cases, score every answer, aggregate, compare, gate.

Pure: no pytest, no tracking store. The versions come in loaded (see `harness.versions.baseline`
for the session's candidate and baseline); what comes out is one `Evaluation` record.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from harness.compare import build_comparisons
from harness.conversation import conversation_results
from harness.gate import evaluate_gate
from harness.golden import Case, Conversation, parse_case
from harness.records.comparison import Comparison
from harness.records.estimate import Estimate
from harness.records.evaluation import Evaluation
from harness.records.results import CaseResult, VersionResult
from harness.runner import Progress, VersionRun, run_versions
from harness.scorers import Scorer, build_scorers, safe_score
from harness.scorers.base import Score, failed
from harness.settings import HarnessConfig
from harness.stats import latency_summary, mean_ci
from harness.versions.version import AgentOutput, Version


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
        combined[name] = Score(
            name,
            sum(s.value for s in scores) / len(scores),
            2 * passes > len(scores),
            why,
            first.judge,
            error=any(s.error for s in scores),
        )
    return combined


def evaluate(
    cfg: HarnessConfig,
    cases: Sequence[Case],
    versions: Sequence[Version],
    scorers: Sequence[Scorer] | None = None,
    notes: Sequence[str] = (),
    progress: Progress | None = None,
) -> Evaluation:
    """Run and score every version over `cases`, then gate the first one (the candidate)."""
    scorers = list(scorers) if scorers is not None else build_scorers(cfg)
    runs = run_versions(
        versions, cases, cfg.concurrency, cfg.case_timeout_s, cfg.repeats, progress, trace=reads_trajectories(scorers)
    )
    results = [
        version_result(
            run.version.label,
            run.version.reference,
            run.version.kind,
            run.version.load_s,
            score_run(run, cases, scorers),
            run.version,
            cfg.weights,
            first_answer=run.first_answer,
        )
        for run in runs
    ]
    return gate_evaluation(Evaluation(cfg, list(cases), results, notes=list(notes)))


def version_result(
    label: str,
    reference: str,
    kind: str,
    load_s: float,
    results: dict[str, CaseResult],
    version: Version | None = None,
    weights: dict[str, float] | None = None,
    first_answer: AgentOutput | None = None,
) -> VersionResult:
    """A version's results with its metrics aggregated once: the gate, the reports and the tracking
    run all read these same estimates."""
    draft = VersionResult(label, reference, kind, load_s, results, version, dict(weights or {}), first_answer)
    return replace(draft, estimates=aggregate(draft))


def aggregate(version: VersionResult) -> dict[str, Estimate]:
    """Every standard metric of a version with its 95% CI, in the order the reports show them."""
    from harness.trajectory import USAGE_METRICS

    names = [*version.scorer_names, "overall", "conversation_pass_rate", "agent_error_rate", "flip_rate", "pass_k"]
    metrics = {m: e for m in names if (e := _estimate(version, m)) is not None}
    if version.latencies_ms:  # every percentile from one bootstrap
        metrics |= {f"latency_{p}_ms": e for p, e in latency_summary(version.latencies_ms).items()}
    usage = {m: e for m in [*USAGE_METRICS, "judge_error_rate"] if (e := _estimate(version, m)) is not None}
    return metrics | usage


def _estimate(version: VersionResult, metric: str) -> Estimate | None:
    results = version.results.values()
    if metric in ("agent_error_rate", "judge_error_rate", "flip_rate"):
        return _rate(version, metric)
    if metric == "conversation_pass_rate":  # multi-turn cases: a conversation passes when every turn did
        verdicts = conversation_results(version.results)
        return mean_ci([float(v.passed) for v in verdicts]) if verdicts else None
    if metric == "pass_k":
        return mean_ci([float(r.pass_k) for r in results]) if results else None
    from harness.trajectory import USAGE_METRICS, usage_of

    if metric in USAGE_METRICS:  # per traced answer: the calls its route made (harness/trajectory/)
        used = [
            getattr(u, metric)
            for r in results
            for o in [r.output, *r.repeats]
            if (u := usage_of(r.case.expectations.get("expected_trajectory"), o.trajectory)) is not None
        ]
        return mean_ci([float(v) for v in used]) if used else None
    values = version.values(metric)
    return mean_ci(values) if values else None


def _rate(version: VersionResult, metric: str) -> Estimate | None:
    """A share without bootstrap: agent errors per case, judge errors per judged score, flips per repeated case."""
    if metric == "agent_error_rate":
        n = len(version.results)
        rate = len(version.agent_errors) / n if n else float("nan")
        return Estimate(rate, rate, rate, n)
    if metric == "judge_error_rate":
        judged = version.judged_scores()
        rate = sum(1 for s in judged if s.error) / len(judged) if judged else 0.0
        return Estimate(rate, rate, rate, len(judged))
    repeated = [r for r in version.results.values() if r.repeats]
    if not repeated:
        return None
    rate = sum(1 for r in repeated if r.flipped) / len(repeated)
    return Estimate(rate, rate, rate, len(repeated))


def reads_trajectories(scorers: Sequence[Scorer]) -> bool:
    """Whether a scorer judges the route (`reads_trajectory = True` on it, as on the `trajectory`
    scorer): only then are the answers that expect a trajectory traced, since tracing costs time."""
    return any(getattr(s, "reads_trajectory", False) for s in scorers)


def gate_evaluation(evaluation: Evaluation, comparisons: list[Comparison] | None = None) -> Evaluation:
    """The evaluation with the candidate compared with each other version (paired statistics) and gated."""
    comparisons = build_comparisons(evaluation) if comparisons is None else comparisons
    gate = evaluate_gate(
        evaluation.config, evaluation.candidate, comparisons[0] if comparisons else None, evaluation.notes
    )
    return replace(evaluation, comparisons=comparisons, gate=gate)


def read_results(results: Path, root: Path) -> Evaluation:
    """A report folder's results.json as an Evaluation, gated again under the configuration it
    records (its versions, golden files, model, thresholds, ...) over the project's at `root`."""
    from harness import HarnessError
    from harness.config import load_config
    from harness.records.codec import checked, recorded_settings

    try:
        document = checked(json.loads(results.read_text(encoding="utf-8")), str(results))
        overrides = recorded_settings(document)
    except (json.JSONDecodeError, KeyError, TypeError, AttributeError) as exc:
        raise HarnessError(f"{results}: not a harness results document ({type(exc).__name__}: {exc})") from None
    return evaluation_from_results(document, load_config(root, overrides))


def evaluation_from_results(document: dict[str, Any], cfg: HarnessConfig) -> Evaluation:
    """Rebuild an Evaluation from a results.json document (no re-run), gated again under `cfg`."""
    from harness.records.codec import decode_versions

    cases: dict[str, Case] = {}
    where = document.get("report_dir", "results.json")

    def case_of(row: Mapping[str, Any]) -> Case:
        if row["id"] not in cases:
            cases[row["id"]] = case_from_row(row, f"{where}:{row['id']}")
        return cases[row["id"]]

    versions = [
        version_result(meta["label"], meta["reference"], meta["kind"], meta["load_s"], results, None, cfg.weights)
        for meta, results in decode_versions(document["versions"], case_of)
    ]
    notes = [n for n in document.get("notes") or [] if isinstance(n, str)]
    return gate_evaluation(Evaluation(cfg, list(cases.values()), versions, notes=notes))


def case_from_row(row: Mapping[str, Any], where: str) -> Case:
    """The golden case a results.json row was answered for, validated as a golden line is."""
    messages = row.get("messages") or [{"role": "user", "content": row["question"]}]
    line = {"id": row["id"], "inputs": {"messages": messages}, "expectations": row.get("expectations", {})}
    case = parse_case(line | {"tags": row.get("tags", [])}, where)
    if row.get("conversation"):
        return replace(case, conversation=Conversation.from_dict(row["conversation"]))
    return case
