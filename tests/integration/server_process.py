"""A `harness server` subprocess as the integration tests start it: its URI from what it prints."""

from __future__ import annotations

import subprocess
import time

import pytest


def announced_uri(server: subprocess.Popen[str], timeout_s: float = 180) -> tuple[str, list[str]]:
    """The tracking URI the command prints once the server answers, and the lines before it."""
    lines: list[str] = []
    deadline = time.monotonic() + timeout_s
    assert server.stdout is not None
    for line in server.stdout:
        lines.append(line)
        if line.startswith("export MLFLOW_TRACKING_URI="):
            return line.split("=", 1)[1].strip(), lines
        assert time.monotonic() < deadline, "".join(lines)
    pytest.fail(f"harness server exited with {server.wait()}:\n{''.join(lines)}")
