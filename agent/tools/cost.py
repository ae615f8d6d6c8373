"""Cost tools: spend per day and what drove it (billing_usage joined with list_prices)."""

from __future__ import annotations

from datetime import date

from agent.tools.base import ToolResult, iso, run

TABLES = ("billing_usage", "list_prices")


def daily_spend(start: date | str, end: date | str, workspace: str | None = None, store=None) -> ToolResult:
    """Total DBUs and list-price cost (USD) per day in [start, end], optionally for one workspace."""
    sql = """
        SELECT u.usage_date AS day, SUM(u.usage_quantity) AS dbus,
               SUM(u.usage_quantity * p.price_usd_per_dbu) AS cost_usd
        FROM billing_usage u JOIN list_prices p USING (sku_name)
        WHERE u.usage_date BETWEEN CAST(? AS DATE) AND CAST(? AS DATE)
          AND (CAST(? AS VARCHAR) IS NULL OR u.workspace_name = ?)
        GROUP BY 1 ORDER BY 1
    """
    return run(sql, [iso(start), iso(end), workspace, workspace], TABLES, store)


#: What spend can be ranked by: the billing column that names each item.
RANKABLE = {"job": "job_name", "warehouse": "warehouse_name", "workspace": "workspace_name"}


def spend_by(kind: str, start: date | str, end: date | str, store=None) -> ToolResult:
    """Total DBUs and list-price cost (USD) per job, SQL warehouse or workspace (``kind``) in
    [start, end], with the workspace each belongs to; most expensive first."""
    column = RANKABLE[kind]  # a fixed column name, never user text
    sql = f"""
        SELECT u.{column} AS name, any_value(u.workspace_name) AS workspace_name, SUM(u.usage_quantity) AS dbus,
               SUM(u.usage_quantity * p.price_usd_per_dbu) AS cost_usd
        FROM billing_usage u JOIN list_prices p USING (sku_name)
        WHERE u.usage_date BETWEEN CAST(? AS DATE) AND CAST(? AS DATE) AND u.{column} IS NOT NULL
        GROUP BY 1 ORDER BY cost_usd DESC, 1
    """
    return run(sql, [iso(start), iso(end)], TABLES, store)


def spend_drivers(
    day: date | str, baseline_start: date | str, baseline_end: date | str, workspace: str | None = None, store=None
) -> ToolResult:
    """Cost per (workspace, SKU, job, warehouse) on ``day`` against its daily average over the
    baseline window, largest increase first."""
    sql = """
        WITH c AS (
            SELECT u.usage_date AS day, u.workspace_name, u.sku_name,
                   COALESCE(u.job_name, '') AS job_name, COALESCE(u.warehouse_name, '') AS warehouse_name,
                   SUM(u.usage_quantity * p.price_usd_per_dbu) AS cost_usd, SUM(u.usage_quantity) AS dbus
            FROM billing_usage u JOIN list_prices p USING (sku_name)
            WHERE u.usage_date BETWEEN CAST(? AS DATE) AND CAST(? AS DATE)
              AND (CAST(? AS VARCHAR) IS NULL OR u.workspace_name = ?)
            GROUP BY ALL
        )
        SELECT * FROM (
        SELECT workspace_name, sku_name, job_name, warehouse_name,
               SUM(CASE WHEN day = CAST(? AS DATE) THEN cost_usd ELSE 0 END) AS cost_usd,
               SUM(CASE WHEN day = CAST(? AS DATE) THEN dbus ELSE 0 END) AS dbus,
               SUM(CASE WHEN day BETWEEN CAST(? AS DATE) AND CAST(? AS DATE) THEN cost_usd ELSE 0 END)
                 / (DATE_DIFF('day', CAST(? AS DATE), CAST(? AS DATE)) + 1) AS baseline_cost_usd
        FROM c GROUP BY workspace_name, sku_name, job_name, warehouse_name
        ) ORDER BY cost_usd - baseline_cost_usd DESC, cost_usd DESC
    """
    lo = min(iso(baseline_start), iso(day))
    hi = max(iso(baseline_end), iso(day))
    params = [lo, hi, workspace, workspace, iso(day), iso(day)]
    params += [iso(baseline_start), iso(baseline_end), iso(baseline_start), iso(baseline_end)]
    return run(sql, params, TABLES, store)


def job_spend(job: str, start: date | str, end: date | str, store=None) -> ToolResult:
    """Daily cost of one job in [start, end]."""
    sql = """
        SELECT u.usage_date AS day, u.workspace_name, SUM(u.usage_quantity) AS dbus,
               SUM(u.usage_quantity * p.price_usd_per_dbu) AS cost_usd
        FROM billing_usage u JOIN list_prices p USING (sku_name)
        WHERE u.job_name = ? AND u.usage_date BETWEEN CAST(? AS DATE) AND CAST(? AS DATE)
        GROUP BY ALL ORDER BY 1
    """
    return run(sql, [job, iso(start), iso(end)], TABLES, store)
