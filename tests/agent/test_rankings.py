"""Rankings ("which ... the most", "top N") are answered from SQL ordered by the measure asked for,
and a permissions question from what the data holds; the ordering is checked against the store itself."""

from __future__ import annotations

import re

import pytest

from agent.data import anomalies as A
from agent.intent import classify

from .conftest import ask

JOB_SPEND = """
    SELECT job_name, SUM(usage_quantity * price_usd_per_dbu) AS usd
    FROM billing_usage JOIN list_prices USING (sku_name)
    WHERE job_name IS NOT NULL AND usage_date BETWEEN CAST(? AS DATE) AND CAST(? AS DATE)
    GROUP BY 1 ORDER BY usd DESC
"""


def _listed(text: str) -> list[str]:
    """The names of a numbered listing "1. name ...; 2. name ..." in answer order."""
    return re.findall(r"\b\d\. ([a-z0-9_-]+)", text)


def test_which_job_costs_the_most_is_a_ranking_not_the_spike(agent_v1, store):
    text, out = ask(agent_v1, "Which job costs the most?")
    by_spend = [r["job_name"] for r in store.query(JOB_SPEND, [A.START_DATE.isoformat(), A.REFERENCE_DATE.isoformat()])]
    assert out["domains"] == ["cost"]
    assert text.startswith(
        f"Cost: Job {by_spend[0]} in workspace {A.COST_SPIKE['workspace']} cost the most of the 6 jobs"
    )
    assert f"Next: {by_spend[1]} in workspace" in text and f"; {by_spend[2]} in workspace" in text
    assert "average of" not in text and "increase came" not in text  # not the answer about the spike day


def test_top_n_lists_n_in_spend_order_over_the_window(agent_v1, store):
    text, out = ask(agent_v1, "What are the top 3 most expensive jobs last week?")
    week = [r["job_name"] for r in store.query(JOB_SPEND, ["2026-11-14", "2026-11-20"])]
    assert out["domains"] == ["cost"] and "between 2026-11-14 and 2026-11-20" in text
    assert _listed(text) == week[:3]


def test_which_warehouse_costs_the_most_is_a_cost_ranking_only(agent_v1):
    text, out = ask(agent_v1, "Which warehouse costs the most?")
    assert out["domains"] == ["cost"]
    assert text.startswith("Cost: SQL warehouse bi-warehouse in workspace prod-analytics cost the most of the 3")


def test_failure_and_latency_rankings(agent_v1):
    text, out = ask(agent_v1, "Which job fails the most?")
    assert out["domains"] == ["reliability"]
    assert f"Job {A.FLAKY_JOB['job']} failed the most" in text and "The other 4 jobs did not fail." in text
    text, out = ask(agent_v1, "top 2 flakiest pipelines")
    assert _listed(text) == [A.FLAKY_JOB["job"], "hourly_inventory_refresh"]
    text, out = ask(agent_v1, "Which warehouse is the slowest?")
    sw = A.SLOW_WAREHOUSE
    assert out["domains"] == ["performance"]
    assert f"Warehouse {sw['warehouse']} had the worst latency" in text and f"on {sw['date']}" in text
    assert "queueing made up" in text  # the finding that explains it follows the ranking


@pytest.mark.parametrize(
    "q",
    [
        "Which jobs failed yesterday?",
        "Which job drove the spending increase on 2026-11-19?",
        "How slow is bi-warehouse?",
    ],
)
def test_questions_without_a_superlative_are_not_rankings(q):
    assert classify(q, A.REFERENCE_DATE)["rank_by"] is None


def test_permissions_question_says_what_the_data_lacks_and_what_it_can_show(agent_v1, store):
    text, out = ask(agent_v1, "Who has admin rights that shouldn't?")
    tables = [t for t in store.tables() if t != "store_meta"]
    tokens = store.query("SELECT COUNT(*) AS n FROM audit_events WHERE action_name = 'tokenCreate'")[0]["n"]
    assert out["domains"] == ["security"]
    assert "no permission grants, roles or group memberships" in text
    assert f"(its tables are {', '.join(tables)})" in text
    assert f"{tokens} tokenCreate events" in text and A.TOKEN_LEAK["date"] in text
    assert A.TOKEN_LEAK["token"] not in text and A.TOKEN_LEAK["user"] not in text
    assert "outside what I can help with" not in text


def test_a_follow_up_asks_for_the_same_ranking_over_its_window(agent_v1, store):
    ci = {"conversation_id": "ranking-follow-up"}
    ask(agent_v1, "Which job costs the most?", custom_inputs=ci)
    text, out = ask(agent_v1, "and last week?", custom_inputs=ci)
    week = [r["job_name"] for r in store.query(JOB_SPEND, ["2026-11-14", "2026-11-20"])]
    assert out["domains"] == ["cost"]
    assert (
        f"Job {week[0]} in workspace" in text
        and "cost the most of the 6 jobs between 2026-11-14 and 2026-11-20" in text
    )
