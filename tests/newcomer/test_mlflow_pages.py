"""What a user browsing MLflow after a first session sees: a runs page with a named run, rounded
metrics and the per-case table; a version page with its gate table; a model page with a readable
alias history under the owners' own description."""

from __future__ import annotations

import json

import mlflow

from harness.config import load_config
from harness.pipeline import evaluation_from_results
from harness.seal import RECORD_FILE, GateRecord
from harness.tracking import EXPERIMENT
from harness.tracking.aliases import alias_history
from harness.tracking.models import HISTORY_MARK, describe_history, describe_version, version_description


def test_the_run_the_version_and_the_model_read_well_in_the_mlflow_ui(newcomer):
    project, tmp_path, _, session = newcomer
    assert session.returncode == 0, session.stdout[-3000:]
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    client = mlflow.MlflowClient(tracking_uri=uri, registry_uri=uri)

    experiment = client.get_experiment_by_name(EXPERIMENT)
    assert experiment.tags["mlflow.experimentKind"] == "custom_model_development"  # opens on its runs, not on traces
    [run] = client.search_runs([experiment.experiment_id])
    assert run.info.run_name == "my_agent version 1: my_agent:answer, gate passed"
    assert run.data.tags["mlflow.source.name"] == "pytest suites/ -q"
    # Linked both ways: the run lists the evaluated logged model and the version it registered; its
    # clock started with the session, before the model was logged (its duration is the evaluation's).
    version = client.get_model_version("my_agent", "1")
    logged = client.get_logged_model(version.source.removeprefix("models:/"))
    assert [i.model_id for i in client.get_run(run.info.run_id).inputs.model_inputs] == [logged.model_id]
    assert version.run_id == run.info.run_id
    assert run.info.start_time < logged.creation_timestamp < run.info.end_time
    assert {m.key for m in logged.metrics} >= {"correctness", "safety"}
    # Few, short version tags: no per-metric dump.
    assert set(version.tags) == {
        "harness.gate",
        "harness.eval_run_id",
        "harness.gate_record",
        "harness.alias.development",
    }
    assert run.data.metrics and all(value == float(f"{value:.4g}") for value in run.data.metrics.values())
    assert json.loads(run.data.tags["mlflow.loggedArtifacts"]) == [{"path": "eval_results.json", "type": "table"}]

    # The version page: the gate table as Markdown, from the session's own report and sealed record.
    report = (project / "reports" / "latest").resolve()
    evaluation = evaluation_from_results(
        json.loads((report / "results.json").read_text(encoding="utf-8")), load_config(project)
    )
    record = GateRecord.from_json((report / RECORD_FILE).read_text(encoding="utf-8"), str(report / RECORD_FILE))
    describe_version(client, "my_agent", "1", version_description(evaluation, record, run.info.run_id))
    page = client.get_model_version("my_agent", "1").description
    assert page.startswith("**Gate PASSED** on 3 golden case(s), without a baseline; evaluation run ")
    assert run.info.run_id in page and "| correctness " in page and "| metric " in page

    # The model page: the alias history as a table below what the model's owners wrote, rewritten in place.
    client.update_registered_model("my_agent", description="Order-status assistant of the support team.")
    for _ in range(2):
        describe_history(client, "my_agent", alias_history(client.get_registered_model("my_agent")))
    page = client.get_registered_model("my_agent").description
    assert (
        page.startswith(f"Order-status assistant of the support team.\n\n{HISTORY_MARK}\n")
        and page.count(HISTORY_MARK) == 1
    )
    assert "| @development | - | 1 | evaluation |" in page
