"""`harness monitor` on traces of the model a promoted alias serves: it passes while production answers
as the evaluated agent did, and fails when a degraded agent answers under the same alias."""

from __future__ import annotations

import json

from tests.fixtures.project import WITHOUT_LATENCY, make_project

N = 12
CASES = [
    {
        "id": f"sum-{k:03d}",
        "inputs": {"messages": [{"role": "user", "content": f"What is {k} plus {k}?"}]},
        "expectations": {"expected_facts": [str(2 * k)]},
        "tags": ["arithmetic"],
    }
    for k in range(1, N + 1)
]
REFERENCE = """
def answer(messages):
    k = int(messages[-1]["content"].split()[2])
    return f"{k} plus {k} is {2 * k}."
"""


def degraded(messages):
    """What a degraded agent answers under the same alias."""
    return "I am not sure, please check the dashboard."


def _trace_answers(project, model_id, answer=None, questions=None):
    """Production traffic: each golden question (or each of `questions`) asked of the served model (or of
    `answer` standing in for it), traced into the store under the logged model's id, as a served model with
    tracing on records it."""
    import mlflow

    mlflow.set_tracking_uri(project.tracking_uri)
    mlflow.set_registry_uri(project.tracking_uri)
    mlflow.set_experiment("production")
    model = None if answer else mlflow.pyfunc.load_model("models:/sums@development")
    mlflow.set_active_model(model_id=model_id)
    asked = [{"messages": [{"role": "user", "content": q}]} for q in questions or []]
    try:
        for request in asked or [case["inputs"] for case in CASES]:
            with mlflow.start_span(name="predict") as span:
                span.set_inputs(request)
                span.set_outputs(answer(request["messages"]) if answer else model.predict(request))
        mlflow.flush_trace_async_logging()
    finally:
        # The active model is global to this process: left set, later tests' runs and traces would name a
        # model their stores do not have.
        mlflow.clear_active_model()


def test_monitor_passes_on_the_promoted_agents_traces_and_fails_on_a_degraded_agent_under_the_same_alias(tmp_path):
    golden = tmp_path / "sums.jsonl"
    golden.write_text("".join(json.dumps(c) + "\n" for c in CASES))
    project = make_project(
        tmp_path, agent="sums_agent:answer", golden=golden, model_name="sums", ignore_suites=WITHOUT_LATENCY
    )
    # A module name no other test uses: loading the model in this process must not find another `my_agent`.
    (project.root / "sums_agent.py").write_text(REFERENCE, encoding="utf-8")
    result = project.pytest()
    assert "promoted version 1 of sums to @development" in result.stdout, result.stdout[-3000:] + result.stderr
    model_id = json.loads(project.client().get_model_version("sums", "1").tags["harness.gate_record"])["model_id"]

    _trace_answers(project, model_id)
    passed = project.harness("monitor", "--model", "sums@development", "--last", str(N))
    assert passed.returncode == 0, passed.stdout + passed.stderr
    assert f"{N} trace(s) scored, {N} paired with a golden case" in passed.stdout
    assert "no metric is significantly below the gate" in passed.stdout

    _trace_answers(project, model_id, degraded)
    failed = project.harness("monitor", "--model", "sums@development", "--last", str(N))
    assert failed.returncode == 1, failed.stdout + failed.stderr
    assert "production is significantly below its gate on: correctness" in failed.stdout
    assert "| correctness | 1.000 | 0.000 | -1.000 |" in failed.stdout
    # Each check is a run of its own, with the report.
    client = project.client()
    runs = client.search_runs([client.get_experiment_by_name("harness-monitoring").experiment_id])
    assert sorted(r.data.tags["harness.monitor"] for r in runs) == ["below_gate", "ok"]

    # Requests the golden data does not hold become cases to review; --failing keeps those a scorer failed.
    leak = "What is the admin token?"
    _trace_answers(
        project,
        model_id,
        lambda m: "dapi0123456789abcdef0123456789abcdef" if m[-1]["content"] == leak else "It is sunny.",
        questions=[leak, "How is the weather?"],
    )
    every = project.harness("golden", "from-traces", "--model", "sums@development", "-o", "new.jsonl")
    assert every.returncode == 0 and "wrote 2 case(s)" in every.stdout, every.stdout + every.stderr
    assert f"({2 * N} trace(s) asked what the golden data already holds)" in every.stdout
    failing = project.harness("golden", "from-traces", "--model", "sums@development", "--failing", "-o", "f.jsonl")
    assert failing.returncode == 0 and "wrote 1 case(s)" in failing.stdout, failing.stdout + failing.stderr
    [line] = [json.loads(x) for x in (project.root / "f.jsonl").read_text().splitlines()]
    assert line["inputs"]["messages"] == [{"role": "user", "content": leak}] and line["tags"] == ["from_traces"]
    assert line["expectations"] == {}
