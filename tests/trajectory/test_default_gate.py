"""The reference project's own configuration scores every case's route and blocks the hidden-route
regressions: the fan-out and skip-worker variants, alone (its thresholds) and against v1 (its
non-inferiority margin).

Real LangGraph graphs answering every golden case in process, traced (the route recorder), scored
and gated with the repository's `[tool.harness]`, into a real SQLite store.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.config import load_config
from harness.golden import load_golden
from harness.pipeline import evaluate, gate_evaluation
from harness.records.evaluation import Evaluation
from harness.versions.resolve import resolve

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def evaluation(tmp_path_factory: pytest.TempPathFactory):
    root = tmp_path_factory.mktemp("default-gate")
    cfg = load_config(REPO, environ={})
    cases = load_golden([REPO / p for p in cfg.golden])
    mp = pytest.MonkeyPatch()
    mp.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{root / 'mlflow.db'}")
    mp.chdir(root)
    versions = [
        resolve(f"agent.variants:{name}", REPO, label)
        for name, label in (("V1", "v1"), ("FAN_OUT", "fan-out"), ("SKIPS_WORKER", "skips-worker"))
    ]
    yield evaluate(cfg, cases, versions)
    mp.undo()


def gated(evaluation: Evaluation, label: str, baseline: str | None = None) -> Evaluation:
    by_label = {v.label: v for v in evaluation.versions}
    versions = [by_label[label]] + ([by_label[baseline]] if baseline else [])
    return gate_evaluation(Evaluation(evaluation.config, evaluation.cases, versions))


def test_the_default_configuration_scores_every_route(evaluation: Evaluation) -> None:
    cfg = evaluation.config
    assert "trajectory" in cfg.scorers and cfg.thresholds["trajectory"] > 0
    assert cfg.non_inferiority["trajectory"] > 0
    v1 = evaluation.versions[0]
    assert len(v1.results) == len(evaluation.cases) > 100
    assert all(r.scores["trajectory"].passed for r in v1.results.values())
    assert gated(evaluation, "v1").gate.passed


@pytest.mark.parametrize("variant", ["fan-out", "skips-worker"])
def test_the_default_gate_blocks_hidden_route_regressions(evaluation: Evaluation, variant: str) -> None:
    for baseline in (None, "v1"):
        gate = gated(evaluation, variant, baseline).gate
        blocked = {c.metric for c in gate.checks if not c.passed and not c.skipped}
        assert not gate.passed and "trajectory" in blocked, (baseline, blocked)
