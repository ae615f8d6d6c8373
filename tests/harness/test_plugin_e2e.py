"""`pytest suites/` end to end on a toy project: real pytest, real SQLite MLflow store, real registry."""

import pytest

from tests.fixtures.project import TOY_KEYS, WITHOUT_LATENCY, make_project


def versions(project, name="toy_agent"):
    from mlflow.exceptions import MlflowException

    try:
        return project.client().search_model_versions(f"name='{name}'")
    except MlflowException:
        return []


def test_a_wrong_agent_fails_the_gate_says_why_and_promotes_nothing(tmp_path):
    # The passing, promoting session on this toy project is the serial run of
    # tests/integration/test_xdist.py, which checks the run, the version and the model it registers.
    project = make_project(tmp_path, ignore_suites=WITHOUT_LATENCY)
    result = project.pytest("--agent", "tests.fixtures.toy_agents:wrong")
    assert result.returncode == 1
    assert "FAILED suites/test_gate.py::test_gate[correctness>=0.9]" in result.stdout
    assert "not promoted: gate failed: correctness mean 0.000 (threshold ≥ 0.9)" in result.stdout
    assert "missing 1 of 1 expected facts: ['Paris']" in result.stdout  # the failing case says why
    assert versions(project) == []


def test_test_ids_markers_and_partial_runs(tmp_path):
    project = make_project(tmp_path, ignore_suites=WITHOUT_LATENCY)
    collected = project.pytest("--collect-only", "-q")
    assert "suites/test_quality.py::test_quality[toy-001-correctness]" in collected.stdout
    assert "suites/test_gate.py::test_gate[correctness>=0.9]" in collected.stdout
    assert "suites/test_gate.py::test_gate[agent_error_rate<=0]" in collected.stdout
    by_tag = project.pytest("-m", "geography", "--collect-only", "-q")
    assert "toy-001" in by_tag.stdout and "toy-002" not in by_tag.stdout
    partial = project.pytest("-k", "toy-001")
    assert "not promoted: only part of the suite was selected (-k toy-001" in partial.stdout
    assert versions(project) == []


def _project_files(root):
    return {
        p.relative_to(root): p.read_bytes() for p in root.rglob("*") if p.is_file() and "__pycache__" not in p.parts
    }


def test_collect_only_logs_no_model_starts_no_process_and_leaves_the_store_unchanged(tmp_path):
    """What an IDE runs on every save: the versions are logged and loaded once a run starts, never at collection."""
    project = make_project(tmp_path)
    before = _project_files(project.root)
    collected = project.pytest("--collect-only", "-q")
    assert collected.returncode == 0, collected.stdout[-3000:] + collected.stderr[-3000:]
    assert "suites/test_quality.py::test_quality[toy-001-correctness]" in collected.stdout
    # The store byte for byte; no mlruns/ (a logged model), no .harness-cache/agent-logs (a started process),
    # no reports/.
    assert _project_files(project.root) == before
    assert "harness:" not in collected.stdout
    # A version that cannot be loaded is still one line, as the run starts and before any test.
    broken = project.pytest("--agent", "no_such_pkg.agent:AGENT")
    assert broken.returncode == 4 and "module 'no_such_pkg' not found" in broken.stderr
    assert " passed" not in broken.stdout and " failed" not in broken.stdout


def test_agent_errors_error_the_cases_and_block_promotion(tmp_path):
    project = make_project(
        tmp_path, tables="[tool.harness.thresholds]\ncorrectness = 0.0\n", ignore_suites=WITHOUT_LATENCY
    )
    result = project.pytest("--agent", "tests.fixtures.toy_agents:raises")
    assert result.returncode == 1
    assert "ERROR suites/test_quality.py::test_quality[toy-001-correctness]" in result.stdout
    assert "RuntimeError: database connection refused" in result.stdout
    assert "not promoted" in result.stdout
    assert versions(project) == []


@pytest.mark.parametrize(
    "args,table,message",
    [
        ((), "concurency = 3", "unknown key 'concurency' (did you mean 'concurrency'?)"),
        (("--threshold", "corectness=0.9"), "", "--threshold: unknown key 'corectness' (did you mean 'correctness'?)"),
        (("--threshold", "correctness=2"), "", "'correctness' must be between 0 and 1"),
        (("--agent", "no_such_pkg.agent:AGENT"), "", "module 'no_such_pkg' not found"),
    ],
)
def test_bad_input_is_one_clear_line_and_nothing_is_promoted(tmp_path, args, table, message):
    project = make_project(tmp_path, keys=TOY_KEYS + table, ignore_suites=WITHOUT_LATENCY)
    result = project.pytest(*args)
    assert result.returncode != 0
    assert message in result.stdout + result.stderr
    assert versions(project) == []


def test_malformed_golden_file_names_file_and_line(tmp_path):
    golden = tmp_path / "bad.jsonl"
    golden.write_text('{"id": "a", "inputs": {"messages": [{"role": "user", "content": "q"}]}}\n{"id": "b"}\n')
    project = make_project(tmp_path, golden=golden, ignore_suites=WITHOUT_LATENCY)
    result = project.pytest()
    assert result.returncode == 4
    assert f"ERROR: {golden}:2: 'inputs' is missing or not an object (case b)" in result.stderr


def test_unreachable_tracking_store_stops_before_any_case_and_the_local_loop_keeps_reports_but_fails_the_gate(tmp_path):
    project = make_project(tmp_path, ignore_suites=WITHOUT_LATENCY)
    # A promotable run cannot even log its candidate: it stops before any case, in one line.
    result = project.pytest(MLFLOW_TRACKING_URI="http://127.0.0.1:9")
    assert result.returncode == 4, result.stdout[-3000:]
    assert "tracking server http://127.0.0.1:9 is unreachable" in result.stderr and "--in-process" in result.stderr
    assert not (project.root / "reports" / "latest").exists()
    stopped = project.pytest(
        "--no-promote", MLFLOW_TRACKING_URI="http://127.0.0.1:9"
    )  # logging the candidate is not optional
    assert stopped.returncode == 4 and "tracking server http://127.0.0.1:9 is unreachable" in stopped.stderr, (
        stopped.stdout[-3000:]
    )
    local = project.pytest("--in-process", "--no-promote", MLFLOW_TRACKING_URI="http://127.0.0.1:9")
    # The local loop runs, but a default @production that cannot be checked fails the gate: no green job
    # without a comparison.
    assert local.returncode == 1, local.stdout[-3000:]
    assert "FAILED suites/test_gate.py::test_gate[baseline_loaded]" in local.stdout
    assert "could not log to the tracking store: tracking server http://127.0.0.1:9 is unreachable" in local.stdout
    assert "run `harness log" in local.stdout
    assert (project.root / "reports" / "latest" / "results.json").is_file()
