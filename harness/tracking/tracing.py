"""MLflow tracing as the harness uses it: answers traced under one root span each (LangChain runs
recorded cheaply and replayed into the trace once; secrets masked in every span before export), the
trajectory read from the live trace, and finished traces read back from the store.

What a trajectory is and how it is matched is `harness.trajectory`; this module only talks to MLflow.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
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


@contextmanager
def tracing(in_process: bool, allowed_emails: frozenset[str] = frozenset()) -> Iterator[None]:
    """Trace the calls made meanwhile: for versions answering in this process, secrets masked in every
    span (but `allowed_emails`) before export, as their worker processes do (see `trace_this_process`);
    put back as it was afterwards. LangChain runs are recorded by `traced_call` itself, not by autolog."""
    if not in_process:
        yield
        return
    import mlflow

    from harness.secrets.spans import span_masker

    with mlflow.tracing.configure(span_processors=[span_masker(allowed_emails)]):
        yield


def trace_this_process(experiment: str = TRACE_EXPERIMENT) -> None:
    """For an agent's own worker process: every later traced call is masked and logged to `experiment`,
    for the rest of the process's life."""
    import mlflow

    from harness.secrets.spans import span_masker

    mlflow.tracing.configure(span_processors=[span_masker()])  # no raw secret reaches the store
    mlflow.set_experiment(experiment)


@dataclass(frozen=True)
class TracedAnswer:
    result: Any
    trace_id: str
    trajectory: list[Step] | None  # the steps below the root span; None: none
    call_ms: float  # the agent's own time
    trace_ms: float  # the rest: opening the root span, building the trajectory, replaying, masking
    nodes: list[NodeTime]


def traced_call(call: Callable[[], Any], attributes: dict[str, str], export: bool = True) -> TracedAnswer:
    """`call()` inside a root span, its LangChain runs recorded (`trajectory.recorder`) and the agent's
    own `@mlflow.trace` spans read from the live trace. `export`: the recorded runs that are steps are
    replayed into the trace once, after the call, and the trace goes to the store (nodes included);
    else the trace is dropped once read, so nothing is masked or written for it."""
    import mlflow

    from harness.trajectory.recorder import recording

    opened = time.perf_counter()
    with mlflow.start_span(name=ROOT_SPAN, span_type="AGENT") as root:
        root.set_attributes(attributes)
        with recording() as recorded:
            started = time.perf_counter()
            result = call()
            call_ms = (time.perf_counter() - started) * 1000
        spans = [*_live_spans(root.trace_id), *recorded]
        trajectory = trajectory_from_spans(spans)
        if export:
            _replay(root, recorded)
        else:
            _drop(root)
    nodes = node_times(spans)
    trace_ms = (time.perf_counter() - opened) * 1000 - call_ms
    return TracedAnswer(result, root.trace_id, trajectory, call_ms, trace_ms, nodes)


def _drop(root: Any) -> None:
    """Forget the open trace of `root`: when the root span ends, MLflow finds no trace to export."""
    from mlflow.tracing.trace_manager import InMemoryTraceManager

    InMemoryTraceManager.get_instance().pop_trace(root._span.context.trace_id)


def _replay(root: Any, recorded: Sequence[Any]) -> None:
    """The recorded runs that stand for steps as spans of `root`'s trace, with their own times and
    inputs (a node's none: LangGraph passes it the whole state), masked by the span processor."""
    import mlflow

    by_id = {span.span_id: span for span in recorded}
    made: dict[str, Any] = {}
    for span in sorted(recorded, key=lambda s: s.start_time_ns):
        key = node_key(span)
        if key is None:
            continue
        parent = by_id.get(span.parent_id)
        while parent is not None and parent.span_id not in made:
            parent = by_id.get(parent.parent_id)
        live = mlflow.start_span_no_context(
            span.name,
            span_type=span.span_type,
            parent_span=made[parent.span_id] if parent is not None else root,
            inputs=None if key[1] == "node" else span.inputs,
            attributes=span.attributes or None,
            start_time_ns=span.start_time_ns,
        )
        made[span.span_id] = live
        live.end(status=span.status.status_code, end_time_ns=span.end_time_ns or span.start_time_ns)


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
