"""The reference agent answers follow-ups from its memory; a variant that forgets the previous turn fails them.

Real LangGraph graphs with their checkpointer, in process, over the reference golden data's
conversations, scored by the rule-based scorers and folded per conversation."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.conversation import conversation_results
from harness.golden import load_golden
from harness.pipeline import evaluate
from harness.settings import HarnessConfig
from harness.versions.resolve import resolve

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def evaluation():
    cases = [c for c in load_golden([REPO / "golden_data" / "health_monitor.jsonl"]) if c.conversation is not None]
    versions = [resolve(f"agent.variants:{name}", REPO, name) for name in ("V1", "FORGETFUL")]
    return evaluate(HarnessConfig(concurrency=4, scorers=["correctness", "relevance"]), cases, versions)


def test_reference_data_holds_follow_ups(evaluation) -> None:
    cases = evaluation.cases
    assert len({c.conversation.id for c in cases}) >= 4
    assert {c.question for c in cases if c.conversation.turn > 1} >= {
        "And the day before?",
        "Which of those was the biggest?",
    }
    assert all(len(c.messages) == 1 for c in cases)  # a follow-up names nothing of what it follows


def test_v1_answers_every_turn_from_memory(evaluation) -> None:
    v1 = evaluation.versions[0]
    failing = {
        cid: {n: s.rationale for n, s in r.scores.items() if not s.passed}
        for cid, r in v1.results.items()
        if not r.pass_k
    }
    assert not failing
    assert v1.metric_estimate("conversation_pass_rate").value == 1.0


def test_a_variant_that_forgets_the_previous_turn_fails_the_follow_ups(evaluation) -> None:
    forgetful = evaluation.versions[1]
    verdicts = conversation_results(forgetful.results)
    assert verdicts and not any(v.passed for v in verdicts)
    assert forgetful.metric_estimate("conversation_pass_rate").value == 0.0
    for verdict in verdicts:  # the first turn needs no memory: only the follow-ups fail
        assert verdict.complete and f"{verdict.id}/turn-1" not in verdict.failed
        assert forgetful.results[verdict.failed[0]].scores["correctness"].passed is False


def test_v1_remembers_when_called_as_the_pyfunc_model_it_is_logged_as(tmp_path: Path) -> None:
    """A promotable run loads the logged agent back with `mlflow.pyfunc.load_model`, where the
    ChatAgent is called as a pyfunc model: the conversation id must still reach its memory."""
    import mlflow

    from agent.chat_agent import MODEL_CODE_PATH
    from agent.variants import V1
    from harness.runner import run_versions
    from harness.versions.resolve import load_pyfunc

    mlflow.pyfunc.save_model(
        tmp_path / "model",
        python_model=MODEL_CODE_PATH,
        model_config=V1.model_config,
        code_paths=[str(REPO / "agent")],
        pip_requirements=["mlflow"],
    )
    version = load_pyfunc(mlflow.pyfunc.load_model(str(tmp_path / "model")), "saved")
    cases = [c for c in load_golden([REPO / "golden_data" / "health_monitor.jsonl"]) if c.id.startswith("conv-001/")]
    [run] = run_versions([version], cases, concurrency=1, timeout_s=60)
    assert version.kind == "pyfunc"
    follow_up = run.output("conv-001/turn-2")
    assert follow_up.error is None and "2026-11-18" in follow_up.text and "no cost spike" in follow_up.text, follow_up
