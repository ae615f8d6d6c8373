"""Rankings: "which job costs the most?", "the top 3 slowest warehouses", "which job fails the most?".

A ranking is one SQL statement ordered by the measure the question asks for; its sentences name
the first entry with its figures, then the next ones. Which rankings exist, and which domain's
worker answers each, is :data:`DOMAINS`.
"""

from __future__ import annotations

from typing import Any

from agent.figures import money, pct, secs
from agent.tools import ToolResult, cost, performance, reliability

#: (what is ranked, by what) -> the domain whose worker answers it
DOMAINS = {
    ("job", "cost"): "cost",
    ("warehouse", "cost"): "cost",
    ("job", "failures"): "reliability",
    ("warehouse", "latency"): "performance",
}
DEFAULT_SHOWN = 3


def domain_of(intent: dict[str, Any]) -> str | None:
    """The domain that answers the ranking the intent asks for, if it asks for one."""
    return DOMAINS.get((intent.get("rank_by"), intent.get("rank_metric")))


def _listing(entries: list[str]) -> str:
    return "; ".join(f"{i}. {entry}" for i, entry in enumerate(entries, start=1)) + "."


def _sentences(intent: dict[str, Any], noun: str, measure: str, lead: str, entries: list[str], of: int) -> list[str]:
    """A top-N question gets the list; "which ... the most" gets the winner, then the runners-up."""
    top_n = intent.get("top_n")
    if top_n:
        shown = entries[:top_n]
        return [f"The top {len(shown)} of the {of} {noun}s by {measure}: " + _listing(shown)]
    rest = entries[1:DEFAULT_SHOWN]
    return [lead] + ([f"Next: {'; '.join(rest)}."] if rest else [])


def _spend(intent: dict[str, Any], kind: str, phrase: str, result: ToolResult) -> list[str]:
    rows = result.rows
    noun = "job" if kind == "job" else "SQL warehouse"
    total = sum(r["cost_usd"] for r in rows)
    entries = [f"{r['name']} in workspace {r['workspace_name']}, {money(r['cost_usd'])}" for r in rows]
    top = rows[0]
    lead = (
        f"{noun[0].upper()}{noun[1:]} {top['name']} in workspace {top['workspace_name']} cost the most of the "
        f"{len(rows)} {noun}s {phrase}: {money(top['cost_usd'])} ({top['dbus']:,.0f} DBUs), "
        f"{pct(top['cost_usd'] / total)} of their spend."
    )
    return _sentences(intent, noun, f"spend {phrase}", lead, entries, len(rows))


def _failures(intent: dict[str, Any], phrase: str, result: ToolResult) -> list[str]:
    rows = [{**r, "failed": r["runs"] - r["succeeded"]} for r in result.rows]
    failing = [r for r in rows if r["failed"]]
    if not failing:
        return [f"No job failed {phrase}: all {len(rows)} jobs succeeded in every run."]
    entries = [f"{r['job_name']}, {r['failed']} of {r['runs']} runs failed" for r in failing]
    top = failing[0]
    lead = (
        f"Job {top['job_name']} failed the most {phrase}: {top['failed']} of its {top['runs']} runs "
        f"({pct(1 - top['success_rate'], 1)})."
    )
    sentences = _sentences(intent, "job", f"failure rate {phrase}", lead, entries, len(rows))
    return sentences + [f"The other {len(rows) - len(failing)} jobs did not fail."]


def _latency(intent: dict[str, Any], phrase: str, result: ToolResult) -> list[str]:
    rows = result.rows
    entries = [f"{r['warehouse_name']}, {secs(r['worst_p95_ms'])} on {r['worst_day'].isoformat()}" for r in rows]
    top = rows[0]
    lead = (
        f"Warehouse {top['warehouse_name']} had the worst latency of the {len(rows)} warehouses {phrase}: its daily "
        f"p95 query duration reached {secs(top['worst_p95_ms'])} on {top['worst_day'].isoformat()} (p95 over the "
        f"whole period {secs(top['window_p95_ms'])})."
    )
    return _sentences(intent, "warehouse", f"worst daily p95 query duration {phrase}", lead, entries, len(rows))


def rank(intent: dict[str, Any], start, end, phrase: str, store=None) -> tuple[list[str], ToolResult]:
    """The ranking the intent asks for over [start, end]: its sentences and the query behind them."""
    kind, metric = intent["rank_by"], intent["rank_metric"]
    if metric == "cost":
        result = cost.spend_by(kind, start, end, store=store)
        return (_spend(intent, kind, phrase, result) if result.rows else [f"No {kind} spend {phrase}."]), result
    if metric == "failures":
        result = reliability.job_success_rates(start, end, store=store)
        return (_failures(intent, phrase, result) if result.rows else [f"No job runs {phrase}."]), result
    result = performance.warehouse_worst_days(start, end, store=store)
    return (_latency(intent, phrase, result) if result.rows else [f"No query history {phrase}."]), result
