"""A server the harness starts as a child process (scoring server, local LLM, tracking server).

Each runs in its own process group (it may fork workers, and stopping it must stop them all),
writes to a log file whose last line explains a failure, is ready once a URL answers 200, and is
stopped politely first, then firmly.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from harness import HarnessError


@dataclass(frozen=True)
class LocalServer:
    name: str  # how error lines call it, e.g. "the scoring server for models:/bot@production"
    process: subprocess.Popen
    port: int
    log_path: Path

    def stop(self) -> None:
        """Stop the server and whatever it forked, with SIGTERM, then SIGKILL if it lingers."""
        stop_group(self.process)

    def last_log_line(self) -> str:
        try:
            lines = self.log_path.read_text(errors="replace").strip().splitlines()
        except OSError:
            lines = []
        return lines[-1].strip() if lines else "no output"

    def wait_ready(self, urls: Sequence[str], timeout_s: float) -> None:
        """Return once one of `urls` answers 200; stop the server and fail in one line if it exits or
        stays silent (or if waiting is interrupted: a server is never left behind)."""
        try:
            deadline = time.monotonic() + timeout_s
            while time.monotonic() < deadline:
                if self.process.poll() is not None:
                    raise HarnessError(f"{self.name} exited with code {self.process.returncode}: {self.last_log_line()} (log: {self.log_path})")
                if any(answers(url) for url in urls):
                    return
                time.sleep(0.3)
            raise HarnessError(f"{self.name} did not answer {urls[0]} within {timeout_s:g} s (log: {self.log_path})")
        except BaseException:
            self.stop()
            raise


S = TypeVar("S", bound=LocalServer)


def launch(kind: type[S], name: str, command: Sequence[str], port: int, log_path: Path, env: Mapping[str, str] | None = None,
           append: bool = False, cwd: Path | None = None) -> S:
    """Start `command` in its own process group, its output going to `log_path`, as a `kind` of server."""
    with log_path.open("ab" if append else "wb") as log:
        process = subprocess.Popen(list(command), stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                   env=dict(env) if env is not None else None, cwd=cwd, start_new_session=True)
    return kind(name, process, port, log_path)


def stop_group(process: subprocess.Popen) -> None:
    """SIGTERM to the process group, then SIGKILL if it has not ended within 15 s."""
    if process.poll() is not None:
        return
    for sig, wait_s in ((signal.SIGTERM, 15), (signal.SIGKILL, 10)):
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            return
        try:
            process.wait(timeout=wait_s)
            return
        except subprocess.TimeoutExpired:
            continue


def answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status == 200
    except (urllib.error.URLError, OSError):
        return False
