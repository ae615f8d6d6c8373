"""The held-out paraphrase set: the reference agent answers questions worded unlike its golden set."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from agent.data import anomalies as A
from agent.data.golden import GOLDEN_PATH, PARAPHRASES_PATH, build_paraphrases, dumps
from harness.golden import load_golden


@pytest.fixture(scope="module")
def cases():
    return [json.loads(x) for x in Path(PARAPHRASES_PATH).read_text(encoding="utf-8").splitlines() if x.strip()]


def test_file_matches_the_builder():
    assert Path(PARAPHRASES_PATH).read_text(encoding="utf-8") == dumps(build_paraphrases()), (
        "golden_data/paraphrases.jsonl is out of date: run `python -m agent.data.golden`"
    )


def test_the_harness_reads_it_and_it_covers_every_domain(cases):
    assert len(load_golden([Path(PARAPHRASES_PATH)])) == len(cases)
    answered = [c for c in cases if c["expectations"]["expected_domains"]]
    refused = [c for c in cases if not c["expectations"]["expected_domains"]]
    assert len(answered) >= 25 and len(refused) >= 3
    per_domain = Counter(d for c in answered for d in c["expectations"]["expected_domains"])
    assert all(per_domain[d] >= 4 for d in A.DOMAINS), per_domain
    assert all(c["expectations"]["expected_facts"] for c in answered)
    assert any(c["expectations"].get("expected_refusal") for c in refused)


def test_no_question_is_also_in_the_golden_set(cases):
    from harness.golden import load_golden

    golden = {m["content"].lower() for case in load_golden([GOLDEN_PATH]) for m in case.messages}
    assert not [c["id"] for c in cases if c["inputs"]["messages"][-1]["content"].lower() in golden]


def test_the_top_spending_workspace_holds_in_the_data(store):
    top = store.query(
        "SELECT u.workspace_name FROM billing_usage u JOIN list_prices p USING (sku_name) "
        "GROUP BY 1 ORDER BY SUM(u.usage_quantity * p.price_usd_per_dbu) DESC LIMIT 1"
    )[0]
    assert top["workspace_name"] == A.COST_SPIKE["workspace"]


def test_reference_agent_answers_every_paraphrase(cases, engine, rule_failures):
    failures = {}
    for c in cases:
        r = engine.run(c["inputs"]["messages"])
        bad = rule_failures(c, r)
        if bad:
            failures[c["id"]] = {"question": c["inputs"]["messages"][-1]["content"], **bad}
    assert not failures, failures
