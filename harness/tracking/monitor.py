"""The store reads and writes of `harness monitor`: the version an alias serves with its sealed record and
the results.json its evaluation run logged (checked against the record's digest), the recent traces of
that logged model (`mlflow.modelId` on each trace), and the monitoring run."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness import HarnessError, first_line
from harness.seal import GateRecord
from harness.tracking import EXPERIMENT, RECORD_TAG, RUN_TAG
from harness.tracking.tracing import TRACE_EXPERIMENT

MONITOR_EXPERIMENT = "harness-monitoring"
OWN_EXPERIMENTS = (EXPERIMENT, TRACE_EXPERIMENT, MONITOR_EXPERIMENT)


@dataclass(frozen=True)
class Served:
    """The version an alias points at, its sealed gate record and the results.json that record digests."""

    model_name: str
    alias: str
    version: str
    record: GateRecord
    results: dict[str, Any]


@dataclass(frozen=True)
class TracedAnswer:
    trace_id: str
    messages: list[dict[str, str]]
    text: str
    latency_ms: float
    timestamp_ms: int


def served(model_name: str, alias: str) -> Served:
    import mlflow

    client = mlflow.MlflowClient()
    try:
        mv = client.get_model_version_by_alias(model_name, alias)
    except Exception as exc:
        raise HarnessError(f"models:/{model_name}@{alias}: no such alias ({first_line(exc)})") from None
    where = f"models:/{model_name}@{alias} (version {mv.version})"
    if RECORD_TAG not in mv.tags or RUN_TAG not in mv.tags:
        raise HarnessError(f"{where} has no sealed gate record to compare production with")
    record = GateRecord.from_json(mv.tags[RECORD_TAG], where)
    try:
        data = Path(client.download_artifacts(mv.tags[RUN_TAG], "reports/results.json")).read_bytes()
    except Exception as exc:
        raise HarnessError(f"{where}: its evaluation run's results.json cannot be read ({first_line(exc)})") from None
    if record.results_sha256 and hashlib.sha256(data).hexdigest() != record.results_sha256:
        raise HarnessError(f"{where}: its evaluation run's results.json differs from the one its record sealed")
    return Served(model_name, alias, str(mv.version), record, json.loads(data))


def recent_traces(model_id: str, last: int, since_ms: int | None) -> list[TracedAnswer]:
    """The newest `last` traces of the logged model `model_id` (at or after `since_ms`), newest first."""
    import mlflow

    # The harness's own traces (evaluated cases, latency benchmarks) are not production's.
    experiments = [e.experiment_id for e in mlflow.MlflowClient().search_experiments() if e.name not in OWN_EXPERIMENTS]
    if not experiments:
        return []
    found = mlflow.search_traces(
        locations=experiments,
        filter_string=f"timestamp_ms >= {since_ms}" if since_ms is not None else None,
        model_id=model_id,
        max_results=last,
        order_by=["timestamp_ms DESC"],
        return_type="list",
    )
    answers = []
    for trace in found:
        request, response = _root_io(trace)
        messages = request.get("messages") if isinstance(request, dict) else None
        if not isinstance(messages, list) or not messages:
            continue  # not a chat request: nothing the scorers can read
        answers.append(
            TracedAnswer(
                trace.info.trace_id,
                [{"role": str(m.get("role")), "content": str(m.get("content"))} for m in messages],
                answer_text(response),
                float(trace.info.execution_duration or 0),
                int(trace.info.request_time or 0),
            )
        )
    return answers


def _root_io(trace: Any) -> tuple[Any, Any]:
    roots = [span for span in trace.data.spans if span.parent_id is None]
    if not roots:
        return None, None
    return roots[0].inputs, roots[0].outputs


def answer_text(response: Any) -> str:
    """The answer in a traced response: text, `{"content"}`, a ChatAgent's `{"messages"}`, or a chat completion."""
    if isinstance(response, str):
        return response
    if isinstance(response, list) and response:
        return answer_text(response[0])
    if isinstance(response, dict):
        if isinstance(response.get("content"), str):
            return response["content"]
        if isinstance(response.get("messages"), list) and response["messages"]:
            return answer_text(response["messages"][-1])
        if isinstance(response.get("choices"), list) and response["choices"]:
            return answer_text(response["choices"][0].get("message", {}))
    return "" if response is None else json.dumps(response, default=str)


def log_monitor_run(served: Served, metrics: dict[str, float], report_dir: Path, failed: bool) -> str:
    import mlflow

    mlflow.set_experiment(MONITOR_EXPERIMENT)
    with mlflow.start_run(run_name=f"{served.model_name}@{served.alias} (version {served.version})") as run:
        mlflow.log_params({"model": served.model_name, "alias": served.alias, "version": served.version})
        mlflow.log_metrics({k: v for k, v in metrics.items() if v == v})
        mlflow.log_artifacts(str(report_dir), artifact_path="monitor")
        mlflow.set_tag("harness.monitor", "below_gate" if failed else "ok")
        return str(run.info.run_id)
