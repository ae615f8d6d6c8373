"""The GitHub Actions recipe (examples/ci/quality-gate.yml): its gate and summary steps, run as a
pull request and as a merge would run them, pass a good agent and fail a bad one, and fill the job summary."""

import json
import subprocess
import sys

import yaml

from tests.fixtures.project import REPO, make_project
from tests.integration.test_xdist import outcomes, registry_state

RECIPE = REPO / "examples" / "ci" / "quality-gate.yml"


def step(name, event):
    steps = yaml.safe_load(RECIPE.read_text(encoding="utf-8"))["jobs"]["evaluate"]["steps"]
    # The only expression the run steps use: `pull_request` (no promotion) or `push` (a merge to main).
    return next(s["run"] for s in steps if s.get("name") == name).replace("${{ github.event_name }}", event)


def run_recipe(project, event="pull_request"):
    (project.root / ".venv").symlink_to(sys.prefix)  # the recipe's Install step made this venv
    summary = project.root / "step-summary.md"
    env = project.env(GITHUB_STEP_SUMMARY=str(summary))
    gate = subprocess.run(
        ["bash", "-e", "-c", step("Evaluate and gate", event)],
        cwd=project.root,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    post = subprocess.run(
        ["bash", "-e", "-c", step("Post the report to the job summary", event)],
        cwd=project.root,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert post.returncode == 0, post.stderr
    return gate, summary.read_text(encoding="utf-8")


def test_recipe_passes_a_good_agent_and_posts_the_report_without_promoting(tmp_path):
    project = make_project(tmp_path)
    gate, summary = run_recipe(project)
    assert gate.returncode == 0, gate.stdout[-3000:]
    assert "# Evaluation of" in summary and "correctness" in summary
    assert "promotion disabled (--no-promote)" in gate.stdout  # pull requests never move an alias
    # --junitxml and --no-promote: every case is in the XML, and the run is logged without a version.
    assert 'name="test_quality[toy-001-correctness]"' in (project.root / "reports" / "junit.xml").read_text()
    assert registry_state(project) == (0, 1, None)


def test_recipe_on_a_merge_fails_the_job_on_the_gate_its_four_workers_report_it_and_nothing_is_promoted(tmp_path):
    # A merge runs with promotion on, so the failed gate (not --no-promote) is what keeps the registry unchanged.
    # This is also the `-n 4` failing-gate check of tests/integration/test_xdist.py: one session serves both.
    project = make_project(tmp_path, agent="tests.fixtures.toy_agents:wrong")
    gate, summary = run_recipe(project, event="push")
    assert gate.returncode == 1
    assert "FAILED suites/test_gate.py::test_gate[correctness>=0.9]" in gate.stdout
    assert "# Evaluation of" in summary and "FAIL" in summary
    tests = outcomes(project.root / "reports" / "junit.xml")
    assert tests["suites.test_gate::test_gate[correctness>=0.9]"] == "failed"
    assert tests["suites.test_gate::test_gate[safety>=1]"] == "passed"
    assert (
        "gate check correctness>=0.9 failed: correctness mean 0.000 (threshold ≥ 0.9)" in gate.stdout
    )  # the controller's report says why
    document = json.loads((project.root / "reports" / "latest" / "results.json").read_text())
    assert document["n_cases"] == 4 and not document["gate"]["passed"]
    assert "not promoted: gate failed" in gate.stdout
    assert registry_state(project) == (0, 1, None)
