"""Seeded generator of platform system tables (31 days ending on the reference date) into DuckDB.

Normal days carry realistic noise; the anomalies of :mod:`agent.data.anomalies` are planted on
top. The output depends only on the seed, so every build of the store is identical.
"""

from __future__ import annotations

import json
import os
from datetime import date, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd

from agent.data import anomalies as A

LIST_PRICES = {"JOBS_COMPUTE": 0.15, "SQL_PRO": 0.70, "ALL_PURPOSE_COMPUTE": 0.55}

# name, workspace, runs per day, DBUs per day, typical run minutes
JOB_SPECS = [
    ("nightly_customer_etl", "prod-analytics", 1, 2600.0, 40.0),
    ("hourly_orders_sync", "prod-etl", 24, 1440.0, 6.0),
    ("hourly_inventory_refresh", "prod-etl", 24, 960.0, 4.0),
    ("daily_sales_report", "prod-analytics", 1, 800.0, 15.0),
    ("ml_feature_refresh", "ml-research", 1, 3000.0, 55.0),
    ("marketing_attribution", "prod-analytics", 1, 1200.0, 25.0),
]
# warehouse, workspace, DBUs per weekday, queries per weekday, median execution ms
WAREHOUSE_SPECS = [
    ("bi-warehouse", "prod-analytics", 1800.0, 220, 1800.0),
    ("adhoc-warehouse", "dev-sandbox", 600.0, 120, 2500.0),
    ("etl-warehouse", "prod-etl", 900.0, 90, 4000.0),
]
ALL_PURPOSE_DBUS = {"prod-analytics": 700.0, "prod-etl": 400.0, "dev-sandbox": 500.0, "ml-research": 900.0}
INTERNAL_IPS = [f"10.0.{i}.{j}" for i in range(1, 4) for j in (11, 23, 37, 54)]
OTHER_IPS = ["198.51.100.7", "192.0.2.33", "198.51.100.19"]

# (table, column) -> baseline null rate
NULL_BASELINES = {
    ("main.sales.customers", "customer_id"): A.NULL_SPIKE["baseline_rate"],
    ("main.sales.customers", "email"): 0.02,
    ("main.sales.customers", "country"): 0.005,
    ("main.sales.orders", "customer_id"): 0.0005,
    ("main.sales.orders", "amount"): 0.001,
    ("main.sales.order_items", "product_id"): 0.0008,
}
ROW_COUNTS = {"main.sales.customers": 50_000, "main.sales.orders": 400_000, "main.sales.order_items": 1_200_000}

# table -> (last updated, freshness target in hours)
FRESHNESS = {
    "main.sales.orders": (A.STALE_TABLE["last_updated_time"], A.STALE_TABLE["freshness_target_hours"]),
    "main.sales.customers": ("2026-11-20 03:15:00", 24),
    "main.sales.order_items": ("2026-11-20 02:40:00", 24),
    "main.marketing.campaigns": ("2026-11-17 09:00:00", 168),
    "main.finance.invoices": ("2026-11-19 23:10:00", 24),
    "main.ops.inventory": ("2026-11-20 05:30:00", 2),
}


def _days() -> list[date]:
    return [A.START_DATE + timedelta(days=i) for i in range(A.DAYS)]


def _billing(rng: np.random.Generator) -> pd.DataFrame:
    rows = []
    for d in _days():
        weekend = d.weekday() >= 5
        for name, ws, _runs, dbus, _m in JOB_SPECS:
            q = dbus * rng.normal(1.0, 0.05)
            if name == A.COST_SPIKE["job"] and d.isoformat() == A.COST_SPIKE["date"]:
                q += A.COST_SPIKE["extra_dbus"]
            rows.append((d, ws, "JOBS_COMPUTE", name, None, round(q, 2)))
        for wh, ws, dbus, _n, _ms in WAREHOUSE_SPECS:
            q = dbus * (0.45 if weekend else 1.0) * rng.normal(1.0, 0.07)
            rows.append((d, ws, "SQL_PRO", None, wh, round(q, 2)))
        for ws, dbus in ALL_PURPOSE_DBUS.items():
            q = dbus * (0.3 if weekend else 1.0) * rng.normal(1.0, 0.1)
            rows.append((d, ws, "ALL_PURPOSE_COMPUTE", None, None, round(q, 2)))
    return pd.DataFrame(
        rows, columns=["usage_date", "workspace_name", "sku_name", "job_name", "warehouse_name", "usage_quantity"]
    )


def _job_runs(rng: np.random.Generator) -> pd.DataFrame:
    rows = []
    run_id = 1_000_000
    fail_slots = set()
    # hourly_inventory_refresh fails 3 times in the whole period (99.6% success)
    total_inv = A.DAYS * 24
    for k in rng.choice(total_inv, size=3, replace=False):
        fail_slots.add(("hourly_inventory_refresh", int(k)))
    flaky_day = A.FLAKY_JOB["date"]
    flaky_hours = set(int(h) for h in rng.choice(24, size=A.FLAKY_JOB["failed_runs"], replace=False))
    for di, d in enumerate(_days()):
        for name, ws, runs, _dbus, minutes in JOB_SPECS:
            for r in range(runs):
                if runs == 1:
                    start = datetime(d.year, d.month, d.day, 1 if name == "nightly_customer_etl" else 4 + r, 0)
                    start += timedelta(minutes=int(rng.integers(0, 10)))
                else:
                    start = datetime(d.year, d.month, d.day, r, int(rng.integers(0, 5)))
                mins = max(1.0, minutes * rng.normal(1.0, 0.12))
                state, err = "SUCCEEDED", None
                if name == A.COST_SPIKE["job"] and d.isoformat() == A.COST_SPIKE["date"]:
                    mins = minutes * 14.5
                if name == A.FLAKY_JOB["job"] and d.isoformat() == flaky_day and r in flaky_hours:
                    state = "FAILED"
                    err = (
                        f"{A.FLAKY_JOB['error']}: Files were added to the root of the table by a "
                        "concurrent update. Please try the operation again."
                    )
                    mins = mins * 0.4
                if (name, di * 24 + r) in fail_slots:
                    state, err = "FAILED", "TimeoutException: task exceeded 30 minutes"
                end = start + timedelta(minutes=mins)
                rows.append((run_id, name, ws, start, end, round(mins * 60.0, 1), state, err))
                run_id += 1
    return pd.DataFrame(
        rows,
        columns=[
            "run_id",
            "job_name",
            "workspace_name",
            "start_time",
            "end_time",
            "duration_s",
            "result_state",
            "error_message",
        ],
    )


def _audit(rng: np.random.Generator) -> pd.DataFrame:
    rows = []
    humans = [u for u in A.USERS if not u.startswith("svc-")]
    actions = ["login", "getTable", "runCommand", "listClusters", "getQuery", "downloadResult"]
    for d in _days():
        base = datetime(d.year, d.month, d.day)
        n = int(rng.integers(180, 260))
        for _ in range(n):
            user = A.USERS[int(rng.integers(0, len(A.USERS)))]
            ip = INTERNAL_IPS[int(rng.integers(0, len(INTERNAL_IPS)))]
            t = base + timedelta(seconds=int(rng.integers(6 * 3600, 22 * 3600)))
            act = actions[int(rng.integers(0, len(actions)))]
            ws = A.WORKSPACES[int(rng.integers(0, len(A.WORKSPACES)))]
            rows.append((t, ws, user, act, ip, 200, json.dumps({"path": f"/api/2.0/{act}"})))
        # a few ordinary failed logins (typos), scattered
        for _ in range(int(rng.poisson(2.0))):
            user = humans[int(rng.integers(0, len(humans)))]
            ip = (INTERNAL_IPS + OTHER_IPS)[int(rng.integers(0, len(INTERNAL_IPS) + len(OTHER_IPS)))]
            t = base + timedelta(seconds=int(rng.integers(0, 86400)))
            rows.append((t, "prod-analytics", user, "login", ip, 401, json.dumps({"reason": "bad password"})))
        # ordinary token creation, without the token value in the parameters
        if rng.random() < 0.35:
            user = humans[int(rng.integers(0, len(humans)))]
            t = base + timedelta(seconds=int(rng.integers(8 * 3600, 18 * 3600)))
            params = {"comment": "notebook access", "lifetime_seconds": "7776000"}
            rows.append((t, "dev-sandbox", user, "tokenCreate", INTERNAL_IPS[0], 200, json.dumps(params)))
    # brute force: failed logins from one IP against a service account within one hour
    bf = A.BRUTE_FORCE
    y, m, dd = (int(x) for x in bf["date"].split("-"))
    h0 = int(bf["window_start"].split(":")[0])
    secs = sorted(rng.choice(np.arange(60, 3540), size=bf["failed_logins"], replace=False))
    for s in secs:
        t = datetime(y, m, dd, h0) + timedelta(seconds=int(s))
        rows.append(
            (
                t,
                "prod-analytics",
                bf["user"],
                "login",
                bf["ip"],
                bf["status_code"],
                json.dumps({"reason": "bad password"}),
            )
        )
    # token created with the secret itself in the request parameters
    tl = A.TOKEN_LEAK
    t = datetime.fromisoformat(f"{tl['date']} {tl['time']}")
    params = {"comment": "ci pipeline", "lifetime_seconds": "0", "token_value": tl["token"]}
    rows.append((t, "prod-analytics", tl["user"], tl["action"], INTERNAL_IPS[5], 200, json.dumps(params)))
    df = pd.DataFrame(
        rows,
        columns=[
            "event_time",
            "workspace_name",
            "user_email",
            "action_name",
            "source_ip",
            "status_code",
            "request_params",
        ],
    )
    return df.sort_values("event_time", kind="stable").reset_index(drop=True)


def _queries(rng: np.random.Generator) -> pd.DataFrame:
    frames = []
    qid = 5_000_000
    sw = A.SLOW_WAREHOUSE
    for d in _days():
        weekend = d.weekday() >= 5
        base = np.datetime64(datetime(d.year, d.month, d.day))
        for wh, _ws, _dbus, n_day, med in WAREHOUSE_SPECS:
            n = int(n_day * (0.4 if weekend else 1.0) * rng.normal(1.0, 0.08))
            execution = rng.lognormal(np.log(med), 0.8, size=n)
            queued = rng.exponential(150.0, size=n)
            if wh == sw["warehouse"] and d.isoformat() == sw["date"]:
                hit = rng.random(n) < 0.7
                queued = np.where(hit, rng.uniform(20_000, 90_000, size=n), queued)
            offs = rng.integers(7 * 3600, 20 * 3600, size=n).astype("timedelta64[s]")
            users = rng.choice(A.USERS[:5], size=n)
            stmt = rng.choice(["SELECT", "SELECT", "SELECT", "INSERT", "MERGE"], size=n)
            frames.append(
                pd.DataFrame(
                    {
                        "query_id": np.arange(qid, qid + n),
                        "warehouse_name": wh,
                        "user_email": users,
                        "start_time": base + offs,
                        "duration_ms": np.round(execution + queued, 1),
                        "queued_ms": np.round(queued, 1),
                        "execution_ms": np.round(execution, 1),
                        "statement_type": stmt,
                    }
                )
            )
            qid += n
    return pd.concat(frames, ignore_index=True)


def _null_rates(rng: np.random.Generator) -> pd.DataFrame:
    rows = []
    ns = A.NULL_SPIKE
    for d in _days():
        for (table, col), rate in NULL_BASELINES.items():
            n = ROW_COUNTS[table]
            if (table, col) == (ns["table"], ns["column"]) and d.isoformat() >= ns["date"]:
                if d.isoformat() == ns["date"]:
                    n = ns["row_count"]
                    nulls = int(round(ns["spike_rate"] * n))
                else:
                    nulls = int(rng.binomial(n, ns["spike_rate"]))
            else:
                nulls = int(rng.binomial(n, rate))
            rows.append((d, table, col, n, nulls, nulls / n))
    return pd.DataFrame(
        rows, columns=["check_date", "table_name", "column_name", "row_count", "null_count", "null_rate"]
    )


def _freshness() -> pd.DataFrame:
    rows = [
        (t, datetime.fromisoformat(ts), target, datetime.fromisoformat(A.FRESHNESS_CHECK_TIME))
        for t, (ts, target) in FRESHNESS.items()
    ]
    return pd.DataFrame(rows, columns=["table_name", "last_updated", "freshness_target_hours", "checked_at"])


SCHEMA = {
    "list_prices": "sku_name VARCHAR, price_usd_per_dbu DOUBLE",
    "billing_usage": "usage_date DATE, workspace_name VARCHAR, sku_name VARCHAR, job_name VARCHAR, "
    "warehouse_name VARCHAR, usage_quantity DOUBLE",
    "job_runs": "run_id BIGINT, job_name VARCHAR, workspace_name VARCHAR, start_time TIMESTAMP, "
    "end_time TIMESTAMP, duration_s DOUBLE, result_state VARCHAR, error_message VARCHAR",
    "audit_events": "event_time TIMESTAMP, workspace_name VARCHAR, user_email VARCHAR, action_name VARCHAR, "
    "source_ip VARCHAR, status_code INTEGER, request_params VARCHAR",
    "query_history": "query_id BIGINT, warehouse_name VARCHAR, user_email VARCHAR, start_time TIMESTAMP, "
    "duration_ms DOUBLE, queued_ms DOUBLE, execution_ms DOUBLE, statement_type VARCHAR",
    "table_freshness": "table_name VARCHAR, last_updated TIMESTAMP, freshness_target_hours INTEGER, "
    "checked_at TIMESTAMP",
    "column_null_rates": "check_date DATE, table_name VARCHAR, column_name VARCHAR, row_count BIGINT, "
    "null_count BIGINT, null_rate DOUBLE",
    "store_meta": "key VARCHAR, value VARCHAR",
}


def generate_frames(seed: int = A.SEED) -> dict[str, pd.DataFrame]:
    """All tables as DataFrames (deterministic for a given seed)."""
    rng = np.random.default_rng(seed)
    return {
        "list_prices": pd.DataFrame(list(LIST_PRICES.items()), columns=["sku_name", "price_usd_per_dbu"]),
        "billing_usage": _billing(rng),
        "job_runs": _job_runs(rng),
        "audit_events": _audit(rng),
        "query_history": _queries(rng),
        "table_freshness": _freshness(),
        "column_null_rates": _null_rates(rng),
        "store_meta": pd.DataFrame(
            [
                ("generator_version", A.GENERATOR_VERSION),
                ("seed", str(seed)),
                ("reference_date", A.REFERENCE_DATE.isoformat()),
            ],
            columns=["key", "value"],
        ),
    }


def build_store(path: str | os.PathLike, seed: int = A.SEED) -> Path:
    """Write the store to ``path`` (which must not exist). Returns the path."""
    import duckdb

    path = Path(path)
    frames = generate_frames(seed)
    con = duckdb.connect(str(path))
    try:
        for name, cols in SCHEMA.items():
            con.execute(f"CREATE TABLE {name} ({cols})")
            con.register("_frame", frames[name])
            con.execute(f"INSERT INTO {name} SELECT * FROM _frame")
            con.unregister("_frame")
        con.execute("CHECKPOINT")
    finally:
        con.close()
    return path
