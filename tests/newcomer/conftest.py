"""One `harness init` folder evaluated by one real `pytest suites/` session, shared by this folder's tests."""

from __future__ import annotations

import functools
import json
import os
import subprocess
import sys
from importlib import metadata
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


@functools.cache
def _checkout_path() -> dict[str, str]:
    """No PYTHONPATH: the harness comes from the installed package, as in a user's project; unless the
    installation is another checkout (a second worktree), when this one is put first on the path."""
    url = json.loads(metadata.distribution("agent-eval-harness").read_text("direct_url.json") or "{}").get("url", "")
    return {} if url == REPO.as_uri() else {"PYTHONPATH": str(REPO)}


def env(tmp_path: Path) -> dict[str, str]:
    clean = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("HARNESS_", "PYTEST_", "MLFLOW_")) and k != "PYTHONPATH"
    }
    (tmp_path / "tmp").mkdir(exist_ok=True)
    return (
        clean
        | _checkout_path()
        | {
            "MLFLOW_TRACKING_URI": f"sqlite:///{tmp_path / 'mlflow.db'}",
            "MLFLOW_DISABLE_TELEMETRY": "true",
            "DEEPEVAL_TELEMETRY_OPT_OUT": "1",
            "TMPDIR": str(tmp_path / "tmp"),  # its own temporary directory: what a session leaves there shows
        }
    )


def run(argv: list[str], cwd: Path, tmp_path: Path, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, cwd=cwd, env=env(tmp_path), capture_output=True, text=True, timeout=timeout)


def harness_init(folder: Path, tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return run([sys.executable, "-m", "harness.cli", "init", *args], folder, tmp_path)


def tree(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture(scope="session")
def newcomer(
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[Path, Path, subprocess.CompletedProcess[str], subprocess.CompletedProcess[str]]:
    """(project folder, its temporary parent holding mlflow.db and tmp/, the `harness init` run, the
    `pytest suites/ -q` run)."""
    tmp_path = tmp_path_factory.mktemp("newcomer")
    project = tmp_path / "newcomer"
    project.mkdir()
    made = harness_init(project, tmp_path)
    session = run([sys.executable, "-m", "pytest", "suites/", "-q"], project, tmp_path, timeout=600)
    return project, tmp_path, made, session
