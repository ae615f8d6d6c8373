"""The harness's side: start agent processes, log and load models in them, call them as a `Version`."""

from __future__ import annotations

import dataclasses
import itertools
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from harness import HarnessError
from harness.sandbox import session_temp
from harness.versions.version import AgentCallError

LOAD_TIMEOUT_S = 300.0
MAX_RESTARTS = 3  # an agent that keeps killing its process stops being restarted
MAX_LOG_CHARS = 1 << 20  # the end of an agent's log that is kept
MAX_MESSAGE_BYTES = 64 << 20  # answers are cut at 1 MB in the worker; anything far larger is hostile


class AgentProcessDied(AgentCallError):
    """The agent's process ended (a crash, os._exit, out of memory): this call has no answer."""


class RemoteAgentError(AgentCallError):
    """The agent raised or answered badly in its own process; the message is already `Type: reason`."""


@dataclass(frozen=True)
class LoggedAgent:
    """A version as logged to the tracking store before any case ran: what a pass registers."""

    reference: str  # what the user named
    model_uri: str  # models:/m-<id> for a logged model, models:/name/N for a registry version; "" imported as is
    model_id: str | None
    generated: bool = False  # the harness wrote the models-from-code file
    sha256: str = ""  # of its artifact files, hashed by the harness (never taken from the agent's process)


class AgentProcess:
    """One worker process (harness/versions/process/worker.py), sandboxed with a private scratch folder
    (harness/sandbox), and the socket the harness talks to it over."""

    def __init__(self, root: Path, name: str, env: dict[str, str] | None = None) -> None:
        from harness.sandbox import agent_environment, command, detect, new_scratch, private_store, scratch_environment

        self.root, self.name = root, name
        log_dir = root / ".harness-cache" / "agent-logs"
        log_dir.mkdir(parents=True, exist_ok=True)
        self.log_path = log_dir / f"{name}.log"  # what it printed, secrets masked, once it has stopped
        # As printed: outside the project and the sandbox's scratch folder, in the session's temporary folder.
        handle, raw = tempfile.mkstemp(prefix=f"agent-log-{slug(name)[:40]}-", suffix=".log", dir=session_temp())
        self._raw_log = Path(raw)
        self.sandbox = detect()
        self.scratch = new_scratch(name)  # the only folder this process may write to
        ours, theirs = socket.socketpair()
        self._conn = Connection(os.dup(ours.fileno()))
        ours.close()
        argv = [sys.executable, "-P", "-m", "harness.versions.process.worker", str(theirs.fileno())]
        environment = {**agent_environment(), **scratch_environment(self.scratch), **(env or {})}
        if self.sandbox.confined:
            environment.update(private_store(self.scratch))
        with os.fdopen(handle, "wb") as log:
            self._proc = subprocess.Popen(
                command(self.sandbox, argv, self.scratch, root),
                pass_fds=[theirs.fileno()],
                cwd=root,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=environment,
                start_new_session=True,
            )
        theirs.close()
        self._ids = itertools.count(1)
        self._pending: dict[int, tuple[threading.Event, dict[str, Any]]] = {}
        self._lock = threading.Lock()
        self.died: str | None = None
        self._stopped = False
        self.preloaded = False  # asked to import packages ahead of its load (IsolatedLoader)
        self._reader = threading.Thread(target=self._read, name=f"agent-process-{name}", daemon=True)
        self._reader.start()

    def _read(self) -> None:
        while True:
            try:
                reply = json.loads(self._conn.recv_bytes(MAX_MESSAGE_BYTES))
            except (EOFError, OSError, ValueError):  # gone, over the size cap, or not JSON: the process is done for
                break
            if not isinstance(reply, dict):
                break
            with self._lock:
                reply_id = reply.get("id")
                waiting = self._pending.pop(reply_id, None) if isinstance(reply_id, int) else None
            if waiting is not None:
                waiting[1].update(reply)
                waiting[0].set()
        self.died = self._why_ended()
        with self._lock:
            pending, self._pending = self._pending, {}
        for event, _ in pending.values():
            event.set()

    def _why_ended(self) -> str:
        try:
            code = self._proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            return f"agent process {self.name} stopped answering"
        if code < 0:
            name = signal.Signals(-code).name
            hint = " (out of memory?)" if -code == signal.SIGKILL else ""
            how = f"was killed by {name}{hint}"
        else:
            how = f"exited with code {code}"
        return f"agent process {how}{self._last_log_line()}"

    def _last_log_line(self) -> str:
        from harness.secrets import mask

        try:
            lines = [
                line
                for line in self._raw_log.read_text(encoding="utf-8", errors="replace").splitlines()
                if line.strip()
            ]
        except OSError:
            return ""
        return f": {mask(lines[-1].strip()).text[:300]}" if lines else ""

    def request(self, payload: dict[str, Any], timeout_s: float | None = None) -> dict[str, Any]:
        """Send one request and wait for its reply; raises AgentProcessDied if the process ends first."""
        event, reply = threading.Event(), dict[str, Any]()
        with self._lock:
            if self.died:
                raise AgentProcessDied(self.died)
            request_id = next(self._ids)
            self._pending[request_id] = (event, reply)
            try:
                self._conn.send_bytes(json.dumps({**payload, "id": request_id}, default=str).encode("utf-8"))
            except (OSError, ValueError):
                self._pending.pop(request_id, None)
                raise AgentProcessDied(self.died or f"agent process {self.name} is gone") from None
        if not event.wait(timeout_s):
            with self._lock:
                self._pending.pop(request_id, None)
            raise TimeoutError(f"no answer from agent process {self.name} within {timeout_s:g} s")
        if not reply:
            raise AgentProcessDied(self.died or f"agent process {self.name} ended")
        return reply

    def send(self, payload: dict[str, Any]) -> None:
        """A request whose reply nobody waits for (the process handles its requests in order)."""
        threading.Thread(target=self._quietly, args=(payload,), daemon=True).start()

    def _quietly(self, payload: dict[str, Any]) -> None:
        try:
            self.request(payload, LOAD_TIMEOUT_S)
        except (AgentProcessDied, TimeoutError):
            pass  # the request that follows it reports the process's state

    def stop(self) -> None:
        """End the process and everything it started (its PID namespace goes with it); its scratch folder stays."""
        if self._stopped:
            return
        self._stopped = True
        try:
            self._conn.close()
        except OSError:
            pass
        if self._proc.poll() is None:
            try:
                os.killpg(self._proc.pid, signal.SIGKILL)  # hung agent threads and anything they started
            except (ProcessLookupError, PermissionError):
                self._proc.kill()
        try:
            self._proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            pass
        self._mask_log()

    def close(self) -> None:
        """Stop the process and remove its scratch folder."""
        from harness.sandbox import remove_scratch

        self.stop()
        remove_scratch(self.scratch)

    def _mask_log(self) -> None:
        """What the agent printed goes to the project's log folder for debugging, secrets masked."""
        from harness.secrets import mask

        try:
            text = self._raw_log.read_text(encoding="utf-8", errors="replace")[-MAX_LOG_CHARS:]
            self.log_path.write_text(mask(text).text, encoding="utf-8")
        except OSError:
            pass
        self._raw_log.unlink(missing_ok=True)


def slug(text: str) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in text)[:80] or "agent"


class IsolatedAgent:
    """A loaded model in its own process, restarted (and reloaded) after a crash, at most MAX_RESTARTS times."""

    def __init__(
        self,
        logged: LoggedAgent,
        root: Path,
        label: str,
        env: dict[str, str] | None = None,
        process: AgentProcess | None = None,
    ) -> None:
        self.logged, self.root, self.label = logged, root, label
        self.env = dict(env or {})
        self.restarts = 0
        self._lock = threading.Lock()
        self.process, self.loaded = self._start(process)

    def _start(self, process: AgentProcess | None = None) -> tuple[AgentProcess, dict[str, Any]]:
        process = process or AgentProcess(self.root, f"{slug(self.label)}-{self.restarts}", self.env)
        try:
            step = self._step(process)
            reply = process.request(step, LOAD_TIMEOUT_S)
        except (AgentProcessDied, TimeoutError) as exc:
            reply = {"ok": False, "error": str(exc)}
        except HarnessError:
            process.close()
            raise
        if not reply.get("ok"):
            process.close()
            if process.preloaded:  # what it imported ahead may be the cause: once more, in a fresh process
                return self._start()
            raise HarnessError(
                f"{self.logged.reference!r} ({self.logged.model_uri}) failed to load in its own process: "
                f"{reply.get('error')}"
            )
        return process, reply

    def _step(self, process: AgentProcess) -> dict[str, Any]:
        """What `process` is asked to load. A logged model is downloaded here, into the process's
        scratch folder (a private copy: what the agent writes beside its code stays there), and hashed
        before the agent's code runs: that digest is what the session seals."""
        if not self.logged.model_uri:  # not logged (harness compare): imported as is, still in its own process
            return {"op": "import", "reference": self.logged.reference, "root": str(self.root), "path": sys.path}
        from harness.seal import tree_sha256
        from harness.tracking.agents import download_model

        local = download_model(self.logged.model_uri, str(process.scratch / "model"))
        digest = tree_sha256(local)
        if self.logged.sha256 and digest != self.logged.sha256:
            raise HarnessError(
                f"{self.logged.reference!r} ({self.logged.model_uri}): its artifact files changed since it was "
                "first loaded (sha256 mismatch); nothing of it was loaded"
            )
        self.logged = dataclasses.replace(self.logged, sha256=digest)
        return {"op": "load", "path": local, "reference": self.logged.reference}

    def _alive(self) -> AgentProcess:
        with self._lock:
            if self.process.died and self.restarts < MAX_RESTARTS:
                self.process.close()
                self.restarts += 1
                self.process, _ = self._start()
            return self.process

    def call(
        self,
        messages: list[dict[str, str]],
        params: dict[str, Any],
        conversation_id: str,
        trace: bool = False,
        flush: bool = True,
        export: bool = True,
    ) -> dict[str, Any]:
        """One answer; `trace`: traced, with `trace_id` and `trajectory` in the reply; `export`: the trace goes
        to the store (else only the trajectory is kept); `flush`: in the store on return."""
        reply = self._alive().request(
            {
                "op": "call",
                "messages": messages,
                "params": params,
                "conversation_id": conversation_id,
                "trace": trace,
                "flush": flush,
                "export": export,
            }
        )
        if "error" in reply:
            raise RemoteAgentError(reply["error"])
        return reply

    def close(self) -> None:
        self.process.close()


def isolated_version(
    logged: LoggedAgent,
    root: Path,
    label: str,
    registered: tuple[str, str] | None = None,
    env: dict[str, str] | None = None,
    process: AgentProcess | None = None,
) -> Any:
    """A `Version` whose every call goes to `logged` loaded in its own process (`process`: one started ahead)."""
    from harness.versions.version import Version

    started = time.perf_counter()
    agent = IsolatedAgent(logged, root, label, env, process)

    def call(messages: list[dict[str, str]], params: dict[str, Any], cid: str) -> dict[str, Any]:
        reply = agent.call(messages, params, cid)
        return {"content": reply["text"], "custom_outputs": reply.get("metadata") or {}}

    kind = agent.loaded.get("kind", "pyfunc")
    loaded_s = time.perf_counter() - started
    return Version(logged.reference, kind, call, loaded_s, label=label, registered=registered, isolated=agent)
