"""The GitHub Actions recipe (examples/ci/quality-gate.yml): its gate and summary steps, run as a
pull request would run them, pass a good agent and fail a bad one, and fill the job summary."""

import subprocess
import sys

import yaml

from tests.fixtures.project import REPO, make_project

RECIPE = REPO / "examples" / "ci" / "quality-gate.yml"


def step(name):
    steps = yaml.safe_load(RECIPE.read_text(encoding="utf-8"))["jobs"]["evaluate"]["steps"]
    # The only expression the run steps use; a pull request is the case the recipe exists for.
    return next(s["run"] for s in steps if s.get("name") == name).replace("${{ github.event_name }}", "pull_request")


def run_recipe(project):
    (project.root / ".venv").symlink_to(sys.prefix)  # the recipe's Install step made this venv
    summary = project.root / "step-summary.md"
    env = project.env(GITHUB_STEP_SUMMARY=str(summary))
    gate = subprocess.run(["bash", "-e", "-c", step("Evaluate and gate")], cwd=project.root, env=env, capture_output=True, text=True, timeout=600)
    post = subprocess.run(["bash", "-e", "-c", step("Post the report to the job summary")], cwd=project.root, env=env, capture_output=True, text=True, timeout=60)
    assert post.returncode == 0, post.stderr
    return gate, summary.read_text(encoding="utf-8")


def test_recipe_passes_a_good_agent_and_posts_the_report_without_promoting(tmp_path):
    project = make_project(tmp_path)
    gate, summary = run_recipe(project)
    assert gate.returncode == 0, gate.stdout[-3000:]
    assert "# Evaluation of" in summary and "correctness" in summary
    assert "promotion disabled (--no-promote)" in gate.stdout  # pull requests never move an alias
    assert (project.root / "reports" / "junit.xml").is_file()


def test_recipe_fails_the_job_on_the_gate(tmp_path):
    project = make_project(tmp_path, agent="tests.fixtures.toy_agents:wrong")
    gate, summary = run_recipe(project)
    assert gate.returncode == 1
    assert "FAILED suites/test_gate.py::test_gate[correctness>=0.9]" in gate.stdout
    assert "# Evaluation of" in summary and "FAIL" in summary
