"""Per-case and per-version results: what a version answered, how each answer scored, and the
metrics aggregated from them (by `harness.pipeline.version_result`, once). Records only: built once,
never changed; `to_dict`/`from_dict` are the one encoding (results.json and the xdist payloads alike)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from harness.records.answers import AgentOutput, Score

if TYPE_CHECKING:
    from harness.golden import Case
    from harness.records.estimate import Estimate
    from harness.versions.version import Version


@dataclass(frozen=True)
class CaseResult:
    case: Case
    output: AgentOutput
    # The case's scores. With repeats, each scorer's verdict over every answer (combine_scores):
    # the mean value, passed by a strict majority of the answers.
    scores: dict[str, Score]
    repeats: list[AgentOutput] = field(default_factory=list)  # outputs of repeats 2..N
    answer_scores: list[dict[str, Score]] = field(
        default_factory=list
    )  # with repeats: every answer's own scores, in order

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
            "traced": self.output.traced,
            "expectations": self.case.expectations,
            "conversation": self.case.conversation.to_dict() if self.case.conversation else None,
            "scores": {name: s.to_dict() for name, s in self.scores.items()},
            "repeats": [_output_row(o) for o in self.repeats],
            "flipped": self.flipped,
            "answer_scores": [{name: s.to_dict() for name, s in a.items()} for a in self.answer_scores],
            "pass_rates": {name: rate for name in self.scores if (rate := self.pass_rate(name)) is not None},
            "pass_k": self.pass_k,
            "unstable": self.unstable,
        }

    @classmethod
    def from_dict(cls, case: Case, row: dict[str, Any]) -> CaseResult:
        """The CaseResult that `to_dict` wrote (results.json, an xdist worker's payload)."""
        scores = {name: Score(**score) for name, score in row["scores"].items()}
        answers = [{name: Score(**score) for name, score in a.items()} for a in row.get("answer_scores") or []]
        return cls(case, _output(row), scores, [_output(r) for r in row.get("repeats") or []], answers)


def latency_source(results: Iterable[CaseResult]) -> str:
    """`untraced calls (3 traced excluded)`: which answers timed latency (see VersionResult.latency_results)."""
    ok = [r for r in results if r.output.error is None]
    traced = sum(1 for r in ok if r.output.traced)
    if not traced:
        return "untraced calls"
    if traced == len(ok):
        return "traced calls: every case is traced, tracing time included"
    return f"untraced calls only ({traced} traced excluded)"


def _output_row(output: AgentOutput) -> dict[str, Any]:
    return {
        "answer": output.text,
        "error": output.error,
        "latency_ms": output.latency_ms,
        "metadata": output.metadata,
        "trajectory": output.trajectory,
        "traced": output.traced,
    }


def _output(row: dict[str, Any]) -> AgentOutput:
    return AgentOutput(
        row.get("answer", ""),
        row.get("metadata") or {},
        row.get("latency_ms", 0.0),
        row.get("error"),
        row.get("trajectory"),
        bool(row.get("traced", False)),
    )


@dataclass(frozen=True)
class VersionResult:
    label: str
    reference: str
    kind: str
    load_s: float
    results: dict[str, CaseResult]
    version: Version | None = field(default=None, repr=False, compare=False)  # None when read back from results.json
    weights: dict[str, float] = field(default_factory=dict)
    first_answer: AgentOutput | None = None  # cold start: timed alone, not among `results`
    # The standard metrics, aggregated once by the core (`harness.pipeline.version_result`), in the
    # order the reports show them: the gate, the reports and the tracking run all read these estimates.
    estimates: dict[str, Estimate] = field(default_factory=dict, repr=False, compare=False)

    @property
    def scorer_names(self) -> list[str]:
        first = next(iter(self.results.values()), None)
        return list(first.scores) if first else []

    def values(self, metric: str) -> list[float]:
        """Per-case values of a scorer metric, errors as 0, not-applicable cases left out."""
        if metric == "overall":
            return [v for v in (self.case_overall(r) for r in self.results.values()) if v is not None]
        return [
            r.scores[metric].value for r in self.results.values() if metric in r.scores and r.scores[metric].applicable
        ]

    def case_overall(self, result: CaseResult) -> float | None:
        applicable = [s for s in result.scores.values() if s.applicable]
        total = sum(self.weights.get(s.name, 1.0) for s in applicable)
        if not applicable or total == 0:
            return None
        return sum(self.weights.get(s.name, 1.0) * s.value for s in applicable) / total

    @property
    def latency_results(self) -> list[CaseResult]:
        """The answers latency is measured on: those without error, untraced ones only (tracing adds
        its own time) unless every answer was traced."""
        ok = [r for r in self.results.values() if r.output.error is None]
        untraced = [r for r in ok if not r.output.traced]
        return untraced or ok

    @property
    def latencies_ms(self) -> list[float]:
        return [r.output.latency_ms for r in self.latency_results]

    @property
    def latency_source(self) -> str:
        """Which calls the latency figures come from, in words."""
        return latency_source(self.results.values())

    @property
    def agent_errors(self) -> list[CaseResult]:
        return [r for r in self.results.values() if r.output.error is not None]

    def judged_scores(self) -> list[Score]:
        """LLM-judge scores of answers the agent gave (agent errors are not the judge's), applicable ones only."""
        return [
            s
            for r in self.results.values()
            if r.output.error is None
            for s in r.scores.values()
            if s.judge != "rule" and s.applicable
        ]

    def metric_estimate(self, metric: str) -> Estimate | None:
        """Mean and CI of a scorer metric, a latency percentile, or an error rate."""
        return self.estimates.get(metric)

    def metrics(self) -> dict[str, Estimate]:
        """The metrics the reports and the tracking run show: pass^k only with repeats, no judge error
        rate (the gate table has it), latency at p50, p95 and p99."""
        hidden = {"judge_error_rate", "latency_p90_ms", "latency_max_ms"} | (set() if self.repeated else {"pass_k"})
        return {m: e for m, e in self.estimates.items() if m not in hidden}

    @property
    def repeated(self) -> bool:
        return any(r.answer_scores for r in self.results.values())

    def unstable_cases(self) -> list[str]:
        """Cases whose answers passed some scorer on some calls and failed it on others (with repeats)."""
        return [cid for cid, r in self.results.items() if r.unstable]

    def failing_scorer(self, scorer: str) -> list[str]:
        """Cases where any answer failed `scorer` (an agent error is the error rate's, not a verdict of the scorer)."""
        return [
            cid
            for cid, r in self.results.items()
            if any(
                scorer in a and a[scorer].applicable and not a[scorer].passed
                for a, o in zip(r.every_answer_scores, [r.output, *r.repeats])
                if o.error is None
            )
        ]

    def failing_tagged(self, tag: str) -> list[str]:
        """Cases tagged `tag` where any answer failed any scorer or the agent errored."""
        return [
            cid
            for cid, r in self.results.items()
            if tag in r.case.tags and (not r.pass_k or any(o.error for o in [r.output, *r.repeats]))
        ]
