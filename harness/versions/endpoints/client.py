"""One asynchronous HTTP client (aiohttp) per endpoint version, called synchronously from the runner's threads.

The runner calls versions from a pool of threads; each call here submits a coroutine to the
client's own event loop (a daemon thread) and blocks for its reply. The loop holds at most
`max_in_flight` requests at once (a request waiting to be retried keeps its slot, so a rate-limited
endpoint sees less traffic, not more), bounds every attempt by `timeout_s` end to end, and retries
connection failures, 429 and 5xx with exponential backoff and jitter, waiting at least what
`Retry-After` asks. Other 4xx are returned at once: the request itself is wrong, a retry cannot help.
A timed-out attempt is not retried: the agent may still be working on it, and a second copy would
double the load of a slow endpoint.

aiohttp rather than httpx: at 64 connections httpcore's pool rescans every connection for every
request (about 8 ms of CPU per request here, against 0.5 ms for aiohttp), which alone missed the
load benchmark's bound by 10x.
"""

from __future__ import annotations

import asyncio
import random
import socket
import threading
import time
import weakref
from collections.abc import Mapping
from dataclasses import dataclass, fields
from email.utils import parsedate_to_datetime
from typing import Any

import aiohttp

from harness import HarnessError, first_line

MAX_BODY_BYTES = 16 * 1024 * 1024  # far above the runner's 1 MB answer cut, far below what hurts
ENV_PREFIX = "HARNESS_ENDPOINT_"


class EndpointError(Exception):
    """An endpoint call that produced no answer; its message is one line naming the endpoint and why."""


@dataclass(frozen=True)
class ClientSettings:
    """Tuning of the endpoint client, from `HARNESS_ENDPOINT_<FIELD>` environment variables."""

    timeout_s: float = 30.0  # one attempt, connect to last byte
    retries: int = 4  # retries after the first attempt
    max_in_flight: int = 64  # requests in flight per endpoint version
    backoff_s: float = 0.5  # first backoff; doubles per retry, with jitter
    max_retry_wait_s: float = 30.0  # longest single wait, and the most a Retry-After may ask

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> ClientSettings:
        values: dict[str, Any] = {}
        for f in fields(cls):
            name = f"{ENV_PREFIX}{f.name.upper()}"
            if name not in environ:
                continue
            kind = int if f.type in ("int", int) else float
            try:
                value = kind(environ[name])
            except ValueError:
                raise HarnessError(
                    f"environment {name}={environ[name]!r}: expected a{'n integer' if kind is int else ' number'}"
                ) from None
            if value < 0 or (value == 0 and f.name != "retries"):
                raise HarnessError(
                    f"environment {name}={environ[name]!r}: must be {'>= 0' if f.name == 'retries' else '> 0'}"
                )
            values[f.name] = value
        return cls(**values)


@dataclass(frozen=True)
class Reply:
    """An HTTP answer that is not retried any more, with what it took to get it."""

    status: int
    body: bytes
    content_type: str
    retries: int
    retry_wait_ms: float  # time spent sleeping between attempts
    queue_ms: float  # time waiting for an in-flight slot
    request_ms: float  # the attempt that answered, request sent to body read
    retried_on: tuple[str, ...]  # why each retry happened: "429", "503", "connect"

    def stats(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "retries": self.retries,
            "retry_wait_ms": round(self.retry_wait_ms, 1),
            "queue_ms": round(self.queue_ms, 1),
            "request_ms": round(self.request_ms, 1),
            "retried_on": list(self.retried_on),
        }


class EndpointClient:
    """An aiohttp session on its own event-loop thread; `post` is safe to call from any thread."""

    def __init__(self, settings: ClientSettings, name: str = "endpoint") -> None:
        self.settings = settings
        loop = asyncio.new_event_loop()
        thread = threading.Thread(target=loop.run_forever, name=f"harness-{name}", daemon=True)
        thread.start()
        self._loop = loop
        self._session, self._slots = asyncio.run_coroutine_threadsafe(self._open(), loop).result()
        # No reference to self: an unused client is closed when collected, or at interpreter exit.
        self._closer = weakref.finalize(self, _shutdown, loop, thread, self._session)

    async def _open(self) -> tuple[aiohttp.ClientSession, asyncio.Semaphore]:
        n = self.settings.max_in_flight
        # The whole attempt is bounded in `_post`; here only connecting gets its own, shorter limit.
        timeout = aiohttp.ClientTimeout(total=None, sock_connect=min(self.settings.timeout_s, 10.0))
        return aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=n), timeout=timeout, trust_env=False
        ), asyncio.Semaphore(n)

    def post(self, url: str, payload: Any, headers: Mapping[str, str]) -> Reply:
        """POST `payload` as JSON; raises EndpointError when no final answer came (see the module doc)."""
        return asyncio.run_coroutine_threadsafe(self._post(url, payload, dict(headers)), self._loop).result()

    def close(self) -> None:
        self._closer()

    async def _post(self, url: str, payload: Any, headers: dict[str, str]) -> Reply:
        settings = self.settings
        queued = time.perf_counter()
        async with self._slots:
            queue_ms = (time.perf_counter() - queued) * 1000
            retried_on: list[str] = []
            waited = 0.0
            while True:
                started = time.perf_counter()
                retry_after = None
                try:
                    async with asyncio.timeout(settings.timeout_s):
                        status, body, content_type, retry_after = await self._attempt(url, payload, headers)
                except Exception as exc:  # noqa: BLE001 - sorted below: retried, timed out, or a request that cannot work
                    if not _is_connection_failure(exc):
                        if isinstance(exc, TimeoutError):
                            raise EndpointError(
                                f"{url} gave no answer within {settings.timeout_s:g} s{_after(retried_on, waited)}"
                            ) from exc
                        if isinstance(exc, aiohttp.ClientError):
                            raise EndpointError(f"{url} request failed: {_transport_reason(exc)}") from exc
                        raise
                    reason = "connect"
                    if len(retried_on) >= settings.retries:
                        raise EndpointError(
                            f"{url} unreachable: {_transport_reason(exc)}{_after(retried_on, waited)}"
                        ) from exc
                else:
                    if status != 429 and status < 500:
                        request_ms = (time.perf_counter() - started) * 1000
                        return Reply(
                            status,
                            body,
                            content_type,
                            len(retried_on),
                            waited * 1000,
                            queue_ms,
                            request_ms,
                            tuple(retried_on),
                        )
                    reason = str(status)
                    if len(retried_on) >= settings.retries:
                        what = "rate limited (HTTP 429)" if status == 429 else f"HTTP {status}"
                        raise EndpointError(f"{url} still {what}{_after(retried_on, waited)}: {snippet(body)}")
                wait = self._backoff(len(retried_on), retry_after)
                if wait is None:
                    raise EndpointError(
                        f"{url} asked to retry after {retry_after:g} s (HTTP {reason}, Retry-After), more than "
                        f"{ENV_PREFIX}MAX_RETRY_WAIT_S={settings.max_retry_wait_s:g}{_after(retried_on, waited)}"
                    )
                retried_on.append(reason)
                await asyncio.sleep(wait)
                waited += wait

    async def _attempt(self, url: str, payload: Any, headers: dict[str, str]) -> tuple[int, bytes, str, float | None]:
        async with self._session.post(url, json=payload, headers=headers, allow_redirects=False) as response:
            chunks, size = [], 0
            async for chunk in response.content.iter_chunked(1 << 16):
                size += len(chunk)
                if size > MAX_BODY_BYTES:
                    raise EndpointError(f"{url} answered more than {MAX_BODY_BYTES // 2**20} MiB")
                chunks.append(chunk)
            retry_after = _retry_after(response.headers.get("retry-after"))
            return response.status, b"".join(chunks), response.headers.get("Content-Type", ""), retry_after

    def _backoff(self, retry: int, retry_after: float | None) -> float | None:
        """Seconds to wait before retry number `retry` + 1; None when Retry-After asks for too long."""
        settings = self.settings
        if retry_after is not None:
            if retry_after > settings.max_retry_wait_s:
                return None
            # At least what the server asked, plus up to a fifth more so the retries of many cases do not
            # arrive together.
            return retry_after * random.uniform(1.0, 1.2)
        ceiling = min(settings.max_retry_wait_s, settings.backoff_s * 2**retry)
        return random.uniform(ceiling / 2, ceiling)


def _retry_after(value: str | None) -> float | None:
    """Retry-After as seconds: a number of seconds or an HTTP date; None when absent or unreadable."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
    except (TypeError, ValueError, IndexError):
        return None


def _after(retried_on: list[str], waited_s: float) -> str:
    if not retried_on:
        return ""
    return (
        f" after {len(retried_on)} retr{'y' if len(retried_on) == 1 else 'ies'} ({waited_s:.1f} s waiting; "
        f"retried on {', '.join(retried_on)})"
    )


def _is_connection_failure(exc: BaseException) -> bool:
    """Refused, reset, DNS, connect timeout, or dropped before the whole answer came: worth a retry."""
    if isinstance(exc, aiohttp.ConnectionTimeoutError):
        return True
    if isinstance(exc, TimeoutError):  # the attempt's own time limit, or a stalled read: not retried
        return False
    return isinstance(exc, (aiohttp.ClientConnectionError, aiohttp.ClientPayloadError, ConnectionError))


def _transport_reason(exc: BaseException) -> str:
    os_error = getattr(exc, "os_error", None)  # aiohttp keeps the socket error it gave up on here
    if isinstance(exc, aiohttp.ConnectionTimeoutError):
        return "connection timed out"
    if isinstance(os_error, ConnectionRefusedError) or isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    if isinstance(exc, aiohttp.ClientConnectorDNSError) or isinstance(os_error, socket.gaierror):
        return "host name not found"
    if isinstance(exc, aiohttp.ServerDisconnectedError):
        return "the server closed the connection without answering"
    text = first_line(exc, "")
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def snippet(body: bytes, limit: int = 160) -> str:
    text = " ".join(body.decode("utf-8", errors="replace").split())
    return (text[:limit] + "...") if len(text) > limit else (text or "(empty body)")


def _shutdown(loop: asyncio.AbstractEventLoop, thread: threading.Thread, session: aiohttp.ClientSession) -> None:
    if loop.is_closed():
        return
    if loop.is_running():
        try:
            asyncio.run_coroutine_threadsafe(session.close(), loop).result(timeout=5)
        except Exception:  # noqa: BLE001 - closing is best effort; the sockets die with the loop anyway
            pass
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=5)
    if not loop.is_running():
        loop.close()
