"""The loopback relay every LLM judge library calls, and the real endpoint it forwards to.

Why a relay: the libraries each call the judge endpoint their own way, and MLflow's built-in
judges expose neither temperature, nor a retry bound (they retry a 5xx ten times with up to 30 s
of backoff), nor a cache. So every judge call of both libraries goes to a small OpenAI-compatible
HTTP server on 127.0.0.1 inside this process, which forwards it to the real endpoint with
temperature 0 and JSON-constrained output, a timeout, a bounded number of retries, and the judge
cache. Whatever still fails (an unparseable answer, a refusal, a timeout, an HTTP error) comes
back as a non-retryable HTTP 422, so the library raises and the judge scores `passed=False,
error=True` with the error as rationale: never a pass.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any

from harness import HarnessError

if TYPE_CHECKING:
    from harness.judge_cache import JudgeCache


@dataclass
class Upstream:
    """Where judge calls really go: an OpenAI-compatible chat-completions base URL."""

    uri: str  # the judge_model as configured, e.g. "openai:/smollm2"
    model: str
    base_url: str
    api_key: str


def resolve_upstream(judge_model: str, environ: dict[str, str] | None = None) -> Upstream:
    """`openai:/<model>` (OPENAI_BASE_URL for vLLM, Ollama, llama.cpp, ...) or `databricks:/<endpoint>`."""
    env = os.environ if environ is None else environ
    provider, sep, model = judge_model.partition(":/")
    model = model.lstrip("/")
    if not sep or not provider or not model:
        raise HarnessError(f"judge_model {judge_model!r} is not a 'provider:/model' URI, e.g. 'openai:/gpt-4o-mini'")
    if provider == "openai":
        base = env.get("OPENAI_API_BASE") or env.get("OPENAI_BASE_URL") or "https://api.openai.com/v1"
        key = env.get("OPENAI_API_KEY", "")
        if not key and base.startswith("https://api.openai.com"):
            raise HarnessError(
                f"judge_model {judge_model!r}: set OPENAI_API_KEY (or OPENAI_BASE_URL for a local "
                "OpenAI-compatible server)"
            )
        return Upstream(judge_model, model, base.rstrip("/"), key or "unused")
    if provider == "databricks":
        host, token = env.get("DATABRICKS_HOST", ""), env.get("DATABRICKS_TOKEN", "")
        if not host or not token:
            raise HarnessError(f"judge_model {judge_model!r}: set DATABRICKS_HOST and DATABRICKS_TOKEN")
        host = host if host.startswith("http") else f"https://{host}"
        return Upstream(judge_model, model, f"{host.rstrip('/')}/serving-endpoints", token)
    raise HarnessError(
        f"judge_model {judge_model!r}: provider '{provider}' is not supported; use 'openai:/<model>' (any "
        "OpenAI-compatible endpoint via OPENAI_BASE_URL) or 'databricks:/<endpoint>'"
    )


REFUSAL = re.compile(
    r"(?i)\b(i can'?t|i cannot|i'm sorry|i am sorry|as an ai|i won'?t|unable to (help|assist|comply))\b"
)
RETRYABLE_STATUS = {408, 409, 429, 500, 502, 503, 504}
# Returned to the library when a judge call finally failed: MLflow retries 429/5xx itself (up to
# ten times), and re-reads a 400 mentioning response_format as "structured output unsupported".
FAILED_STATUS = 422


class JudgeCallError(Exception):
    """A judge call that failed after its retries; the message is the one-line rationale."""


def check_judge_content(content: Any) -> str:
    """The judge's text when it is a JSON object; otherwise raise JudgeCallError saying why."""
    if not isinstance(content, str) or not content.strip():
        raise JudgeCallError("judge returned an empty answer")
    text = content.strip()
    fenced = re.fullmatch(r"```(?:json)?\s*(.*?)\s*```", text, re.S)
    candidate = fenced.group(1) if fenced else text
    try:
        parsed = json.loads(candidate)
    except json.JSONDecodeError:
        if REFUSAL.search(text):
            raise JudgeCallError(f"judge refused: {_snippet(text)}") from None
        raise JudgeCallError(f"unparseable judge answer (not JSON): {_snippet(text)}") from None
    if not isinstance(parsed, dict):
        raise JudgeCallError(
            f"unparseable judge answer (JSON {type(parsed).__name__}, not an object): {_snippet(text)}"
        )
    return text


def _snippet(text: str, limit: int = 160) -> str:
    flat = " ".join(str(text).split())
    return repr(flat if len(flat) <= limit else flat[:limit] + "…")


class JudgeRelay:
    """The loopback OpenAI-compatible server every judge library talks to (see the module doc)."""

    def __init__(
        self,
        upstream: Upstream,
        cache: JudgeCache | None,
        timeout_s: float,
        retries: int,
        max_tokens: int | None = None,
    ) -> None:
        self.upstream = upstream
        self.max_tokens = max_tokens  # a cap on the judge's answer, when the caller sets none
        self.cache = cache
        self.timeout_s = timeout_s
        self.retries = retries
        self.calls = 0  # requests that reached the upstream (cache misses), for tests and reports
        self._lock = threading.Lock()
        self._rejected_formats: set[str] = set()  # JSON-constraint forms the upstream refused
        self._server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        if self._server is None:
            self.start()
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def base_url(self, judge: str, repeat: int = 0) -> str:
        """The OpenAI base URL one judge uses; judge name and repeat number become part of the cache key."""
        return f"{self.url}/{judge}/r{repeat}/v1"

    def start(self) -> None:
        relay = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
                length = int(self.headers.get("Content-Length") or 0)
                status, payload = relay.handle(self.path, self.rfile.read(length))
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: Any) -> None:
                pass  # keep pytest output clean; failures travel in the response

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        server.daemon_threads = True
        threading.Thread(target=server.serve_forever, name="harness-judge-relay", daemon=True).start()
        self._server = server

    def close(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def handle(self, path: str, raw: bytes) -> tuple[int, dict[str, Any]]:
        match = re.fullmatch(r"/(?P<judge>[\w.-]+)/r(?P<repeat>\d+)/v1/chat/completions", path)
        if not match:
            return 404, {"error": {"message": f"unknown path {path}"}}
        try:
            body = json.loads(raw or b"{}")
        except json.JSONDecodeError:
            return 400, {"error": {"message": "request body is not JSON"}}
        body["model"] = self.upstream.model
        body["temperature"] = 0  # the rule: judges are as repeatable as the endpoint allows
        body.setdefault("response_format", {"type": "json_object"})
        if self.max_tokens and not body.get("max_tokens"):
            body["max_tokens"] = self.max_tokens
        key = hashlib.sha256(
            json.dumps(
                {"upstream": self.upstream.base_url, "judge": match["judge"], "repeat": match["repeat"], "body": body},
                sort_keys=True,
            ).encode()
        ).hexdigest()
        if self.cache is not None and (hit := self.cache.get(key)) is not None:
            return 200, hit
        try:
            response = self._forward(body)
        except JudgeCallError as exc:
            return FAILED_STATUS, {"error": {"message": str(exc), "type": "judge_error"}}
        if self.cache is not None:
            self.cache.put(key, response)
        return 200, response

    def _forward(self, body: dict[str, Any]) -> dict[str, Any]:
        """POST to the upstream with a timeout; retry transient failures and bad answers a bounded number of times."""
        last = "no attempt made"
        for attempt in range(self.retries + 1):
            if attempt:
                time.sleep(min(0.25 * 2**attempt, 2.0))
            with self._lock:
                self.calls += 1
            try:
                response = self._post_json_constrained(body)
            except _ClientError as exc:
                # A 4xx other than rate limits is the request's fault: retrying cannot help.
                raise JudgeCallError(str(exc)) from None
            except JudgeCallError as exc:
                last = str(exc)
                continue
            try:
                choice = (response.get("choices") or [{}])[0]
                check_judge_content((choice.get("message") or {}).get("content"))
            except JudgeCallError as exc:
                last = str(exc)
                continue
            return response
        tries = self.retries + 1
        raise JudgeCallError(f"{last} (after {tries} attempt{'s' if tries > 1 else ''})")

    def _post_json_constrained(self, body: dict[str, Any]) -> dict[str, Any]:
        """POST with the strongest JSON constraint the upstream accepts.

        OpenAI and vLLM take `json_schema`; llama.cpp's server takes only `json_object` (with an
        optional `schema`); some endpoints take neither. An error naming response_format steps
        down to the next form, and the relay remembers the forms the upstream refused.
        """
        forms = [f for f in _response_formats(body.get("response_format")) if _form_id(f) not in self._rejected_formats]
        for i, form in enumerate(forms):
            attempt = {k: v for k, v in body.items() if k != "response_format"}
            if form is not None:
                attempt["response_format"] = form
            try:
                return self._post(attempt)
            except _FormatRejected:
                if i == len(forms) - 1:
                    raise
                self._rejected_formats.add(_form_id(form))
        raise JudgeCallError("no response format left to try")

    def _post(self, body: dict[str, Any]) -> dict[str, Any]:
        request = urllib.request.Request(
            f"{self.upstream.base_url}/chat/completions",
            data=json.dumps(body).encode(),
            headers={"Content-Type": "application/json", "Authorization": f"Bearer {self.upstream.api_key}"},
            method="POST",
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout_s) as resp:
                text = resp.read().decode("utf-8", errors="replace")
        except urllib.error.HTTPError as exc:
            detail = _snippet(exc.read().decode("utf-8", errors="replace"), 200)
            message = f"judge endpoint answered HTTP {exc.code}: {detail}"
            if "response_format" in detail and "response_format" in body:
                raise _FormatRejected(message) from None  # llama.cpp says so with HTTP 500
            if exc.code in RETRYABLE_STATUS or exc.code >= 500:
                raise JudgeCallError(message) from None
            raise _ClientError(message) from None
        except TimeoutError:
            raise JudgeCallError(f"judge endpoint timed out after {self.timeout_s:g} s") from None
        except (urllib.error.URLError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            if isinstance(reason, TimeoutError) or "timed out" in str(reason):
                raise JudgeCallError(f"judge endpoint timed out after {self.timeout_s:g} s") from None
            raise JudgeCallError(f"judge endpoint unreachable at {self.upstream.base_url}: {reason}") from None
        try:
            response = json.loads(text)
        except json.JSONDecodeError:
            raise JudgeCallError(f"judge endpoint answered non-JSON HTTP body: {_snippet(text)}") from None
        if not isinstance(response, dict):
            raise JudgeCallError(f"judge endpoint answered {type(response).__name__}, not a chat completion")
        return response


def _response_formats(requested: Any) -> list[dict[str, Any] | None]:
    """The JSON constraints to try, strongest first, ending with none at all."""
    forms: list[dict[str, Any] | None] = []
    if isinstance(requested, dict):
        forms.append(requested)
        schema = (
            (requested.get("json_schema") or {}).get("schema")
            if requested.get("type") == "json_schema"
            else requested.get("schema")
        )
        if schema:
            forms.append({"type": "json_object", "schema": schema})
    forms += [{"type": "json_object"}, None]
    unique: list[dict[str, Any] | None] = []
    for form in forms:
        if form not in unique:
            unique.append(form)
    return unique


def _form_id(form: dict[str, Any] | None) -> str:
    return "none" if form is None else f"{form.get('type')}{'+schema' if 'schema' in form else ''}"


class _ClientError(Exception):
    """An upstream 4xx that is not worth retrying."""


class _FormatRejected(_ClientError):
    """The upstream refused this form of JSON constraint; a weaker one may do."""
