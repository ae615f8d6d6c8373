"""An agent that leaks every secret of the corpus, through a full `pytest suites/ --junitxml` session
against a promoted baseline, and promoted itself: the safety scorer fails every secret-bearing
answer and passes every look-alike, and no raw secret value is in any file the sessions wrote (the
reports, the SQLite store, the artifacts and registered model files, the JUnit XML) or in their
terminal output."""

from __future__ import annotations

import json
from pathlib import Path

from tests.fixtures.project import REPO, make_project

CORPUS = REPO / "golden_data" / "secrets_corpus.jsonl"
LEAKY = """
import json
import os
import re

_ANSWERS = {}


def answer(messages):
    if not _ANSWERS:
        with open(os.environ["LEAK_CORPUS"], encoding="utf-8") as corpus:
            for line in corpus:
                entry = json.loads(line)
                _ANSWERS[entry["id"]] = entry["answer"]
    found = re.search(r"\\[(\\S+)\\]$", messages[-1]["content"])
    return _ANSWERS[found.group(1)] if found else "Nothing to share."
"""
GOOD = """
def answer(messages):
    return "Nothing to share: that is not something I can share."
"""


def _golden(path: Path) -> list[dict]:
    entries = [json.loads(line) for line in CORPUS.read_text(encoding="utf-8").splitlines() if line.strip()]
    with path.open("w", encoding="utf-8") as out:
        for e in entries:
            case = {
                "id": e["id"],
                "inputs": {"messages": [{"role": "user", "content": f"{e['question']} [{e['id']}]"}]},
                "expectations": {},
                "tags": ["secrets"],
            }
            out.write(json.dumps(case) + "\n")
    return entries


def _raw_forms(value: str) -> set[bytes]:
    return {value.encode("utf-8"), json.dumps(value)[1:-1].encode("utf-8")}


def test_every_secret_fails_safety_and_none_is_written_anywhere(tmp_path):
    golden = tmp_path / "secrets.jsonl"
    entries = _golden(golden)
    project = make_project(
        tmp_path,
        agent="good_agent:answer",
        golden=golden,
        model_name="leak_check",
        keys='scorers = ["safety"]\ncase_timeout_s = 10\ncritical_scorers = []\n',
        tables="[tool.harness.thresholds]\nsafety = 0.01\n",
    )
    (project.root / "good_agent.py").write_text(GOOD, encoding="utf-8")
    (project.root / "leaky.py").write_text(LEAKY, encoding="utf-8")
    env = {"LEAK_CORPUS": str(CORPUS)}
    first = project.pytest(**env)
    assert "promoted version 1 of leak_check to @development" in first.stdout, first.stdout[-3000:]
    for alias in ("staging", "production"):
        assert project.harness("promote", "--to", alias).returncode == 0
    junit = project.root / "junit.xml"
    leaky = project.pytest("--agent", "leaky:answer", "--junitxml", str(junit), "-v", **env)
    assert "baseline: models:/leak_check@production" in leaky.stdout, leaky.stdout[-3000:]
    # The gate here tolerates leaks (no zero tolerance, safety >= 0.01), so the leaking version is
    # registered too: its model files are searched with the rest.
    assert "promoted version 2 of leak_check to @development" in leaky.stdout and junit.is_file(), leaky.stdout[-3000:]

    results = json.loads((project.latest() / "results.json").read_text())
    safety = {row["id"]: row["scores"]["safety"]["passed"] for row in results["versions"][0]["cases"]}
    secret_ids = {e["id"] for e in entries if e.get("values")}
    assert secret_ids and all(safety[i] is False for i in secret_ids)
    assert all(safety[e["id"]] is True for e in entries if not e.get("values"))

    # A value a question asks about (an email the user named) may be quoted where that case is shown.
    asked = " ".join(e["question"] + " " + e["answer"] for e in entries if not e.get("values"))
    values = {v for e in entries for v in e.get("values", []) if v not in asked}
    outputs = {"terminal": (first.stdout + first.stderr + leaky.stdout + leaky.stderr).encode("utf-8")}
    for path in project.root.rglob("*"):
        if path.is_file() and path.name not in ("leaky.py", "good_agent.py"):
            outputs[str(path.relative_to(project.root))] = path.read_bytes()
    hits = [
        (where, value)
        for where, data in outputs.items()
        for value in values
        if any(form in data for form in _raw_forms(value))
    ]
    assert hits == [], hits[:10]


TOKEN = "ghp_" + "Xq7RmT2vLp9WzK4nB8cJd3FhY6sGa1EuO5iN"  # a GitHub token's shape: 36 characters after the prefix


def test_a_case_id_with_a_token_is_masked_in_test_ids_junit_and_every_report(tmp_path):
    """The id is the user's, but ids reach `-v` output, JUnit XML, comparison.html and its MLflow copy."""
    from tests.fixtures.project import TOY_AGENT_FILE, TOY_GOLDEN

    golden = tmp_path / "golden.jsonl"
    lines = TOY_GOLDEN.read_text(encoding="utf-8").splitlines()
    golden.write_text("\n".join([lines[0].replace('"toy-001"', f'"toy-{TOKEN}"'), *lines[1:]]) + "\n", encoding="utf-8")
    project = make_project(tmp_path, golden=golden)
    junit = tmp_path / "junit.xml"
    result = project.pytest("--in-process", "--baseline", str(TOY_AGENT_FILE), "-v", "--junitxml", str(junit))
    assert "test_quality[toy-REDACTED-correctness] PASSED" in result.stdout, (
        result.stdout[-3000:] + result.stderr[-3000:]
    )
    assert (project.latest() / "comparison.html").is_file() and any((project.root / "mlruns").rglob("comparison.html"))
    outputs = {"terminal": (result.stdout + result.stderr).encode("utf-8"), "junit.xml": junit.read_bytes()}
    outputs.update({str(p.relative_to(project.root)): p.read_bytes() for p in project.root.rglob("*") if p.is_file()})
    assert [where for where, data in outputs.items() if any(form in data for form in _raw_forms(TOKEN))] == []


def test_an_exception_at_the_agents_import_is_one_masked_line(tmp_path):
    project = make_project(tmp_path, agent="bad_agent:answer")
    (project.root / "bad_agent.py").write_text(f'raise RuntimeError("bad token {TOKEN}")\n', encoding="utf-8")
    for args in ((), ("--in-process", "--no-promote")):
        result = project.pytest(*args)
        assert result.returncode == 4 and "RuntimeError: bad token [REDACTED]" in result.stderr, (
            result.stdout[-2000:] + result.stderr[-2000:]
        )
        assert TOKEN not in result.stdout + result.stderr
