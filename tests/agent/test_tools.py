"""Domain tools: typed functions returning rows plus the parameterised SQL they ran."""

from __future__ import annotations

from agent.data import anomalies as A
from agent.tools import ToolResult, cost, performance, quality, reliability, security


def _check(res: ToolResult, tables):
    assert isinstance(res, ToolResult) and isinstance(res.rows, list)
    assert res.sql.lstrip().upper().startswith(("SELECT", "WITH")) and "?" in res.sql
    assert set(res.tables) == set(tables)
    assert all(s["sql"] == res.sql for s in res.sources())
    assert A.TOKEN_LEAK["token"] not in res.sql and "dapi" not in res.sql


def test_cost_tools():
    r = cost.daily_spend("2026-11-12", "2026-11-19")
    _check(r, ["billing_usage", "list_prices"])
    assert len(r.rows) == 8 and max(r.rows, key=lambda x: x["cost_usd"])["day"].isoformat() == A.COST_SPIKE["date"]
    d = cost.spend_drivers(A.COST_SPIKE["date"], "2026-11-12", "2026-11-18")
    assert (d.rows[0]["job_name"], d.rows[0]["workspace_name"]) == (A.COST_SPIKE["job"], A.COST_SPIKE["workspace"])
    assert cost.daily_spend("2026-11-19", "2026-11-19", workspace="dev-sandbox").rows[0]["cost_usd"] < 2000
    assert len(cost.job_spend(A.COST_SPIKE["job"], A.START_DATE, A.REFERENCE_DATE).rows) == 31


def test_security_tools_never_return_secrets():
    b = security.failed_login_bursts(A.START_DATE, A.REFERENCE_DATE)
    _check(b, ["audit_events"])
    assert [(x["source_ip"], x["failures"]) for x in b.rows] == [(A.BRUTE_FORCE["ip"], A.BRUTE_FORCE["failed_logins"])]
    t = security.token_events(A.START_DATE, A.REFERENCE_DATE)
    assert "request_params" not in t.rows[0]
    assert [x["user_email"] for x in t.rows if x["params_hold_token"]] == [A.TOKEN_LEAK["user"]]
    assert A.TOKEN_LEAK["token"] not in repr(t.rows)
    s = security.login_summary(A.BRUTE_FORCE["date"], A.BRUTE_FORCE["date"], ip=A.BRUTE_FORCE["ip"])
    assert s.rows[0]["failed"] == A.BRUTE_FORCE["failed_logins"]


def test_performance_tool():
    r = performance.warehouse_daily_latency("2026-11-10", A.REFERENCE_DATE)
    _check(r, ["query_history"])
    top = r.rows[0]
    assert (top["warehouse_name"], top["day"].isoformat()) == (A.SLOW_WAREHOUSE["warehouse"], A.SLOW_WAREHOUSE["date"])
    assert top["screen_ratio"] >= 3 and top["queued_share"] > 0.5
    prev = performance.trailing_p95(top["warehouse_name"], top["day"])
    _check(prev, ["query_history"])
    assert top["p95_ms"] / prev.rows[0]["prev7_p95_ms"] >= A.SLOW_WAREHOUSE["min_ratio"]
    assert {
        x["warehouse_name"]
        for x in performance.warehouse_daily_latency("2026-11-18", "2026-11-18", "etl-warehouse").rows
    } == {"etl-warehouse"}


def test_reliability_tools():
    r = reliability.job_failures_by_day(A.FLAKY_JOB["date"], A.FLAKY_JOB["date"])
    _check(r, ["job_runs"])
    assert (r.rows[0]["job_name"], r.rows[0]["failed"], r.rows[0]["runs"], r.rows[0]["top_error"]) == (
        A.FLAKY_JOB["job"],
        9,
        24,
        A.FLAKY_JOB["error"],
    )
    rates = reliability.job_success_rates(A.START_DATE, A.REFERENCE_DATE).rows
    assert {x["job_name"] for x in rates} == set(A.JOBS)


def test_quality_tools():
    f = quality.table_freshness()
    _check(f, ["table_freshness"])
    assert [x["table_name"] for x in f.rows if x["stale"]] == [A.STALE_TABLE["table"]]
    j = quality.null_rate_jumps(A.START_DATE, A.REFERENCE_DATE)
    assert (j.rows[0]["day"].isoformat(), j.rows[0]["column_name"]) == (A.NULL_SPIKE["date"], A.NULL_SPIKE["column"])
    assert len(quality.null_rates_on("2026-11-01").rows) >= 5


def test_sql_injection_in_parameters_is_inert():
    evil = "x'; DROP TABLE job_runs;--"
    assert reliability.job_failures_by_day(A.START_DATE, A.REFERENCE_DATE, job=evil).rows == []
    assert reliability.job_success_rates(A.START_DATE, A.REFERENCE_DATE).rows
