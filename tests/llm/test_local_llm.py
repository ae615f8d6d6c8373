"""Every LLM judge adapter end-to-end against the packaged SmolLM2 server (real HTTP, real libraries).

SmolLM2-135M is far too small to judge: these tests prove the plumbing, and that whatever it
answers is either a well-formed verdict or an error score, never an error that passes.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from harness.commands.calibrate import load_labels
from harness.config import load_config
from harness.reports.terminal import gate_table
from harness.scorers.judge_specs import KINDS
from harness.scorers.relay import JudgeRelay, Upstream
from tests.llm.test_judge_failures import judge_of

ROOT = Path(__file__).resolve().parents[2]
# A good and a bad answer to the same question (cost spike), both with sources.
ANSWERS = [a for a in load_labels(ROOT / "golden_data" / "human_labels.jsonl") if a.id in ("hl-001", "hl-003")]


@pytest.fixture(scope="module")
def relay(local_llm):
    # A small model rambles; capping its answers keeps the suite within its time budget.
    relay = JudgeRelay(
        Upstream(local_llm.judge_model, "smollm2", local_llm.base_url, "unused"),
        None,
        timeout_s=60,
        retries=1,
        max_tokens=200,
    )
    yield relay
    relay.close()


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_adapter_end_to_end(relay, kind):
    judge = judge_of(kind, relay)
    calls = relay.calls
    for answer in ANSWERS:
        output = answer.output
        if kind == "mlflow.trajectory":  # it judges the route, which the labelled answers do not record
            output = replace(output, trajectory=[{"kind": "node", "name": "cost"}])
        score = judge.score(answer.case, output)
        assert score.applicable
        assert 0.0 <= score.value <= 1.0 and score.rationale
        if score.error:
            assert not score.passed and score.value == 0.0 and score.rationale.startswith("judge error: ")
    assert relay.calls > calls  # it really asked the model


def test_gate_table_reports_llm_judges_and_their_error_rate(local_llm, monkeypatch, tmp_path):
    from harness.golden import load_golden
    from harness.pipeline import evaluate
    from harness.versions.baseline import load_versions

    for name, value in local_llm.environ().items():
        monkeypatch.setenv(name, value)
    cfg = load_config(
        ROOT,
        {
            "agent": "tests.fixtures.toy_agents:good",
            "golden": ["tests/fixtures/toy.jsonl"],
            "judge_model": local_llm.judge_model,
            "judge_cache": False,
            "report_dir": str(tmp_path),
            "max_judge_error_rate": 1.0,
            "thresholds": {},
        },
    )
    evaluation = evaluate(cfg, load_golden(cfg.golden_paths)[:1], load_versions(cfg))
    scores = evaluation.candidate.results["toy-001"].scores
    assert {"llm_correctness", "llm_relevance", "llm_safety"} <= set(scores)
    for score in scores.values():
        assert not (score.error and score.passed)
    assert "judge_error_rate" in gate_table(evaluation.gate)
