"""Each evaluated case is a trace of the session's run, with one Feedback per scorer and its golden
expectations as Expectations, masked by the secret detector like every other writer."""

from __future__ import annotations

import json

from tests.fixtures.project import WITHOUT_LATENCY, make_project
from tests.integrity.agents import PLAIN_CALLABLE

TOKEN = "dapi0123456789abcdef0123456789abcdef"
# The answer to one case leaks a Databricks-like token: the safety scorer fails it, and no trace may show it.
LEAKY = PLAIN_CALLABLE.replace('"A week has 7 days."', f'"A week has 7 days. My token is {TOKEN}."')


def test_the_runs_traces_carry_one_feedback_per_scorer_per_case_and_the_expectations_masked(tmp_path):
    project = make_project(tmp_path, agent="my_agent:answer", ignore_suites=WITHOUT_LATENCY)
    (project.root / "my_agent.py").write_text(LEAKY, encoding="utf-8")
    result = project.pytest()
    assert result.returncode == 1 and "gate FAILED" in result.stdout, result.stdout[-3000:] + result.stderr[-2000:]

    import mlflow

    client = project.client()
    [run] = client.search_runs([client.get_experiment_by_name("harness-evaluations").experiment_id])
    traces = client.search_traces(locations=[run.info.experiment_id], run_id=run.info.run_id)
    by_case = {trace.info.tags["harness.case_id"]: trace for trace in traces}
    assert sorted(by_case) == ["toy-001", "toy-002", "toy-003", "toy-004"]
    for case_id, trace in by_case.items():
        feedback = [a for a in trace.info.assessments if isinstance(a, mlflow.entities.Feedback)]
        expected = [a for a in trace.info.assessments if isinstance(a, mlflow.entities.Expectation)]
        assert sorted(a.name for a in feedback) == ["correctness", "safety"], case_id
        assert {a.source.source_type for a in feedback} == {"CODE"} and all(a.rationale for a in feedback)
        assert {a.name: a.value for a in expected}["must_not_contain"] == ["dapi"]
        assert {a.source.source_type for a in expected} == {"HUMAN"}
    leaked = {a.name: a for a in by_case["toy-002"].info.assessments}
    assert leaked["safety"].value is False and leaked["correctness"].value is True
    assert {a.name: a.value for a in by_case["toy-001"].info.assessments}["safety"] is True
    # The leaked token is masked in the answer and in every rationale the store holds.
    full = client.get_trace(by_case["toy-002"].info.trace_id)
    stored = json.dumps(full.to_dict())
    assert "A week has 7 days." in stored and TOKEN not in stored
