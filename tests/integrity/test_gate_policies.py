"""Real `pytest suites/` sessions: one leak blocks, a vacuous policy blocks, an unloadable baseline fails the gate.

(An unreachable store failing the gate instead of dropping the baseline: tests/harness/test_plugin_e2e.py,
on the same sessions that check the stop before any case.)"""

import subprocess

from tests.compare.ab_agents import GOLDEN
from tests.fixtures.project import REPO, make_project

AB_AGENT_FILE = REPO / "tests" / "compare" / "ab_chat_agent_file.py"
KEYS = 'scorers = ["correctness", "safety"]\ncase_timeout_s = 30\n'


def out(result: subprocess.CompletedProcess) -> str:
    return result.stdout[-6000:] + result.stderr[-3000:]


def versions(project, name):
    return [str(v.version) for v in project.client().search_model_versions(f"name='{name}'")]


def test_one_leaked_token_blocks_promotion(tmp_path):
    project = make_project(
        tmp_path,
        "tests.gate.agents:leaks_once",
        GOLDEN,
        "gate_leak",
        keys=KEYS,
        tables="[tool.harness.thresholds]\ncorrectness = 0.9\nsafety = 0.95\n",
        ignore_suites=("test_latency.py",),
    )
    result = project.pytest()
    assert result.returncode == 1, out(result)
    assert "FAILED suites/test_gate.py::test_gate[safety_failing_cases<=0]" in result.stdout
    assert "0 failing cases allowed, 1 found: ab-017" in result.stdout  # the gate table's own row
    assert "not promoted: gate failed" in result.stdout
    assert versions(project, "gate_leak") == []


def test_vacuous_policies_block(tmp_path):
    # No thresholds table: the documented defaults apply, so an agent that is never right is refused.
    project = make_project(
        tmp_path / "defaults",
        "tests.compare.ab_agents:wrong",
        GOLDEN,
        "gate_vacuous",
        keys=KEYS,
        tables="",
        ignore_suites=("test_latency.py",),
    )
    result = project.pytest()
    assert result.returncode == 1, out(result)
    assert "FAILED suites/test_gate.py::test_gate[correctness>=0.85]" in result.stdout
    # No scorer and every error allowed: the policy itself fails the gate, with the reasons.
    project = make_project(
        tmp_path / "empty",
        "tests.fixtures.toy_agents:raises",
        GOLDEN,
        "gate_vacuous",
        keys="scorers = []\nmax_agent_error_rate = 1\n",
        tables="",
        ignore_suites=("test_latency.py",),
    )
    result = project.pytest()
    assert result.returncode == 1, out(result)
    assert "FAILED suites/test_gate.py::test_gate[policy_checks_quality]" in result.stdout
    assert "'scorers' is empty: nothing checks the answers" in result.stdout
    assert "max_agent_error_rate = 1 lets an agent that fails on every case through" in result.stdout
    assert versions(project, "gate_vacuous") == []


def test_unloadable_baseline_fails_the_gate_and_none_opts_out(tmp_path):
    project = make_project(
        tmp_path,
        str(AB_AGENT_FILE),
        GOLDEN,
        "gate_baseline",
        keys=KEYS,
        tables="[tool.harness.thresholds]\ncorrectness = 0.9\n[tool.harness.non_inferiority]\ncorrectness = 0.02\n",
        ignore_suites=("test_latency.py",),
    )
    missing = project.pytest("--baseline", "models:/gate_baseline@staging")
    assert missing.returncode == 1, out(missing)
    assert "FAILED suites/test_gate.py::test_gate[baseline_loaded]" in missing.stdout
    assert "note: baseline unavailable: 'models:/gate_baseline@staging' could not be loaded" in missing.stdout
    assert "not promoted: gate failed" in missing.stdout and versions(project, "gate_baseline") == []
    opted_out = project.pytest("--baseline", "none")
    assert opted_out.returncode == 0, out(opted_out)
    assert "test_gate[baseline_loaded]" not in opted_out.stdout
    assert "promoted version 1 of gate_baseline to @development" in opted_out.stdout


def test_a_registry_baseline_and_the_same_agent_are_timed_the_same_way(tmp_path):
    import json

    project = make_project(
        tmp_path, "tests.fixtures.toy_agents:slow", model_name="same_path", ignore_suites=("test_latency.py",)
    )
    assert "promoted version 1 of same_path to @development" in project.pytest().stdout
    for alias in ("staging", "production"):
        assert project.harness("promote", "--to", alias).returncode == 0
    again = project.pytest("--no-promote")
    assert "baseline: models:/same_path@production" in again.stdout, out(again)
    comparison = json.loads((project.latest() / "results.json").read_text())["comparisons"][0]
    ratios = {row["percentile"]: row for row in comparison["latency"]}
    assert 0.8 < ratios["p50"]["ratio"] < 1.25 and ratios["p50"]["verdict"] != "worse", ratios["p50"]
