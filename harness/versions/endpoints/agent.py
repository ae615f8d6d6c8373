"""An endpoint as a version: build the protocol's request, read its answer, say in one line what went wrong.

Request headers come from the environment only (the reference never carries credentials):
`HARNESS_ENDPOINT_TOKEN` (sent as `Authorization: Bearer ...` to `http(s)://` and `openai+` endpoints),
`DATABRICKS_TOKEN` (the same, for `endpoints:/`), and `HARNESS_ENDPOINT_HEADERS`, a JSON object of
extra headers for every endpoint. Their values are masked in every error line.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from typing import Any

from harness import HarnessError
from harness.versions.endpoints.client import ClientSettings, EndpointClient, EndpointError, Reply, snippet
from harness.versions.endpoints.reference import HEADERS_ENV, EndpointRef, parse_reference
from harness.versions.version import AgentOutputError, Version, normalize_output

MASK = "***"


def request_headers(ref: EndpointRef, environ: Mapping[str, str]) -> dict[str, str]:
    """The headers every request to `ref` carries; HarnessError naming the variable when one is malformed."""
    headers = {"Accept": "application/json", "User-Agent": "agent-eval-harness"}
    raw = environ.get(HEADERS_ENV, "").strip()
    if raw:
        try:
            extra = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise HarnessError(
                f"environment {HEADERS_ENV}: not JSON (column {exc.colno}); expected an object such as "
                f'{{"X-Api-Key": "..."}}'
            ) from None
        if not isinstance(extra, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in extra.items()):
            raise HarnessError(f"environment {HEADERS_ENV}: expected a JSON object of header names to text values")
        headers.update(extra)
    token = environ.get(ref.token_env, "").strip()
    if token:
        headers["Authorization"] = f"Bearer {token}"
    return headers


def request_payload(
    ref: EndpointRef, messages: list[dict[str, str]], params: dict[str, Any], conversation_id: str
) -> dict[str, Any]:
    """The request body; the agent payloads carry what the in-process adapter passes (context, custom inputs)."""
    if ref.payload == "chat_completions":
        return {"model": ref.model, "messages": messages}
    context: dict[str, Any] = {"conversation_id": conversation_id}
    if ref.payload == "chat_agent" and params.get("user_id"):
        context["user_id"] = str(params["user_id"])
    payload: dict[str, Any] = {"messages" if ref.payload == "chat_agent" else "input": messages, "context": context}
    if params:
        payload["custom_inputs"] = dict(params)
    return payload


class EndpointAgent:
    """The `call` of an endpoint version: returns `{"content", "metadata"}`, metadata["endpoint"] holding the
    call's figures."""

    def __init__(self, ref: EndpointRef, client: EndpointClient, headers: dict[str, str]) -> None:
        self.ref = ref
        self.client = client
        self.headers = headers
        self._secrets = [v for k, v in headers.items() if k not in ("Accept", "User-Agent") and v]

    def __call__(self, messages: list[dict[str, str]], params: dict[str, Any], conversation_id: str) -> dict[str, Any]:
        try:
            reply = self.client.post(
                self.ref.url, request_payload(self.ref, messages, params, conversation_id), self.headers
            )
            text, metadata, usage = self._read(reply)
        except EndpointError as exc:
            raise EndpointError(self._masked(str(exc))) from None
        stats = reply.stats() | ({"usage": usage} if usage else {})
        return {"content": text, "metadata": {**metadata, "endpoint": stats}}

    def close(self) -> None:
        self.client.close()

    def _read(self, reply: Reply) -> tuple[str, dict[str, Any], dict[str, Any] | None]:
        url, status = self.ref.url, reply.status
        if status in (401, 403):
            sent = (
                "an Authorization header was sent"
                if "Authorization" in self.headers
                else f"no credentials were sent: set {self.ref.token_env}"
            )
            raise EndpointError(
                f"{url} refused the request: HTTP {status} {'unauthorized' if status == 401 else 'forbidden'} ({sent})"
            )
        if status in (404, 405):
            raise EndpointError(f"{url} answered HTTP {status}: not {self.ref.protocol}")
        if 400 <= status < 500:
            hint = (
                "; a ResponsesAgent takes responses+http(s)://, a ChatAgent http(s)://"
                if self.ref.payload != "chat_completions"
                else ""
            )
            raise EndpointError(f"{url} rejected the request: HTTP {status}: {snippet(reply.body)}{hint}")
        if not 200 <= status < 300:
            raise EndpointError(f"{url} answered HTTP {status} (redirects are not followed): not {self.ref.protocol}")
        try:
            body = json.loads(reply.body)
        except (json.JSONDecodeError, UnicodeDecodeError):
            kind = reply.content_type.split(";")[0] or "a body without a content type"
            raise EndpointError(f"{url} answered {kind} that is not JSON: not {self.ref.protocol}") from None
        if isinstance(body, dict) and set(body) == {"predictions"}:  # the generic pyfunc reply shape
            body = body["predictions"]
        try:
            text, metadata = normalize_output(body)
        except AgentOutputError as exc:
            raise EndpointError(f"{url} answered without text: {exc}") from None
        if not text.strip():
            raise EndpointError(f"{url} answered without text: the answer is empty")
        usage = body.get("usage") if isinstance(body, dict) and isinstance(body.get("usage"), dict) else None
        return text, metadata, usage

    def _masked(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, MASK)
            if secret.startswith("Bearer "):
                text = text.replace(secret[len("Bearer ") :], MASK)
        return text


def resolve_endpoint(
    reference: str, environ: Mapping[str, str] | None = None, settings: ClientSettings | None = None
) -> Version:
    """A version that calls the endpoint `reference` names; HarnessError on a bad reference or environment."""
    environ = os.environ if environ is None else environ
    ref = parse_reference(reference, environ)
    headers = request_headers(ref, environ)
    client = EndpointClient(settings or ClientSettings.from_env(environ), name=f"endpoint-{ref.payload}")
    return Version(reference, f"endpoint:{ref.payload}", EndpointAgent(ref, client, headers), 0.0)
