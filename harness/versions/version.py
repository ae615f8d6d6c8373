"""A loaded agent version and what one call answers: the records that resolution builds, the
endpoints adapter returns and the runner and scorers read, with the one reading of raw answers.
Resolving a reference to a `Version` is harness/versions/resolve.py.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from harness.records.answers import AgentOutput as AgentOutput  # the record, where callers of a version look for it


class AgentOutputError(Exception):
    """The agent returned something that is not an answer."""


class AgentCallError(Exception):
    """A failed call whose message already reads `Type: reason` (the agent's own process phrased it)."""


@dataclass(frozen=True)
class Version:
    """A loaded agent version, called through `predict` whatever its kind."""

    reference: str
    kind: str
    call: Callable[[list[dict[str, str]], dict[str, Any], str], Any]
    load_s: float
    label: str = ""
    model_code_path: str | None = None
    model_config: str | None = None
    code_paths: list[str] = field(default_factory=list)
    registered: tuple[str, str] | None = None  # (model name, version) when it came from the registry
    isolated: Any = None  # the IsolatedAgent answering in its own process, for a version loaded there

    def predict(
        self, messages: list[dict[str, str]], params: dict[str, Any] | None = None, conversation_id: str = ""
    ) -> tuple[str, dict[str, Any]]:
        return normalize_output(self.call(messages, params or {}, conversation_id or uuid.uuid4().hex))


def normalize_output(raw: Any) -> tuple[str, dict[str, Any]]:
    """Turn whatever an agent returned into (text, metadata), or raise AgentOutputError saying why not."""
    if raw is None:
        raise AgentOutputError("agent returned None")
    if isinstance(raw, str):
        return raw, {}
    if hasattr(raw, "model_dump"):
        raw = raw.model_dump(exclude_none=True)
    if isinstance(raw, list) and len(raw) == 1:
        return normalize_output(raw[0])
    if isinstance(raw, dict):
        metadata = raw.get("custom_outputs") or raw.get("metadata") or {}
        if not isinstance(metadata, dict):
            metadata = {"custom_outputs": metadata}
        if isinstance(raw.get("messages"), list) and raw["messages"]:
            return _text(raw["messages"][-1]), metadata
        if isinstance(raw.get("output"), list):  # ResponsesAgent
            parts = [
                c.get("text", "")
                for item in raw["output"]
                if isinstance(item, dict) and item.get("type") == "message"
                for c in item.get("content", [])
                if isinstance(c, dict)
            ]
            if parts:
                return "".join(parts), metadata
        if isinstance(raw.get("choices"), list) and raw["choices"]:  # chat-completions shape
            return _text(raw["choices"][0].get("message", {})), metadata
        if "content" in raw:
            return _text(raw), metadata
        raise AgentOutputError(
            f"agent returned a dict without 'content', 'messages' or 'output' (keys: {sorted(raw)[:8]})"
        )
    if hasattr(raw, "content"):
        return _text(raw), {}
    raise AgentOutputError(f"agent returned {type(raw).__name__}, expected text or a dict with 'content'")


def _text(message: Any) -> str:
    content = message.get("content") if isinstance(message, dict) else getattr(message, "content", None)
    if not isinstance(content, str):
        raise AgentOutputError(f"agent answer content is {type(content).__name__}, expected text")
    return content
