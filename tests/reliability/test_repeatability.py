"""A raising rule scorer is an error, never a pass; the same version scores the same twice; a flaky
agent is caught by --repeats with its flip rate."""

import json

from harness.config import load_config
from harness.decision import SessionFacts, decide
from harness.golden import load_golden
from harness.pipeline import evaluate, evaluation_from_results
from harness.publish import project_policy, publish, registry_view
from harness.reports.terminal import flip_lines
from harness.versions.baseline import load_versions
from tests.fixtures.project import TOY_GOLDEN, WITHOUT_LATENCY, make_project


def config(tmp_path, **overrides):
    (tmp_path / "pyproject.toml").write_text("[tool.harness]\n", encoding="utf-8")
    return load_config(
        tmp_path,
        {
            "golden": [str(TOY_GOLDEN)],
            "scorers": ["correctness", "safety"],
            "thresholds": {"correctness": 0.5},
            "promote_to": "development",
            **overrides,
        },
    )


def run(cfg):
    return evaluate(cfg, load_golden(cfg.golden_paths), load_versions(cfg))


def test_same_version_twice_gives_identical_scores(tmp_path):
    cfg = config(tmp_path, agent="tests.fixtures.toy_agents:good")
    first, second = run(cfg), run(cfg)
    scores = [
        {cid: {n: s.to_dict() for n, s in r.scores.items()} for cid, r in e.candidate.results.items()}
        for e in (first, second)
    ]
    assert scores[0] == scores[1]
    assert first.gate.to_dict() | {"checks": None} == second.gate.to_dict() | {"checks": None}
    assert [c.passed for c in first.gate.checks] == [c.passed for c in second.gate.checks]


def test_raising_rule_scorer_is_an_error_and_blocks_promotion(tmp_path, monkeypatch):
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path / 'mlflow.db'}")
    cfg = config(
        tmp_path, agent="tests.fixtures.toy_agents:good", scorers=["correctness", "tests.reliability.hostile:Explodes"]
    )
    evaluation = run(cfg)
    for result in evaluation.candidate.results.values():
        score = result.scores["explodes"]
        assert (score.passed, score.error, score.value) == (False, True, 0.0)
        assert score.rationale == "scorer error: ZeroDivisionError: division by zero in the scorer"
    assert evaluation.gate.passed  # no threshold on the broken scorer, yet:
    facts = SessionFacts(cases_in_golden=4, cases_evaluated=4, gate_tests_expected=1, gate_tests_run=1)
    project = project_policy(cfg)
    decision = decide(evaluation, facts, project, registry_view(project), evaluated=None, promote=True)
    assert decision.failed and "scorer error(s) in explodes" in decision.blockers
    outcome = publish(decision, evaluation).outcome
    assert outcome.startswith("not promoted: ") and "scorer error(s) in explodes" in outcome


def test_flaky_agent_is_reported_with_its_flip_rate(tmp_path):
    project = make_project(
        tmp_path,
        agent="tests.reliability.hostile:flaky",
        tables="[tool.harness.thresholds]\ncorrectness = 0.1\n",
        ignore_suites=WITHOUT_LATENCY,
    )
    result = project.pytest("--repeats", "3", "--no-promote")
    assert "flip rate candidate: 1.000 (4 of 4 case(s) answered differently across 3 runs)" in result.stdout, (
        result.stdout[-3000:]
    )
    report = project.root / "reports" / "latest"
    document = json.loads((report / "results.json").read_text())
    assert document["versions"][0]["metrics"]["flip_rate"]["value"] == 1.0
    assert all(row["flipped"] and len(row["repeats"]) == 2 for row in document["versions"][0]["cases"])
    assert "| flip_rate" in (report / "summary.md").read_text()
    # A rebuilt evaluation (what `harness log` uses) keeps the flip rate.
    rebuilt = evaluation_from_results(document, load_config(project.root))
    assert flip_lines(rebuilt) == ["flip rate candidate: 1.000 (4 of 4 case(s) answered differently across 3 runs)"]
    # A stable agent has flip rate 0 (in-process: one pytest session per test keeps CI fast).
    stable = run(config(tmp_path, agent="tests.fixtures.toy_agents:good", repeats=2))
    assert flip_lines(stable) == ["flip rate candidate: 0.000 (0 of 4 case(s) answered differently across 2 runs)"]
