"""Masking for MLflow trace spans before they are exported: inputs, outputs and attributes."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from harness.secrets.detect import mask_tree


def span_masker(allowed_emails: frozenset[str] = frozenset()) -> Callable[[Any], None]:
    """A span processor for `mlflow.tracing.configure(span_processors=[...])` that masks every secret."""

    def mask_span(span: Any) -> None:
        if span.inputs is not None:
            span.set_inputs(mask_tree(span.inputs, allowed_emails).value)
        if span.outputs is not None:
            span.set_outputs(mask_tree(span.outputs, allowed_emails).value)
        for key, value in list(span.attributes.items()):
            if isinstance(value, (str, dict, list)):
                span.set_attribute(key, mask_tree(value, allowed_emails).value)

    return mask_span
