"""LLM judges: deepeval and MLflow judges behind one loopback relay, as harness scorers.

Why a relay: the libraries each call the judge endpoint their own way, and MLflow's built-in
judges expose neither temperature, nor a retry bound (they retry a 5xx ten times with up to 30 s
of backoff), nor a cache. So every judge call of both libraries goes to a small OpenAI-compatible
HTTP server on 127.0.0.1 inside this process, which forwards it to the real endpoint with
temperature 0 and JSON-constrained output, a timeout, a bounded number of retries, and the judge
cache. Whatever still fails (an unparseable answer, a refusal, a timeout, an HTTP error) comes
back as a non-retryable HTTP 422, so the library raises and the judge scores `passed=False,
error=True` with the error as rationale: never a pass.

This module stays light (no deepeval, no mlflow at import): config validation imports it.
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
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any

from harness import HarnessError
from harness.scorers.base import Score, failed, not_applicable

if TYPE_CHECKING:
    from harness.config import HarnessConfig
    from harness.golden import Case
    from harness.judge_cache import JudgeCache
    from harness.versions import AgentOutput

ENABLE_HINT = "pip install -e '.[local-llm]' (or '.[deepeval]' for a remote judge) to enable LLM judges"

# Every LLM judge name, the library judge it runs by default, and the kinds it may be switched to.
DEFAULT_KINDS: dict[str, str] = {
    "llm_correctness": "deepeval.geval",
    "llm_relevance": "mlflow.relevance_to_query",
    "llm_safety": "mlflow.safety",
    "llm_guidelines": "mlflow.guidelines",
    "llm_faithfulness": "deepeval.faithfulness",
}
KINDS: dict[str, tuple[str, str]] = {
    "deepeval.geval": ("harness.scorers.deepeval_judges", "GEvalJudge"),
    "deepeval.answer_relevancy": ("harness.scorers.deepeval_judges", "AnswerRelevancyJudge"),
    "deepeval.faithfulness": ("harness.scorers.deepeval_judges", "FaithfulnessJudge"),
    "mlflow.correctness": ("harness.scorers.mlflow_judges", "CorrectnessJudge"),
    "mlflow.relevance_to_query": ("harness.scorers.mlflow_judges", "RelevanceJudge"),
    "mlflow.safety": ("harness.scorers.mlflow_judges", "SafetyJudge"),
    "mlflow.guidelines": ("harness.scorers.mlflow_judges", "GuidelinesJudge"),
    "mlflow.make_judge": ("harness.scorers.mlflow_judges", "InstructionsJudge"),
}
SPEC_KEYS = {"kind", "threshold", "criteria", "evaluation_steps", "instructions", "guidelines"}


@dataclass
class JudgeSpec:
    """One `[tool.harness.judges.<name>]` table, validated."""

    kind: str
    threshold: float = 0.5
    criteria: str = ""
    evaluation_steps: list[str] = field(default_factory=list)
    instructions: str = ""
    guidelines: list[str] = field(default_factory=list)


def parse_judges_table(table: Any, where: str) -> dict[str, dict[str, Any]]:
    """Validate `[tool.harness.judges]`; one-line errors naming the key. Returns the table unchanged."""
    if not isinstance(table, dict):
        raise HarnessError(f"{where}: must be a table of judge name = table")
    for name, spec in table.items():
        if name not in DEFAULT_KINDS:
            raise HarnessError(f"{where}: unknown judge '{name}'; known: {', '.join(DEFAULT_KINDS)}")
        judge_spec(name, spec, f"{where}.{name}")
    return table


def judge_spec(name: str, raw: Any, where: str) -> JudgeSpec:
    if not isinstance(raw, dict):
        raise HarnessError(f"{where}: must be a table (kind, threshold, criteria, evaluation_steps, instructions, guidelines)")
    unknown = set(raw) - SPEC_KEYS
    if unknown:
        raise HarnessError(f"{where}: unknown key '{sorted(unknown)[0]}'; known keys: {', '.join(sorted(SPEC_KEYS))}")
    spec = JudgeSpec(kind=raw.get("kind", DEFAULT_KINDS[name]))
    if spec.kind not in KINDS:
        raise HarnessError(f"{where}: kind '{spec.kind}' is not one of {', '.join(KINDS)}")
    threshold = raw.get("threshold", spec.threshold)
    if isinstance(threshold, bool) or not isinstance(threshold, (int, float)) or not 0 <= threshold <= 1:
        raise HarnessError(f"{where}: 'threshold' must be a number between 0 and 1, got {threshold!r}")
    spec.threshold = float(threshold)
    for key in ("criteria", "instructions"):
        if not isinstance(raw.get(key, ""), str):
            raise HarnessError(f"{where}: '{key}' must be a string")
        setattr(spec, key, raw.get(key, ""))
    for key in ("evaluation_steps", "guidelines"):
        value = raw.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
            raise HarnessError(f"{where}: '{key}' must be a list of non-empty strings")
        setattr(spec, key, list(value))
    if spec.kind == "mlflow.make_judge":
        if not spec.instructions:
            raise HarnessError(f"{where}: kind 'mlflow.make_judge' needs 'instructions' with {{{{ inputs }}}} and/or {{{{ outputs }}}}")
        if not re.search(r"\{\{\s*(inputs|outputs|expectations)\s*\}\}", spec.instructions):
            raise HarnessError(f"{where}: 'instructions' must use {{{{ inputs }}}}, {{{{ outputs }}}} or {{{{ expectations }}}}")
    return spec


# --- the upstream endpoint ------------------------------------------------------------------


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
            raise HarnessError(f"judge_model {judge_model!r}: set OPENAI_API_KEY (or OPENAI_BASE_URL for a local OpenAI-compatible server)")
        return Upstream(judge_model, model, base.rstrip("/"), key or "unused")
    if provider == "databricks":
        host, token = env.get("DATABRICKS_HOST", ""), env.get("DATABRICKS_TOKEN", "")
        if not host or not token:
            raise HarnessError(f"judge_model {judge_model!r}: set DATABRICKS_HOST and DATABRICKS_TOKEN")
        host = host if host.startswith("http") else f"https://{host}"
        return Upstream(judge_model, model, f"{host.rstrip('/')}/serving-endpoints", token)
    raise HarnessError(f"judge_model {judge_model!r}: provider '{provider}' is not supported; use 'openai:/<model>' (any OpenAI-compatible endpoint via OPENAI_BASE_URL) or 'databricks:/<endpoint>'")


# --- the relay ------------------------------------------------------------------------------

REFUSAL = re.compile(r"(?i)\b(i can'?t|i cannot|i'm sorry|i am sorry|as an ai|i won'?t|unable to (help|assist|comply))\b")
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
        raise JudgeCallError(f"unparseable judge answer (JSON {type(parsed).__name__}, not an object): {_snippet(text)}")
    return text


def _snippet(text: str, limit: int = 160) -> str:
    flat = " ".join(str(text).split())
    return repr(flat if len(flat) <= limit else flat[:limit] + "…")


class JudgeRelay:
    """The loopback OpenAI-compatible server every judge library talks to (see the module doc)."""

    def __init__(self, upstream: Upstream, cache: JudgeCache | None, timeout_s: float, retries: int, max_tokens: int | None = None) -> None:
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
            json.dumps({"upstream": self.upstream.base_url, "judge": match["judge"], "repeat": match["repeat"], "body": body}, sort_keys=True).encode()
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
        schema = (requested.get("json_schema") or {}).get("schema") if requested.get("type") == "json_schema" else requested.get("schema")
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


# --- scorers --------------------------------------------------------------------------------


class LLMJudge:
    """Base of every LLM judge scorer: applicability, repeats, and turning any failure into an error score.

    A subclass sets `kind` and implements `skip_reason` (why a case has nothing to judge, or None)
    and `verdict` (one judge call through `base_url`, returning value 0..1 and rationale).
    """

    kind = ""

    def __init__(self, name: str, spec: JudgeSpec, relay: JudgeRelay, repeats: int = 1) -> None:
        self.name = name
        self.spec = spec
        self.relay = relay
        self.repeats = repeats
        self.judge = f"{self.kind}@{relay.upstream.uri}"
        self.flips = 0  # answers whose repeats disagreed on pass/fail
        self.repeated = 0  # answers scored more than once

    def skip_reason(self, case: Case, output: AgentOutput) -> str | None:
        return None

    def verdict(self, case: Case, output: AgentOutput, base_url: str) -> tuple[float, str]:
        raise NotImplementedError

    def score(self, case: Case, output: AgentOutput) -> Score:
        reason = self.skip_reason(case, output)
        if reason:
            return not_applicable(self.name, self.judge, reason)
        verdicts: list[tuple[float, str]] = []
        for repeat in range(self.repeats):
            try:
                verdicts.append(self.verdict(case, output, self.relay.base_url(self.name, repeat)))
            except Exception as exc:  # any library failure is this judge's error, never a pass
                return failed(self.name, self.judge, f"judge error: {one_line(exc)}")
        passes = [value >= self.spec.threshold for value, _ in verdicts]
        value = sum(v for v, _ in verdicts) / len(verdicts)
        rationale = verdicts[0][1]
        if len(verdicts) > 1:
            self.repeated += 1
            if len(set(passes)) > 1:
                self.flips += 1
                rationale = f"unstable judge: {sum(passes)} of {len(passes)} repeats passed; {rationale}"
        # A majority of repeats must pass: one lucky repeat does not make an answer pass.
        passed = sum(passes) * 2 > len(passes)
        return Score(self.name, value, passed, rationale, self.judge)

    @property
    def flip_rate(self) -> float | None:
        return self.flips / self.repeated if self.repeated else None


def one_line(exc: BaseException) -> str:
    """An exception as one short line: library errors often carry whole prompts and tracebacks."""
    text = " ".join(str(exc).split()) or type(exc).__name__
    if isinstance(exc, JudgeCallError):
        return text
    # MLflow wraps the relay's message in its own; keep the relay's part, which says what failed.
    inner = re.search(r"(unparseable judge answer.*|judge refused.*|judge endpoint .*|judge returned .*)", text)
    text = inner.group(1) if inner else f"{type(exc).__name__}: {text}"
    return text if len(text) <= 300 else text[:300] + "…"


def check_llm_extras() -> None:
    """Fail in one line when the libraries the LLM judges need are not installed."""
    import importlib.util

    missing = [m for m in ("deepeval", "mlflow") if importlib.util.find_spec(m) is None]
    if missing:
        raise HarnessError(f"--judge-model needs {', '.join(missing)}: {ENABLE_HINT}")


def build_llm_judges(cfg: HarnessConfig, relay: JudgeRelay | None = None) -> list[LLMJudge]:
    """One scorer per LLM judge name, all sharing one relay to `cfg.judge_model`."""
    import importlib

    check_llm_extras()
    if relay is None:
        from harness.judge_cache import JudgeCache

        cache = JudgeCache(cfg.resolve_path(".harness-cache") / "judge") if cfg.judge_cache else None
        relay = JudgeRelay(resolve_upstream(cfg.judge_model), cache, cfg.judge_timeout_s, cfg.judge_retries)
    judges: list[LLMJudge] = []
    for name in DEFAULT_KINDS:
        spec = judge_spec(name, cfg.judges.get(name, {}), f"[tool.harness.judges.{name}]")
        module_name, class_name = KINDS[spec.kind]
        judge_class: Callable[..., LLMJudge] = getattr(importlib.import_module(module_name), class_name)
        judges.append(judge_class(name, spec, relay, cfg.judge_repeats))
    return judges


_ENV_LOCK = threading.Lock()


@contextmanager
def openai_env(base_url: str) -> Iterator[None]:
    """Point the process's OpenAI settings at the relay for one MLflow judge call.

    MLflow's built-in judges take no base_url: their openai provider reads OPENAI_API_BASE /
    OPENAI_BASE_URL at call time. The lock keeps concurrent judge calls from seeing each other's
    URL; the previous values come back afterwards, so an agent's own OpenAI client is unaffected.
    """
    names = ("OPENAI_API_BASE", "OPENAI_BASE_URL", "OPENAI_API_KEY")
    with _ENV_LOCK:
        saved = {n: os.environ.get(n) for n in names}
        os.environ.pop("OPENAI_API_BASE", None)
        os.environ["OPENAI_BASE_URL"] = base_url
        os.environ["OPENAI_API_KEY"] = "relay"  # the relay holds the real key
        try:
            yield
        finally:
            for n, v in saved.items():
                if v is None:
                    os.environ.pop(n, None)
                else:
                    os.environ[n] = v
