"""Latency beyond the per-case percentiles: benchmark cases, cold start, per-node breakdown.

- Representative cases: the pytest-benchmark suite (`suites/test_latency.py`) times one case per
  domain tag rather than the whole golden set, so it stays within seconds.
- Cold start: `Version.load_s` (import or `load_model`) and the first answer, timed alone before
  the interleaved run (see `runner.run_versions`), so lazy initialisation never lands in the warm
  percentiles that the gate reads.
- Per-node breakdown: the representative cases run once more under MLflow tracing (LangChain /
  LangGraph autolog inside one root span per answer); the spans are read back from the tracking
  store and summed per node, so the reports show where the time goes inside the agent.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from harness.golden import Case
from harness.reports.format import ms as _ms
from harness.trajectory import ROOT_SPAN, node_key  # LangGraph plumbing and the graph's own span are not nodes
from harness.versions import Version

if TYPE_CHECKING:
    from mlflow.entities import Trace

    from harness.evaluation import Evaluation

DOMAIN_TAGS = ("cost", "security", "performance", "reliability", "quality")
GENERIC_CASES = 3  # benchmark cases taken from a golden set without domain tags
TRACE_EXPERIMENT = "harness-latency-traces"
TOP_NODES = 10
# pytest-benchmark's own defaults: an option still at its default value was not set by the user.
BENCHMARK_DEFAULTS = {"benchmark_storage": "file://./.benchmarks", "benchmark_max_time": 1.0, "benchmark_warmup_iterations": 100000}


def representative_cases(cases: Sequence[Case], domains: Sequence[str] = DOMAIN_TAGS, generic: int = GENERIC_CASES) -> list[Case]:
    """The first case of each domain tag, in domain order; the first `generic` cases when no case has one."""
    picked = [next(c for c in cases if domain in c.tags) for domain in domains if any(domain in c.tags for c in cases)]
    unique = list({c.id: c for c in picked}.values())
    return unique or list(cases[:generic])


def apply_benchmark_defaults(option: Any, report_path: Path) -> None:
    """Default pytest-benchmark to saving under `<reports>/benchmarks`, with a short warm-up and 0.5 s per benchmark.

    Agent calls take milliseconds to seconds, so pytest-benchmark's 1 s and 100000 warm-up
    iterations would make each benchmark take seconds; three warm-up calls take the first-call
    effects out while keeping the suite within its budget. Options the user gave are kept.
    """
    if getattr(option, "benchmark_storage", None) is None:
        return  # pytest-benchmark is not loaded in this session
    if option.benchmark_storage == BENCHMARK_DEFAULTS["benchmark_storage"]:
        option.benchmark_storage = f"file://{report_path / 'benchmarks'}"
        option.harness_autosave = True  # see enable_benchmark_autosave
    if float(option.benchmark_max_time) == BENCHMARK_DEFAULTS["benchmark_max_time"]:
        from pytest_benchmark.utils import parse_seconds

        option.benchmark_max_time = parse_seconds("0.5")
    if option.benchmark_warmup_iterations == BENCHMARK_DEFAULTS["benchmark_warmup_iterations"]:
        option.benchmark_warmup = True
        option.benchmark_warmup_iterations = 3


def enable_benchmark_autosave(config: Any) -> None:
    """Autosave the benchmarks of this session into the storage that `apply_benchmark_defaults` chose.

    Called once benchmark tests are collected: switched on for every session, pytest-benchmark
    would warn in each one that runs none (the project's own tests, say).
    """
    session = getattr(config, "_benchmarksession", None)
    if session is None or not getattr(config.option, "harness_autosave", False) or session.save or session.autosave:
        return
    from pytest_benchmark.utils import get_tag

    session.autosave = get_tag()  # the name --benchmark-autosave gives: counter_commit_date


@dataclass
class NodeStat:
    """Time spent in one node (or LLM / tool call) of an agent, summed over the traced answers."""

    name: str
    kind: str  # "node" for a LangGraph node, else the MLflow span type (CHAT_MODEL, TOOL, ...)
    calls: int
    total_ms: float
    share: float  # total_ms / the answers' total time; parallel nodes can sum past 1

    @property
    def mean_ms(self) -> float:
        return self.total_ms / self.calls if self.calls else 0.0

    def to_dict(self) -> dict[str, Any]:
        return {**dataclasses.asdict(self), "mean_ms": self.mean_ms}


@dataclass
class NodeBreakdown:
    """Where one version's answer time goes, from the traces of its representative cases."""

    label: str
    reference: str
    answers: int
    answer_ms: float  # sum of the root spans' durations
    nodes: list[NodeStat] = field(default_factory=list)
    trace_ids: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "label": self.label,
            "reference": self.reference,
            "answers": self.answers,
            "answer_ms": self.answer_ms,
            "nodes": [n.to_dict() for n in self.nodes],
            "trace_ids": self.trace_ids,
            "errors": self.errors,
        }


def summarize_traces(label: str, reference: str, traces: Sequence[Trace], top: int = TOP_NODES) -> NodeBreakdown:
    """Sum span durations per node over the traces; the `top` slowest nodes by total time."""
    totals: dict[tuple[str, str], list[float]] = {}
    answer_ms = 0.0
    for trace in traces:
        for span in trace.data.spans:
            duration = (span.end_time_ns - span.start_time_ns) / 1e6 if span.end_time_ns else 0.0
            if span.parent_id is None:
                answer_ms += duration
            elif (key := node_key(span)) is not None:
                totals.setdefault(key, []).append(duration)
    nodes = [
        NodeStat(name, kind, len(ds), sum(ds), sum(ds) / answer_ms if answer_ms else 0.0)
        for (name, kind), ds in totals.items()
    ]
    nodes.sort(key=lambda n: n.total_ms, reverse=True)
    return NodeBreakdown(label, reference, len(traces), answer_ms, nodes[:top], [t.info.trace_id for t in traces])


def trace_breakdown(version: Version, cases: Sequence[Case], timeout_s: float, root: Path) -> NodeBreakdown:
    """Answer `cases` once more under MLflow tracing and attribute the time to the agent's nodes.

    Traces go to the session's tracking store (experiment `harness-latency-traces`), where they can
    be opened in the MLflow UI; LangChain autolog is switched on only for this pass, so the timed
    evaluation and benchmarks run untraced.
    """
    import mlflow
    from mlflow.utils.autologging_utils import autologging_is_disabled

    from harness.runner import call_with_timeout
    from harness.secrets import emails_in
    from harness.secrets.spans import span_masker
    from harness.tracking.connection import connect

    connect(root)
    mlflow.set_experiment(TRACE_EXPERIMENT)
    trace_ids: list[str] = []
    isolated = getattr(version, "isolated", None)  # answering from its own process: traced there, into the same store

    def traced(messages: list[dict[str, str]], params: dict[str, Any], cid: str) -> Any:
        if isolated is not None:
            reply = isolated.call(messages, params, cid, trace=True)
            trace_ids.append(reply["trace_id"])
            return {"content": reply["text"]}
        # The root span opens on the agent's own thread: tracing context does not cross threads.
        with mlflow.start_span(name=ROOT_SPAN, span_type="AGENT") as span:
            span.set_attributes({"harness.version": version.label, "harness.conversation_id": cid})
            trace_ids.append(span.trace_id)
            return version.call(messages, params, cid)

    langchain_was_off = isolated is None and autologging_is_disabled("langchain")
    if langchain_was_off:
        mlflow.langchain.autolog(silent=True)
    errors: list[str] = []
    asked = emails_in(m["content"] for case in cases for m in case.messages)
    try:
        with mlflow.tracing.configure(span_processors=[span_masker(asked)]):  # no raw secret reaches the store
            traced_version = dataclasses.replace(version, call=traced)
            for case in cases:
                output = call_with_timeout(traced_version, case, timeout_s, repeat=0)
                if output.error:
                    errors.append(f"{case.id}: {output.error}")
    finally:
        if langchain_was_off:
            mlflow.langchain.autolog(disable=True, silent=True)
    mlflow.flush_trace_async_logging()
    traces = [t for t in (mlflow.get_trace(tid, silent=True) for tid in trace_ids) if t is not None]
    breakdown = summarize_traces(version.label, version.reference, traces)
    breakdown.errors = errors
    return breakdown


def latency_document(evaluation: Evaluation) -> dict[str, Any]:
    """The latency part of results.json: per version what its latency measured, percentiles with CIs
    (for an endpoint also the service latency, retry waits excluded, and its retries), cold start,
    node breakdowns; benchmark stats."""
    from harness.reports.calls import MEASURED, SERVICE, endpoint_calls, measured_kind
    from harness.stats import latency_summary

    def percentiles(values: list[float]) -> dict[str, Any]:
        return {k: e.to_dict() for k, e in latency_summary(values).items()} if values else {}

    versions = []
    for v in evaluation.versions:
        first = v.first_answer
        kind = measured_kind(v, evaluation.config.in_process)
        calls = endpoint_calls(v)
        versions.append({
            "label": v.label,
            "reference": v.reference,
            "measured": {"kind": kind, "text": MEASURED[kind]},
            "percentiles_ms": percentiles(v.latencies_ms),
            "endpoint": None if calls is None else {
                **calls.to_dict(), "service": SERVICE, "service_percentiles_ms": percentiles(calls.service_ms)},
            "cold_start": {
                "load_s": v.load_s,
                "first_answer_ms": first.latency_ms if first else None,
                "first_answer_error": first.error if first else None,
            },
            "nodes": evaluation.node_breakdowns[v.label].to_dict() if v.label in evaluation.node_breakdowns else None,
        })
    return {"versions": versions, "benchmarks": benchmark_rows(evaluation.benchmark_json)}


def benchmark_rows(benchmark_json: dict[str, Any] | None) -> list[dict[str, Any]]:
    """One row per pytest-benchmark benchmark, in milliseconds."""
    rows = []
    for bench in (benchmark_json or {}).get("benchmarks", []):
        stats = bench["stats"]
        rows.append({
            "group": bench.get("group"),
            "name": bench["name"],
            "case": bench.get("extra_info", {}).get("case_id"),
            "rounds": stats["rounds"],
            **{f"{k}_ms": stats[k] * 1000 for k in ("min", "median", "mean", "stddev", "max")},
        })
    return rows


def latency_markdown(evaluation: Evaluation) -> str:
    """The summary.md section: percentiles with CIs and cold start per version (an endpoint's service
    latency beside its end-to-end one), what each measured, endpoint retries, top nodes, benchmarks."""
    from tabulate import tabulate

    from harness.reports.calls import ENDPOINT_HEADERS, SERVICE, endpoint_rows
    from harness.secrets import md_cell

    def cells(p: dict[str, Any]) -> list[Any]:
        shown = [f"{_ms(p[k]['value'])} [{_ms(p[k]['low'])}, {_ms(p[k]['high'])}]" if k in p else "n/a" for k in ("p50", "p90", "p95", "p99")]
        return [*shown, _ms(p["max"]["value"]) if "max" in p else "n/a", p["p50"]["n"] if p else 0]

    doc = latency_document(evaluation)
    rows = []
    for v in doc["versions"]:
        cold = v["cold_start"]
        first = md_cell(cold["first_answer_error"] or _ms(cold["first_answer_ms"]))
        rows.append([md_cell(v["label"]), *cells(v["percentiles_ms"]), f"{cold['load_s']:.2f}", first])
        if v["endpoint"]:
            rows.append([f"{md_cell(v['label'])}: {SERVICE}", *cells(v["endpoint"]["service_percentiles_ms"]), "", ""])
    lines = [
        "## Latency",
        "",
        "Per-case answer latency in ms over the golden set (warm), with 95% bootstrap CIs; cold start is "
        "the load time and the first answer, timed alone before the run.",
        "",
        tabulate(rows, headers=["version", "p50", "p90", "p95", "p99", "max", "n", "load s", "first answer ms"], tablefmt="github", disable_numparse=True),
        "",
        "What each version's latency measured:",
        "",
        *[f"- {md_cell(v['label'])}: {md_cell(v['measured']['text'])}" for v in doc["versions"]],
        "",
    ]
    if endpoints := endpoint_rows(evaluation.versions):
        lines += ["### Endpoint retries", "", "Rate limits and server errors, retried with backoff: the waits are part of the "
                  f"end-to-end latency above; the rows marked '{SERVICE}' leave them out.", "",
                  tabulate([[md_cell(c) for c in row] for row in endpoints], headers=ENDPOINT_HEADERS, tablefmt="github", disable_numparse=True), ""]
    for v in doc["versions"]:
        nodes = v["nodes"]
        if not nodes:
            continue
        lines += [f"### Where the time goes: {md_cell(v['label'])} (`{md_cell(v['reference'])}`)", "",
                  f"{nodes['answers']} traced answer(s), {_ms(nodes['answer_ms'])} ms in all; share = node time / answer time "
                  "(parallel nodes can add up past 100%).", ""]
        if nodes["nodes"]:
            node_rows = [[md_cell(n["name"]), md_cell(n["kind"]), n["calls"], _ms(n["total_ms"]), _ms(n["mean_ms"]), f"{n['share']:.0%}"] for n in nodes["nodes"]]
            lines += [tabulate(node_rows, headers=["node", "kind", "calls", "total ms", "mean ms", "share"], tablefmt="github", disable_numparse=True), ""]
        else:
            lines += ["No spans below the answer: the agent has no LangGraph nodes or traced calls.", ""]
        lines += [f"Trace error: {md_cell(e)}" for e in nodes["errors"]] + ([""] if nodes["errors"] else [])
    if doc["benchmarks"]:
        bench_rows = [[md_cell(b["group"]), md_cell(b["case"] or b["name"]), b["rounds"], _ms(b["min_ms"]), _ms(b["median_ms"]), _ms(b["mean_ms"]), _ms(b["stddev_ms"])] for b in doc["benchmarks"]]
        lines += ["### pytest-benchmark (representative cases)", "",
                  tabulate(bench_rows, headers=["group", "case", "rounds", "min ms", "median ms", "mean ms", "stddev ms"], tablefmt="github", disable_numparse=True),
                  "", "Raw data: `benchmarks.json` (pytest-benchmark format; `pytest-benchmark compare` reads it).", ""]
    return "\n".join(lines)


def write_latency_files(evaluation: Evaluation, report_dir: Path) -> None:
    """Put the session's pytest-benchmark JSON beside the reports, so it is logged with them to MLflow."""
    import json

    from harness.secrets import emails_in, mask_tree

    if evaluation.benchmark_json:
        asked = emails_in(m["content"] for case in evaluation.cases for m in case.messages)
        document = mask_tree(json.loads(json.dumps(evaluation.benchmark_json, default=str)), asked).value
        (report_dir / "benchmarks.json").write_text(json.dumps(document, indent=2), encoding="utf-8")
