"""Every failure path of an LLM judge, against a real loopback endpoint that misbehaves on purpose:
each ends as passed=False, error=True with the reason as rationale, after a bounded number of tries."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from harness import HarnessError
from harness.config import load_config
from harness.golden import Case
from harness.judge_cache import JudgeCache
from harness.scorers.judge_specs import KINDS, JudgeSpec
from harness.scorers.judges import CLASSES, build_llm_judges, judge_class
from harness.scorers.llm import LLMJudge
from harness.scorers.relay import JudgeRelay, Upstream, resolve_upstream
from harness.versions.version import AgentOutput

CASE = Case(
    "cost-001",
    [{"role": "user", "content": "Why did costs spike yesterday?"}],
    {"expected_facts": ["nightly_customer_etl", "2026-11-19"], "guidelines": ["cites the tables it used"]},
)
OUTPUT = AgentOutput(
    "Costs spiked on 2026-11-19: nightly_customer_etl in prod-analytics used about 60,000 extra DBUs.",
    {
        "sources": [
            {
                "table": "system.billing.usage",
                "sql": "SELECT usage_date, SUM(dbus) FROM system.billing.usage GROUP BY 1",
            }
        ]
    },
    trajectory=[{"kind": "node", "name": "cost"}],  # the route the trajectory judge judges
)
INSTRUCTIONS = "Does the answer in {{ outputs }} address the question in {{ inputs }}? Answer yes or no."


def judge_of(kind: str, relay: JudgeRelay, name: str = "llm_correctness", repeats: int = 1) -> LLMJudge:
    return judge_class(kind)(name, JudgeSpec(kind, instructions=INSTRUCTIONS), relay, repeats)


def relay_to(url: str, cache: JudgeCache | None = None, timeout_s: float = 1.0, retries: int = 1) -> JudgeRelay:
    return JudgeRelay(Upstream("openai:/judge", "judge", url, "key"), cache, timeout_s, retries)


def test_every_configurable_kind_has_a_class() -> None:
    assert set(CLASSES) == KINDS


@pytest.mark.parametrize("kind", sorted(KINDS))
@pytest.mark.parametrize(
    ("mode", "expected"),
    [
        ("garbage", "unparseable judge answer (not JSON)"),
        ("refuse", "judge refused"),
        ("http500", "judge endpoint answered HTTP 500"),
        ("notjson", "judge endpoint answered non-JSON HTTP body"),
    ],
)
def test_bad_judge_answer_is_an_error_never_a_pass(broken_endpoint, kind, mode, expected):
    before = broken_endpoint.count(mode)
    score = judge_of(kind, relay_to(broken_endpoint.base_url(mode))).score(CASE, OUTPUT)
    assert (score.passed, score.error, score.value) == (False, True, 0.0)
    assert score.rationale.startswith("judge error: " + expected), score.rationale
    assert "(after 2 attempts)" in score.rationale
    # Bounded retries: the relay tried exactly retries + 1 times (one judge call for these kinds'
    # first step), not MLflow's ten-with-backoff.
    assert broken_endpoint.count(mode) - before == 2


@pytest.mark.parametrize("kind", ["deepeval.geval", "mlflow.correctness"])
def test_hanging_endpoint_times_out_as_an_error(broken_endpoint, kind):
    started = time.monotonic()
    score = judge_of(kind, relay_to(broken_endpoint.base_url("hang"), timeout_s=0.5, retries=1)).score(CASE, OUTPUT)
    assert score.error and not score.passed
    assert "judge endpoint timed out after 0.5 s (after 2 attempts)" in score.rationale
    assert time.monotonic() - started < 8


def test_wellformed_mlflow_verdict_passes_and_is_cached(broken_endpoint, tmp_path):
    cache = JudgeCache(tmp_path / "judge")
    relay = relay_to(broken_endpoint.base_url("yes"), cache)
    judge = judge_of("mlflow.relevance_to_query", relay, "llm_relevance")
    first = judge.score(CASE, OUTPUT)
    assert (first.passed, first.error, first.value) == (True, False, 1.0)
    assert first.rationale == "The response states the expected facts."
    calls = relay.calls
    again = judge.score(CASE, OUTPUT)
    assert again == first and relay.calls == calls and cache.hits == 1  # a rerun costs no judge call
    changed = judge.score(CASE, AgentOutput(OUTPUT.text + " Sources: system.billing.usage", OUTPUT.metadata))
    assert changed.passed and relay.calls == calls + 1  # another answer is another key


def test_judge_cache_off_and_repeats_call_again(broken_endpoint):
    relay = relay_to(broken_endpoint.base_url("yes"), cache=None)
    judge = judge_of("mlflow.safety", relay, "llm_safety", repeats=3)
    score = judge.score(CASE, OUTPUT)
    assert score.passed and relay.calls == 3
    assert judge.flip_rate == 0.0
    judge.score(CASE, OUTPUT)
    assert relay.calls == 6


def test_requests_are_temperature_zero_and_json_constrained(broken_endpoint):
    judge_of("mlflow.safety", relay_to(broken_endpoint.base_url("yes"))).score(CASE, OUTPUT)
    mode, body = broken_endpoint.requests[-1]
    assert mode == "yes" and body["temperature"] == 0 and body["model"] == "judge"
    assert body["response_format"]["type"] in ("json_schema", "json_object")


def test_gate_fails_on_judge_errors(broken_endpoint, monkeypatch, tmp_path):
    from harness.golden import load_golden
    from harness.pipeline import evaluate
    from harness.versions.baseline import load_versions

    monkeypatch.setenv("OPENAI_BASE_URL", broken_endpoint.base_url("garbage"))
    monkeypatch.setenv("OPENAI_API_KEY", "key")
    root = Path(__file__).resolve().parents[2]
    cfg = load_config(
        root,
        {
            "agent": "tests.fixtures.toy_agents:good",
            "golden": ["tests/fixtures/toy.jsonl"],
            "judge_model": "openai:/judge",
            "judge_cache": False,
            "judge_retries": 0,
            "report_dir": str(tmp_path),
            "thresholds": {},
        },
    )
    cases = load_golden(cfg.golden_paths)[:2]
    evaluation = evaluate(cfg, cases, load_versions(cfg))
    check = evaluation.gate.check("judge_error_rate<=0")
    # Every applicable LLM score is an error (evaluation.py also counts not-applicable ones in the denominator).
    assert not check.passed and check.value > 0
    assert not evaluation.gate.passed
    assert all(
        s.error and not s.passed
        for r in evaluation.candidate.results.values()
        for s in r.scores.values()
        if s.judge != "rule" and s.applicable
    )


def test_unsupported_judge_model_is_one_line():
    with pytest.raises(HarnessError, match=r"provider 'anthropic' is not supported"):
        resolve_upstream("anthropic:/claude", {})
    with pytest.raises(HarnessError, match="not a 'provider:/model' URI"):
        resolve_upstream("gpt-4o", {})
    with pytest.raises(HarnessError, match="set OPENAI_API_KEY"):
        resolve_upstream("openai:/gpt-4o-mini", {})


def test_judges_table_is_validated(tmp_path, monkeypatch):
    pyproject = tmp_path / "pyproject.toml"
    pyproject.write_text(
        '[tool.harness]\njudge_model = "openai:/m"\n[tool.harness.judges.llm_correctness]\nkind = '
        '"deepeval.geval"\nevaluation_step = ["x"]\n'
    )
    with pytest.raises(HarnessError, match=r"judges.llm_correctness: unknown key 'evaluation_step'"):
        load_config(pyproject=pyproject, environ={})
    pyproject.write_text(
        '[tool.harness]\n[tool.harness.judges.llm_safety]\nkind = "mlflow.make_judge"\ninstructions = "no template"\n'
    )
    with pytest.raises(HarnessError, match="must use"):
        load_config(pyproject=pyproject, environ={})
    pyproject.write_text(
        '[tool.harness]\njudge_model = "openai:/m"\n[tool.harness.judges.llm_correctness]\nkind = '
        '"mlflow.correctness"\nthreshold = 0.7\n'
    )
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:9/v1")
    cfg = load_config(pyproject=pyproject, environ={})
    judges = {j.name: j for j in build_llm_judges(cfg)}
    assert judges["llm_correctness"].kind == "mlflow.correctness" and judges["llm_correctness"].spec.threshold == 0.7
