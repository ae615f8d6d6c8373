"""Human labels in MLflow: `harness label` queues the cases a scorer failed in a review queue with a
label schema per scorer, and the labels left there change `harness calibrate --run`'s agreement figures."""

from __future__ import annotations

import json
from pathlib import Path

from tests.fixtures.project import WITHOUT_LATENCY, make_project
from tests.integrity.agents import PLAIN_CALLABLE

# One wrong answer: the correctness scorer fails toy-004, which makes it worth a human look.
ONE_WRONG = PLAIN_CALLABLE.replace('"The Pacific Ocean is the largest ocean."', '"I do not know."')


def _label(project, trace_id: str, name: str, verdict: str) -> None:
    """What a reviewer's click in the review queue stores: a feedback with a human source."""
    import mlflow
    from mlflow.entities import AssessmentSource

    mlflow.set_tracking_uri(project.tracking_uri)
    mlflow.log_feedback(
        trace_id=trace_id, name=name, value=verdict, source=AssessmentSource(source_type="HUMAN", source_id="alice")
    )


def _agreement(project, run_id: str) -> dict:
    result = project.harness("calibrate", "--run", run_id)
    assert result.returncode == 0, result.stdout + result.stderr
    report = Path(result.stdout.strip().splitlines()[-1].removeprefix("report: "))
    judges = json.loads((report.parent / "calibration.json").read_text())["judges"]
    return {j["judge"]: (j["n"], j["human_fails"], j["accuracy"]["value"]) for j in judges}


def test_a_label_left_in_the_review_queue_changes_calibrates_agreement(tmp_path):
    from mlflow.genai import review_queues
    from mlflow.genai.label_schemas import list_label_schemas

    project = make_project(tmp_path, agent="my_agent:answer", ignore_suites=WITHOUT_LATENCY)
    (project.root / "my_agent.py").write_text(ONE_WRONG, encoding="utf-8")
    result = project.pytest()
    assert "gate FAILED" in result.stdout, result.stdout[-3000:] + result.stderr[-2000:]
    client = project.client()
    [run] = client.search_runs([client.get_experiment_by_name("harness-evaluations").experiment_id])
    run_id = run.info.run_id
    traces = {
        t.info.tags["harness.case_id"]: t.info.trace_id
        for t in client.search_traces(locations=[run.info.experiment_id], run_id=run_id)
    }

    queued = project.harness("label")
    assert queued.returncode == 0, queued.stdout + queued.stderr
    assert f"1 case(s) of run {run_id} to label for correctness, safety" in queued.stdout
    import mlflow

    mlflow.set_tracking_uri(project.tracking_uri)
    [queue] = review_queues.list_review_queues(experiment_id=run.info.experiment_id)
    assert [i.item_id for i in review_queues.list_review_queue_items(queue.queue_id)] == [traces["toy-004"]]
    schemas = list_label_schemas(experiment_id=run.info.experiment_id)
    assert {s.name for s in schemas if not s.is_default} == {"correctness", "safety"}
    assert {s.schema_id for s in schemas if s.name in ("correctness", "safety")} == set(queue.schema_ids)

    none_yet = project.harness("calibrate", "--run", run_id)
    assert none_yet.returncode == 1 and "no case of it has a human label yet" in none_yet.stderr

    # The reviewer passes the queued answer the correctness scorer failed: one disagreement.
    _label(project, traces["toy-004"], "correctness", "pass")
    assert _agreement(project, run_id)["correctness"] == (1, 0, 0.0)
    # A second label, agreeing with the scorer's fail on a case outside the queue, changes the figures.
    _label(project, traces["toy-001"], "correctness", "fail")
    assert _agreement(project, run_id)["correctness"] == (2, 1, 0.0)
    _label(project, traces["toy-002"], "correctness", "pass")
    assert _agreement(project, run_id)["correctness"] == (3, 1, 1 / 3)
