"""The generated store: shape, determinism, the planted anomalies, build speed and locking."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from agent.data import anomalies as A
from agent.data import generator
from agent.data.store import ensure_store


def one(store, sql, params=()):
    return store.query(sql, params)[0]


def test_tables_and_period(store):
    assert {
        "billing_usage",
        "list_prices",
        "job_runs",
        "audit_events",
        "query_history",
        "table_freshness",
        "column_null_rates",
    } <= set(store.tables())
    r = one(store, "SELECT MIN(usage_date) lo, MAX(usage_date) hi, COUNT(DISTINCT usage_date) n FROM billing_usage")
    assert (r["lo"], r["hi"], r["n"]) == (A.START_DATE, A.REFERENCE_DATE, 31)
    assert one(store, "SELECT MAX(CAST(start_time AS DATE)) d FROM query_history")["d"] == A.REFERENCE_DATE


def test_generator_is_deterministic():
    a, b = generator.generate_frames(), generator.generate_frames()
    for name in a:
        assert a[name].equals(b[name]), name
    assert not generator.generate_frames(seed=1)["billing_usage"].equals(a["billing_usage"])


def test_cost_spike(store):
    rows = store.query(
        "SELECT usage_date d, SUM(usage_quantity * price_usd_per_dbu) c FROM billing_usage JOIN list_prices "
        "USING (sku_name) GROUP BY 1 ORDER BY 1"
    )
    by = {str(r["d"]): r["c"] for r in rows}
    days = sorted(by)
    i = days.index(A.COST_SPIKE["date"])
    avg = sum(by[d] for d in days[i - 7 : i]) / 7
    assert by[A.COST_SPIKE["date"]] > A.COST_SPIKE["min_ratio"] * avg
    job = store.query(
        "SELECT usage_date d, SUM(usage_quantity * price_usd_per_dbu) c FROM billing_usage JOIN list_prices "
        "USING (sku_name) WHERE job_name = ? AND workspace_name = ? GROUP BY 1",
        [A.COST_SPIKE["job"], A.COST_SPIKE["workspace"]],
    )
    jb = {str(r["d"]): r["c"] for r in job}
    job_inc = jb[A.COST_SPIKE["date"]] - sum(jb[d] for d in days[i - 7 : i]) / 7
    assert job_inc / (by[A.COST_SPIKE["date"]] - avg) > A.COST_SPIKE["min_share_of_increase"]
    # normal days are noisy but never spike
    for j in range(7, len(days)):
        if days[j] != A.COST_SPIKE["date"]:
            assert by[days[j]] < 1.5 * sum(by[d] for d in days[j - 7 : j]) / 7


def test_brute_force(store):
    bf = A.BRUTE_FORCE
    r = one(
        store,
        "SELECT COUNT(*) n, MIN(event_time) lo, MAX(event_time) hi FROM audit_events WHERE source_ip = ? "
        "AND user_email = ? AND status_code = 401 AND CAST(event_time AS DATE) = ?",
        [bf["ip"], bf["user"], bf["date"]],
    )
    assert r["n"] >= bf["min_failed_logins"] and r["n"] == bf["failed_logins"]
    assert r["lo"].strftime("%H:%M") >= bf["window_start"] and r["hi"].strftime("%H:%M") < bf["window_end"]


def test_token_leak_is_in_the_data(store):
    tl = A.TOKEN_LEAK
    rows = store.query(
        "SELECT request_params p FROM audit_events WHERE user_email = ? AND action_name = ? "
        "AND CAST(event_time AS DATE) = ?",
        [tl["user"], tl["action"], tl["date"]],
    )
    assert any(tl["token"] in r["p"] for r in rows)
    assert tl["token"].startswith("dapi")


def test_slow_warehouse(store):
    sw = A.SLOW_WAREHOUSE
    day = one(
        store,
        "SELECT quantile_cont(duration_ms, 0.95) p, SUM(queued_ms)/SUM(duration_ms) q FROM query_history "
        "WHERE warehouse_name = ? AND CAST(start_time AS DATE) = ?",
        [sw["warehouse"], sw["date"]],
    )
    prev = one(
        store,
        "SELECT quantile_cont(duration_ms, 0.95) p FROM query_history WHERE warehouse_name = ? AND "
        "CAST(start_time AS DATE) BETWEEN CAST(? AS DATE) - 7 AND CAST(? AS DATE) - 1",
        [sw["warehouse"], sw["date"], sw["date"]],
    )
    assert day["p"] >= sw["min_ratio"] * prev["p"]
    assert day["q"] >= sw["min_queued_share"]


def test_flaky_job(store):
    fj = A.FLAKY_JOB
    r = one(
        store,
        "SELECT COUNT(*) n, COUNT(*) FILTER (WHERE result_state = 'FAILED') f, "
        "COUNT(*) FILTER (WHERE error_message LIKE ?) e FROM job_runs WHERE job_name = ? "
        "AND CAST(start_time AS DATE) = ?",
        [fj["error"] + "%", fj["job"], fj["date"]],
    )
    assert (r["n"], r["f"], r["e"]) == (fj["total_runs"], fj["failed_runs"], fj["failed_runs"])
    others = store.query(
        "SELECT job_name, AVG(CASE WHEN result_state = 'SUCCEEDED' THEN 1 ELSE 0 END) s "
        "FROM job_runs WHERE job_name <> ? GROUP BY 1",
        [fj["job"]],
    )
    assert others and all(o["s"] >= fj["other_jobs_min_success_rate"] for o in others)


def test_quality_anomalies(store):
    st, ns = A.STALE_TABLE, A.NULL_SPIKE
    r = one(
        store, "SELECT last_updated, freshness_target_hours t FROM table_freshness WHERE table_name = ?", [st["table"]]
    )
    assert str(r["last_updated"].date()) == st["last_updated"] and r["t"] == st["freshness_target_hours"]
    stale = store.query(
        "SELECT table_name FROM table_freshness WHERE "
        "DATE_DIFF('minute', last_updated, checked_at) / 60.0 > freshness_target_hours"
    )
    assert [x["table_name"] for x in stale] == [st["table"]]
    rates = {
        str(x["d"]): x["r"]
        for x in store.query(
            "SELECT check_date d, null_rate r FROM column_null_rates WHERE table_name = ? AND column_name = ?",
            [ns["table"], ns["column"]],
        )
    }
    before = [v for d, v in rates.items() if d < ns["date"]]
    assert all(v < 0.003 for v in before) and abs(sum(before) / len(before) - ns["baseline_rate"]) < 0.0005
    assert rates[ns["date"]] == pytest.approx(ns["spike_rate"])
    assert all(abs(v - ns["spike_rate"]) < 0.01 for d, v in rates.items() if d >= ns["date"])


def test_store_is_opened_read_only(store):
    with pytest.raises(Exception, match="(?i)read.only"):
        store.query("CREATE TABLE x (a INT)")


def test_build_is_fast_atomic_and_env_overridable(tmp_path):
    p = tmp_path / "sub" / "p.duckdb"
    t0 = time.perf_counter()
    assert ensure_store(p) == p.resolve()
    assert time.perf_counter() - t0 < 10
    assert not [x for x in p.parent.iterdir() if x.name.endswith(".tmp")]
    mtime = p.stat().st_mtime_ns
    ensure_store(p)  # current -> not rebuilt
    assert p.stat().st_mtime_ns == mtime
    env = {**os.environ, "HEALTH_MONITOR_DB": str(tmp_path / "env.duckdb")}
    code = "from agent.data.store import get_store; print(get_store().path)"
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True).stdout
    assert Path(out.strip()) == (tmp_path / "env.duckdb").resolve()


def test_parallel_builders_do_not_race(tmp_path):
    target = tmp_path / "race.duckdb"
    code = (
        "import sys; from agent.data.store import Store; s = Store(sys.argv[1]); "
        "print(s.query('SELECT COUNT(*) n FROM job_runs')[0]['n'])"
    )
    procs = [
        subprocess.Popen([sys.executable, "-c", code, str(target)], stdout=subprocess.PIPE, text=True) for _ in range(3)
    ]
    outs = [p.communicate(timeout=60)[0].strip() for p in procs]
    assert all(p.returncode == 0 for p in procs)
    assert len(set(outs)) == 1 and int(outs[0]) > 0


def test_query_cache_returns_copies_and_can_be_disabled(tmp_path):
    from agent.data.store import Store, ensure_store

    p = ensure_store(tmp_path / "c.duckdb")
    s = Store(p)
    a = s.query("SELECT COUNT(*) n FROM job_runs")
    a[0]["n"] = -1
    assert s.query("SELECT COUNT(*) n FROM job_runs")[0]["n"] > 0
    assert Store(p, cache_size=0).query("SELECT COUNT(*) n FROM job_runs") == s.query("SELECT COUNT(*) n FROM job_runs")
