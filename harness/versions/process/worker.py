"""The agent's side of `AgentProcess`: `python -P -m harness.versions.process.worker FD`.

It runs in the agent's sandbox (harness/sandbox): it can write only to its scratch folder, so it
never writes to the tracking store; the harness logs and downloads models for it. It reads JSON
requests from the socket FD: `log` (save a reference as an MLflow model from code into the scratch
folder, which runs the agent's module), `preload` (import installed packages a model will need),
`load` (load the model the harness downloaded into the scratch folder with `mlflow.pyfunc.load_model`),
`import` (import a reference as is, for `harness compare`), and `call` (answer one conversation turn
on its own thread, optionally traced). Replies are JSON too, never pickles: the harness must not
unpickle what agent code wrote.
"""

from __future__ import annotations

import importlib
import importlib.util
import json
import os
import sys
import threading
import time
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from harness.versions.process.installation import installation, within


class Worker:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.lock = threading.Lock()
        self.version: Any = None
        self.tracing = False
        self.started_with = set(sys.modules)  # what `load` reports as imported: everything since, preloads included
        self.steps = {"log": self.log, "preload": self.preload, "load": self.load, "import": self.import_reference}

    def send(self, reply: dict[str, Any]) -> None:
        data = json.dumps(reply, default=str).encode("utf-8")
        with self.lock:
            self.conn.send_bytes(data)

    def serve(self) -> None:
        while True:
            try:
                request = json.loads(self.conn.recv_bytes())
            except (EOFError, OSError):
                return
            op = request.get("op")
            if op == "call":
                threading.Thread(
                    target=self.answer, args=(request,), name=f"agent-{request.get('id')}", daemon=True
                ).start()
            elif op in self.steps:
                self.send({"id": request.get("id"), **self.safely(self.steps[op], request)})
            else:
                return

    def safely(self, step: Any, request: dict[str, Any]) -> dict[str, Any]:
        from harness import HarnessError, first_line

        try:
            return {"ok": True, **step(request)}
        except HarnessError as exc:  # already one line that names the reference
            return {"ok": False, "error": first_line(exc), "harness_error": True}
        except BaseException as exc:  # the agent's own import or load failure: reported, never fatal here
            return {"ok": False, "error": f"{type(exc).__name__}: {first_line(exc, default='')}".rstrip(": ")}

    def log(self, request: dict[str, Any]) -> dict[str, Any]:
        """Save the reference as a model from code into this process's scratch folder; the harness,
        outside the sandbox, hashes what was saved and logs it to the store."""
        from harness.tracking.agents import save_agent_model
        from harness.versions.process.loggable import model_source

        _importable(request)
        scratch = Path(request["scratch"])
        source = model_source(request["reference"], request["root"], str(scratch))
        path = save_agent_model(
            str(scratch / "model"),
            source.python_model,
            source.model_config,
            source.code_paths,
            request["pip_requirements"],
        )
        return {"path": path, "generated": source.generated}

    def preload(self, request: dict[str, Any]) -> dict[str, Any]:
        """Import installed packages the model will import on loading, while it is being logged elsewhere.

        Only what the installation provides: a name from anywhere else (the working tree through an
        editable install, say) would be imported in place of the artifact's own copy."""
        for name in request["modules"]:
            if not _from_installation(name):
                continue
            try:
                importlib.import_module(name)
            except Exception:  # loading will import it again and report what is wrong
                pass
        return {}

    def load(self, request: dict[str, Any]) -> dict[str, Any]:
        from harness.tracking.agents import load_model
        from harness.versions.resolve import load_pyfunc

        started = time.perf_counter()
        # The harness downloaded and hashed this private copy in the scratch folder before this
        # process started: what the agent writes beside its code (caches, a database) stays there.
        local = request["path"]
        # The artifact's code must be what runs: a package of the same name imported before (installed
        # too, say) would stay in use, since Python does not import a module twice.
        code = Path(local) / "code"
        shadowed = sorted(p.stem for p in code.iterdir() if p.stem in sys.modules) if code.is_dir() else []
        if shadowed:
            raise RuntimeError(
                f"{', '.join(shadowed)} already imported in this process, so the artifact's own copy would not run"
            )
        # suppress_warnings: the same requirements scan as on logging, seconds per process. A candidate was
        # just logged from this environment; an older registry baseline loads without MLflow's warning
        # that its requirements differ from it.
        self.version = load_pyfunc(load_model(local, suppress_warnings=True), request["reference"])
        return {
            "kind": self.version.kind,
            "load_s": time.perf_counter() - started,
            "modules": _installed(set(sys.modules) - self.started_with),
        }

    def import_reference(self, request: dict[str, Any]) -> dict[str, Any]:
        """A reference imported as is, for comparisons that need no logged model: still answered from here."""
        from harness.versions.resolve import resolve

        _importable(request)
        self.version = resolve(request["reference"], Path(request["root"]))
        return {"kind": self.version.kind, "load_s": self.version.load_s}

    def answer(self, request: dict[str, Any]) -> None:
        from harness import first_line
        from harness.runner import MAX_ANSWER_CHARS

        reply: dict[str, Any] = {"id": request["id"]}
        started = time.perf_counter()
        agent_ms: float | None = None  # traced: the agent's own time
        try:
            if self.version is None:
                raise RuntimeError("no model loaded")
            args = (request["messages"], request.get("params") or {}, request.get("conversation_id") or "")
            if request.get("trace"):
                text, metadata, reply["trace_id"], reply["trajectory"], reply["nodes"], agent_ms = self.traced(
                    *args, flush=request.get("flush", True), export=request.get("export", True) is not False
                )
            else:
                text, metadata = self.version.predict(*args)
            if len(text) > MAX_ANSWER_CHARS:
                metadata = {**metadata, "truncated_from_chars": len(text)}
                text = text[:MAX_ANSWER_CHARS]
            reply.update(text=text, metadata=metadata)
        except BaseException as exc:  # SystemExit from the agent's thread too: it is this call's error
            message = first_line(exc, default="")
            reply["error"] = f"{type(exc).__name__}: {message}" if message else type(exc).__name__
        reply["latency_ms"] = (time.perf_counter() - started) * 1000
        if agent_ms is not None:  # what tracing added, which the harness leaves out of the answer's latency
            reply["trace_ms"] = max(0.0, reply["latency_ms"] - agent_ms)
        try:
            self.send(reply)
        except (OSError, ValueError):
            pass  # the harness went away; nothing is waiting for this answer

    def traced(
        self, messages: list[dict[str, str]], params: dict[str, Any], cid: str, flush: bool = True, export: bool = True
    ) -> tuple[str, dict[str, Any], str, Any, list[Any], float]:
        """One answer under MLflow tracing: with its trace id, trajectory (harness/trajectory/: JSON steps),
        the time of each node and call, read before the trace closes, so the harness needs no store round
        trip, and the agent's own time (without the trace's). `export`: the trace goes to the store (else it is
        dropped once read); `flush`: wait until it is there."""
        from harness.tracking.tracing import flush_traces, trace_this_process, traced_call

        with self.lock:
            if not self.tracing:
                trace_this_process()
                self.tracing = True
        answer = traced_call(
            lambda: self.version.predict(messages, params, cid), {"harness.conversation_id": cid}, export=export
        )
        if flush and export:
            flush_traces()
        text, metadata = answer.result
        return text, metadata, answer.trace_id, answer.trajectory, answer.nodes, answer.call_ms


def _installed(names: set[str]) -> list[str]:
    """The outermost of `names` imported from the installation (site-packages, the standard library),
    not from the project or the model's own code: what `preload` imports ahead next time."""
    found: list[str] = []
    for name in sorted(names):  # a package sorts before its submodules
        origin = getattr(sys.modules.get(name), "__file__", None)
        if (
            origin
            and within(Path(origin).resolve(), installation())
            and not any(name.startswith(f + ".") for f in found)
        ):
            found.append(name)
    return found


def _from_installation(name: str) -> bool:
    """Whether `name`'s top-level package would be imported from the installation (not found: no)."""
    try:
        spec = importlib.util.find_spec(name.split(".")[0])
    except (ImportError, ValueError):
        return False
    if spec is None:
        return False
    places = [spec.origin] if spec.origin and spec.has_location else list(spec.submodule_search_locations or [])
    return bool(places) and all(within(Path(p).resolve(), installation()) for p in places)


def _importable(request: dict[str, Any]) -> None:
    """For steps that import a reference from the working tree: the harness process's import path."""
    for entry in reversed([request["root"], *request.get("path", [])]):
        if entry not in sys.path:
            sys.path.insert(0, entry)


def main(argv: list[str]) -> None:
    # Started with `python -P`: a loaded model imports only what its artifact carries (its code paths)
    # and what is installed, as where it will be served, not whatever lies in the working tree.
    # A worker is started ahead of need: pay for the imports while waiting (the store's too: loading a
    # logged model looks it up there).
    from harness.tracking.connection import import_store_client

    import_store_client(os.environ.get("MLFLOW_TRACKING_URI", ""))

    Worker(Connection(int(argv[0]))).serve()
    sys.stdout.flush()
    os._exit(0)  # abandoned agent threads (a hung call) must not keep the process alive


if __name__ == "__main__":
    main(sys.argv[1:])
