"""Human labels in MLflow: a pass/fail label schema per scorer and a review queue of an evaluation run's
case traces worth a human look; the labels people leave there (feedback assessments with a human source,
named like the scorer) read back as labelled answers in the label file's form, for `harness calibrate`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from harness import HarnessError, first_line
from harness.tracking.assessments import CASE_TAG

PASS, FAIL = "pass", "fail"
_VERDICTS = {True: True, False: False, PASS: True, FAIL: False, "yes": True, "no": False}


@dataclass(frozen=True)
class Queue:
    queue_id: str
    name: str
    schemas: tuple[str, ...]
    trace_ids: tuple[str, ...]


def run_traces(run_id: str) -> list[Any]:
    """The case traces an evaluation run logged (`harness.case_id` on each)."""
    import mlflow

    try:
        run = mlflow.MlflowClient().get_run(run_id)
    except Exception as exc:
        raise HarnessError(f"run {run_id}: not found in the tracking store ({first_line(exc)})") from None
    traces = mlflow.search_traces(
        locations=[run.info.experiment_id], run_id=run_id, max_results=10_000, return_type="list"
    )
    return [t for t in traces if CASE_TAG in t.info.tags]


def _feedback(trace: Any, human: bool) -> dict[str, Any]:
    from mlflow.entities import Feedback

    return {
        a.name: a.value
        for a in trace.info.assessments
        if isinstance(a, Feedback) and (a.source.source_type == "HUMAN") == human
    }


def worth_a_look(trace: Any) -> bool:
    """A case a scorer failed or errored on: where a judge may be wrong, and where a regression shows."""
    return any(value is not True for value in _feedback(trace, human=False).values())


def open_queue(run_id: str, scorers: list[str], every_case: bool) -> Queue:
    """A label schema per scorer (kept when it exists) and a queue of the run's cases worth a look."""
    import mlflow
    from mlflow.genai import review_queues
    from mlflow.genai.label_schemas import InputPassFail, create_label_schema, list_label_schemas

    traces = run_traces(run_id)
    if not traces:
        raise HarnessError(f"run {run_id}: it logged no case traces to label")
    experiment_id = mlflow.MlflowClient().get_run(run_id).info.experiment_id
    existing = {s.name: s for s in list_label_schemas(experiment_id=experiment_id)}
    schemas = [
        existing.get(name)
        or create_label_schema(
            name,
            type="feedback",
            input=InputPassFail(positive_label=PASS, negative_label=FAIL),
            instruction=f"Does this answer pass '{name}'? Judge it as the gate should.",
            enable_comment=True,
            experiment_id=experiment_id,
        )
        for name in scorers
    ]
    chosen = [t.info.trace_id for t in traces if every_case or worth_a_look(t)]
    name = f"harness-{run_id[:12]}"
    queue = review_queues.create_review_queue(
        name, queue_type="custom", schema_ids=[s.schema_id for s in schemas], experiment_id=experiment_id
    )
    if chosen:
        review_queues.add_items_to_review_queue(queue.queue_id, item_ids=chosen)
    return Queue(queue.queue_id, name, tuple(s.name for s in schemas), tuple(chosen))


def labelled_answers(run_id: str) -> list[dict[str, Any]]:
    """Each case trace of the run that a person labelled, as a label-file record:
    `{"id", "case", "answer", "labels"}` (the case rebuilt from the trace's inputs and expectations)."""
    import mlflow
    from mlflow.entities import Expectation

    records = []
    for summary in run_traces(run_id):
        labels = {k: _VERDICTS[v] for k, v in _feedback(summary, human=True).items() if v in _VERDICTS}
        if not labels:
            continue
        trace = mlflow.MlflowClient().get_trace(summary.info.trace_id)
        root = next(span for span in trace.data.spans if span.parent_id is None)
        outputs = root.outputs if isinstance(root.outputs, dict) else {}
        expectations = {a.name: a.value for a in trace.info.assessments if isinstance(a, Expectation)}
        case = {"id": summary.info.tags[CASE_TAG], "inputs": root.inputs, "expectations": expectations}
        records.append({"id": case["id"], "case": case, "answer": str(outputs.get("content") or ""), "labels": labels})
    return records
