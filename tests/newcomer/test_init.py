"""`harness init` as a newcomer meets it: a folder it writes passes `pytest suites/`, registers and
promotes the example agent, and the registered version answers; it never overwrites anything."""

from __future__ import annotations

import json
import sys

import yaml

from harness.commands.init import ADDOPTS
from tests.newcomer.conftest import harness_init, run, tree


def test_init_then_pytest_promotes_and_the_registered_version_answers(newcomer):
    project, tmp_path, made, session = newcomer
    assert made.returncode == 0, made.stderr
    written = set(tree(project)) - {"mlflow.db"}
    assert {
        "pyproject.toml",
        "my_agent/__init__.py",
        "my_agent/agent.py",
        "my_agent/orders.py",
        "golden_data/example.jsonl",
        ".github/workflows/agent-quality-gate.yml",
        ".gitignore",
        "suites/test_quality.py",
        "suites/test_gate.py",
        "suites/test_ab.py",
        "suites/test_latency.py",
    } <= written
    golden = [
        json.loads(line)
        for line in (project / "golden_data" / "example.jsonl").read_text(encoding="utf-8").splitlines()
    ]
    assert len(golden) == 3
    steps = yaml.safe_load((project / ".github" / "workflows" / "agent-quality-gate.yml").read_text(encoding="utf-8"))[
        "jobs"
    ]["evaluate"]["steps"]
    assert "pytest suites/" in next(s["run"] for s in steps if s.get("name") == "Evaluate and gate")
    # Under CI, promotion needs the agent sandbox: the workflow installs it before the evaluation.
    names = [s.get("name") for s in steps]
    assert "apt-get install -y -q bubblewrap" in steps[names.index("Agent sandbox (bubblewrap)")]["run"]
    assert names.index("Agent sandbox (bubblewrap)") < names.index("Evaluate and gate")

    assert session.returncode == 0, session.stdout[-4000:] + session.stderr[-2000:]
    assert "promoted version 1 of my_agent to @development" in session.stdout
    collected = run([sys.executable, "-m", "pytest", "--collect-only", "suites/"], project, tmp_path)
    plugins = next(line for line in collected.stdout.splitlines() if line.startswith("plugins:"))
    assert "agent-eval-harness" in plugins and not {"deepeval", "langsmith", "asyncio", "anyio"} & set(
        plugin.split("-")[0] for plugin in plugins.removeprefix("plugins:").replace(",", " ").split()
    )  # the written addopts

    # The registered version loads back, from anywhere, and answers a golden question.
    question = golden[0]["inputs"]["messages"]
    load = (
        "import json, sys, mlflow; model = mlflow.pyfunc.load_model('models:/my_agent@development'); "
        "print(json.dumps(model.predict({'messages': json.loads(sys.argv[1])})))"
    )
    answered = run([sys.executable, "-c", load, json.dumps(question)], tmp_path, tmp_path)
    assert answered.returncode == 0, answered.stderr[-3000:]
    answer = json.loads(answered.stdout.strip().splitlines()[-1])
    assert all(fact in answer for fact in golden[0]["expectations"]["expected_facts"]), answer

    # A second `harness init` refuses in one line naming what exists, and changes nothing.
    before = tree(project)
    again = harness_init(project, tmp_path)
    assert again.returncode == 1 and again.stdout == ""
    lines = again.stderr.strip().splitlines()
    assert (
        len(lines) == 1
        and lines[0].startswith("harness init: error: ")
        and "already has a [tool.harness] table; nothing written" in lines[0]
    ), again.stderr
    assert tree(project) == before


def test_init_appends_to_an_existing_pyproject_and_leaves_its_pytest_table_alone(tmp_path):
    project = tmp_path / "existing"
    project.mkdir()
    original = '[project]\nname = "support-bot"\nversion = "1.0"\n\n[tool.pytest.ini_options]\ntestpaths = ["tests"]'
    (project / "pyproject.toml").write_text(original, encoding="utf-8")
    (project / ".gitignore").write_text("*.pyc\n", encoding="utf-8")
    made = harness_init(project, tmp_path, "--model", "support_bot")
    assert made.returncode == 0, made.stderr
    text = (project / "pyproject.toml").read_text(encoding="utf-8")
    assert (
        text.startswith(original + "\n")
        and text.count("[tool.harness]") == 1
        and text.count("[tool.pytest.ini_options]") == 1
    )
    assert 'model_name = "support_bot"' in text
    assert f"add `{ADDOPTS}` to its addopts" in made.stdout  # said, not written
    assert (project / ".gitignore").read_text(encoding="utf-8") == "*.pyc\n"

    # Its [tool.harness] table now exists: a second run refuses on it, naming the file.
    before = tree(project)
    again = harness_init(project, tmp_path)
    assert again.returncode == 1 and f"{project / 'pyproject.toml'} already has a [tool.harness] table" in again.stderr
    assert tree(project) == before


def test_init_defers_to_a_pytest_ini_and_refuses_bad_input(tmp_path):
    project = tmp_path / "ini"
    project.mkdir()
    (project / "pytest.ini").write_text("[pytest]\naddopts = -q\n", encoding="utf-8")
    made = harness_init(project, tmp_path)
    assert made.returncode == 0, made.stderr
    assert "[tool.pytest" not in (project / "pyproject.toml").read_text(encoding="utf-8")
    assert "pytest options live in pytest.ini [pytest]" in made.stdout

    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "pyproject.toml").write_text("[project\n", encoding="utf-8")
    refused = harness_init(broken, tmp_path)
    assert (
        refused.returncode == 1
        and "pyproject.toml: not valid TOML" in refused.stderr
        and tree(broken) == {"pyproject.toml": b"[project\n"}
    )
    refused = harness_init(tmp_path, tmp_path, "other", "--model", "my model")
    assert refused.returncode == 1 and "--model 'my model'" in refused.stderr and not (tmp_path / "other").exists()
    made = harness_init(tmp_path, tmp_path, "other")  # a folder that does not exist yet is created
    assert made.returncode == 0 and (tmp_path / "other" / "suites" / "test_gate.py").is_file(), made.stderr
