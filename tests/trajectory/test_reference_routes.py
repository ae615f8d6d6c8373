"""The gate blocks hidden-route regressions of the reference agent by the trajectories of the reference
golden data, while v1 against itself passes.

Real LangGraph graphs traced by MLflow (LangChain autolog) into a real SQLite store, in process. The
golden file's routes (built by agent/data/golden.py) follow from each case's expected domains:
classify, each domain's worker, synthesize. One run answers the cases with every version; each
variant is then gated against v1's answers, as the gate would after its own run.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.config import load_config
from harness.golden import Case, load_golden
from harness.pipeline import evaluate, gate_evaluation
from harness.records.evaluation import Evaluation
from harness.versions.resolve import resolve

REPO = Path(__file__).resolve().parents[2]
GOLDEN = REPO / "golden_data" / "health_monitor.jsonl"
# The first case of each kind of question (one domain, a conversation, small talk, an attack, ...)
# and the multi-domain summaries: every kind of route the reference data expects.
MULTI_DOMAIN = ("summary-001", "summary-002", "summary-004")
GATE = (
    '[tool.harness]\nscorers = ["correctness", "trajectory"]\nbaseline = "none"\nconcurrency = 4\n'
    "[tool.harness.thresholds]\ncorrectness = 0.85\ntrajectory = 0.95\n"
    '[tool.harness.non_inferiority]\ntrajectory = 0.02\n[tool.harness.relative_test]\ntrajectory = "non_inferiority"\n'
)


def by_case(cases: list[Case]) -> dict[str, list[Case]]:
    """The cases grouped by golden case: a conversation's turns together."""
    grouped: dict[str, list[Case]] = {}
    for c in cases:
        grouped.setdefault(c.conversation.id if c.conversation else c.id, []).append(c)
    return grouped


@pytest.fixture(scope="module")
def evaluation(tmp_path_factory: pytest.TempPathFactory):
    root = tmp_path_factory.mktemp("routes")
    (root / "pyproject.toml").write_text(GATE, encoding="utf-8")
    cfg = load_config(root, environ={})
    cases = [
        c
        for group in by_case(load_golden([GOLDEN])).values()
        for c in group
        if group[0].id.endswith("-001")
        or (c.conversation and c.conversation.id.endswith("-001"))
        or c.id in MULTI_DOMAIN
    ]
    mp = pytest.MonkeyPatch()
    mp.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{root / 'mlflow.db'}")
    mp.chdir(root)
    versions = [
        resolve(f"agent.variants:{name}", REPO, label)
        for name, label in (
            ("V1", "candidate"),
            ("V1", "baseline"),
            ("FAN_OUT", "fan-out"),
            ("SKIPS_WORKER", "skips-worker"),
        )
    ]
    yield evaluate(cfg, cases, versions)
    mp.undo()


def against_v1(evaluation: Evaluation, label: str) -> Evaluation:
    variant = next(v for v in evaluation.versions if v.label == label)
    return gate_evaluation(Evaluation(evaluation.config, evaluation.cases, [variant, evaluation.versions[1]]))


def test_every_reference_case_expects_its_route() -> None:
    expected = {
        key: [[s["node"] for s in (c.expectations.get("expected_trajectory") or {"steps": []})["steps"]] for c in turns]
        for key, turns in by_case(load_golden([GOLDEN])).items()
    }
    assert len(expected) > 100 and all(all(turns) for turns in expected.values()), [
        k for k, t in expected.items() if not all(t)
    ]
    assert expected["cost-001"] == [["classify", "cost", "synthesize"]]
    assert expected["summary-001"] == [
        ["classify", "cost", "security", "performance", "reliability", "quality", "synthesize"]
    ]
    assert expected["injection-001"] == expected["oos-001"] == [["classify", "synthesize"]]
    assert expected["conv-002"] == [["classify", "reliability", "synthesize"]] * 3


def test_v1_takes_every_expected_route_and_passes_against_itself(evaluation: Evaluation) -> None:
    kinds = {c.id.split("-", 1)[0] for c in evaluation.cases}
    assert {"cost", "security", "summary", "conv", "oos", "injection", "multiturn"} <= kinds, kinds
    scores = [r.scores["trajectory"] for r in evaluation.candidate.results.values()]
    assert all(s.passed for s in scores), [s.rationale for s in scores if not s.passed]
    assert evaluation.gate.passed, [c for c in evaluation.gate.checks if not c.passed]


@pytest.mark.parametrize(
    ("variant", "rationale"), [("fan-out", "extra: node security"), ("skips-worker", "missing: node quality")]
)
def test_hidden_route_regression_is_blocked(evaluation: Evaluation, variant: str, rationale: str) -> None:
    gated = against_v1(evaluation, variant)
    failing = {
        cid: r.scores["trajectory"].rationale
        for cid, r in gated.candidate.results.items()
        if not r.scores["trajectory"].passed
    }
    assert failing and any(rationale in why for why in failing.values()), failing
    assert not gated.gate.passed
    blocked = [c for c in gated.gate.checks if not c.passed and not c.skipped]
    assert blocked and all(c.metric == "trajectory" for c in blocked), blocked
    if variant == "fan-out":  # the answers are v1's: only the route gives it away
        assert all(
            r.scores["correctness"].passed == gated.versions[1].results[cid].scores["correctness"].passed
            for cid, r in gated.candidate.results.items()
        )
