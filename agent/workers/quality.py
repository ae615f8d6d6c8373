"""The data-quality worker: stale tables and jumps in a column's null rate."""

from __future__ import annotations

from datetime import date
from typing import Any

from agent.data import anomalies as A
from agent.figures import pct
from agent.tools import quality
from agent.workers.findings import Findings, window


def quality_worker(intent: dict[str, Any], ref: date, store=None) -> dict[str, Any]:
    acc = Findings("quality")
    ent = intent.get("entities") or {}
    table, column = ent.get("table"), ent.get("column")
    s, e, phrase = window(intent, ref)
    fresh = acc.use(quality.table_freshness(table, store=store)).rows
    stale = [r for r in fresh if r["stale"]]
    # a jump that started before the window still matters if the column is still affected
    jumps = acc.use(quality.null_rate_jumps(A.START_DATE, e, table, column, store=store)).rows
    if not intent.get("date") and column and not table:
        stale = [r for r in stale if r["table_name"] in {j["table_name"] for j in jumps}]
    for r in stale[:3]:
        acc.sentences.append(
            f"Table {r['table_name']} was last updated on {r['last_updated'].date().isoformat()} "
            f"({r['hours_since_update']:.0f} hours before the {r['checked_at']:%Y-%m-%d %H:%M} UTC check), breaching "
            f"its {r['freshness_target_hours']}-hour freshness target."
        )
    first: dict[tuple[str, str], dict[str, Any]] = {}
    for j in jumps:
        first.setdefault((j["table_name"], j["column_name"]), j)
    for j in list(first.values())[:3]:
        acc.sentences.append(
            f"The null rate of {j['column_name']} in {j['table_name']} jumped from {pct(j['prev7_avg'], 1)} to "
            f"{pct(j['null_rate'], 1)} on {j['day'].isoformat()} and was {pct(j['latest_rate'], 1)} on "
            f"{j['latest_date'].isoformat()}."
        )
    acc.found = bool(stale or first)
    if first:
        acc.focus_date = next(iter(first.values()))["day"].isoformat()
    elif intent.get("date"):
        acc.focus_date = intent["date"]
    if not first and (intent.get("date") or column):
        day = intent.get("date") or ref.isoformat()
        rates = acc.use(quality.null_rates_on(day, table, column, store=store)).rows
        if rates:
            r = rates[0]
            acc.sentences.append(
                f"No null-rate jumps {phrase}; the highest null rate on {day} was {r['column_name']} in "
                f"{r['table_name']} at {pct(r['null_rate'], 1)}."
            )
    if table and not stale and fresh:
        r = fresh[0]
        acc.sentences.append(
            f"Table {r['table_name']} was last updated on {r['last_updated'].date().isoformat()}, within its "
            f"{r['freshness_target_hours']}-hour freshness target."
        )
    if not acc.sentences:
        acc.sentences.append(
            f"All {len(fresh)} monitored tables are within their freshness targets and no column's null rate "
            f"jumped {phrase}."
        )
    acc.confidence = 0.9 if acc.found else 0.8
    acc.vague = "Some tables have freshness or null-rate issues." if acc.found else "Data quality looked normal."
    return acc.out()
