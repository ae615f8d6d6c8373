"""Optional OpenAI-compatible chat client (stdlib ``urllib``; no extra dependency).

Used only when a variant enables it *and* an endpoint is configured (``llm.base_url`` and
``llm.model`` in the variant YAML, or ``HEALTH_MONITOR_LLM_BASE_URL`` /
``HEALTH_MONITOR_LLM_MODEL``). Every caller falls back to deterministic behaviour on any error.
"""

from __future__ import annotations

import json
import os
import urllib.request
from collections.abc import Iterator
from typing import Any


class LLMError(RuntimeError):
    pass


class LLMClient:
    def __init__(
        self,
        base_url: str,
        model: str,
        api_key: str | None = None,
        timeout_s: float = 20,
        temperature: float = 0.0,
        max_tokens: int = 400,
    ):
        self.base_url = base_url.rstrip("/")
        self.model = model
        self.api_key = api_key
        self.timeout_s = float(timeout_s)
        self.temperature = float(temperature)
        self.max_tokens = int(max_tokens)

    def _request(self, messages: list[dict[str, str]], stream: bool):
        body = {
            "model": self.model,
            "messages": messages,
            "temperature": self.temperature,
            "max_tokens": self.max_tokens,
            "stream": stream,
        }
        headers = {"Content-Type": "application/json"}
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        req = urllib.request.Request(
            f"{self.base_url}/chat/completions", data=json.dumps(body).encode(), headers=headers, method="POST"
        )
        try:
            return urllib.request.urlopen(req, timeout=self.timeout_s)
        except Exception as exc:
            raise LLMError(f"LLM request to {self.base_url} failed: {exc}") from exc

    def chat(self, messages: list[dict[str, str]]) -> str:
        with self._request(messages, stream=False) as resp:
            try:
                data = json.loads(resp.read().decode("utf-8"))
                content = data["choices"][0]["message"]["content"]
            except Exception as exc:
                raise LLMError(f"unparseable LLM reply: {exc}") from exc
        if not isinstance(content, str):
            raise LLMError("LLM reply has no text content")
        return content

    def stream(self, messages: list[dict[str, str]]) -> Iterator[str]:
        """Yield content deltas from a server-sent-events completion."""
        with self._request(messages, stream=True) as resp:
            for raw in resp:
                line = raw.decode("utf-8", "replace").strip()
                if not line.startswith("data:"):
                    continue
                payload = line[5:].strip()
                if payload == "[DONE]":
                    break
                try:
                    delta = json.loads(payload)["choices"][0].get("delta", {}).get("content")
                except Exception as exc:
                    raise LLMError(f"unparseable LLM stream chunk: {exc}") from exc
                if delta:
                    yield delta


def client_from_config(llm_cfg: dict[str, Any]) -> LLMClient | None:
    """An :class:`LLMClient` when enabled and an endpoint is configured, else ``None``."""
    if not llm_cfg or not llm_cfg.get("enabled"):
        return None
    base_url = os.environ.get("HEALTH_MONITOR_LLM_BASE_URL") or llm_cfg.get("base_url") or ""
    model = os.environ.get("HEALTH_MONITOR_LLM_MODEL") or llm_cfg.get("model") or ""
    if not base_url or not model:
        return None
    key_env = llm_cfg.get("api_key_env") or "HEALTH_MONITOR_LLM_API_KEY"
    return LLMClient(
        base_url,
        model,
        api_key=os.environ.get(key_env) or None,
        timeout_s=llm_cfg.get("timeout_s", 20),
        temperature=llm_cfg.get("temperature", 0.0),
        max_tokens=llm_cfg.get("max_tokens", 400),
    )
