"""Data-quality tools: table freshness and per-column null rates."""

from __future__ import annotations

from datetime import date

from agent.tools.base import ToolResult, iso, run


def table_freshness(table: str | None = None, store=None) -> ToolResult:
    """Every monitored table's last update, hours since then (at check time) and whether it is stale."""
    sql = """
        SELECT table_name, last_updated, freshness_target_hours, checked_at,
               DATE_DIFF('minute', last_updated, checked_at) / 60.0 AS hours_since_update,
               DATE_DIFF('minute', last_updated, checked_at) / 60.0 > freshness_target_hours AS stale
        FROM table_freshness
        WHERE CAST(? AS VARCHAR) IS NULL OR table_name = ?
        ORDER BY stale DESC, hours_since_update DESC
    """
    return run(sql, [table, table], ("table_freshness",), store)


def null_rate_jumps(
    start: date | str,
    end: date | str,
    table: str | None = None,
    column: str | None = None,
    factor: float = 10.0,
    min_rate: float = 0.01,
    store=None,
) -> ToolResult:
    """Days in [start, end] where a column's null rate exceeds ``min_rate`` and ``factor`` times its
    median over the 7 days before; with the column's latest rate up to ``end``."""
    sql = """
        WITH r AS (
            SELECT check_date, table_name, column_name, null_rate,
                   median(null_rate) OVER (PARTITION BY table_name, column_name ORDER BY check_date
                       ROWS BETWEEN 7 PRECEDING AND 1 PRECEDING) AS prev7_median,
                   avg(null_rate) OVER (PARTITION BY table_name, column_name ORDER BY check_date
                       ROWS BETWEEN 7 PRECEDING AND 1 PRECEDING) AS prev7_avg,
                   last_value(null_rate) OVER (PARTITION BY table_name, column_name ORDER BY check_date
                       ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING) AS latest_rate,
                   max(check_date) OVER (PARTITION BY table_name, column_name) AS latest_date
            FROM column_null_rates
            WHERE (CAST(? AS VARCHAR) IS NULL OR table_name = ?)
              AND (CAST(? AS VARCHAR) IS NULL OR column_name = ?)
              AND check_date <= CAST(? AS DATE)
        )
        SELECT check_date AS day, table_name, column_name, null_rate, prev7_avg, prev7_median,
               latest_rate, latest_date
        FROM r
        WHERE check_date BETWEEN CAST(? AS DATE) AND CAST(? AS DATE)
          AND null_rate > ? AND null_rate > ? * prev7_median
        ORDER BY check_date, table_name, column_name
    """
    params = [table, table, column, column, iso(end), iso(start), iso(end), float(min_rate), float(factor)]
    return run(sql, params, ("column_null_rates",), store)


def null_rates_on(day: date | str, table: str | None = None, column: str | None = None, store=None) -> ToolResult:
    """Null rate of each monitored column on one day."""
    sql = """
        SELECT check_date AS day, table_name, column_name, row_count, null_count, null_rate
        FROM column_null_rates
        WHERE check_date = CAST(? AS DATE)
          AND (CAST(? AS VARCHAR) IS NULL OR table_name = ?)
          AND (CAST(? AS VARCHAR) IS NULL OR column_name = ?)
        ORDER BY null_rate DESC
    """
    return run(sql, [iso(day), table, table, column, column], ("column_null_rates",), store)
