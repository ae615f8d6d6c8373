"""Reliability tools over job_runs: failures per job and day, success rates."""

from __future__ import annotations

from datetime import date

from agent.tools.base import ToolResult, iso, run

TABLES = ("job_runs",)


def job_failures_by_day(start: date | str, end: date | str, job: str | None = None, store=None) -> ToolResult:
    """Runs and failures per job and day in [start, end], with the most common error; most failures first."""
    sql = """
        SELECT job_name, workspace_name, CAST(start_time AS DATE) AS day, COUNT(*) AS runs,
               COUNT(*) FILTER (WHERE result_state = 'FAILED') AS failed,
               mode(split_part(error_message, ':', 1)) FILTER (WHERE result_state = 'FAILED') AS top_error
        FROM job_runs
        WHERE CAST(start_time AS DATE) BETWEEN CAST(? AS DATE) AND CAST(? AS DATE)
          AND (CAST(? AS VARCHAR) IS NULL OR job_name = ?)
        GROUP BY ALL
        ORDER BY failed DESC, day DESC, job_name
    """
    return run(sql, [iso(start), iso(end), job, job], TABLES, store)


def job_success_rates(start: date | str, end: date | str, job: str | None = None, store=None) -> ToolResult:
    """Success rate per job over [start, end], lowest first."""
    sql = """
        SELECT job_name, COUNT(*) AS runs,
               COUNT(*) FILTER (WHERE result_state = 'SUCCEEDED') AS succeeded,
               COUNT(*) FILTER (WHERE result_state = 'SUCCEEDED') / COUNT(*) AS success_rate
        FROM job_runs
        WHERE CAST(start_time AS DATE) BETWEEN CAST(? AS DATE) AND CAST(? AS DATE)
          AND (CAST(? AS VARCHAR) IS NULL OR job_name = ?)
        GROUP BY ALL ORDER BY success_rate, job_name
    """
    return run(sql, [iso(start), iso(end), job, job], TABLES, store)
