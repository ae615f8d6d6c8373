"""An answer's steps, read from the spans of its MLflow trace (the live trace, before its root span closes)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

MAX_ARGS_CHARS = 4000  # a step's arguments are cut to this many characters of JSON
MAX_STEPS = 500  # steps kept per answer: enough for any real route, and results.json stays small
ROOT_SPAN = "harness.predict"  # the root span every traced answer opens
PLUMBING_PREFIXES = ("__", "ChannelWrite", "ChannelRead", "Branch<")  # LangGraph's own edges and channels

Step = dict[str, Any]  # one JSON step: kind, name, type, args, parent, start_ms, end_ms, error


def node_key(span: Any) -> tuple[str, str] | None:
    """(name, kind) a span stands for: kind "node" for a LangGraph node, else its MLflow span type;
    None for the root span, LangGraph plumbing, the graph itself and helper runnables inside a node."""
    if span.parent_id is None or span.name.startswith(PLUMBING_PREFIXES):
        return None
    metadata = span.attributes.get("metadata") or {}
    metadata = metadata if isinstance(metadata, dict) else {}
    node = metadata.get("langgraph_node")
    if node and node == span.name:
        return node, "node"
    if str(span.span_type) == "CHAIN" and (node or metadata.get("ls_integration") == "langgraph"):
        return None
    return span.name, str(span.span_type)


def trajectory_from_spans(spans: Sequence[Any], allowed_emails: frozenset[str] = frozenset()) -> list[Step] | None:
    """The steps below the root span, in start order (an enclosing span first); None when there are
    none (the agent is not traced)."""
    by_id = {span.span_id: span for span in spans}

    def depth(span: Any) -> int:
        n, parent = 0, by_id.get(span.parent_id)
        while parent is not None and n < len(by_id):
            n, parent = n + 1, by_id.get(parent.parent_id)
        return n

    origin = min((span.start_time_ns or 0 for span in spans), default=0)
    index: dict[Any, int] = {}  # span id -> its step's index
    steps: list[Step] = []
    for span in sorted(spans, key=lambda s: (s.start_time_ns or 0, depth(s))):
        key = node_key(span)
        if key is None:
            continue
        name, kind = key
        step: Step = (
            {"kind": "node", "name": name}
            if kind == "node"
            else {"kind": "call", "name": name, "type": kind, "args": _args(span.inputs, allowed_emails)}
        )
        enclosing = by_id.get(span.parent_id)
        while enclosing is not None and enclosing.span_id not in index:
            enclosing = by_id.get(enclosing.parent_id)
        if enclosing is not None:
            step["parent"] = index[enclosing.span_id]
        step["start_ms"] = round(((span.start_time_ns or origin) - origin) / 1e6, 3)
        if span.end_time_ns:
            step["end_ms"] = round((span.end_time_ns - origin) / 1e6, 3)
        if str(getattr(span.status, "status_code", "")).endswith("ERROR"):
            step["error"] = True
        index[span.span_id] = len(steps)
        steps.append(step)
        if len(steps) == MAX_STEPS:
            break
    return steps or None


def received_trajectory(value: Any) -> list[Step] | None:
    """A trajectory as an agent's process sent it: a list of step objects, cut to MAX_STEPS; anything
    else counts as not traced (so it can only fail). The agent reports it, like its answer: it is
    evidence of the route the agent says it took, not proof."""
    if not isinstance(value, list) or not value or not all(isinstance(step, dict) for step in value):
        return None
    return value[:MAX_STEPS]


def _args(inputs: Any, allowed_emails: frozenset[str]) -> Any:
    """A call's inputs as JSON, secrets masked first, then cut to MAX_ARGS_CHARS."""
    from harness.secrets import mask_tree

    value = mask_tree(json.loads(json.dumps(inputs, default=str)), allowed_emails).value
    text = json.dumps(value, default=str)
    return value if len(text) <= MAX_ARGS_CHARS else {"truncated": text[:MAX_ARGS_CHARS]}
