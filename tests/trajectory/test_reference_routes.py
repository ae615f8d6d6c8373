"""The gate blocks hidden-route regressions of the reference agent by its trajectories, on reference cases.

Real LangGraph graphs traced by MLflow (LangChain autolog) into a real SQLite store, in process. The
route each case expects follows from its expected domains: classify, each domain's worker, synthesize.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.config import load_config
from harness.evaluation import evaluate
from harness.golden import load_golden, parse_case
from harness.versions import resolve

REPO = Path(__file__).resolve().parents[2]
CASES = ("cost-001", "quality-001", "summary-001", "summary-004", "injection-001")


def route(domains: list[str]) -> dict:
    steps = [{"node": "classify"}, *({"node": d} for d in domains), {"node": "synthesize"}]
    return {"steps": steps, "mode": "strict" if len(domains) <= 1 else "any_order"}


def with_route(case):
    record = case.to_record()
    record["expectations"] = {**record["expectations"], "expected_trajectory": route(case.expectations["expected_domains"])}
    return parse_case(record, case.source)


@pytest.fixture(scope="module")
def setting(tmp_path_factory: pytest.TempPathFactory):
    root = tmp_path_factory.mktemp("routes")
    (root / "pyproject.toml").write_text(
        '[tool.harness]\nscorers = ["correctness", "trajectory"]\nbaseline = "none"\nconcurrency = 4\n'
        "[tool.harness.thresholds]\ncorrectness = 0.85\ntrajectory = 1.0\n", encoding="utf-8")
    cfg = load_config(root, environ={})
    cases = [with_route(c) for c in load_golden([REPO / "golden_data" / "health_monitor.jsonl"]) if c.id in CASES]
    mp = pytest.MonkeyPatch()
    mp.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{root / 'mlflow.db'}")
    mp.chdir(root)
    yield cfg, cases
    mp.undo()


def gate(setting, candidate: str):
    cfg, cases = setting
    versions = [resolve(f"agent.variants:{name}", REPO, label) for name, label in ((candidate, "candidate"), ("V1", "baseline"))]
    return evaluate(cfg, cases, versions)


def test_reference_data_expects_a_route_for_each_kind_of_question(setting) -> None:
    _, cases = setting
    routes = {c.id: [s["node"] for s in c.expectations["expected_trajectory"]["steps"]] for c in cases}
    assert routes["cost-001"] == ["classify", "cost", "synthesize"]
    assert routes["summary-001"] == ["classify", "cost", "security", "performance", "reliability", "quality", "synthesize"]
    assert routes["injection-001"] == ["classify", "synthesize"]


def test_v1_against_itself_passes(setting) -> None:
    evaluation = gate(setting, "V1")
    scores = [r.scores["trajectory"] for r in evaluation.candidate.results.values()]
    assert all(s.passed for s in scores), [s.rationale for s in scores if not s.passed]
    assert evaluation.gate.passed


@pytest.mark.parametrize(("variant", "rationale"), [("FAN_OUT", "extra: node security"), ("SKIPS_WORKER", "missing: node quality")])
def test_hidden_route_regression_is_blocked(setting, variant: str, rationale: str) -> None:
    evaluation = gate(setting, variant)
    failing = {cid: r.scores["trajectory"].rationale for cid, r in evaluation.candidate.results.items() if not r.scores["trajectory"].passed}
    assert failing and any(rationale in why for why in failing.values()), failing
    assert not evaluation.gate.passed
    blocked = [c for c in evaluation.gate.checks if not c.passed and not c.skipped]
    assert any(c.metric == "trajectory" for c in blocked), blocked
    if variant == "FAN_OUT":  # the answers are v1's: only the route gives it away
        assert all(r.scores["correctness"].passed == evaluation.versions[1].results[cid].scores["correctness"].passed
                   for cid, r in evaluation.candidate.results.items())
