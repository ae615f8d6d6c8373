"""The security worker: failed-login bursts, leaked tokens; permissions, which the data does not hold."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from agent.tools import security
from agent.workers.findings import Findings, window


def permissions_worker(intent: dict[str, Any], ref: date, store=None) -> dict[str, Any]:
    """Who holds which rights is not in the data: say so, with the tables that are there, and answer
    the nearest question the audit log can: who created access tokens, and which one leaked."""
    acc = Findings("security")
    tables = [r["table_name"] for r in acc.use(security.store_tables(store=store)).rows]
    s, e, phrase = window(intent, ref)
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
    acc = Findings("security")
    ent = intent.get("entities") or {}
    ip, user = ent.get("ip"), ent.get("email")
    s, e, phrase = window(intent, ref)
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
