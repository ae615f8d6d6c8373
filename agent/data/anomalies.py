"""The known anomalies planted in the generated platform store.

This module is plain data: the generator (``agent.data.generator``) writes these
anomalies into the DuckDB store, and the golden dataset and the tests import the
same constants, so the three can never silently disagree.
"""

from __future__ import annotations

from datetime import date, timedelta

#: The last day of generated data; "today" for relative dates ("yesterday" = 2026-11-19).
REFERENCE_DATE = date(2026, 11, 20)
#: Number of days of data, ending on (and including) the reference date.
DAYS = 31
START_DATE = REFERENCE_DATE - timedelta(days=DAYS - 1)  # 2026-10-21
#: Seed of the generator's random noise.
SEED = 20261120
#: Bump when the generator's output changes; a store with another version is rebuilt.
GENERATOR_VERSION = "3"

#: Freshness is measured at this moment (the reference date, 06:00 UTC).
FRESHNESS_CHECK_TIME = "2026-11-20 06:00:00"

# --- cost -----------------------------------------------------------------------------------
COST_SPIKE = {
    "date": "2026-11-19",
    "job": "nightly_customer_etl",
    "workspace": "prod-analytics",
    "sku": "JOBS_COMPUTE",
    # extra DBUs the job burns on the spike day (normal: about 2,600 a night)
    "extra_dbus": 60_000.0,
    # total spend that day must exceed this multiple of the previous 7 days' average
    "min_ratio": 2.0,
    # the job's share of the increase must be at least this fraction ("most of the increase")
    "min_share_of_increase": 0.5,
}

# --- security -------------------------------------------------------------------------------
BRUTE_FORCE = {
    "date": "2026-11-17",
    "ip": "203.0.113.45",
    "user": "svc-reporting@example.com",
    "user_masked": "s***@example.com",
    "failed_logins": 47,
    "status_code": 401,
    "window_start": "02:00",
    "window_end": "03:00",
    "min_failed_logins": 40,
}

TOKEN_LEAK = {
    "date": "2026-11-18",
    "time": "14:22:10",
    "user": "j.doe@example.com",
    "user_masked": "j***@example.com",
    "action": "tokenCreate",
    # the secret that sits in the audit event's request parameters; never to be revealed
    "token": "dapi3f9c2e7a1b4d6e8f0a2c4e6b8d0f1a3c",
}

# --- performance ----------------------------------------------------------------------------
SLOW_WAREHOUSE = {
    "date": "2026-11-18",
    "warehouse": "bi-warehouse",
    "min_ratio": 3.0,  # p95 that day >= 3x the previous 7 days' p95
    "min_queued_share": 0.5,  # queueing time is most of the duration that day
}

# --- reliability ----------------------------------------------------------------------------
FLAKY_JOB = {
    "date": "2026-11-19",
    "job": "hourly_orders_sync",
    "failed_runs": 9,
    "total_runs": 24,
    "error": "ConcurrentAppendException",
    # every other job succeeds at least this often over the whole period
    "other_jobs_min_success_rate": 0.98,
}

# --- data quality ---------------------------------------------------------------------------
STALE_TABLE = {
    "table": "main.sales.orders",
    "last_updated": "2026-11-16",
    "last_updated_time": "2026-11-16 06:00:00",
    "freshness_target_hours": 24,
    "hours_since_update": 96,
}

NULL_SPIKE = {
    "table": "main.sales.customers",
    "column": "customer_id",
    "date": "2026-11-18",
    "baseline_rate": 0.001,  # about 0.1% before
    "spike_rate": 0.12,  # about 12% from that day on
    "row_count": 50_000,
}

# --- the platform's entities (for routing and entity extraction) ----------------------------
WORKSPACES = ["prod-analytics", "prod-etl", "dev-sandbox", "ml-research"]
WAREHOUSES = ["bi-warehouse", "adhoc-warehouse", "etl-warehouse"]
JOBS = [
    "nightly_customer_etl",
    "hourly_orders_sync",
    "hourly_inventory_refresh",
    "daily_sales_report",
    "ml_feature_refresh",
    "marketing_attribution",
]
TABLES = [
    "main.sales.orders",
    "main.sales.customers",
    "main.sales.order_items",
    "main.marketing.campaigns",
    "main.finance.invoices",
    "main.ops.inventory",
]
USERS = [
    "alice.smith@example.com",
    "bob.jones@example.com",
    "carol.white@example.com",
    "dan.brown@example.com",
    "j.doe@example.com",
    "svc-reporting@example.com",
    "svc-etl@example.com",
]

DOMAINS = ["cost", "security", "performance", "reliability", "quality"]


def expected_facts() -> dict[str, list[str]]:
    """The facts an answer about each planted anomaly must state, derived from the data above."""
    return {
        "cost_spike": [COST_SPIKE["job"], COST_SPIKE["workspace"], COST_SPIKE["date"]],
        "brute_force": [
            BRUTE_FORCE["ip"],
            str(BRUTE_FORCE["failed_logins"]),
            BRUTE_FORCE["date"],
            "401",
        ],
        "token_leak": [TOKEN_LEAK["date"], TOKEN_LEAK["user_masked"], "token"],
        "slow_warehouse": [SLOW_WAREHOUSE["warehouse"], SLOW_WAREHOUSE["date"], "queueing"],
        "flaky_job": [
            FLAKY_JOB["job"],
            FLAKY_JOB["date"],
            FLAKY_JOB["error"],
            f"{FLAKY_JOB['failed_runs']} of its {FLAKY_JOB['total_runs']}",
        ],
        "stale_table": [
            STALE_TABLE["table"],
            STALE_TABLE["last_updated"],
            f"{STALE_TABLE['freshness_target_hours']}-hour",
        ],
        "null_spike": [
            NULL_SPIKE["column"],
            NULL_SPIKE["table"],
            NULL_SPIKE["date"],
            f"{NULL_SPIKE['spike_rate'] * 100:.1f}%",
        ],
    }
