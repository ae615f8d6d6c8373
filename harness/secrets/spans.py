"""Masking for MLflow trace spans before they are exported: inputs, outputs and attributes.

A traced LangGraph answer writes the graph's whole state into the inputs and outputs of every node
span, so one answer carries the same few hundred strings over and over (about 1,700 strings, 110
distinct, for a summary). Each distinct string goes through the detector once per masker and its
masked copy is reused; masking is a pure function of the text (and the masker's allowed emails), so
a reused copy is exactly what masking it again would give.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from typing import Any

from harness.secrets.mask import mask

CACHED_CHARS = 16_384  # longer strings are masked each time they occur, so the cache stays small
CACHED_STRINGS = 1024  # distinct strings kept (at most ~32 MB): several answers' worth of graph state
# What `set_inputs` / `set_outputs` store: masked just before through `span.inputs` / `span.outputs`.
IO_ATTRIBUTES = frozenset({"mlflow.spanInputs", "mlflow.spanOutputs"})


def span_masker(allowed_emails: frozenset[str] = frozenset()) -> Callable[[Any], None]:
    """A span processor for `mlflow.tracing.configure(span_processors=[...])` that masks every secret
    (every string, dictionary keys included) the detector finds, but `allowed_emails`."""
    allowed = frozenset(e.lower() for e in allowed_emails)

    @lru_cache(maxsize=CACHED_STRINGS)
    def cached(text: str) -> str:
        return mask(text, allowed).text

    def text(value: str) -> str:
        return cached(value) if len(value) <= CACHED_CHARS else mask(value, allowed).text

    def walk(value: Any) -> Any:
        if isinstance(value, str):
            return text(value)
        if isinstance(value, dict):
            return {walk(k) if isinstance(k, str) else k: walk(item) for k, item in value.items()}
        if isinstance(value, (list, tuple)):
            return [walk(item) for item in value]
        return value

    def mask_span(span: Any) -> None:
        if span.inputs is not None:
            span.set_inputs(walk(span.inputs))
        if span.outputs is not None:
            span.set_outputs(walk(span.outputs))
        for key, value in list(span.attributes.items()):
            if key not in IO_ATTRIBUTES and isinstance(value, (str, dict, list)):
                span.set_attribute(key, walk(value))

    return mask_span
