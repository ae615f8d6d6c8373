"""The golden file agrees with the anomaly module, the data, and the reference agent."""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path

import pytest

from agent.data import anomalies as A
from agent.data.golden import GOLDEN_PATH, build_cases, dumps

TAG_RE = re.compile(r"^[A-Za-z0-9_]+$")
ALLOWED_GUIDELINES = re.compile(
    r"^(cites the tables it used|gives dates as YYYY-MM-DD|quantifies the finding|is at most \d+ words|"
    r"refuses politely|says what it can help with|does not reveal emails|names the domain)$"
)


def records():
    return [json.loads(line) for line in Path(GOLDEN_PATH).read_text(encoding="utf-8").splitlines() if line.strip()]


@pytest.fixture(scope="module")
def cases():
    """The single-turn cases."""
    return [r for r in records() if "turns" not in r]


@pytest.fixture(scope="module")
def conversations():
    """The multi-turn cases."""
    return [r for r in records() if "turns" in r]


def test_file_matches_the_builder():
    assert Path(GOLDEN_PATH).read_text(encoding="utf-8") == dumps(build_cases()), (
        "golden_data/health_monitor.jsonl is out of date: run `python -m agent.data.golden`"
    )


def test_format(cases):
    assert len(cases) >= 60
    assert len({c["id"] for c in cases}) == len(cases)
    for c in cases:
        assert re.fullmatch(r"[a-z]+-\d{3}", c["id"]), c["id"]
        assert set(c) <= {"id", "inputs", "expectations", "tags", "params"}
        msgs = c["inputs"]["messages"]
        assert msgs and msgs[-1]["role"] == "user" and all(m["role"] in ("user", "assistant") for m in msgs)
        e = c["expectations"]
        assert isinstance(e["expected_facts"], list) and isinstance(e["expected_domains"], list)
        assert set(e["expected_domains"]) <= set(A.DOMAINS)
        assert set(e) <= {
            "expected_facts",
            "expected_domains",
            "must_not_contain",
            "guidelines",
            "expected_refusal",
            "expected_response",
            "expected_trajectory",
        }
        assert all(ALLOWED_GUIDELINES.match(g) for g in e.get("guidelines", [])), c["id"]
        assert c["tags"] and all(TAG_RE.match(t) for t in c["tags"])
        if e.get("expected_refusal"):
            assert e["expected_domains"] == []


def test_conversation_format(conversations):
    assert len(conversations) >= 4
    for c in conversations:
        assert re.fullmatch(r"[a-z]+-\d{3}", c["id"]), c["id"]
        assert set(c) <= {"id", "turns", "tags", "params"} and len(c["turns"]) >= 2
        assert "conversation" in c["tags"]
        for t in c["turns"]:
            assert set(t) == {"inputs", "expectations"}
            assert [m["role"] for m in t["inputs"]["messages"]] == ["user"]
            assert set(t["expectations"]["expected_domains"]) <= set(A.DOMAINS) and t["expectations"]["expected_facts"]


def test_enough_cases_with_facts_for_the_shipped_gate_to_block_a_drop_of_005():
    """A correctness drop of 0.05 is blocked only when 5% of the cases with facts is at least as many
    wrong cases as the gate's exact one-sided test needs, Holm-corrected over every gated margin
    (``benchmarks/gate_power.py`` measures it). The gate counts what it scores: each turn of a
    conversation is a case."""
    from harness.config import load_config
    from harness.golden import load_golden
    from harness.plan import cases_to_detect

    cfg = load_config(Path(GOLDEN_PATH).parents[1], environ={})
    needed = cases_to_detect(0.05, tests=max(1, len(cfg.non_inferiority)), sd=0.0)
    with_facts = sum(bool(c.expectations.get("expected_facts")) for c in load_golden(cfg.golden_paths))
    assert needed is not None and with_facts >= needed, f"{with_facts} cases with expected_facts, {needed} needed"


def test_coverage(cases):
    tags = Counter(t for c in cases for t in c["tags"])
    for t in [*A.DOMAINS, "multi_domain", "multi_turn", "out_of_scope", "injection", "secret_extraction", "smoke"]:
        assert tags[t] >= 3, t
    assert sum(len(c["inputs"]["messages"]) > 1 for c in cases) >= 5


def test_anomaly_facts_come_from_the_anomaly_module(cases):
    facts = A.expected_facts()
    by_id = {c["id"]: c["expectations"]["expected_facts"] for c in cases}
    assert by_id["cost-001"] == facts["cost_spike"]
    assert by_id["security-001"] == facts["brute_force"]
    assert by_id["security-005"] == facts["token_leak"]
    assert by_id["performance-001"] == facts["slow_warehouse"]
    assert by_id["reliability-001"] == facts["flaky_job"]
    assert by_id["quality-001"] == facts["stale_table"]
    assert by_id["quality-003"] == facts["null_spike"]
    for c in cases:  # the token value must be guarded wherever it could come up
        if {"security", "summary", "injection", "secret_extraction"} & set(c["tags"]):
            assert A.TOKEN_LEAK["token"] in c["expectations"].get("must_not_contain", []), c["id"]


def test_anomaly_facts_hold_in_the_data(store):
    cs, bf, fj, ns = A.COST_SPIKE, A.BRUTE_FORCE, A.FLAKY_JOB, A.NULL_SPIKE
    top = store.query(
        "SELECT job_name, workspace_name FROM billing_usage WHERE usage_date = ? AND job_name IS NOT NULL "
        "ORDER BY usage_quantity DESC LIMIT 1",
        [cs["date"]],
    )[0]
    assert (top["job_name"], top["workspace_name"]) == (cs["job"], cs["workspace"])
    n = store.query(
        "SELECT COUNT(*) n FROM audit_events WHERE source_ip = ? AND status_code = ? AND CAST(event_time AS DATE) = ?",
        [bf["ip"], bf["status_code"], bf["date"]],
    )[0]["n"]
    assert n == bf["failed_logins"]
    r = store.query(
        "SELECT COUNT(*) runs, COUNT(*) FILTER (WHERE result_state = 'FAILED') f FROM job_runs "
        "WHERE job_name = ? AND CAST(start_time AS DATE) = ?",
        [fj["job"], fj["date"]],
    )[0]
    assert (r["f"], r["runs"]) == (fj["failed_runs"], fj["total_runs"])
    r = store.query(
        "SELECT null_rate FROM column_null_rates WHERE table_name = ? AND column_name = ? AND check_date = ?",
        [ns["table"], ns["column"], ns["date"]],
    )[0]
    assert f"{r['null_rate'] * 100:.1f}%" in A.expected_facts()["null_spike"]


def test_reference_agent_passes_every_golden_case(cases, engine, rule_failures):
    failures = {}
    for c in cases:
        r = engine.run(c["inputs"]["messages"], user_id=(c.get("params") or {}).get("user_id"))
        bad = rule_failures(c, r)
        if bad:
            failures[c["id"]] = bad
    assert not failures, failures


def test_reference_agent_answers_every_turn_of_each_conversation_from_memory(conversations, engine, rule_failures):
    failures = {}
    for c in conversations:
        for k, t in enumerate(c["turns"], start=1):  # each turn sends only its own question, in one conversation
            r = engine.run(t["inputs"]["messages"], conversation_id=f"golden-{c['id']}")
            bad = rule_failures({"id": f"{c['id']}/turn-{k}", **t}, r)
            if bad:
                failures[f"{c['id']}/turn-{k}"] = bad
    assert not failures, failures


def test_degraded_agent_is_measurably_worse_but_safe(cases, rule_failures):
    from agent.graph import HealthMonitor

    h = HealthMonitor("degraded")
    wrong = unsafe = 0
    for c in cases:
        r = h.run(c["inputs"]["messages"])
        s = rule_failures(c, r)
        wrong += "correctness" in s
        unsafe += "safety" in s
    assert wrong / len(cases) > 0.5 and unsafe == 0
