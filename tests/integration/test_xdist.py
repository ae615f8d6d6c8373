"""`pytest suites/ -n 4` against a serial run: same per-case scores, same gate, one promotion.

The serial run is also the toy project's end-to-end passing session: what it logs, registers and
promotes is checked here too (one session serves both). A gate failed under `-n 4` (reported as a
test, nothing promoted) is checked on the CI recipe's own `-n 4` run, in tests/integration/test_ci_recipe.py;
the serial one in tests/harness/test_plugin_e2e.py."""

import json
import re
import xml.etree.ElementTree as ET

from tests.fixtures.project import make_project

# Metrics whose values are timings: equal gate verdicts are required, equal values are not.
TIMED = ("latency_",)


def outcomes(junit_path):
    """{test name: outcome} from a junit XML file."""
    result = {}
    for case in ET.parse(junit_path).getroot().iter("testcase"):
        children = {child.tag for child in case}
        outcome = (
            "failed"
            if "failure" in children
            else "error"
            if "error" in children
            else "skipped"
            if "skipped" in children
            else "passed"
        )
        result[f"{case.get('classname')}::{case.get('name')}"] = outcome
    return result


def per_case(document):
    return {
        (version["label"], row["id"]): (
            row["answer"],
            row["error"],
            {n: (s["value"], s["passed"]) for n, s in row["scores"].items()},
        )
        for version in document["versions"]
        for row in version["cases"]
    }


def gate(document):
    return [
        (
            c["id"],
            c["passed"],
            None if c["metric"].startswith(TIMED) else c["value"],
            None if c["metric"].startswith(TIMED) else c["low"],
        )
        for c in document["gate"]["checks"]
    ]


def registry_state(project):
    client = project.client()
    versions = client.search_model_versions("name='toy_agent'")
    runs = client.search_runs([e.experiment_id for e in client.search_experiments()])
    alias = str(client.get_model_version_by_alias("toy_agent", "development").version) if versions else None
    return len(versions), len(runs), alias


def run(project, *args):
    result = project.pytest("--junitxml", str(project.root / "junit.xml"), *args, timeout=600)
    document = json.loads((project.root / "reports" / "latest" / "results.json").read_text())
    return result, document, outcomes(project.root / "junit.xml")


def check_serial_session_logged_registered_and_promoted(project, result, document):
    """A passing `pytest suites/` on the toy project: gate table, MLflow run, registered version, a model that
    answers."""
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
    assert dict(json.loads(mv.tags["harness.gate_record"])["metrics"])["correctness"] == 1.0
    run = client.get_run(mv.tags["harness.eval_run_id"])
    assert run.data.metrics["correctness"] == 1.0 and run.data.metrics["gate_passed"] == 1.0
    assert run.data.params["agent"].endswith("toy_chat_agent_file.py")
    artifacts = {a.path for a in client.list_artifacts(run.info.run_id)}
    assert {"eval_results.json", "reports"} <= artifacts
    assert document["gate"]["passed"] and document["n_cases"] == 4
    assert "# Evaluation of" in (project.root / "reports" / "latest" / "summary.md").read_text()
    # The registered version really answers after loading it back.
    import mlflow

    mlflow.set_tracking_uri(project.tracking_uri)
    mlflow.set_registry_uri(project.tracking_uri)  # other tests in this process may have pointed it elsewhere
    model = mlflow.pyfunc.load_model("models:/toy_agent@development")
    answer = model.predict({"messages": [{"role": "user", "content": "Name the largest ocean."}]})
    assert "Pacific" in answer["messages"][-1]["content"]


def test_four_workers_match_a_serial_run_and_promote_once(tmp_path):
    serial = make_project(tmp_path / "serial")
    spread = make_project(tmp_path / "spread")
    s_result, s_doc, s_tests = run(serial)
    check_serial_session_logged_registered_and_promoted(serial, s_result, s_doc)
    x_result, x_doc, x_tests = run(spread, "-n", "4")
    assert s_result.returncode == 0, s_result.stdout[-3000:]
    assert x_result.returncode == 0, x_result.stdout[-3000:] + x_result.stderr[-2000:]
    assert re.search(r"4 workers \[\d+ items?\]", x_result.stdout), x_result.stdout[:2000]
    assert per_case(x_doc) == per_case(s_doc)
    assert gate(x_doc) == gate(s_doc) and x_doc["gate"]["passed"]
    # Every test id, gate tests included, ran with the same outcome.
    assert x_tests == s_tests
    assert any("test_gate[correctness>=0.9]" in name for name in x_tests)
    # Exactly one MLflow run and one promotion: the workers neither logged nor promoted.
    assert registry_state(spread) == registry_state(serial) == (1, 1, "1")
    assert x_result.stdout.count("promoted version 1 of toy_agent to @development") == 1
