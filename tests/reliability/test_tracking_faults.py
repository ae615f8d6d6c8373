"""The tracking server dies inside the session-finish hook.

A real `mlflow server` is killed (SIGKILL, whole process group) by the loopback proxy in
tracking_server.py at the moment the named REST call arrives: once when registration starts
(the eval run is logged, nothing registered), once when the alias moves (the version exists with
its sealed record, no alias moved). In both cases the reports are on disk, no alias points at a
version without a record, and `harness log reports/latest` finishes the job exactly once: the
sessions sign their records (HARNESS_SIGNING_KEY), which is what lets `harness log` promote.
"""

import json

from tests.fixtures.project import WITHOUT_LATENCY, make_project
from tests.reliability.tracking_server import ALIAS, REGISTER

FAIL_FAST = {
    "MLFLOW_HTTP_REQUEST_MAX_RETRIES": "0",
    "MLFLOW_HTTP_REQUEST_TIMEOUT": "30",
    "HARNESS_SIGNING_KEY": "ci-secret",
}


def assert_aliases_have_gate_records(client, name):
    model = client.get_registered_model(name)
    for alias, version in model.aliases.items():
        tags = client.get_model_version(name, version).tags
        assert tags.get("harness.gate_record") and tags.get("harness.eval_run_id"), (alias, version, tags)


def test_server_killed_while_registering_then_while_aliasing(tmp_path, tracking_server):
    server = tracking_server
    project = make_project(tmp_path, ignore_suites=WITHOUT_LATENCY)
    env = {"MLFLOW_TRACKING_URI": server.uri, **FAIL_FAST}
    latest = project.root / "reports" / "latest"

    # 1. Killed when registration starts: the run is logged, nothing is registered.
    server.kill_on = REGISTER
    result = project.pytest(**env)
    assert server.killed.is_set(), result.stdout[-3000:]
    assert result.returncode == 1 and "promotion failed" in result.stdout
    assert f"run `harness log {latest.resolve()}`" in result.stdout
    first_report = latest.resolve()
    assert json.loads((first_report / "results.json").read_text())["gate"]["passed"]
    assert (first_report / "summary.md").is_file()
    server.start()
    client = _client(server)
    assert client.search_model_versions("name = 'toy_agent'") == []
    logged = client.search_runs([client.get_experiment_by_name("harness-evaluations").experiment_id])
    assert [r.data.tags.get("harness.report_id") for r in logged] == [first_report.name]

    done = project.harness("log", "reports/latest", **env)
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"report already logged as MLflow run {logged[0].info.run_id}" in done.stdout
    assert "promoted version 1 of toy_agent to @development" in done.stdout
    assert_aliases_have_gate_records(client, "toy_agent")

    # 2. Killed when the alias moves: version 2 exists with its sealed record, the alias stays on 1.
    server.kill_on = ALIAS
    result = project.pytest(**env)
    assert server.killed.is_set() and result.returncode == 1 and "promotion failed" in result.stdout
    assert latest.resolve() != first_report
    server.start()
    client = _client(server)
    assert client.get_model_version_by_alias("toy_agent", "development").version == "1"
    assert_aliases_have_gate_records(client, "toy_agent")
    v2 = client.get_model_version("toy_agent", "2")
    assert v2.tags["harness.gate_record"]  # written by the same call that created the version

    # `harness log` twice: the alias moves to version 2 once, and no third version appears.
    done = project.harness("log", "reports/latest", **env)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "promoted version 2 of toy_agent (registered earlier for run" in done.stdout
    again = project.harness("log", "reports/latest", **env)
    assert again.returncode == 0, again.stdout + again.stderr
    assert "was already promoted to @development" in again.stdout
    assert sorted(v.version for v in client.search_model_versions("name = 'toy_agent'")) == ["1", "2"]
    assert client.get_model_version_by_alias("toy_agent", "development").version == "2"
    assert_aliases_have_gate_records(client, "toy_agent")


def _client(server):
    import mlflow

    return mlflow.MlflowClient(tracking_uri=server.uri, registry_uri=server.uri)
