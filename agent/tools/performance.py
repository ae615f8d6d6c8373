"""Performance tools over query_history: per-warehouse latency against its trailing week.

Scanning a window is two-stage, as an on-call engineer would do it: a cheap per-day screen
(:func:`warehouse_daily_latency`, each day's p95 against the median daily p95 of the week
before) and then the exact pooled p95 of the previous 7 days for the few candidates
(:func:`trailing_p95`).
"""

from __future__ import annotations

from datetime import date

from agent.tools.base import ToolResult, iso, run

TABLES = ("query_history",)


def warehouse_daily_latency(start: date | str, end: date | str, warehouse: str | None = None, store=None) -> ToolResult:
    """Per warehouse and day in [start, end]: query count, p95 duration and queued time (ms), the
    queueing share of total time, and the median of the daily p95s over the 7 days before;
    most deviating day first."""
    sql = """
        WITH d AS (
            SELECT warehouse_name, CAST(start_time AS DATE) AS day, COUNT(*) AS queries,
                   quantile_cont(duration_ms, 0.95) AS p95_ms,
                   quantile_cont(queued_ms, 0.95) AS p95_queued_ms,
                   SUM(queued_ms) / SUM(duration_ms) AS queued_share
            FROM query_history
            WHERE start_time >= CAST(? AS DATE) - INTERVAL 7 DAY AND start_time < CAST(? AS DATE) + INTERVAL 1 DAY
              AND (CAST(? AS VARCHAR) IS NULL OR warehouse_name = ?)
            GROUP BY ALL
        ),
        w AS (
            SELECT *, median(p95_ms) OVER (PARTITION BY warehouse_name ORDER BY day
                       RANGE BETWEEN INTERVAL 7 DAY PRECEDING AND INTERVAL 1 DAY PRECEDING) AS prev7_median_p95_ms
            FROM d
        )
        SELECT *, p95_ms / prev7_median_p95_ms AS screen_ratio FROM w
        WHERE day >= CAST(? AS DATE)
        ORDER BY screen_ratio DESC NULLS LAST, warehouse_name, day
    """
    return run(sql, [iso(start), iso(end), warehouse, warehouse, iso(start)], TABLES, store)


def trailing_p95(warehouse: str, day: date | str, store=None) -> ToolResult:
    """The p95 query duration (ms) of one warehouse over the 7 days before ``day``, pooled."""
    sql = """
        SELECT quantile_cont(duration_ms, 0.95) AS prev7_p95_ms, COUNT(*) AS prev7_queries
        FROM query_history
        WHERE warehouse_name = ?
          AND start_time >= CAST(? AS DATE) - INTERVAL 7 DAY AND start_time < CAST(? AS DATE)
    """
    return run(sql, [warehouse, iso(day), iso(day)], TABLES, store)


def warehouse_worst_days(start: date | str, end: date | str, store=None) -> ToolResult:
    """Per warehouse: its worst day in [start, end] by p95 query duration (ms), that p95, and the p95
    over the whole window; worst first."""
    sql = """
        WITH d AS (
            SELECT warehouse_name, CAST(start_time AS DATE) AS day, quantile_cont(duration_ms, 0.95) AS p95_ms
            FROM query_history
            WHERE CAST(start_time AS DATE) BETWEEN CAST(? AS DATE) AND CAST(? AS DATE)
            GROUP BY ALL
        ),
        w AS (
            SELECT warehouse_name, quantile_cont(duration_ms, 0.95) AS window_p95_ms, COUNT(*) AS queries
            FROM query_history
            WHERE CAST(start_time AS DATE) BETWEEN CAST(? AS DATE) AND CAST(? AS DATE)
            GROUP BY ALL
        )
        SELECT d.warehouse_name, arg_max(d.day, d.p95_ms) AS worst_day, max(d.p95_ms) AS worst_p95_ms,
               any_value(w.window_p95_ms) AS window_p95_ms, any_value(w.queries) AS queries
        FROM d JOIN w USING (warehouse_name)
        GROUP BY 1 ORDER BY worst_p95_ms DESC, 1
    """
    return run(sql, [iso(start), iso(end), iso(start), iso(end)], TABLES, store)
