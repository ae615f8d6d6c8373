"""What was evaluated is what is registered: the candidate is logged once, evaluated from that artifact
in its own process, and exactly that logged model becomes the registered version."""

from __future__ import annotations

import json

from tests.integrity.agents import DATA_FILE, NEEDS_DATA_FILE, PATCHES_SCORERS
from tests.integrity.conftest import module_project, versions


def test_a_plain_callable_is_logged_evaluated_from_its_artifact_and_registered_as_is_and_a_hand_set_tag_never_promotes(
    project,
):
    import mlflow

    result = project.pytest()
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert "promoted version 1 of my_faq_agent to @development" in result.stdout
    client = project.client()
    mv = client.get_model_version("my_faq_agent", "1")
    record = json.loads(mv.tags["harness.gate_record"])
    assert record["isolated"] and record["complete"] and record["gate_passed"] and record["blockers"] == []
    assert mv.source == f"models:/{record['model_id']}" and record["cases_evaluated"] == record["cases_in_golden"] == 4
    run = client.get_run(mv.tags["harness.eval_run_id"])
    assert run.data.tags["harness.gate_record_sha256"]
    # One logged model in the whole store: promotion registered it, it did not log a second one.
    experiment = client.get_experiment_by_name("harness-evaluations")
    assert [m.model_id for m in client.search_logged_models(experiment_ids=[experiment.experiment_id])] == [
        record["model_id"]
    ]
    # The registered version loads back with pyfunc and answers (a plain callable had failed with KeyError: -1).
    mlflow.set_tracking_uri(project.tracking_uri)
    mlflow.set_registry_uri(project.tracking_uri)
    model = mlflow.pyfunc.load_model("models:/my_faq_agent@development")
    answer = model.predict({"messages": [{"role": "user", "content": "What is the capital of France?"}]})
    assert "Paris" in str(answer)

    # On the same store (one session serves both): a hand-set gate tag or a copied record never promotes.
    real = client.get_model_version("my_faq_agent", "1")

    class Echo(mlflow.pyfunc.PythonModel):
        def predict(self, context, model_input):
            return "I have no idea."

    mlflow.set_experiment("elsewhere")
    info = mlflow.pyfunc.log_model(name="agent", python_model=Echo(), pip_requirements=["mlflow"])
    tagged = mlflow.register_model(info.model_uri, "my_faq_agent", tags={"harness.gate": "passed"}).version
    code = project.harness("promote", "--to", "development", "--version", str(tagged))
    assert code.returncode == 1 and "has no sealed gate record" in code.stderr, code.stdout + code.stderr
    # A record and run id copied from the real version onto another model: not the artifact that was evaluated.
    copied = mlflow.register_model(
        info.model_uri, "my_faq_agent", tags={k: v for k, v in real.tags.items() if not k.startswith("harness.alias")}
    ).version
    code = project.harness("promote", "--to", "development", "--version", str(copied))
    assert code.returncode == 1 and "not the logged model" in code.stderr, code.stdout + code.stderr
    assert str(client.get_model_version_by_alias("my_faq_agent", "development").version) == "1"
    # The real version goes on along the chain.
    assert project.harness("promote", "--to", "staging").returncode == 0


def test_an_artifact_that_cannot_load_stops_the_session_before_any_case(tmp_path):
    project = module_project(tmp_path, NEEDS_DATA_FILE, **{"answers.json": DATA_FILE})
    result = project.pytest()
    assert result.returncode == 4, result.stdout[-3000:] + result.stderr[-2000:]
    output = result.stdout + result.stderr
    assert "failed to load in its own process" in output and "answers.json" in output
    assert "passed" not in result.stdout.splitlines()[-1]
    assert versions(project) == []
    # The same code imported in process answers every case, and is never promoted for it.
    local = project.pytest("--in-process")
    assert "gate PASSED" in local.stdout, local.stdout[-3000:]
    assert "not promoted: evaluated in process (--in-process is a fast local loop and never promotes)" in local.stdout
    assert versions(project) == []


def test_agent_code_that_patches_the_scorers_on_import_changes_nothing(tmp_path):
    project = module_project(tmp_path, PATCHES_SCORERS)
    result = project.pytest()
    assert result.returncode == 1, result.stdout[-3000:]
    assert "gate FAILED" in result.stdout and "not promoted: gate failed: correctness" in result.stdout
    assert versions(project) == []
    # In process the patch takes effect (which is why a promotable run never evaluates there).
    local = project.pytest("--in-process")
    assert "gate PASSED" in local.stdout and "not promoted: evaluated in process" in local.stdout
    assert versions(project) == []
