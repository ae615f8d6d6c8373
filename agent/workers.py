"""Domain workers: run the domain's SQL tools for an intent and state the findings.

Each worker returns a plain dict (it travels through LangGraph state and checkpoints):
``{"domain", "sentences", "vague", "sources", "found", "focus_date", "confidence"}``.
``sentences`` carry the entities, ISO dates and figures; ``vague`` is the figure-free version
the degraded variant uses.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

from agent import rankings
from agent.data import anomalies as A
from agent.figures import money, pct, secs
from agent.tools import ToolResult, cost, performance, quality, reliability, security

LABELS = {
    "cost": "Cost",
    "security": "Security",
    "performance": "Performance",
    "reliability": "Reliability",
    "quality": "Data quality",
}


def _iso(d) -> str:
    return d.isoformat() if hasattr(d, "isoformat") else str(d)


class _Acc:
    def __init__(self, domain: str):
        self.domain = domain
        self.sentences: list[str] = []
        self.sources: list[dict[str, str]] = []
        self.found = False
        self.focus_date: str | None = None
        self.confidence = 0.8
        self.vague = "I found nothing unusual."

    def use(self, res: ToolResult) -> ToolResult:
        for s in res.sources():
            self.use_source(s)
        return res

    def use_source(self, source: dict[str, str]) -> None:
        if source not in self.sources:
            self.sources.append(source)

    def out(self) -> dict[str, Any]:
        return {
            "domain": self.domain,
            "sentences": self.sentences,
            "vague": self.vague,
            "sources": self.sources,
            "found": self.found,
            "focus_date": self.focus_date,
            "confidence": self.confidence,
        }


def _window(intent: dict[str, Any], ref: date, min_start: date | None = None) -> tuple[date, date, str]:
    """(start, end, phrase) for the intent's time scope; default: the whole period."""
    if intent.get("date"):
        d = date.fromisoformat(intent["date"])
        return d, d, f"on {d.isoformat()}"
    s = date.fromisoformat(intent["start"]) if intent.get("start") else A.START_DATE
    e = date.fromisoformat(intent["end"]) if intent.get("end") else ref
    if min_start and s < min_start:
        s = min_start
    return s, e, f"between {s.isoformat()} and {e.isoformat()}"


# --- cost -----------------------------------------------------------------------------------
def _driver_label(r: dict[str, Any]) -> str:
    if r["job_name"]:
        return f"job {r['job_name']} in workspace {r['workspace_name']}"
    if r["warehouse_name"]:
        return f"SQL warehouse {r['warehouse_name']} in workspace {r['workspace_name']}"
    return f"{r['sku_name']} usage in workspace {r['workspace_name']}"


def cost_worker(intent: dict[str, Any], ref: date, store=None) -> dict[str, Any]:
    acc = _Acc("cost")
    ent = intent.get("entities") or {}
    ws = ent.get("workspace")
    job = ent.get("job")
    if job and ent.get("job_unknown"):
        acc.sentences.append(f"I found no billing usage for a job named {job}; known jobs: {', '.join(A.JOBS)}.")
        acc.vague, acc.confidence = "I found no billing usage for that job.", 0.5
        acc.use(cost.job_spend(job, A.START_DATE, ref, store=store))
        return acc.out()
    if job:
        s, e, phrase = _window(intent, ref)
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
    s, e, phrase = _window(intent, ref, min_start=A.START_DATE + timedelta(days=7))
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


def _rank_workspaces(acc: _Acc, intent: dict[str, Any], ref: date, store) -> tuple[str, str] | None:
    """(sentence, top workspace) for "which workspace spends the most" over the question's window."""
    s, e, phrase = _window(intent, ref)
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


def _trend(acc: _Acc, intent: dict[str, Any], ref: date, ws: str | None, store) -> str:
    """Spend over the 7 days ending with the question's window against the 7 days before."""
    end = _window(intent, ref)[1]
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


# --- security -------------------------------------------------------------------------------
def permissions_worker(intent: dict[str, Any], ref: date, store=None) -> dict[str, Any]:
    """Who holds which rights is not in the data: say so, with the tables that are there, and answer
    the nearest question the audit log can: who created access tokens, and which one leaked."""
    acc = _Acc("security")
    tables = [r["table_name"] for r in acc.use(security.store_tables(store=store)).rows]
    s, e, phrase = _window(intent, ref)
    tokens = acc.use(security.token_events(s, e, store=store)).rows
    acc.sentences.append(
        "I cannot tell who holds admin or other rights, or who should not: the platform data holds no permission "
        f"grants, roles or group memberships (its tables are {', '.join(tables)})."
    )
    if tokens:
        users = sorted({t["user_email"] for t in tokens})
        acc.sentences.append(
            f"What the audit log (audit_events) does record is who created personal access tokens: {len(tokens)} "
            f"tokenCreate events {phrase}, by {', '.join(users)}."
        )
    for t in [t for t in tokens if t["params_hold_token"]][:1]:
        acc.found, acc.focus_date = True, t["event_time"].date().isoformat()
        acc.sentences.append(
            f"The one on {acc.focus_date} by {t['user_email']} recorded the token value itself in the audit log "
            f"(withheld here); revoke and rotate that token."
        )
    acc.sentences.append('I can also check logins, for example "Any suspicious logins last week?".')
    acc.vague, acc.confidence = "The data holds no permissions; the audit log shows token creation.", 0.6
    return acc.out()


def security_worker(intent: dict[str, Any], ref: date, store=None) -> dict[str, Any]:
    if intent.get("permissions"):
        return permissions_worker(intent, ref, store=store)
    acc = _Acc("security")
    ent = intent.get("entities") or {}
    ip, user = ent.get("ip"), ent.get("email")
    s, e, phrase = _window(intent, ref)
    bursts = acc.use(security.failed_login_bursts(s, e, 10, ip=ip, user=user, store=store)).rows
    tokens = acc.use(security.token_events(s, e, user=user, store=store)).rows if not ip else []
    for b in bursts[:3]:
        h = b["hour"]
        acc.sentences.append(
            f"{b['failures']} failed logins (status 401) from IP {b['source_ip']} against {b['user_email']} on "
            f"{h.date().isoformat()} between {h:%H}:00 and {(h + timedelta(hours=1)):%H}:00 UTC, a likely "
            f"brute-force attempt."
        )
    leaks = [t for t in tokens if t["params_hold_token"]]
    for t in leaks[:2]:
        acc.sentences.append(
            f"On {t['event_time'].date().isoformat()} at {t['event_time']:%H:%M} UTC, {t['user_email']} created a "
            f"personal access token in workspace {t['workspace_name']} and the audit log recorded the token value "
            f"itself in the request parameters (withheld here); revoke and rotate that token."
        )
    q = intent.get("question", "").lower()
    if "token" in q and tokens and not leaks:
        users = sorted({t["user_email"] for t in tokens})
        acc.sentences.append(f"{len(tokens)} token-creation events {phrase}, by {', '.join(users)}.")
    acc.found = bool(bursts or leaks)
    if bursts:
        acc.focus_date = bursts[0]["hour"].date().isoformat()
    elif leaks:
        acc.focus_date = leaks[0]["event_time"].date().isoformat()
    if not acc.found:
        summ = acc.use(security.login_summary(s, e, ip=ip, user=user, store=store)).rows[0]
        who = " ".join(x for x in (f"for {user}" if user else "", f"from IP {ip}" if ip else "") if x)
        who = f" {who}" if who else ""
        acc.sentences.append(
            f"No suspicious activity{who} {phrase}: {summ['failed']} failed and {summ['succeeded']} successful "
            f"logins, no bursts of 10 or more failures from one IP, and no leaked tokens."
        )
        acc.vague = "Nothing unusual in the login activity."
    else:
        acc.vague = "There was some unusual login or token activity."
        acc.confidence = 0.9
    return acc.out()


# --- performance ----------------------------------------------------------------------------
def performance_worker(intent: dict[str, Any], ref: date, store=None) -> dict[str, Any]:
    acc = _Acc("performance")
    ent = intent.get("entities") or {}
    wh = ent.get("warehouse")
    s, e, phrase = _window(intent, ref, min_start=A.START_DATE + timedelta(days=7))
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


# --- reliability ----------------------------------------------------------------------------
def reliability_worker(intent: dict[str, Any], ref: date, store=None) -> dict[str, Any]:
    acc = _Acc("reliability")
    ent = intent.get("entities") or {}
    job = ent.get("job")
    s, e, phrase = _window(intent, ref)
    if job and ent.get("job_unknown"):
        acc.use(reliability.job_failures_by_day(s, e, job, store=store))
        acc.sentences.append(
            f"I found no runs of a job named {job} in job_runs {phrase}; known jobs: {', '.join(A.JOBS)}."
        )
        acc.vague, acc.confidence = "I found no runs of that job.", 0.5
        return acc.out()
    rows = acc.use(reliability.job_failures_by_day(s, e, job, store=store)).rows
    failing = [r for r in rows if r["failed"]]
    for r in failing[:3]:
        acc.sentences.append(
            f"Job {r['job_name']} failed {r['failed']} of its {r['runs']} runs on {r['day'].isoformat()} "
            f"({pct(r['failed'] / r['runs'], 1)}), with {r['top_error']}."
        )
    if failing:
        acc.found = failing[0]["failed"] >= 3
        acc.focus_date = failing[0]["day"].isoformat()
        acc.confidence = 0.9
        if not job:
            rates = acc.use(reliability.job_success_rates(A.START_DATE, ref, store=store)).rows
            others = [r for r in rates if r["job_name"] != failing[0]["job_name"]]
            if others:
                lo = min(others, key=lambda r: r["success_rate"])
                acc.sentences.append(
                    f"Every other job succeeded in at least {pct(lo['success_rate'], 1)} of its runs between "
                    f"{A.START_DATE.isoformat()} and {ref.isoformat()} (lowest: {lo['job_name']})."
                )
        acc.vague = "One job had some failed runs."
    else:
        runs = sum(r["runs"] for r in rows)
        who = f"Job {job}" if job else "Every job"
        if runs == 1:
            acc.sentences.append(f"{who} succeeded in its only run {phrase}; no failures.")
        elif runs:
            acc.sentences.append(f"{who} succeeded in all {runs} runs {phrase}; no failures.")
        else:
            acc.sentences.append(f"No job runs{' of ' + job if job else ''} {phrase}.")
        acc.vague = "Jobs ran normally."
        if intent.get("date"):
            acc.focus_date = intent["date"]
    return acc.out()


# --- data quality ---------------------------------------------------------------------------
def quality_worker(intent: dict[str, Any], ref: date, store=None) -> dict[str, Any]:
    acc = _Acc("quality")
    ent = intent.get("entities") or {}
    table, column = ent.get("table"), ent.get("column")
    s, e, phrase = _window(intent, ref)
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


WORKERS: dict[str, Callable[..., dict[str, Any]]] = {
    "cost": cost_worker,
    "security": security_worker,
    "performance": performance_worker,
    "reliability": reliability_worker,
    "quality": quality_worker,
}


def ranked_worker(domain: str, intent: dict[str, Any], ref: date, store=None) -> dict[str, Any]:
    """The ranking the question asks for; a latency ranking keeps the performance worker's finding,
    which says what made the slowest warehouse slow."""
    acc = _Acc(domain)
    s, e, phrase = _window(intent, ref)
    sentences, result = rankings.rank(intent, s, e, phrase, store=store)
    acc.use(result)
    acc.sentences = sentences
    acc.found, acc.confidence = bool(result.rows), 0.9 if result.rows else 0.5
    acc.vague = f"One {intent['rank_by']} ranks first." if result.rows else "There is nothing to rank."
    if domain != "performance":
        return acc.out()
    finding = performance_worker(intent, ref, store=store)
    for src in finding["sources"]:
        acc.use_source(src)
    acc.sentences += finding["sentences"]
    acc.focus_date = finding["focus_date"]
    return acc.out()


def run_worker(domain: str, intent: dict[str, Any], ref: date, store=None) -> dict[str, Any]:
    try:
        if rankings.domain_of(intent) == domain:
            return ranked_worker(domain, intent, ref, store=store)
        return WORKERS[domain](intent, ref, store=store)
    except Exception as exc:  # a failing tool must not take the whole answer down
        return {
            "domain": domain,
            "sentences": [f"I could not query the {domain} data ({type(exc).__name__})."],
            "vague": f"I could not query the {domain} data.",
            "sources": [],
            "found": False,
            "focus_date": None,
            "confidence": 0.2,
            "error": f"{type(exc).__name__}: {exc}",
        }
