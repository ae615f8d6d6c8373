"""The cost worker: spend per day, what drove a spike, a job's cost, workspaces ranked, the trend."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from agent.data import anomalies as A
from agent.figures import money, pct
from agent.tools import cost
from agent.workers.findings import Findings, window


def _driver_label(r: dict[str, Any]) -> str:
    if r["job_name"]:
        return f"job {r['job_name']} in workspace {r['workspace_name']}"
    if r["warehouse_name"]:
        return f"SQL warehouse {r['warehouse_name']} in workspace {r['workspace_name']}"
    return f"{r['sku_name']} usage in workspace {r['workspace_name']}"


def cost_worker(intent: dict[str, Any], ref: date, store=None) -> dict[str, Any]:
    acc = Findings("cost")
    ent = intent.get("entities") or {}
    ws = ent.get("workspace")
    job = ent.get("job")
    if job and ent.get("job_unknown"):
        acc.sentences.append(f"I found no billing usage for a job named {job}; known jobs: {', '.join(A.JOBS)}.")
        acc.vague, acc.confidence = "I found no billing usage for that job.", 0.5
        acc.use(cost.job_spend(job, A.START_DATE, ref, store=store))
        return acc.out()
    if job:
        s, e, phrase = window(intent, ref)
        rows = acc.use(cost.job_spend(job, s - timedelta(days=7), e, store=store)).rows
        byday = {r["day"]: r for r in rows}
        days = [d for d in sorted(byday) if s <= d <= e]
        if not days:
            acc.sentences.append(f"Job {job} has no billing usage {phrase}.")
            return acc.out()
        top = max(days, key=lambda d: byday[d]["cost_usd"])
        prev = [byday[d]["cost_usd"] for d in byday if top - timedelta(days=7) <= d < top]
        avg = sum(prev) / len(prev) if prev else byday[top]["cost_usd"]
        ratio = byday[top]["cost_usd"] / avg if avg else 1.0
        r = byday[top]
        where = f" in workspace {r['workspace_name']}"
        if len(days) == 1:
            acc.sentences.append(
                f"Job {job}{where} cost {money(r['cost_usd'])} ({r['dbus']:,.0f} DBUs) on {top.isoformat()}, "
                f"{ratio:.1f}x its average of {money(avg)} over the 7 days before."
            )
        else:
            total = sum(byday[d]["cost_usd"] for d in days)
            acc.sentences.append(
                f"Job {job}{where} cost {money(total)} {phrase}; its most expensive day was {top.isoformat()} at "
                f"{money(r['cost_usd'])}, {ratio:.1f}x its average over the 7 days before."
            )
        acc.found = ratio >= 1.5
        acc.focus_date = top.isoformat()
        acc.vague = "One job cost more than usual." if acc.found else "That job's cost looks normal."
        return acc.out()

    lead: list[str] = []  # what the question asked first: which workspace, and which way it is going
    if intent.get("rank_by") == "workspace" and not ws:
        ranked = _rank_workspaces(acc, intent, ref, store)
        if ranked:
            lead.append(ranked[0])
            ws = ranked[1]
    if intent.get("trend") or lead:
        lead.append(_trend(acc, intent, ref, ws, store))
    scope = f" in workspace {ws}" if ws else ""
    s, e, phrase = window(intent, ref, min_start=A.START_DATE + timedelta(days=7))
    rows = acc.use(cost.daily_spend(s - timedelta(days=7), e, ws, store=store)).rows
    byday = {r["day"]: r["cost_usd"] for r in rows}
    dbus = {r["day"]: r["dbus"] for r in rows}
    in_dbu = (intent.get("prefs") or {}).get("currency_unit") == "dbu"

    def ratio_of(d: date) -> tuple[float, float]:
        prev = [byday[x] for x in byday if d - timedelta(days=7) <= x < d]
        avg = sum(prev) / len(prev) if prev else byday.get(d, 0.0)
        return (byday.get(d, 0.0) / avg if avg else 1.0), avg

    days = [d for d in sorted(byday) if s <= d <= e]
    if not days:
        acc.sentences.append(f"There is no billing usage{scope} {phrase}.")
        acc.confidence = 0.5
        return acc.out()
    day = days[0] if intent.get("date") else max(days, key=lambda d: ratio_of(d)[0])
    ratio, avg = ratio_of(day)
    total = byday[day]
    d0, d1 = day - timedelta(days=7), day - timedelta(days=1)
    drivers = acc.use(cost.spend_drivers(day, d0, d1, ws, store=store)).rows
    acc.focus_date = day.isoformat()
    if in_dbu:  # long-term preference: state usage in DBUs as well
        acc.sentences.append(f"Usage on {day.isoformat()} was {dbus[day]:,.0f} DBUs.")
    if ratio >= 1.5:
        acc.found = True
        acc.sentences.append(
            f"Total spend{scope} on {day.isoformat()} was {money(total)}, {ratio:.1f}x the average of {money(avg)} "
            f"over the 7 days before ({d0.isoformat()} to {d1.isoformat()})."
        )
        if drivers:
            top = drivers[0]
            inc = total - avg
            share = (top["cost_usd"] - top["baseline_cost_usd"]) / inc if inc > 0 else 0.0
            acc.sentences.append(
                f"The increase came mostly from {_driver_label(top)}: {money(top['cost_usd'])} "
                f"({top['dbus']:,.0f} DBUs) that day against {money(top['baseline_cost_usd'])} on an average day, "
                f"{pct(min(share, 1.0))} of the increase."
            )
        acc.vague = "Costs were higher than usual on one day, driven by a single job."
    elif intent.get("date"):
        acc.sentences.append(
            f"Total spend{scope} on {day.isoformat()} was {money(total)}, {ratio:.1f}x the average of {money(avg)} "
            f"over the 7 days before; no cost spike that day."
        )
        if drivers:
            big = max(drivers, key=lambda r: r["cost_usd"])
            acc.sentences.append(f"The largest item was {_driver_label(big)} at {money(big['cost_usd'])}.")
        acc.vague = "Costs looked normal that day."
    else:
        acc.sentences.append(
            f"No cost spikes{scope} {phrase}: total spend was {money(sum(byday[d] for d in days))}, and the "
            f"highest day relative to its previous week was {day.isoformat()} at {money(total)} ({ratio:.1f}x)."
        )
        acc.vague = "Costs looked normal."
    if in_dbu:
        acc.sentences.append(acc.sentences.pop(0))
    acc.sentences[:0] = lead
    return acc.out()


def _rank_workspaces(acc: Findings, intent: dict[str, Any], ref: date, store) -> tuple[str, str] | None:
    """(sentence, top workspace) for "which workspace spends the most" over the question's window."""
    s, e, phrase = window(intent, ref)
    rows = acc.use(cost.spend_by("workspace", s, e, store=store)).rows
    if not rows:
        return None
    total = sum(r["cost_usd"] for r in rows)
    top = rows[0]
    others = " and ".join(f"{r['name']} ({money(r['cost_usd'])})" for r in rows[1:3])
    return (
        f"Workspace {top['name']} had the highest spend of the {len(rows)} workspaces {phrase}: "
        f"{money(top['cost_usd'])}, {pct(top['cost_usd'] / total if total else 0.0)} of the total"
        + (f", ahead of {others}." if others else "."),
        top["name"],
    )


def _trend(acc: Findings, intent: dict[str, Any], ref: date, ws: str | None, store) -> str:
    """Spend over the 7 days ending with the question's window against the 7 days before."""
    end = window(intent, ref)[1]
    rows = acc.use(cost.daily_spend(end - timedelta(days=13), end, ws, store=store)).rows
    last = sum(r["cost_usd"] for r in rows if r["day"] > end - timedelta(days=7))
    prev = sum(r["cost_usd"] for r in rows if r["day"] <= end - timedelta(days=7))
    change = last / prev - 1 if prev else 0.0
    way = "above" if change >= 0 else "below"
    scope = f" in workspace {ws}" if ws else ""
    return (
        f"Spend{scope} over the 7 days to {end.isoformat()} was {money(last)}, {pct(abs(change))} {way} the "
        f"{money(prev)} of the 7 days before."
    )
