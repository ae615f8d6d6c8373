"""Latency beyond the per-case percentiles: benchmark cases, cold start, per-node breakdown.

- Representative cases: the pytest-benchmark suite (`suites/test_latency.py`) times one case per
  domain tag rather than the whole golden set, so it stays within seconds (its pytest-benchmark
  settings: `harness.plugin.benchmark`).
- Cold start: `Version.load_s` (import or `load_model`) and the first answer, timed alone before
  the interleaved run (see `runner.run_versions`), so lazy initialisation never lands in the warm
  percentiles that the gate reads.
- Per-node breakdown: the representative cases answered once more under MLflow tracing (LangChain /
  LangGraph autolog inside one root span per answer), each node's time read from the live trace
  (in the agent's process, or back from the tracking store in this one) and summed per node, so
  the reports show where the time goes inside the agent (report sections: `harness.reports.latency`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from harness.golden import Case
from harness.records.latency import NodeBreakdown, NodeStat
from harness.versions.version import Version

DOMAIN_TAGS = ("cost", "security", "performance", "reliability", "quality")
GENERIC_CASES = 3  # benchmark cases taken from a golden set without domain tags
TOP_NODES = 10


def representative_cases(
    cases: Sequence[Case], domains: Sequence[str] = DOMAIN_TAGS, generic: int = GENERIC_CASES
) -> list[Case]:
    """The first case of each domain tag, in domain order; the first `generic` cases when no case has one."""
    picked = [next(c for c in cases if domain in c.tags) for domain in domains if any(domain in c.tags for c in cases)]
    unique = list({c.id: c for c in picked}.values())
    return unique or list(cases[:generic])


def summarize_answers(
    label: str,
    reference: str,
    answers: Sequence[tuple[float, Sequence[tuple[str, str, float]]]],
    trace_ids: Sequence[str],
    top: int = TOP_NODES,
) -> NodeBreakdown:
    """Sum the time of each node over traced answers ((answer ms, [(name, kind, ms)]) each); the `top`
    slowest nodes by total time."""
    totals: dict[tuple[str, str], list[float]] = {}
    for _, nodes in answers:
        for name, kind, ms in nodes:
            totals.setdefault((name, kind), []).append(ms)
    answer_ms = sum(ms for ms, _ in answers)
    stats = [
        NodeStat(name, kind, len(ds), sum(ds), sum(ds) / answer_ms if answer_ms else 0.0)
        for (name, kind), ds in totals.items()
    ]
    stats.sort(key=lambda n: n.total_ms, reverse=True)
    return NodeBreakdown(label, reference, len(answers), answer_ms, stats[:top], list(trace_ids))


def trace_breakdown(version: Version, cases: Sequence[Case], timeout_s: float, root: Path) -> NodeBreakdown:
    """Answer `cases` once more under MLflow tracing and attribute the time to the agent's nodes.

    A version answering from its own (sandboxed) process times its nodes there, from the live
    trace, and sends them with the answer. In this process, traces go to the session's tracking
    store (experiment `harness-latency-traces`), where they can be opened in the MLflow UI, and are
    read back from it. The answer's time is the root span's, which includes the small cost of
    recording its LangChain runs; the gate's latency figures come from the untraced evaluation.
    """
    from harness.runner import call_with_timeout
    from harness.secrets import emails_in
    from harness.tracking.connection import connect
    from harness.tracking.tracing import (
        flush_traces,
        node_times,
        stored_traces,
        traced_call,
        tracing,
        use_trace_experiment,
    )

    isolated = getattr(version, "isolated", None)
    if isolated is None:
        connect(root)
        use_trace_experiment()
    trace_ids: list[str] = []
    answers: list[tuple[float, Sequence[tuple[str, str, float]]]] = []

    def traced(messages: list[dict[str, str]], params: dict[str, Any], cid: str) -> Any:
        if isolated is not None:
            reply = isolated.call(messages, params, cid, trace=True, flush=False)
            trace_ids.append(reply["trace_id"])
            answers.append((float(reply.get("latency_ms") or 0.0), [tuple(n) for n in reply.get("nodes") or []]))
            return {"content": reply["text"]}
        # The root span opens on the agent's own thread: tracing context does not cross threads.
        answer = traced_call(
            lambda: version.call(messages, params, cid),
            {"harness.version": version.label, "harness.conversation_id": cid},
        )
        trace_ids.append(answer.trace_id)
        return answer.result

    errors: list[str] = []
    asked = emails_in(m["content"] for case in cases for m in case.messages)
    with tracing(in_process=isolated is None, allowed_emails=asked):  # no raw secret reaches the store
        traced_version = dataclasses.replace(version, call=traced)
        for case in cases:
            output = call_with_timeout(traced_version, case, timeout_s, repeat=0)
            if output.error:
                errors.append(f"{case.id}: {output.error}")
    if isolated is None:
        flush_traces()
        traces = stored_traces(trace_ids)
        trace_ids = [t.info.trace_id for t in traces]
        answers = [(_root_ms(t.data.spans), node_times(t.data.spans)) for t in traces]
    breakdown = summarize_answers(version.label, version.reference, answers, trace_ids)
    return dataclasses.replace(breakdown, errors=errors, asked=len(cases))


def _root_ms(spans: Sequence[Any]) -> float:
    return sum((s.end_time_ns - s.start_time_ns) / 1e6 for s in spans if s.parent_id is None and s.end_time_ns)
