"""`pytest suites/` end to end on a toy project: real pytest, real SQLite MLflow store, real registry."""

import json
import re

import pytest

from tests.fixtures.project import TOY_KEYS, make_project


def versions(project, name="toy_agent"):
    from mlflow.exceptions import MlflowException

    try:
        return project.client().search_model_versions(f"name='{name}'")
    except MlflowException:
        return []


def test_passing_gate_logs_run_and_promotes_then_a_wrong_agent_fails_and_changes_nothing(tmp_path):
    project = make_project(tmp_path)
    result = project.pytest()
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    out = result.stdout
    assert "agent evaluation gate" in out and "| correctness" in out
    assert "promoted version 1 of toy_agent to @development" in out
    assert int(re.search(r"(\d+) passed", out).group(1)) >= 12  # 4 cases x 2 scorers, plus 4 gate checks
    assert " failed" not in out
    client = project.client()
    mv = client.get_model_version_by_alias("toy_agent", "development")
    assert str(mv.version) == "1"
    assert mv.tags["harness.gate"] == "passed"
    assert float(mv.tags["harness.metric.correctness"]) == 1.0
    run = client.get_run(mv.tags["harness.eval_run_id"])
    assert run.data.metrics["correctness"] == 1.0 and run.data.metrics["gate_passed"] == 1.0
    assert run.data.params["agent"].endswith("toy_chat_agent_file.py")
    artifacts = {a.path for a in client.list_artifacts(run.info.run_id)}
    assert {"eval_results.json", "reports"} <= artifacts
    report = project.root / "reports" / "latest"
    document = json.loads((report / "results.json").read_text())
    assert document["gate"]["passed"] and document["n_cases"] == 4
    assert "# Evaluation of" in (report / "summary.md").read_text()
    # The registered version really answers after loading it back.
    import mlflow

    mlflow.set_tracking_uri(project.tracking_uri)
    mlflow.set_registry_uri(project.tracking_uri)  # other tests in this process may have pointed it elsewhere
    model = mlflow.pyfunc.load_model("models:/toy_agent@development")
    answer = model.predict({"messages": [{"role": "user", "content": "Name the largest ocean."}]})
    assert "Pacific" in answer["messages"][-1]["content"]

    # A wrong agent after that promotion (the same store: one first session serves both checks).
    result = project.pytest("--agent", "tests.fixtures.toy_agents:wrong")
    assert result.returncode == 1
    assert "FAILED suites/test_gate.py::test_gate[correctness>=0.9]" in result.stdout
    assert "not promoted: gate failed: correctness mean 0.000 (threshold ≥ 0.9)" in result.stdout
    assert "missing 1 of 1 expected facts: ['Paris']" in result.stdout  # the failing case says why
    assert [str(v.version) for v in versions(project)] == ["1"]


def test_test_ids_markers_and_partial_runs(tmp_path):
    project = make_project(tmp_path)
    collected = project.pytest("--collect-only", "-q")
    assert "suites/test_quality.py::test_quality[toy-001-correctness]" in collected.stdout
    assert "suites/test_gate.py::test_gate[correctness>=0.9]" in collected.stdout
    assert "suites/test_gate.py::test_gate[agent_error_rate<=0]" in collected.stdout
    by_tag = project.pytest("-m", "geography", "--collect-only", "-q")
    assert "toy-001" in by_tag.stdout and "toy-002" not in by_tag.stdout
    partial = project.pytest("-k", "toy-001")
    assert "not promoted: only part of the suite was selected (-k toy-001" in partial.stdout
    assert versions(project) == []


def test_junit_xml_and_no_promote(tmp_path):
    project = make_project(tmp_path)
    result = project.pytest("--no-promote", "--junitxml", str(tmp_path / "junit.xml"))
    assert result.returncode == 0
    assert "not promoted: promotion disabled (--no-promote)" in result.stdout
    xml = (tmp_path / "junit.xml").read_text()
    assert 'name="test_quality[toy-001-correctness]"' in xml
    assert versions(project) == []


def test_agent_errors_error_the_cases_and_block_promotion(tmp_path):
    project = make_project(tmp_path, tables="[tool.harness.thresholds]\ncorrectness = 0.0\n")
    result = project.pytest("--agent", "tests.fixtures.toy_agents:raises")
    assert result.returncode == 1
    assert "ERROR suites/test_quality.py::test_quality[toy-001-correctness]" in result.stdout
    assert "RuntimeError: database connection refused" in result.stdout
    assert "not promoted" in result.stdout
    assert versions(project) == []


@pytest.mark.parametrize("args,table,message", [
    ((), "concurency = 3", "unknown key 'concurency' (did you mean 'concurrency'?)"),
    (("--threshold", "corectness=0.9"), "", "--threshold: unknown key 'corectness' (did you mean 'correctness'?)"),
    (("--threshold", "correctness=2"), "", "'correctness' must be between 0 and 1"),
    (("--agent", "no_such_pkg.agent:AGENT"), "", "module 'no_such_pkg' not found"),
])
def test_bad_input_is_one_clear_line_and_nothing_is_promoted(tmp_path, args, table, message):
    project = make_project(tmp_path, keys=TOY_KEYS + table)
    result = project.pytest(*args)
    assert result.returncode != 0
    assert message in result.stdout + result.stderr
    assert versions(project) == []


def test_malformed_golden_file_names_file_and_line(tmp_path):
    golden = tmp_path / "bad.jsonl"
    golden.write_text('{"id": "a", "inputs": {"messages": [{"role": "user", "content": "q"}]}}\n{"id": "b"}\n')
    project = make_project(tmp_path, golden=golden)
    result = project.pytest()
    assert result.returncode == 4
    assert f"ERROR: {golden}:2: 'inputs' is missing or not an object (case b)" in result.stderr


def test_unreachable_tracking_store_stops_before_any_case_and_the_local_loop_keeps_reports(tmp_path):
    project = make_project(tmp_path)
    result = project.pytest(MLFLOW_TRACKING_URI="http://127.0.0.1:9")
    assert result.returncode == 4, result.stdout[-3000:]
    assert "tracking server http://127.0.0.1:9 is unreachable" in result.stderr and "--in-process" in result.stderr
    assert not (project.root / "reports" / "latest").exists()
    local = project.pytest("--in-process", "--no-promote", MLFLOW_TRACKING_URI="http://127.0.0.1:9")
    assert "could not log to the tracking store: tracking server http://127.0.0.1:9 is unreachable" in local.stdout
    assert "run `harness log" in local.stdout
    assert (project.root / "reports" / "latest" / "results.json").is_file()
