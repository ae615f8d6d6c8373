"""A server the harness starts as a child process (scoring server, local LLM, tracking server).

Each runs in its own process group (it may fork workers, and stopping it must stop them all),
writes to a log file whose last line explains a failure, is ready once a URL answers 200, and is
stopped politely first, then firmly.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
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
                    raise HarnessError(
                        f"{self.name} exited with code {self.process.returncode}: {self.last_log_line()} "
                        f"(log: {self.log_path})"
                    )
                if any(answers(url) for url in urls):
                    return
                time.sleep(0.3)
            raise HarnessError(f"{self.name} did not answer {urls[0]} within {timeout_s:g} s (log: {self.log_path})")
        except BaseException:
            self.stop()
            raise


S = TypeVar("S", bound=LocalServer)


# The leader of a guarded server's process group: it starts the server, leaves SIGTERM and SIGINT
# to it (the whole group gets them), and when the process that launched it dies without stopping
# it (SIGKILL, a crash) the kernel tells it (PR_SET_PDEATHSIG) and it takes the group down.
GUARD = """
import ctypes, os, signal, subprocess, sys, threading
parent, orphan = int(sys.argv[1]), []
def orphaned(*_):
    orphan.append(True)
    os.killpg(0, signal.SIGTERM)
    threading.Timer(10, os.killpg, (0, signal.SIGKILL)).start()
for sig in (signal.SIGTERM, signal.SIGINT):
    signal.signal(sig, signal.SIG_IGN)
signal.signal(signal.SIGUSR1, orphaned)
ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGUSR1)
restored = (signal.SIGTERM, signal.SIGINT)
child = subprocess.Popen(sys.argv[2:], preexec_fn=lambda: [signal.signal(s, signal.SIG_DFL) for s in restored])
if os.getppid() != parent:
    orphaned()
code = child.wait()
if orphan:
    os.killpg(0, signal.SIGKILL)
sys.exit(code if code >= 0 else 128 - code)
"""


def launch(
    kind: type[S],
    name: str,
    command: Sequence[str],
    port: int,
    log_path: Path,
    env: Mapping[str, str] | None = None,
    append: bool = False,
    cwd: Path | None = None,
    guard: bool = False,
) -> S:
    """Start `command` in its own process group, its output going to `log_path`, as a `kind` of server.

    `guard`: the group also dies with this process, however it ends (Linux)."""
    if guard and sys.platform.startswith("linux"):
        command = [sys.executable, "-c", GUARD, str(os.getpid()), *command]
    with log_path.open("ab" if append else "wb") as log:
        process = subprocess.Popen(
            list(command),
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=dict(env) if env is not None else None,
            cwd=cwd,
            start_new_session=True,
        )
    return kind(name, process, port, log_path)


def group_members(pgid: int) -> list[int]:
    """The live (not zombie) processes of process group `pgid`."""
    proc = Path("/proc")
    if not proc.is_dir():
        try:
            os.killpg(pgid, 0)
            return [pgid]
        except (ProcessLookupError, PermissionError):
            return []
    members = []
    for entry in proc.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            # Fields after the command name (which may hold spaces): state, ppid, pgrp, ...
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[2]) == pgid and fields[0] not in ("Z", "X"):
            members.append(int(entry.name))
    return members


def stop_group(process: subprocess.Popen) -> None:
    """SIGTERM to the process group, then SIGKILL if any of it lingers after 15 s; returns only once
    every process of the group is gone (the leader may exit while its workers still answer)."""
    for sig, wait_s in ((signal.SIGTERM, 15.0), (signal.SIGKILL, 10.0)):
        if not group_members(process.pid) and process.poll() is not None:
            return
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            pass
        deadline = time.monotonic() + wait_s
        while time.monotonic() < deadline:
            if process.poll() is not None and not group_members(process.pid):
                return
            time.sleep(0.05)
    raise HarnessError(f"processes {group_members(process.pid)} of process group {process.pid} outlived SIGKILL")


def answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status == 200
    except (urllib.error.URLError, OSError):
        return False
