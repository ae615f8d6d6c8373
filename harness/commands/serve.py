"""`harness serve`: the MLflow scoring server for a logged or registered model, on loopback.

`mlflow models serve --env-manager local` runs the model in this environment exactly as the
scoring server will run it (its own process, JSON over `POST /invocations`), so a session can
evaluate `http://127.0.0.1:<port>/invocations` as a version. `served(model_uri)` is the same as a
context manager for code that needs the agent outside its own process.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from harness import HarnessError
from harness.servers.ports import free_port
from harness.servers.process import LocalServer, launch

if TYPE_CHECKING:
    from harness.settings import HarnessConfig

MODEL_URI_FORMS = ("models:/", "runs:/")


class ScoringServer(LocalServer):
    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


def check_model_uri(model_uri: str) -> str:
    model_uri = model_uri.strip()
    if model_uri.startswith(MODEL_URI_FORMS) or (Path(model_uri) / "MLmodel").is_file():
        return model_uri
    raise HarnessError(
        f"model {model_uri!r}: expected 'models:/name@alias', 'models:/name/N', 'runs:/<id>/<path>' or a "
        "folder with an MLmodel file"
    )


def start(
    model_uri: str,
    port: int | None = None,
    workers: int = 1,
    timeout_s: float = 300.0,
    tracking_uri: str | None = None,
    log_path: Path | None = None,
    guard: bool = False,
) -> ScoringServer:
    """Start the scoring server on 127.0.0.1 and return once it answers `/ping` (or `/health`)."""
    model_uri = check_model_uri(model_uri)
    port = port or free_port()
    log_path = log_path or Path(os.environ.get("TMPDIR", "/tmp")) / f"harness-serve-{port}.log"
    # The scoring server execs `uvicorn` by name: the one next to this interpreter, even when the
    # environment's bin folder is not on PATH (a virtualenv used without activating it).
    env = {**os.environ, "PATH": os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])}
    if tracking_uri:
        env["MLFLOW_TRACKING_URI"] = tracking_uri
    command = [
        sys.executable,
        "-m",
        "mlflow",
        "models",
        "serve",
        "--model-uri",
        model_uri,
        "--env-manager",
        "local",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        str(workers),
    ]
    server = launch(ScoringServer, f"the scoring server for {model_uri}", command, port, log_path, env, guard=guard)
    server.wait_ready([f"{server.base_url}/ping", f"{server.base_url}/health"], timeout_s)
    return server


@contextmanager
def served(
    model_uri: str,
    port: int | None = None,
    workers: int = 1,
    timeout_s: float = 300.0,
    tracking_uri: str | None = None,
    log_path: Path | None = None,
) -> Iterator[str]:
    """Serve `model_uri` on loopback for the duration of the block; yields its base URL (`http://127.0.0.1:<port>`).

    The tracking store is `tracking_uri`, else `MLFLOW_TRACKING_URI`, else the one this process
    uses, so `models:/` URIs resolve against the same registry as the caller's.
    """
    if tracking_uri is None and not os.environ.get("MLFLOW_TRACKING_URI"):
        from harness.tracking.connection import current_tracking_uri

        tracking_uri = current_tracking_uri()
    server = start(model_uri, port, workers, timeout_s, tracking_uri, log_path)
    try:
        yield server.base_url
    finally:
        server.stop()


def configure_serve(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("model_uri", help="models:/name@alias, models:/name/N, runs:/<id>/<path> or a model folder")
    parser.add_argument("--port", type=int, default=None, help="port on 127.0.0.1 (default: a free one)")
    parser.add_argument("--workers", type=int, default=1, help="scoring server worker processes (default 1)")
    parser.add_argument(
        "--timeout", type=float, default=300.0, help="seconds to wait for the server to answer (default 300)"
    )
    parser.add_argument(
        "--allow-unverified",
        action="store_true",
        help="serve a version that `harness verify` refuses (or that is not a registered version); logged as such",
    )


def _unverified(model_uri: str, cfg: HarnessConfig) -> list[str]:
    """Why `model_uri` is not a version `harness verify` accepts; [] when it is."""
    from harness.tracking.connection import connect, store_errors
    from harness.tracking.verify import REGISTRY_URI, check_reference

    if not REGISTRY_URI.match(model_uri.strip()):
        return [
            f"{model_uri} is not a registered version (models:/NAME@ALIAS or models:/NAME/N), so it has no "
            "sealed record to verify"
        ]
    connect(cfg.root)
    return [f"{v.subject}: {p}" for v in store_errors(check_reference)(model_uri, cfg) for p in v.problems]


def run_serve(args: argparse.Namespace) -> int:
    from harness.config import load_config
    from harness.tracking.connection import tracking_uri

    def stop(signum: int, frame: object) -> None:
        # A second signal must not cut short the stop in `finally`, which waits for the whole group.
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, signal.SIG_IGN)
        if signum == signal.SIGINT:
            raise KeyboardInterrupt
        raise SystemExit(128 + signum)

    # SIGTERM (a supervisor, `kill`) and Ctrl-C must stop the server too, not orphan it: through `finally`.
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, stop)
    if args.workers < 1:
        raise HarnessError(f"--workers {args.workers}: must be at least 1")
    cfg = load_config(Path.cwd())
    problems = _unverified(check_model_uri(args.model_uri), cfg)
    if problems and not args.allow_unverified:
        raise HarnessError(
            "refusing to serve an unverified version: " + "; ".join(problems) + " (--allow-unverified overrides)"
        )
    server = None
    try:
        # Guarded: the scoring server's whole process group dies with this command, however it ends.
        server = start(args.model_uri, args.port, args.workers, args.timeout, tracking_uri(cfg.root), guard=True)
        print(f"serving {args.model_uri} at {server.base_url} (log: {server.log_path})")
        print(
            f"evaluate it with: pytest suites/ --agent {server.base_url}/invocations   (a ResponsesAgent: "
            f"--agent responses+{server.base_url}/invocations)"
        )
        if problems:
            print(f"WARNING: serving an unverified version (--allow-unverified): {'; '.join(problems)}")
        print("Ctrl-C stops the server.", flush=True)
        return server.process.wait()
    except KeyboardInterrupt:
        return 0
    finally:
        if server is not None:
            server.stop()  # returns once every process of the server's group is gone
