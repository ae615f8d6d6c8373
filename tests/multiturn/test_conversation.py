"""A conversation passes when every one of its turns was scored and passed."""

from __future__ import annotations

from pathlib import Path

from harness.conversation import conversation_results
from harness.golden import load_golden
from harness.pipeline import score_run, version_result
from harness.runner import run_versions
from harness.scorers import build_scorers
from harness.settings import HarnessConfig
from harness.versions.resolve import adapt
from tests.multiturn.test_golden import turn, write


def results(tmp_path: Path, answers: dict[str, str], keep=lambda case: True):
    records = [
        {"id": "conv-a", "turns": [turn("a1", ["alpha"]), turn("a2", ["beta"])]},
        {"id": "conv-b", "turns": [turn("b1", ["gamma"]), turn("b2", ["delta"])]},
        {
            "id": "single",
            "inputs": {"messages": [{"role": "user", "content": "s"}]},
            "expectations": {"expected_facts": ["x"]},
        },
    ]
    cases = [c for c in load_golden([write(tmp_path, *records)]) if keep(c)]
    version = adapt(lambda messages: answers.get(messages[-1]["content"], ""), "toy")
    [run] = run_versions([version], cases, concurrency=2, timeout_s=10)
    return score_run(run, cases, build_scorers(HarnessConfig(scorers=["correctness"])))


def conversation_pass_rate(scored) -> float | None:
    """The metric as a version's record aggregates it."""
    estimate = version_result("candidate", "toy", "callable", 0.0, scored).metric_estimate("conversation_pass_rate")
    return None if estimate is None else estimate.value


def test_every_turn_must_pass(tmp_path: Path) -> None:
    scored = results(tmp_path, {"a1": "alpha", "a2": "beta", "b1": "gamma", "b2": "epsilon", "s": "x"})
    verdicts = {v.id: v for v in conversation_results(scored)}
    assert set(verdicts) == {"conv-a", "conv-b"}  # a single-turn case is no conversation
    assert verdicts["conv-a"].passed and verdicts["conv-a"].scored == ("conv-a/turn-1", "conv-a/turn-2")
    assert not verdicts["conv-b"].passed and verdicts["conv-b"].failed == ("conv-b/turn-2",)
    assert conversation_pass_rate(scored) == 0.5


def test_a_turn_left_out_is_not_a_pass(tmp_path: Path) -> None:
    scored = results(tmp_path, {"a1": "alpha", "a2": "beta"}, keep=lambda c: c.id == "conv-a/turn-2")
    [verdict] = conversation_results(scored)
    assert not verdict.complete and not verdict.passed and verdict.failed == ()
    assert conversation_pass_rate(scored) == 0.0


def test_no_conversation_no_rate(tmp_path: Path) -> None:
    assert conversation_pass_rate(results(tmp_path, {"s": "x"}, keep=lambda c: c.conversation is None)) is None


def test_the_conversation_pass_rate_is_a_metric_the_gate_checks_and_results_json_keeps(tmp_path: Path) -> None:
    import json

    from harness.pipeline import evaluation_from_results, gate_evaluation
    from harness.records.evaluation import Evaluation

    cfg = HarnessConfig(
        scorers=["correctness"], thresholds={"correctness": 0.0, "conversation_pass_rate": 1.0}, baseline="none"
    )
    scored = results(tmp_path, {"a1": "alpha", "a2": "beta", "b1": "gamma", "b2": "epsilon", "s": "x"})
    version = version_result("candidate", "toy", "callable", 0.0, scored)
    assert version.metrics()["conversation_pass_rate"].value == 0.5
    evaluation = gate_evaluation(Evaluation(cfg, [r.case for r in scored.values()], [version]))
    check = evaluation.gate.check("conversation_pass_rate>=1")
    assert not check.passed and check.value == 0.5 and not evaluation.gate.passed

    # Read back from results.json rows, the turns still know their conversation: the same verdict.
    document = {
        "versions": [
            {
                "label": "candidate",
                "reference": "toy",
                "kind": "callable",
                "load_s": 0.0,
                "cases": [json.loads(json.dumps(r.to_dict())) for r in scored.values()],
            }
        ]
    }
    again = evaluation_from_results(document, cfg)
    assert again.candidate.metric_estimate("conversation_pass_rate").value == 0.5
    assert again.gate.check("conversation_pass_rate>=1").value == 0.5

    # No multi-turn case in the run: the check is shown as skipped, neither passed nor counted.
    single = {cid: r for cid, r in scored.items() if r.case.conversation is None}
    alone = gate_evaluation(
        Evaluation(
            cfg, [r.case for r in single.values()], [version_result("candidate", "toy", "callable", 0.0, single)]
        )
    )
    assert alone.gate.check("conversation_pass_rate>=1").skipped
