"""The optional LLM trajectory judge (`llm_trajectory`): reference-free, "was this route reasonable for
the question", through the judge relay like every LLM judge, and calibrated like them.

A real loopback OpenAI-compatible endpoint (tests/llm/endpoints.py) answers as MLflow's judges expect;
MLflow's `make_judge` builds the prompt and parses the verdict.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from harness import HarnessError
from harness.commands.calibrate import LabelledAnswer, calibrate
from harness.config import load_config
from harness.golden import Case
from harness.scorers import scorer_names
from harness.scorers.judge_specs import JudgeSpec
from harness.scorers.judges import build_llm_judges, judge_class
from harness.scorers.relay import JudgeRelay, Upstream
from harness.versions.version import AgentOutput
from tests.llm.endpoints import BrokenJudgeEndpoint

QUESTION = [{"role": "user", "content": "Why did costs spike yesterday?"}]
ROUTE = [{"kind": "node", "name": "classify"}, {"kind": "node", "name": "cost"}, {"kind": "node", "name": "synthesize"}]
TRACED = Case("cost-001", QUESTION, {"expected_trajectory": {"steps": [{"node": "cost"}], "mode": "superset"}})
UNTRACED = Case("cost-002", QUESTION, {"expected_facts": ["nightly_customer_etl"]})
ANSWER = "Costs spiked on 2026-11-19: nightly_customer_etl used about 60,000 extra DBUs."


@pytest.fixture(scope="module")
def endpoint() -> Iterator[BrokenJudgeEndpoint]:
    served = BrokenJudgeEndpoint(hang_s=1.0)
    yield served
    served.close()


def judge(endpoint: BrokenJudgeEndpoint, mode: str = "yes"):
    relay = JudgeRelay(Upstream("openai:/judge", "judge", endpoint.base_url(mode), "key"), None, 5.0, 0)
    return judge_class("mlflow.trajectory")("llm_trajectory", JudgeSpec("mlflow.trajectory"), relay)


def config(tmp_path: Path, judges: str = ""):
    (tmp_path / "pyproject.toml").write_text(
        f'[tool.harness]\njudge_model = "openai:/judge"\nbaseline = "none"\n{judges}', encoding="utf-8"
    )
    return load_config(tmp_path, environ={})


def test_the_judge_runs_only_where_the_judges_table_names_it(tmp_path: Path, endpoint: BrokenJudgeEndpoint) -> None:
    relay = judge(endpoint).relay
    assert "llm_trajectory" not in [j.name for j in build_llm_judges(config(tmp_path), relay)]
    assert "llm_trajectory" not in scorer_names(config(tmp_path))
    named = config(tmp_path, "[tool.harness.judges.llm_trajectory]\nthreshold = 0.5\n")
    assert "llm_trajectory" in [j.name for j in build_llm_judges(named, relay)]
    assert "llm_trajectory" in scorer_names(named)
    with pytest.raises(HarnessError, match=r"llm_trajectory: 'instructions' must use"):
        config(tmp_path, '[tool.harness.judges.llm_trajectory]\ninstructions = "Was it fine?"\n')


def test_the_judge_sees_the_question_and_the_route_and_its_verdict_decides(endpoint: BrokenJudgeEndpoint) -> None:
    scorer = judge(endpoint)
    assert scorer.reads_trajectory  # so the runner traces the answers it judges
    score = scorer.score(TRACED, AgentOutput(ANSWER, {}, trajectory=ROUTE))
    assert (score.value, score.passed, score.error) == (1.0, True, False), score.rationale
    prompt = json.dumps(endpoint.requests[-1][1])
    assert "Why did costs spike yesterday?" in prompt and "node cost" in prompt and "route" in prompt
    refused = judge(endpoint, "refuse").score(TRACED, AgentOutput(ANSWER, {}, trajectory=ROUTE))
    assert not refused.passed and refused.error  # a judge failure is never a pass


def test_no_route_fails_where_the_case_is_traced_and_is_skipped_elsewhere(endpoint: BrokenJudgeEndpoint) -> None:
    scorer = judge(endpoint)
    before = len(endpoint.requests)
    not_traced = scorer.score(TRACED, AgentOutput(ANSWER, {}))
    assert not not_traced.passed and "not traced" in not_traced.rationale
    assert not scorer.score(UNTRACED, AgentOutput(ANSWER, {})).applicable
    assert len(endpoint.requests) == before  # neither asked the judge


def test_the_judge_is_calibrated_on_the_trajectory_labels(tmp_path: Path, endpoint: BrokenJudgeEndpoint) -> None:
    answers = [
        LabelledAnswer("good", TRACED, AgentOutput(ANSWER, {}, trajectory=ROUTE), {"trajectory": True}),
        LabelledAnswer("wasteful", TRACED, AgentOutput(ANSWER, {}, trajectory=ROUTE * 3), {"trajectory": False}),
        LabelledAnswer("other", UNTRACED, AgentOutput(ANSWER, {}), {"correctness": True}),
    ]
    (row,) = calibrate(config(tmp_path), answers, [judge(endpoint)])  # a judge that says yes to everything
    assert (row.judge, row.metric, row.n) == ("llm_trajectory", "trajectory", 2)
    assert row.false_pass.value == 1.0 and row.disagreements[0].startswith("wasteful: human fail, judge pass")
