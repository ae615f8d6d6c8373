"""`pytest suites/` with a baseline, end to end: real pytest subprocesses, a real SQLite MLflow registry.

The issue's "done when": promote a version, run the suites with a degraded agent against it as the
baseline, and the comparison shows the degraded metrics as `worse` and the gate refuses promotion.
"""

import json
import subprocess

import pytest

from tests.compare.ab_agents import GOLDEN
from tests.fixtures.project import REPO, make_project

AB_AGENT_FILE = REPO / "tests" / "compare" / "ab_chat_agent_file.py"


def out(result: subprocess.CompletedProcess) -> str:
    return result.stdout[-6000:] + result.stderr[-3000:]


def test_degraded_candidate_against_promoted_baseline(tmp_path, monkeypatch):
    project = make_project(
        tmp_path,
        str(AB_AGENT_FILE),
        GOLDEN,
        "ab_toy",
        keys='scorers = ["correctness", "safety"]\ncase_timeout_s = 30\n',
        tables="[tool.harness.thresholds]\ncorrectness = 0.4\n[tool.harness.non_inferiority]\ncorrectness = 0.02\n",
        ignore_suites=("test_latency.py",),
    )
    # No baseline anywhere yet (no @production): the first version is promotable, the checks against a
    # baseline are skipped and say why. (A configured baseline that cannot load fails the gate:
    # tests/gate/test_gate_sessions.py.)
    first = project.pytest()
    assert first.returncode == 0, out(first)
    assert "correctness Δ vs baseline" in first.stdout and "SKIP" in first.stdout
    assert "SKIPPED" in first.stdout and "test_ab" in first.stdout
    assert "promoted version 1 of ab_toy to @development" in first.stdout

    # The degraded candidate (wrong on every other case) against the promoted version.
    degraded = project.pytest("--agent", "tests.compare.ab_agents:degraded", "--baseline", "models:/ab_toy@development")
    assert degraded.returncode == 1, out(degraded)
    stdout = degraded.stdout
    assert "FAILED suites/test_ab.py::test_ab[correctness]" in stdout
    assert "correctness is significantly worse than the baseline" in stdout
    assert "FAILED suites/test_gate.py::test_gate[correctness_vs_baseline>=-0.02]" in stdout
    assert "test_ab[safety]" not in stdout.split("short test summary info")[1]  # unchanged: not a failure
    assert (
        "A/B: candidate tests.compare.ab_agents:degraded vs baseline models:/ab_toy@development on 24 shared case(s)"
        in stdout
    )
    assert "correctness: 1.000 -> 0.500" in stdout
    assert "not promoted: gate failed: correctness" in stdout
    md = (project.latest() / "comparison.md").read_text()
    line = next(row for row in md.splitlines() if row.startswith("| correctness"))
    assert "-0.500" in line and line.rstrip(" |").endswith("worse")
    assert (project.latest() / "comparison.html").is_file()
    client = project.client()
    assert [str(v.version) for v in client.search_model_versions("name='ab_toy'")] == ["1"]
    run = client.search_runs(
        [client.get_experiment_by_name("harness-evaluations").experiment_id], order_by=["attributes.start_time DESC"]
    )[0]
    assert run.data.metrics["compare/correctness/delta"] == pytest.approx(-0.5)
    assert run.data.metrics["compare/correctness/p_value"] == pytest.approx(
        2 * 0.5**12, rel=1e-3
    )  # logged to 4 significant digits
    artifacts = {a.path for a in client.list_artifacts(run.info.run_id, "reports")}
    assert {"reports/comparison.md", "reports/comparison.html", "reports/comparison_metrics.png"} <= artifacts

    # Once @production exists it is the baseline by default (checked in-process: no third session).
    from harness.config import load_config
    from harness.versions.baseline import load_versions

    client.set_registered_model_alias("ab_toy", "production", "1")
    monkeypatch.setenv("MLFLOW_TRACKING_URI", project.tracking_uri)
    notes = []
    versions = load_versions(load_config(project.root, environ={}), notes=notes)
    assert [v.reference for v in versions] == [str(AB_AGENT_FILE), "models:/ab_toy@production"]
    assert notes == ["baseline: models:/ab_toy@production (the default when no baseline is configured)"]
    assert versions[1].predict([{"role": "user", "content": "What is 5 plus 10?"}])[0] == "The answer is 15."


REFERENCE_GOLDEN = REPO / "golden_data" / "health_monitor.jsonl"


def test_reference_agent_degraded_variant_is_refused(tmp_path):
    """Promote agent.variants:V1, then the DEGRADED variant against it: worse, and not promoted."""
    project = make_project(
        tmp_path,
        "agent.variants:V1",
        REFERENCE_GOLDEN,
        "health_monitor_orchestrator",
        keys="case_timeout_s = 30\n",
        ignore_suites=("test_latency.py",),
        tables="[tool.harness.thresholds]\ncorrectness = 0.85\nrelevance = 0.80\nsafety = 0.95\nguidelines = 0.85\n"
        "[tool.harness.non_inferiority]\ncorrectness = 0.02\n",
    )
    promoted = project.pytest("-q")
    assert promoted.returncode == 0, out(promoted)
    assert "promoted version 1 of health_monitor_orchestrator to @development" in promoted.stdout
    degraded = project.pytest(
        "-q", "--agent", "agent.variants:DEGRADED", "--baseline", "models:/health_monitor_orchestrator@development"
    )
    assert degraded.returncode == 1, out(degraded)
    assert "FAILED suites/test_ab.py::test_ab[correctness]" in degraded.stdout
    assert "not promoted: gate failed" in degraded.stdout
    document = json.loads((project.latest() / "results.json").read_text())
    verdicts = {m["metric"]: m["verdict"] for m in document["comparisons"][0]["metrics"]}
    assert verdicts["correctness"] == "worse" and verdicts["overall"] == "worse"
    assert verdicts["safety"] != "worse"  # the degraded variant stays safe
    correctness = next(m for m in document["comparisons"][0]["metrics"] if m["metric"] == "correctness")
    assert correctness["ci_high"] < 0
    assert [str(v.version) for v in project.client().search_model_versions("name='health_monitor_orchestrator'")] == [
        "1"
    ]
