"""Each evaluated case of the candidate as a trace of the session's run: its question and answer as the
trace's inputs and outputs, each scorer's verdict as an MLflow `Feedback` (value, rationale, source = the
rule or judge) and each golden expectation as an `Expectation`, as `mlflow.genai.evaluate` leaves them,
so MLflow's evaluation UI shows per-case pass/fail and rationales beside the answers. Everything written
goes through the secret detector first, like every other writer; a row keeps the emails its question named.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from harness.records.evaluation import Evaluation
    from harness.records.results import CaseResult
    from harness.scorers.base import Score

CASE_TAG = "harness.case_id"
VERSION_TAG = "harness.version"
GOLDEN_SOURCE = "golden"  # the source id of the expectations: the golden data, written by people


def log_case_traces(evaluation: Evaluation) -> list[str]:
    """One trace per case of the candidate, in the active run, with its assessments; the trace ids.

    The assessments travel inside each trace, so the store writes a case in one transaction instead of one
    per assessment."""
    import mlflow

    candidate = evaluation.candidate
    traced = [_case_trace(candidate.label, result) for result in candidate.results.values()]
    mlflow.flush_trace_async_logging()
    return traced


def _case_trace(version: str, result: CaseResult) -> str:
    import mlflow
    from mlflow.entities import SpanStatusCode, SpanType
    from mlflow.tracing.trace_manager import InMemoryTraceManager

    case, output = result.case, result.output
    allowed = _allowed(result)
    end_ns = time.time_ns()
    case_id = _masked(case.id, allowed)  # a golden id may hold a secret like any other text
    span = mlflow.start_span_no_context(
        name=case_id,
        span_type=SpanType.AGENT,
        inputs=_masked({"messages": case.messages}, allowed),
        tags={CASE_TAG: case_id, VERSION_TAG: _masked(version, allowed)},
        start_time_ns=end_ns - int((output.latency_ms or 0.0) * 1e6),
    )
    if output.error:
        span.set_status(SpanStatusCode.ERROR)
    with InMemoryTraceManager.get_instance().get_trace(span.trace_id) as trace:
        if trace is not None:
            trace.info.assessments.extend(assessments(span.trace_id, result))
    span.end(outputs=_masked({"content": output.text, "error": output.error}, allowed), end_time_ns=end_ns)
    return str(span.trace_id)


def assessments(trace_id: str, result: CaseResult) -> list[Any]:
    """The case's scores as feedback and its expectations as expectations, for trace `trace_id`."""
    from mlflow.entities import AssessmentError, AssessmentSource, Expectation, Feedback

    allowed = _allowed(result)
    made: list[Any] = []
    for name, score in result.scores.items():
        error = _masked(score.rationale, allowed) if score.error else None
        made.append(
            Feedback(
                name=name,
                value=None if score.error else score.passed,
                rationale=_masked(score.rationale, allowed),
                source=AssessmentSource(source_type=_source_type(score), source_id=score.judge or name),
                error=AssessmentError(error_code="SCORER_ERROR", error_message=error) if error else None,
                metadata={"score": str(score.value), "applicable": str(score.applicable)},
                trace_id=trace_id,
            )
        )
    for name, value in result.case.expectations.items():
        made.append(
            Expectation(
                name=name,
                value=_masked(value, allowed),
                source=AssessmentSource(source_type="HUMAN", source_id=GOLDEN_SOURCE),
                trace_id=trace_id,
            )
        )
    return made


def _source_type(score: Score) -> str:
    """A rule-based scorer is code; anything else a judge model answered."""
    return "CODE" if score.judge in ("rule", "", None) else "LLM_JUDGE"


def _allowed(result: CaseResult) -> list[str]:
    from harness.secrets import emails_in

    return list(emails_in([result.case.question]))


def _masked(value: Any, allowed: list[str]) -> Any:
    from harness.secrets import mask_tree

    return mask_tree(value, allowed).value
