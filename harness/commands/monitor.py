"""`harness monitor`: is production still as good as the gate said? The recent traces of the version an
alias serves are scored with the project's scorers and compared, case by case, with the figures its
evaluation run sealed, using the statistics of an A/B comparison (the gate's results as the baseline).

A trace is paired with the golden case whose messages it answers; traces of other requests are scored and
counted but not compared. Exits 1 when a metric is significantly worse than at the gate.
"""

from __future__ import annotations

import argparse
import hashlib
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from harness import HarnessError
from harness.tracking.connection import store_errors

if TYPE_CHECKING:
    from harness.records.comparison import Comparison
    from harness.records.results import VersionResult
    from harness.settings import HarnessConfig
    from harness.tracking.monitor import TracedAnswer


def configure_monitor(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--model", metavar="NAME@ALIAS", help="the served alias (default: <model_name>@production)")
    parser.add_argument("--last", type=int, default=200, metavar="N", help="score the newest N traces (default 200)")
    parser.add_argument("--since", help="only traces at or after this time: ISO 8601, or an age such as 24h or 7d")
    parser.add_argument("--sample", type=float, default=1.0, help="score this share of the traces (0..1, default 1)")


def since_ms(text: str | None, now: datetime | None = None) -> int | None:
    """`--since` as epoch milliseconds: an ISO 8601 time (UTC unless it says otherwise) or an age (`24h`, `7d`)."""
    if not text:
        return None
    if match := re.fullmatch(r"(\d+)([mhd])", text.strip()):
        unit = {"m": "minutes", "h": "hours", "d": "days"}[match[2]]
        moment = (now or datetime.now(UTC)) - timedelta(**{unit: int(match[1])})
    else:
        try:
            moment = datetime.fromisoformat(text)
        except ValueError:
            raise HarnessError(f"--since {text!r}: expected an ISO 8601 time or an age such as 24h") from None
        moment = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return int(moment.timestamp() * 1000)


def sampled(traces: list[TracedAnswer], rate: float) -> list[TracedAnswer]:
    """A share `rate` of the traces, chosen by their ids (the same traces on every run)."""
    if not 0.0 < rate <= 1.0:
        raise HarnessError(f"--sample must be above 0 and at most 1, got {rate}")
    return [t for t in traces if int(hashlib.sha256(t.trace_id.encode()).hexdigest()[:8], 16) < rate * 0x100000000]


@store_errors
def run_monitor(args: argparse.Namespace) -> int:
    from harness.commands.lifecycle import open_store
    from harness.tracking import monitor

    cfg, default_model, _ = open_store(argparse.Namespace(model=None))
    name, _, alias = (args.model or f"{default_model}@production").partition("@")
    if not name or not alias:
        raise HarnessError(f"--model {args.model!r}: expected NAME@ALIAS, e.g. {default_model}@production")
    served = monitor.served(name, alias)
    if not served.record.model_id:
        raise HarnessError(f"models:/{name}@{alias}: its record names no logged model whose traces could be read")
    traces = sampled(monitor.recent_traces(served.record.model_id, args.last, since_ms(args.since)), args.sample)
    if not traces:
        raise HarnessError(f"models:/{name}@{alias} (version {served.version}): no traces to score")
    comparison, production = compare_with_gate(cfg, served.results, traces, served.version)
    report = write_report(cfg, served, comparison, production, len(traces))
    metrics = {f"{m.metric}": m.candidate for m in comparison.metrics} | {
        f"{m.metric}/delta": m.delta for m in comparison.metrics
    }
    monitor.log_monitor_run(
        served, metrics | {"traces": float(len(traces))}, report.parent, bool(comparison.regressions)
    )
    print(report.read_text(encoding="utf-8"))
    return 1 if comparison.regressions else 0


def compare_with_gate(
    cfg: HarnessConfig, results: dict[str, Any], traces: list[TracedAnswer], version: str
) -> tuple[Comparison, VersionResult]:
    """Production's scores against the gate's, paired by golden case: (the comparison, production's result)."""
    from dataclasses import replace

    from harness.golden import Case
    from harness.pipeline import evaluation_from_results, gate_evaluation, score_answer
    from harness.records.evaluation import Evaluation
    from harness.records.results import CaseResult, VersionResult
    from harness.scorers import build_scorers
    from harness.versions.version import AgentOutput

    gate = evaluation_from_results(results, cfg)
    baseline = replace(gate.candidate, label=f"gate (version {version})")
    by_messages = {request_key(case.messages): case for case in gate.cases}
    scorers = build_scorers(cfg)
    scored: dict[str, CaseResult] = {}
    for trace in traces:  # newest first: a case asked again keeps its newest answer
        case = by_messages.get(request_key(trace.messages)) or Case(f"trace:{trace.trace_id}", trace.messages)
        if case.id not in scored:
            output = AgentOutput(trace.text, {"trace_id": trace.trace_id}, trace.latency_ms)
            scored[case.id] = CaseResult(case, output, score_answer(case, output, scorers))
    production = VersionResult("production", f"traces of version {version}", "traces", 0.0, scored, None, cfg.weights)
    cases = [*gate.cases, *(r.case for r in scored.values() if r.case.id.startswith("trace:"))]
    evaluation = gate_evaluation(Evaluation(cfg, cases, [production, baseline]))
    return evaluation.comparisons[0], production


def request_key(messages: list[dict[str, str]]) -> tuple[tuple[str, str], ...]:
    """What pairs a traced request with a golden case: its messages, by role and stripped content."""
    return tuple((m["role"], m["content"].strip()) for m in messages)


def write_report(cfg: HarnessConfig, served: Any, comparison: Comparison, production: Any, n_traces: int) -> Path:
    from harness.secrets import md_cell

    folder = cfg.report_path / f"monitor-{datetime.now(UTC):%Y%m%dT%H%M%SZ}-{served.model_name}-{served.alias}"
    folder.mkdir(parents=True, exist_ok=True)
    paired = len(comparison.shared_ids)
    lines = [
        f"# Monitoring models:/{served.model_name}@{served.alias} (version {served.version})",
        "",
        f"{n_traces} trace(s) scored, {paired} paired with a golden case and compared with the gate's results.",
        "",
        "| metric | gate | production | delta | 95% CI | p (Holm) | verdict |",
        "|---|---|---|---|---|---|---|",
    ]
    for m in comparison.metrics:
        lines.append(
            f"| {md_cell(m.metric)} | {m.baseline:.3f} | {m.candidate:.3f} | {m.delta:+.3f} | "
            f"[{m.ci_low:+.3f}, {m.ci_high:+.3f}] | {m.p_adjusted:.3g} | {m.verdict} |"
        )
    worse = [m.metric for m in comparison.regressions]
    lines += [
        "",
        f"production is significantly below its gate on: {', '.join(worse)}"
        if worse
        else "no metric is significantly below the gate",
    ]
    report = folder / "monitor.md"
    report.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return report
