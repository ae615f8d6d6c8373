"""A LangChain callback handler that records an answer's runs as plain spans, cheap enough to leave on.

MLflow's LangChain autolog patches every runnable and builds an OpenTelemetry span, with the whole
graph state as inputs and outputs, for each; on the reference agent that cost about 25 ms an answer.
This handler keeps what a trajectory and the node breakdown read (name, type, parent, LangGraph
metadata, times, a tool's or model's inputs, failure) and nothing else; the harness replays the
recorded spans into the answer's MLflow trace once, at its end (`tracking.tracing`).

It reaches every runnable through LangChain's configure hook (a context variable), so each answer,
on whatever thread, records into its own handler, and nothing is patched.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

ROOT_ID = "root"  # the parent id of a top-level run: the answer's root span
# The run metadata a step is read from (`trajectory.spans.node_key`); the rest (checkpoint ids, new in
# every answer) is left out, so the span masker sees only strings it has seen before.
_KEPT_METADATA = ("langgraph_node", "ls_integration")


@dataclass
class SpanStatus:
    status_code: str = "OK"


@dataclass
class RecordedSpan:
    """One LangChain run, shaped like the MLflow span fields `trajectory.spans` reads."""

    span_id: str
    parent_id: str
    name: str
    span_type: str
    start_time_ns: int
    attributes: dict[str, Any] = field(default_factory=dict)
    inputs: Any = None
    end_time_ns: int | None = None
    status: SpanStatus = field(default_factory=SpanStatus)


_ACTIVE: ContextVar[Any] = ContextVar("harness_route_recorder", default=None)
_HOOKED: list[bool] = []


class _Recording:
    """The callbacks of `RouteRecorder` (LangChain's handler class is mixed in when a recording starts)."""

    run_inline = True  # called on the run's own thread, in order: no executor hop per event

    def __init__(self) -> None:
        self.spans: dict[UUID, RecordedSpan] = {}

    def _start(self, run_id: UUID, parent: UUID | None, name: str, kind: str, inputs: Any, meta: Any) -> None:
        self.spans[run_id] = RecordedSpan(
            str(run_id),
            str(parent) if parent is not None else ROOT_ID,
            name,
            kind,
            time.time_ns(),
            {"metadata": {k: meta[k] for k in _KEPT_METADATA if k in meta}} if meta else {},
            inputs,
        )

    def _end(self, run_id: UUID, failed: bool = False) -> None:
        span = self.spans.get(run_id)
        if span is not None:
            span.end_time_ns = time.time_ns()
            if failed:
                span.status.status_code = "ERROR"

    def on_chain_start(self, serialized: Any, inputs: Any, *, run_id: UUID, **kw: Any) -> None:
        self._start(run_id, kw.get("parent_run_id"), _name(serialized, kw), "CHAIN", None, kw.get("metadata"))

    def on_tool_start(self, serialized: Any, input_str: str, *, run_id: UUID, **kw: Any) -> None:
        args = kw.get("inputs") if kw.get("inputs") is not None else input_str
        self._start(run_id, kw.get("parent_run_id"), _name(serialized, kw), "TOOL", args, kw.get("metadata"))

    def on_llm_start(self, serialized: Any, prompts: list[str], *, run_id: UUID, **kw: Any) -> None:
        self._start(run_id, kw.get("parent_run_id"), _name(serialized, kw), "LLM", prompts, kw.get("metadata"))

    def on_chat_model_start(self, serialized: Any, messages: Any, *, run_id: UUID, **kw: Any) -> None:
        inputs = [[getattr(m, "content", m) for m in turn] for turn in messages]
        self._start(run_id, kw.get("parent_run_id"), _name(serialized, kw), "CHAT_MODEL", inputs, kw.get("metadata"))

    def on_retriever_start(self, serialized: Any, query: str, *, run_id: UUID, **kw: Any) -> None:
        self._start(run_id, kw.get("parent_run_id"), _name(serialized, kw), "RETRIEVER", query, kw.get("metadata"))

    def on_chain_end(self, outputs: Any, *, run_id: UUID, **kw: Any) -> None:
        self._end(run_id)

    def on_tool_end(self, output: Any, *, run_id: UUID, **kw: Any) -> None:
        self._end(run_id)

    def on_llm_end(self, response: Any, *, run_id: UUID, **kw: Any) -> None:
        self._end(run_id)

    def on_retriever_end(self, documents: Any, *, run_id: UUID, **kw: Any) -> None:
        self._end(run_id)

    def on_chain_error(self, error: BaseException, *, run_id: UUID, **kw: Any) -> None:
        self._end(run_id, failed=True)

    def on_tool_error(self, error: BaseException, *, run_id: UUID, **kw: Any) -> None:
        self._end(run_id, failed=True)

    def on_llm_error(self, error: BaseException, *, run_id: UUID, **kw: Any) -> None:
        self._end(run_id, failed=True)

    def on_retriever_error(self, error: BaseException, *, run_id: UUID, **kw: Any) -> None:
        self._end(run_id, failed=True)


@functools.cache
def _handler_class() -> type:
    from langchain_core.callbacks import BaseCallbackHandler

    return type("RouteRecorder", (_Recording, BaseCallbackHandler), {})


def _name(serialized: Any, kw: dict[str, Any]) -> str:
    if kw.get("name"):
        return str(kw["name"])
    serialized = serialized if isinstance(serialized, dict) else {}
    ids = serialized.get("id")
    return str(serialized.get("name") or (ids[-1] if isinstance(ids, list) and ids else "unknown"))


@contextmanager
def recording() -> Iterator[list[RecordedSpan]]:
    """Record the LangChain runs made meanwhile in this context; the list is filled when the block ends
    (empty where LangChain is not installed: the agent's own `@mlflow.trace` spans still count)."""
    try:
        from langchain_core.tracers.context import register_configure_hook
    except ImportError:
        yield []
        return
    if not _HOOKED:  # once per process: LangChain keeps the hooks for good
        register_configure_hook(_ACTIVE, inheritable=True)
        _HOOKED.append(True)
    recorder = _handler_class()()
    token = _ACTIVE.set(recorder)
    found: list[RecordedSpan] = []
    try:
        yield found
    finally:
        _ACTIVE.reset(token)
        found.extend(recorder.spans.values())
