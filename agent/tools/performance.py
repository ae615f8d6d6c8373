"""Performance tools over query_history: per-warehouse latency against its trailing week."""

from __future__ import annotations

from datetime import date

from agent.tools.base import ToolResult, iso, run

TABLES = ("query_history",)


def warehouse_daily_latency(
    start: date | str, end: date | str, warehouse: str | None = None, store=None
) -> ToolResult:
    """Per warehouse and day in [start, end]: query count, p95 duration and queued time (ms),
    queueing share of total time, and the p95 duration over the 7 days before (pooled)."""
    sql = """
        WITH q AS (
            SELECT warehouse_name, CAST(start_time AS DATE) AS day, duration_ms, queued_ms
            FROM query_history
            WHERE CAST(start_time AS DATE) BETWEEN CAST(? AS DATE) - INTERVAL 7 DAY AND CAST(? AS DATE)
              AND (CAST(? AS VARCHAR) IS NULL OR warehouse_name = ?)
        ),
        days AS (SELECT DISTINCT warehouse_name, day FROM q WHERE day >= CAST(? AS DATE)),
        today AS (
            SELECT warehouse_name, day, COUNT(*) AS queries,
                   quantile_cont(duration_ms, 0.95) AS p95_ms,
                   quantile_cont(queued_ms, 0.95) AS p95_queued_ms,
                   SUM(queued_ms) / SUM(duration_ms) AS queued_share
            FROM q GROUP BY ALL
        ),
        prev AS (
            SELECT d.warehouse_name, d.day, quantile_cont(q.duration_ms, 0.95) AS prev7_p95_ms,
                   COUNT(*) AS prev7_queries
            FROM days d JOIN q ON q.warehouse_name = d.warehouse_name
             AND q.day BETWEEN d.day - INTERVAL 7 DAY AND d.day - INTERVAL 1 DAY
            GROUP BY ALL
        )
        SELECT t.warehouse_name, t.day, t.queries, t.p95_ms, t.p95_queued_ms, t.queued_share,
               p.prev7_p95_ms, t.p95_ms / p.prev7_p95_ms AS ratio
        FROM today t JOIN days USING (warehouse_name, day)
        LEFT JOIN prev p USING (warehouse_name, day)
        ORDER BY ratio DESC NULLS LAST, t.warehouse_name, t.day
    """
    return run(sql, [iso(start), iso(end), warehouse, warehouse, iso(start)], TABLES, store)
