"""The performance worker: the warehouse whose p95 query duration deviated most from its previous week."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from agent.data import anomalies as A
from agent.figures import pct, secs
from agent.tools import performance
from agent.workers.findings import Findings, window


def performance_worker(intent: dict[str, Any], ref: date, store=None) -> dict[str, Any]:
    acc = Findings("performance")
    ent = intent.get("entities") or {}
    wh = ent.get("warehouse")
    s, e, phrase = window(intent, ref, min_start=A.START_DATE + timedelta(days=7))
    screen = acc.use(performance.warehouse_daily_latency(s, e, wh, store=store)).rows
    screen = [r for r in screen if r["prev7_median_p95_ms"]]
    rows = []
    for r in screen[:2]:  # exact pooled 7-day p95 for the top candidates only
        prev = acc.use(performance.trailing_p95(r["warehouse_name"], r["day"], store=store)).rows[0]
        if prev["prev7_p95_ms"]:
            rows.append({**r, "prev7_p95_ms": prev["prev7_p95_ms"], "ratio": r["p95_ms"] / prev["prev7_p95_ms"]})
    rows.sort(key=lambda r: -r["ratio"])
    if not rows:
        acc.sentences.append(f"There is no query history{' for ' + wh if wh else ''} {phrase}.")
        acc.confidence = 0.5
        return acc.out()
    top = rows[0]
    acc.focus_date = top["day"].isoformat()

    def describe(r: dict[str, Any]) -> str:
        return (
            f"Warehouse {r['warehouse_name']}: p95 query duration on {r['day'].isoformat()} was "
            f"{secs(r['p95_ms'])}, {r['ratio']:.1f}x its previous 7-day p95 of {secs(r['prev7_p95_ms'])}"
        )

    if top["ratio"] >= 2.0:
        acc.found = True
        acc.confidence = 0.9
        if top["queued_share"] >= 0.5:
            acc.sentences.append(
                describe(top) + f"; queueing made up {pct(top['queued_share'])} of query time that day (p95 queued "
                f"time {secs(top['p95_queued_ms'])}), so the warehouse was short of capacity rather than running "
                f"slower queries."
            )
        else:
            acc.sentences.append(describe(top) + f"; queueing was only {pct(top['queued_share'])} of query time.")
        acc.vague = "One SQL warehouse was slower than usual."
    else:
        if wh or intent.get("date"):
            acc.sentences.append(
                describe(top) + f", within its normal range (queueing {pct(top['queued_share'])} of query time)."
            )
        else:
            acc.sentences.append(f"No warehouse slowdowns {phrase}; the largest deviation was {describe(top)}.")
        acc.vague = "Warehouse performance looked normal."
    return acc.out()
