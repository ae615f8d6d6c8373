"""The latency part of the reports: percentiles with CIs, cold start, endpoint retries, where the
time goes per node, and the pytest-benchmark figures."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from harness.reports.format import ms as _ms

if TYPE_CHECKING:
    from harness.records.evaluation import Evaluation


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
        versions.append(
            {
                "label": v.label,
                "reference": v.reference,
                "measured": {"kind": kind, "text": MEASURED[kind]},
                "percentiles_ms": percentiles(v.latencies_ms),
                "endpoint": None
                if calls is None
                else {**calls.to_dict(), "service": SERVICE, "service_percentiles_ms": percentiles(calls.service_ms)},
                "cold_start": {
                    "load_s": v.load_s,
                    "first_answer_ms": first.latency_ms if first else None,
                    "first_answer_error": first.error if first else None,
                },
                "nodes": evaluation.node_breakdowns[v.label].to_dict()
                if v.label in evaluation.node_breakdowns
                else None,
            }
        )
    return {"versions": versions, "benchmarks": benchmark_rows(evaluation.benchmark_json)}


def benchmark_rows(benchmark_json: dict[str, Any] | None) -> list[dict[str, Any]]:
    """One row per pytest-benchmark benchmark, in milliseconds."""
    rows = []
    for bench in (benchmark_json or {}).get("benchmarks", []):
        stats = bench["stats"]
        rows.append(
            {
                "group": bench.get("group"),
                "name": bench["name"],
                "case": bench.get("extra_info", {}).get("case_id"),
                "rounds": stats["rounds"],
                **{f"{k}_ms": stats[k] * 1000 for k in ("min", "median", "mean", "stddev", "max")},
            }
        )
    return rows


def _table(rows: list[list[Any]], headers: list[str]) -> str:
    from tabulate import tabulate

    return tabulate(rows, headers=headers, tablefmt="github", disable_numparse=True)


def _percentile_cells(p: dict[str, Any]) -> list[Any]:
    shown = [
        f"{_ms(p[k]['value'])} [{_ms(p[k]['low'])}, {_ms(p[k]['high'])}]" if k in p else "n/a"
        for k in ("p50", "p90", "p95", "p99")
    ]
    return [*shown, _ms(p["max"]["value"]) if "max" in p else "n/a", p["p50"]["n"] if p else 0]


def _percentiles_section(doc: dict[str, Any]) -> list[str]:
    from harness.reports.calls import SERVICE
    from harness.secrets import md_cell

    rows = []
    for v in doc["versions"]:
        cold = v["cold_start"]
        first = md_cell(cold["first_answer_error"] or _ms(cold["first_answer_ms"]))
        rows.append([md_cell(v["label"]), *_percentile_cells(v["percentiles_ms"]), f"{cold['load_s']:.2f}", first])
        if v["endpoint"]:
            service = _percentile_cells(v["endpoint"]["service_percentiles_ms"])
            rows.append([f"{md_cell(v['label'])}: {SERVICE}", *service, "", ""])
    headers = ["version", "p50", "p90", "p95", "p99", "max", "n", "load s", "first answer ms"]
    return [
        "## Latency",
        "",
        "Per-case answer latency in ms over the golden set (warm), with 95% bootstrap CIs; cold start is "
        "the load time and the first answer, timed alone before the run.",
        "",
        _table(rows, headers),
        "",
        "What each version's latency measured:",
        "",
        *[f"- {md_cell(v['label'])}: {md_cell(v['measured']['text'])}" for v in doc["versions"]],
        "",
    ]


def _endpoint_section(evaluation: Evaluation) -> list[str]:
    from harness.reports.calls import ENDPOINT_HEADERS, SERVICE, endpoint_rows
    from harness.secrets import md_cell

    if not (endpoints := endpoint_rows(evaluation.versions)):
        return []
    return [
        "### Endpoint retries",
        "",
        "Rate limits and server errors, retried with backoff: the waits are part of the "
        f"end-to-end latency above; the rows marked '{SERVICE}' leave them out.",
        "",
        _table([[md_cell(c) for c in row] for row in endpoints], ENDPOINT_HEADERS),
        "",
    ]


def _nodes_section(version: dict[str, Any]) -> list[str]:
    from harness.secrets import md_cell

    nodes = version["nodes"]
    if not nodes:
        return []
    lines = [
        f"### Where the time goes: {md_cell(version['label'])} (`{md_cell(version['reference'])}`)",
        "",
        f"{nodes['answers']} traced answer(s), {_ms(nodes['answer_ms'])} ms in all; share = node time / "
        "answer time (parallel nodes can add up past 100%).",
        "",
    ]
    if nodes["nodes"]:
        rows = [
            [
                md_cell(n["name"]),
                md_cell(n["kind"]),
                n["calls"],
                _ms(n["total_ms"]),
                _ms(n["mean_ms"]),
                f"{n['share']:.0%}",
            ]
            for n in nodes["nodes"]
        ]
        lines += [_table(rows, ["node", "kind", "calls", "total ms", "mean ms", "share"]), ""]
    else:
        lines += ["No spans below the answer: the agent has no LangGraph nodes or traced calls.", ""]
    return lines + [f"Trace error: {md_cell(e)}" for e in nodes["errors"]] + ([""] if nodes["errors"] else [])


def _benchmark_section(doc: dict[str, Any]) -> list[str]:
    from harness.secrets import md_cell

    if not doc["benchmarks"]:
        return []
    rows = [
        [
            md_cell(b["group"]),
            md_cell(b["case"] or b["name"]),
            b["rounds"],
            *[_ms(b[f"{k}_ms"]) for k in ("min", "median", "mean", "stddev")],
        ]
        for b in doc["benchmarks"]
    ]
    return [
        "### pytest-benchmark (representative cases)",
        "",
        _table(rows, ["group", "case", "rounds", "min ms", "median ms", "mean ms", "stddev ms"]),
        "",
        "Raw data: `benchmarks.json` (pytest-benchmark format; `pytest-benchmark compare` reads it).",
        "",
    ]


def latency_markdown(evaluation: Evaluation) -> str:
    """The summary.md section: percentiles with CIs and cold start per version (an endpoint's service
    latency beside its end-to-end one), what each measured, endpoint retries, top nodes, benchmarks."""
    doc = latency_document(evaluation)
    lines = _percentiles_section(doc) + _endpoint_section(evaluation)
    for version in doc["versions"]:
        lines += _nodes_section(version)
    return "\n".join(lines + _benchmark_section(doc))


def write_latency_files(evaluation: Evaluation, report_dir: Path) -> None:
    """Put the session's pytest-benchmark JSON beside the reports, so it is logged with them to MLflow."""
    import json

    from harness.secrets import emails_in, mask_tree

    if evaluation.benchmark_json:
        asked = emails_in(m["content"] for case in evaluation.cases for m in case.messages)
        document = mask_tree(json.loads(json.dumps(evaluation.benchmark_json, default=str)), asked).value
        (report_dir / "benchmarks.json").write_text(json.dumps(document, indent=2), encoding="utf-8")
