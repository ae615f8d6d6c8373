"""MLflow tracing as the harness uses it: answers traced under one root span each (LangChain autolog
on, so LangGraph nodes become spans; secrets masked in every span before export), the trajectory
read from the live trace, and finished traces read back from the store.

What a trajectory is and how it is matched is `harness.trajectory`; this module only talks to MLflow.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from harness.trajectory import ROOT_SPAN, Step, node_key, trajectory_from_spans

NodeTime = tuple[str, str, float]  # a node's or call's name, its kind, its duration in ms

TRACE_EXPERIMENT = "harness-latency-traces"


def _live_spans(trace_id: str) -> list[Any]:
    """The finished spans of a trace still open in this process (read before its root span ends), from
    MLflow's in-memory trace manager: no store round trip is needed."""
    from mlflow.tracing.trace_manager import InMemoryTraceManager

    with InMemoryTraceManager.get_instance().get_trace(trace_id) as trace:
        return list(trace.span_dict.values()) if trace is not None else []


def node_times(spans: Sequence[Any]) -> list[NodeTime]:
    """(name, kind, ms) of each span that stands for a node or a call (`trajectory.node_key`)."""
    return [
        (key[0], key[1], (span.end_time_ns - span.start_time_ns) / 1e6 if span.end_time_ns else 0.0)
        for span in spans
        if (key := node_key(span)) is not None
    ]


def _langchain_autolog() -> bool:
    """Switch LangChain autolog on; False when there is no LangChain here (@mlflow.trace spans still count)."""
    import mlflow

    try:
        mlflow.langchain.autolog(silent=True)
    except Exception:
        return False
    return True


@contextmanager
def tracing(in_process: bool, allowed_emails: frozenset[str] = frozenset()) -> Iterator[None]:
    """Trace the calls made meanwhile: for versions answering in this process, LangChain autolog on
    and secrets masked in every span (but `allowed_emails`), as their worker processes do (see
    `trace_this_process`); both are put back as they were afterwards."""
    if not in_process:
        yield
        return
    import mlflow
    from mlflow.utils.autologging_utils import autologging_is_disabled

    from harness.secrets.spans import span_masker

    switched_on = autologging_is_disabled("langchain") and _langchain_autolog()
    try:
        with mlflow.tracing.configure(span_processors=[span_masker(allowed_emails)]):
            yield
    finally:
        if switched_on:
            mlflow.langchain.autolog(disable=True, silent=True)


def trace_this_process(experiment: str = TRACE_EXPERIMENT) -> None:
    """For an agent's own worker process: every later traced call is masked, autologged and logged to
    `experiment`, for the rest of the process's life."""
    import mlflow

    from harness.secrets.spans import span_masker

    mlflow.tracing.configure(span_processors=[span_masker()])  # no raw secret reaches the store
    mlflow.set_experiment(experiment)
    _langchain_autolog()


def traced_call(
    call: Callable[[], Any], attributes: dict[str, str], on_spans: Callable[[list[Any]], None] | None = None
) -> tuple[Any, str, list[Step] | None]:
    """`call()` inside a root span: (its result, the trace id, the trajectory below the root).
    `on_spans`: given the finished spans below the root before the trace leaves this process."""
    import mlflow

    with mlflow.start_span(name=ROOT_SPAN, span_type="AGENT") as span:
        span.set_attributes(attributes)
        result = call()
        spans = _live_spans(span.trace_id)
        if on_spans is not None:
            on_spans(spans)
    return result, span.trace_id, trajectory_from_spans(spans)


def use_trace_experiment(experiment: str = TRACE_EXPERIMENT) -> None:
    """Log the traces made from now on in this process to `experiment` of the current store."""
    import mlflow

    mlflow.set_experiment(experiment)


def flush_traces() -> None:
    """Wait until every trace made in this process is in the store."""
    import mlflow

    mlflow.flush_trace_async_logging()


def stored_traces(trace_ids: Sequence[str]) -> list[Any]:
    """The traces of `trace_ids` as the store has them (after `flush_traces`); missing ones left out."""
    import mlflow

    return [t for t in (mlflow.get_trace(tid, silent=True) for tid in trace_ids) if t is not None]
