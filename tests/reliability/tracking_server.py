"""A real `mlflow server` process behind a loopback proxy that kills it when a chosen REST call arrives.

Why a proxy and not a hook in the harness: the fault is then exactly what production sees. The
harness code runs unchanged against a real server; when the request named by `kill_on` reaches
the proxy (e.g. `POST /api/2.0/mlflow/registered-models/alias`), the server process group is
killed with SIGKILL before the request is forwarded, and the client's connection is dropped.
Everything the server committed before that call is in its SQLite store; nothing after it is.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import sys
import threading
from pathlib import Path

from harness.servers.ports import free_port
from harness.servers.process import LocalServer, launch
from tests.fixtures.project import copy_empty_store

# Registration runs under the registry lock (harness/tracking/lock.py): creating the lock model is
# the first `registered-models/create` of a registration.
REGISTER = b"POST /api/2.0/mlflow/registered-models/create "
ALIAS = b"POST /api/2.0/mlflow/registered-models/alias "


class TrackingServer:
    """`mlflow server` on a SQLite store in `root`; clients use `uri`, which goes through the proxy."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.backend = f"sqlite:///{root / 'server.db'}"
        # The store's tables from the template: a fresh one costs the server seconds of migrations on its first start.
        copy_empty_store(root / "server.db", "mlflow-artifacts:/0")
        self.server_port = free_port()
        self.kill_on: bytes | None = None
        self.killed = threading.Event()
        self.server: LocalServer | None = None
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.uri = f"http://127.0.0.1:{self._listener.getsockname()[1]}"
        threading.Thread(target=self._accept, name="kill-proxy", daemon=True).start()

    def start(self, timeout_s: float = 90.0) -> None:
        mlflow_cli = shutil.which("mlflow", path=str(Path(sys.executable).parent)) or "mlflow"
        self.server = launch(
            LocalServer,
            "mlflow server",
            [
                mlflow_cli,
                "server",
                "--host",
                "127.0.0.1",
                "--port",
                str(self.server_port),
                "--workers",
                "1",
                "--backend-store-uri",
                self.backend,
                "--artifacts-destination",
                str(self.root / "artifacts"),
            ],
            self.server_port,
            self.root / "server.log",
            dict(os.environ, MLFLOW_SERVER_ENABLE_JOB_EXECUTION="false"),  # no job runner: faster start
            append=True,
            cwd=self.root,
        )
        self.server.wait_ready([f"http://127.0.0.1:{self.server_port}/health"], timeout_s)
        self.killed.clear()

    def stop(self) -> None:
        """SIGKILL the server's whole process group (it was started in its own session)."""
        process = self.server.process if self.server is not None else None
        if process is not None and process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=30)
        self.killed.set()

    def close(self) -> None:
        self.stop()
        self._listener.close()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    def _serve(self, client: socket.socket) -> None:
        try:
            upstream = socket.create_connection(("127.0.0.1", self.server_port), timeout=10)
        except OSError:  # the server is down: the client sees a refused/reset connection
            client.close()
            return
        upstream.settimeout(None)
        threading.Thread(target=_pump, args=(upstream, client), daemon=True).start()
        tail = b""
        try:
            while chunk := client.recv(65536):
                window = tail + chunk
                if self.kill_on and self.kill_on in window:
                    self.kill_on = None  # one kill per arming
                    self.stop()
                    break
                upstream.sendall(chunk)
                tail = window[-256:]
        except OSError:
            pass
        finally:
            for s in (client, upstream):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                s.close()


def _pump(source: socket.socket, sink: socket.socket) -> None:
    try:
        while data := source.recv(65536):
            sink.sendall(data)
    except OSError:
        pass
    finally:
        try:
            sink.shutdown(socket.SHUT_WR)
        except OSError:
            pass
