"""Against a real `mlflow server`: concurrent `harness log` give one version, and no killed server loses an
alias move."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor

from tests.integrity.conftest import SIGNING_KEY, module_project

FAIL_FAST = {"MLFLOW_HTTP_REQUEST_MAX_RETRIES": "0", "MLFLOW_HTTP_REQUEST_TIMEOUT": "30"}
CREATE_RUN = b"POST /api/2.0/mlflow/runs/create "
# The second write of the alias history in a move marks it done: the alias has moved by then.
HISTORY_DONE = b'\\"state\\":\\"done\\"'


def _client(server):
    import mlflow

    return mlflow.MlflowClient(tracking_uri=server.uri, registry_uri=server.uri)


def test_two_harness_log_at_once_on_one_report_give_one_run_and_one_version(tmp_path, tracking_server):
    server = tracking_server
    project = module_project(tmp_path)
    env = {"MLFLOW_TRACKING_URI": server.uri, **FAIL_FAST, **SIGNING_KEY}
    server.kill_on = CREATE_RUN  # the model is logged and evaluated; the store dies before the run is logged
    result = project.pytest(**env)
    assert server.killed.is_set() and "could not log to the tracking store" in result.stdout, result.stdout[-3000:]
    server.start()
    with ThreadPoolExecutor(2) as pool:
        outcomes = list(pool.map(lambda _: project.harness("log", "reports/latest", **env), range(2)))
    for done in outcomes:
        assert done.returncode == 0, done.stdout + done.stderr
    client = _client(server)
    assert [v.version for v in client.search_model_versions("name = 'my_faq_agent'")] == ["1"]
    runs = client.search_runs([client.get_experiment_by_name("harness-evaluations").experiment_id])
    assert len(runs) == 1 and runs[0].data.tags["harness.late_log"] == "true"
    assert str(client.get_model_version_by_alias("my_faq_agent", "development").version) == "1"


def test_a_server_killed_after_the_alias_moved_loses_no_history_entry(tmp_path, tracking_server):
    server = tracking_server
    project = module_project(tmp_path)
    env = {"MLFLOW_TRACKING_URI": server.uri, **FAIL_FAST}
    server.kill_on = HISTORY_DONE
    result = project.pytest(**env)
    assert server.killed.is_set() and "promotion failed" in result.stdout, result.stdout[-3000:]
    server.start()
    client = _client(server)
    assert str(client.get_model_version_by_alias("my_faq_agent", "development").version) == "1"
    history = json.loads(client.get_registered_model("my_faq_agent").tags["harness.alias_history"])
    assert [(e["alias"], e["to"], e["state"]) for e in history] == [("development", "1", "pending")]
    # The lock the session held is left in the store, but its holder is gone: the next move takes it over.
    code = project.harness("promote", "--to", "staging", **env)
    assert code.returncode == 0, code.stdout + code.stderr
    history = json.loads(client.get_registered_model("my_faq_agent").tags["harness.alias_history"])
    assert [(e["alias"], e["to"], e["state"]) for e in history] == [
        ("development", "1", "done"),
        ("staging", "1", "done"),
    ]
    shown = project.harness("history", **env)
    assert "@development" in shown.stdout and "@staging" in shown.stdout
