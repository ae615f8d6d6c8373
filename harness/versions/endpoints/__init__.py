"""Deployed agents as versions: MLflow scoring, OpenAI-compatible and Databricks serving endpoints.

`is_endpoint_reference` is cheap; `resolve_endpoint` imports the HTTP client only when an
endpoint is actually evaluated. Reference forms are in `harness.versions.endpoints.reference`, request
headers in `harness.versions.endpoints.agent`, retries and tuning in `harness.versions.endpoints.client`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from harness.versions.endpoints.reference import is_endpoint_reference

if TYPE_CHECKING:
    from harness.versions.endpoints.client import ClientSettings
    from harness.versions.version import Version

__all__ = ["is_endpoint_reference", "resolve_endpoint"]


def resolve_endpoint(
    reference: str, environ: Mapping[str, str] | None = None, settings: ClientSettings | None = None
) -> Version:
    """A version calling the endpoint `reference` names; HarnessError on a bad reference or environment."""
    from harness.versions.endpoints.agent import resolve_endpoint as resolve

    return resolve(reference, environ, settings)
