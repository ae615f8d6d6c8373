"""Masking for MLflow trace spans before they are exported: inputs, outputs and attributes.

A traced LangGraph answer writes the graph's whole state into the inputs and outputs of every node
span, so one answer carries the same few hundred strings over and over (about 1,700 strings, 110
distinct, for a summary): the detector's verdict on each distinct string is cached (detect.py),
shared with the safety scorer and the report writers.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from harness.secrets.mask import TreeMasker

# What `set_inputs` / `set_outputs` store: masked just before through `span.inputs` / `span.outputs`.
IO_ATTRIBUTES = frozenset({"mlflow.spanInputs", "mlflow.spanOutputs"})
# Ids and names MLflow itself writes on every span, new for each trace: never agent data, and each would
# be a string the detector has not seen yet (a full scan, about 9 ms, per answer). The harness's
# conversation id is not among them: it starts with the golden case's id, which may hold a secret.
OWN_ATTRIBUTES = frozenset(
    {
        "mlflow.traceRequestId",
        "mlflow.experimentId",
        "mlflow.spanType",
        "mlflow.spanFunctionName",
        "mlflow.spanStartTimeNs",
        "mlflow.spanLogLevel",
        "mlflow.message.format",
    }
)


def span_masker(allowed_emails: frozenset[str] = frozenset()) -> Callable[[Any], None]:
    """A span processor for `mlflow.tracing.configure(span_processors=[...])` that masks every secret
    (every string, dictionary keys included) the detector finds, but `allowed_emails`."""
    masker = TreeMasker(allowed_emails)

    def walk(value: Any) -> Any:
        return masker(value).value

    def mask_span(span: Any) -> None:
        if span.inputs is not None:
            span.set_inputs(walk(span.inputs))
        if span.outputs is not None:
            span.set_outputs(walk(span.outputs))
        for key, value in list(span.attributes.items()):
            if key not in IO_ATTRIBUTES and key not in OWN_ATTRIBUTES and isinstance(value, (str, dict, list)):
                span.set_attribute(key, walk(value))

    return mask_span
