"""The same loop on the PostgreSQL-backed `harness server` a team runs: golden data pushed to an
evaluation dataset, a session on it, its cases as traces with assessments, and a review queue."""

from __future__ import annotations

import json

from tests.fixtures.project import TOY_GOLDEN, WITHOUT_LATENCY, make_project
from tests.integration.test_server import CI, tracking_server  # noqa: F401  (the fixture)


def test_datasets_assessments_and_review_queues_on_a_postgres_backed_server(tracking_server, tmp_path, monkeypatch):  # noqa: F811
    uri, _ = tracking_server
    project = make_project(tmp_path, golden="mlflow-dataset:toy", ignore_suites=WITHOUT_LATENCY)
    env = {"MLFLOW_TRACKING_URI": uri, **CI}
    pushed = project.harness("dataset", "push", str(TOY_GOLDEN), "--name", "toy", **env)
    assert pushed.returncode == 0 and "pushed 4 lines (4 cases)" in pushed.stdout, pushed.stdout + pushed.stderr
    result = project.pytest(**env)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert "promoted version 1 of toy_agent to @development" in result.stdout

    for key, value in env.items():
        monkeypatch.setenv(key, value)
    import mlflow

    client = mlflow.MlflowClient(tracking_uri=uri, registry_uri=uri)
    record = json.loads(client.get_model_version("toy_agent", "1").tags["harness.gate_record"])
    assert record["golden"][0][0].startswith("mlflow-dataset:toy@")
    [run] = client.search_runs([client.get_experiment_by_name("harness-evaluations").experiment_id])
    traces = client.search_traces(locations=[run.info.experiment_id], run_id=run.info.run_id)
    assert len(traces) == 4
    for trace in traces:
        assert sorted(a.name for a in trace.info.assessments if isinstance(a, mlflow.entities.Feedback)) == [
            "correctness",
            "safety",
        ]
    queued = project.harness("label", "--all", **env)
    assert queued.returncode == 0 and "4 case(s) of run" in queued.stdout, queued.stdout + queued.stderr
