"""A loopback stand-in for deployed agents: MLflow scoring, OpenAI-compatible chat and Databricks serving.

A real HTTP/1.1 server (aiohttp.web on 127.0.0.1, on its own event-loop thread, so a thousand slow
answers cost no thread each) that answers like the real protocols and misbehaves on request. The
first path segment picks the behaviour (`/<mode>/invocations`, `/<mode>/v1/chat/completions`, and
for Databricks the endpoint name: `/serving-endpoints/<mode>/invocations`; a bare `/invocations`
or `/v1/chat/completions` is `ok`):

- `ok`: answers `answer to: <last user message>` (or `answers[message]`) in the protocol's shape;
- `429xN` / `503xN` / `dropxN`: the first N attempts of each conversation get 429 (with
  `Retry-After`), 503, or a connection closed without an answer; then `ok`;
- `500`, `400`, `403`, `html`, `notext`, `empty`: always that status, an HTML page, JSON without
  text, or an empty answer; `hang`: sleeps `hang_s` first; `retrylater`: 429 asking for 120 s;
- `echoauth500`: a 500 whose body repeats the request's Authorization header (a leaky gateway);
- `random`: `ok`, or 429/503 with the server's `p429` / `p5xx` probabilities (benchmark load).

Every answer waits `think_s` first. With `token` set, requests without `Authorization: Bearer
<token>` get 401. Requests are recorded; `max_in_flight` is the most answered at once.
"""

from __future__ import annotations

import asyncio
import json
import random
import re
import threading
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

FLAKY = re.compile(r"^(429|503|drop)x(\d+)$")


@dataclass
class Recorded:
    path: str
    mode: str
    headers: dict[str, str]
    body: dict[str, Any]


@dataclass
class StandIn:
    think_s: float = 0.0
    token: str | None = None
    hang_s: float = 10.0
    retry_after_s: float = 0.2
    p429: float = 0.0
    p5xx: float = 0.0
    seed: int = 0
    record: bool = True
    answers: dict[str, str] = field(default_factory=dict)  # question -> answer, instead of `answer to: ...`
    requests: list[Recorded] = field(default_factory=list)
    max_in_flight: int = 0

    def __post_init__(self) -> None:
        # Everything below is touched only from the server's loop thread: no locks needed.
        self._in_flight = 0
        self._attempts: dict[tuple[str, str], int] = {}
        self._random = random.Random(self.seed)
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="standin", daemon=True)
        self._thread.start()
        self._runner, self.port = asyncio.run_coroutine_threadsafe(self._start(), self._loop).result()

    async def _start(self) -> tuple[web.AppRunner, int]:
        app = web.Application()
        app.router.add_route("*", "/{path:.*}", self._handle)
        runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", 0, backlog=512).start()
        return runner, int(runner.addresses[0][1])

    def url(self, path: str = "/invocations") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def count(self, mode: str) -> int:
        return sum(1 for r in self.requests if r.mode == mode)

    def close(self) -> None:
        asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self._loop).result(timeout=30)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
        self._loop.close()

    def __enter__(self) -> StandIn:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        if request.method != "POST":
            return _json(200 if request.path in ("/ping", "/health") else 404, {})
        raw = await request.read()
        body = json.loads(raw or b"{}")
        self._in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self._in_flight)
        try:
            return await self._answer(request, body)
        finally:
            self._in_flight -= 1

    async def _answer(self, request: web.Request, body: dict[str, Any]) -> web.StreamResponse:
        mode, protocol = _mode(request.path)
        if self.record:
            self.requests.append(Recorded(request.path, mode, {k.lower(): v for k, v in request.headers.items()}, body))
        if self.think_s:
            await asyncio.sleep(self.think_s)
        if not protocol:
            return _json(404, {"error": "not found"})
        if self.token and request.headers.get("Authorization") != f"Bearer {self.token}":
            return _json(401, {"error_code": "UNAUTHENTICATED", "message": "bad token"})
        messages = body.get("messages") or body.get("input") or [{}]
        question = str(messages[-1].get("content", ""))
        key = str((body.get("context") or {}).get("conversation_id") or question)
        failing = self._draw() if mode == "random" else self._flaky(mode, key)
        if failing == "drop":
            request.transport.close()  # no status line at all: the client sees the connection die
            return web.Response()
        if failing:
            headers = {"Retry-After": f"{self.retry_after_s:g}"} if failing == "429" else {}
            return _json(int(failing), {"error_code": "TEMPORARILY_UNAVAILABLE"}, headers)
        if mode == "hang":
            await asyncio.sleep(self.hang_s)
        if mode in ("500", "400", "403"):
            return _json(int(mode), {"error_code": "ERROR", "message": f"stand-in says {mode}"})
        if mode == "retrylater":
            return _json(429, {"error_code": "RATE_LIMITED"}, {"Retry-After": "120"})
        if mode == "echoauth500":
            return web.Response(status=500, text=f"upstream failed for {request.headers.get('Authorization')}")
        if mode == "html":
            return web.Response(
                status=200, text="<html><body>Welcome to nginx!</body></html>", content_type="text/html"
            )
        if mode == "notext":
            return _json(200, {"result": 42})
        return _json(
            200, _reply(protocol, body, "" if mode == "empty" else self.answers.get(question, f"answer to: {question}"))
        )

    def _flaky(self, mode: str, key: str) -> str:
        """For `429xN` and the like: the failure while this conversation has had fewer than N attempts, else ""."""
        flaky = FLAKY.match(mode)
        if not flaky:
            return ""
        self._attempts[(mode, key)] = self._attempts.get((mode, key), 0) + 1
        return flaky[1] if self._attempts[(mode, key)] <= int(flaky[2]) else ""

    def _draw(self) -> str:
        """For `random`: "429", "503" or "" (answer), with the server's probabilities."""
        x = self._random.random()
        return "429" if x < self.p429 else "503" if x < self.p429 + self.p5xx else ""


def _mode(path: str) -> tuple[str, str]:
    """(mode, protocol) from the request path; protocol is 'mlflow', 'openai' or '' (unknown path)."""
    parts = path.strip("/").split("/")
    if parts[-3:] == ["v1", "chat", "completions"]:
        return (parts[0] if parts[0] != "v1" else "ok"), "openai"
    if parts[-1] != "invocations":
        return "ok", ""
    if len(parts) == 3 and parts[0] == "serving-endpoints":
        return parts[1], "mlflow"
    return (parts[0] if len(parts) == 2 else "ok"), "mlflow"


def _json(status: int, data: dict[str, Any], headers: dict[str, str] | None = None) -> web.Response:
    return web.Response(status=status, text=json.dumps(data), content_type="application/json", headers=headers)


def _reply(protocol: str, body: dict[str, Any], text: str) -> dict[str, Any]:
    if protocol == "openai":
        return {
            "id": "chatcmpl-1",
            "object": "chat.completion",
            "created": 0,
            "model": body.get("model"),
            "choices": [{"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": text}}],
            "usage": {"prompt_tokens": 3, "completion_tokens": 4, "total_tokens": 7},
        }
    outputs = {"domains": [], "conversation_id": (body.get("context") or {}).get("conversation_id")}
    if "input" in body:  # ResponsesAgent
        return {
            "output": [
                {
                    "type": "message",
                    "id": "msg-1",
                    "role": "assistant",
                    "status": "completed",
                    "content": [{"type": "output_text", "text": text}],
                }
            ],
            "custom_outputs": outputs,
        }
    return {
        "messages": [{"role": "assistant", "content": text, "id": "msg-1"}],
        "finish_reason": "stop",
        "custom_outputs": outputs,
    }
