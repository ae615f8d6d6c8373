"""Security tools over audit_events. No tool ever returns request parameters or secrets."""

from __future__ import annotations

from datetime import date

from agent.tools.base import ToolResult, iso, run

TABLES = ("audit_events",)
#: What a personal access token looks like; bound as a parameter so the SQL text never holds it.
TOKEN_PATTERN = "dapi[0-9a-f]{8,}"


def failed_login_bursts(
    start: date | str,
    end: date | str,
    min_failures: int = 10,
    ip: str | None = None,
    user: str | None = None,
    store=None,
) -> ToolResult:
    """Failed logins (401) grouped by source IP, user and hour, keeping groups of ``min_failures``+."""
    sql = """
        SELECT source_ip, user_email, DATE_TRUNC('hour', event_time) AS hour,
               COUNT(*) AS failures, MIN(event_time) AS first_at, MAX(event_time) AS last_at
        FROM audit_events
        WHERE action_name = 'login' AND status_code = 401
          AND CAST(event_time AS DATE) BETWEEN CAST(? AS DATE) AND CAST(? AS DATE)
          AND (CAST(? AS VARCHAR) IS NULL OR source_ip = ?)
          AND (CAST(? AS VARCHAR) IS NULL OR lower(user_email) = lower(?))
        GROUP BY ALL HAVING COUNT(*) >= ?
        ORDER BY failures DESC, hour
    """
    return run(sql, [iso(start), iso(end), ip, ip, user, user, int(min_failures)], TABLES, store)


def login_summary(
    start: date | str, end: date | str, ip: str | None = None, user: str | None = None, store=None
) -> ToolResult:
    """Successful and failed logins in the window (optionally for one IP or user)."""
    sql = """
        SELECT COUNT(*) FILTER (WHERE status_code = 401) AS failed,
               COUNT(*) FILTER (WHERE status_code = 200) AS succeeded,
               COUNT(DISTINCT source_ip) FILTER (WHERE status_code = 401) AS failing_ips
        FROM audit_events
        WHERE action_name = 'login'
          AND CAST(event_time AS DATE) BETWEEN CAST(? AS DATE) AND CAST(? AS DATE)
          AND (CAST(? AS VARCHAR) IS NULL OR source_ip = ?)
          AND (CAST(? AS VARCHAR) IS NULL OR lower(user_email) = lower(?))
    """
    return run(sql, [iso(start), iso(end), ip, ip, user, user], TABLES, store)


def token_events(start: date | str, end: date | str, user: str | None = None, store=None) -> ToolResult:
    """Token-creation events, flagging those whose request parameters hold a token value.

    Returns who/when/where and a boolean flag; the parameters themselves never leave the store.
    """
    sql = """
        SELECT event_time, user_email, workspace_name, source_ip,
               regexp_matches(request_params, ?) AS params_hold_token
        FROM audit_events
        WHERE action_name = 'tokenCreate'
          AND CAST(event_time AS DATE) BETWEEN CAST(? AS DATE) AND CAST(? AS DATE)
          AND (CAST(? AS VARCHAR) IS NULL OR lower(user_email) = lower(?))
        ORDER BY event_time
    """
    return run(sql, [TOKEN_PATTERN, iso(start), iso(end), user, user], TABLES, store)


def store_tables(store=None) -> ToolResult:
    """The tables the platform store holds (what questions it can answer at all)."""
    sql = """
        SELECT table_name FROM information_schema.tables
        WHERE table_schema = 'main' AND table_name <> 'store_meta' ORDER BY 1
    """
    return run(sql, [], ("information_schema.tables",), store)
