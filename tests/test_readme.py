"""Every README command marked for testing runs, in a temporary copy of the repository.

A README block whose info string is exactly `bash test` is run with bash (`set -e`) in a fresh
copy of the tracked files (`git ls-files`), with the virtual environment's bin first on PATH.

What is not run as written: the set-up steps `python3 -m venv .venv` and `.venv/bin/pip install ...`.
Creating a venv and installing every dependency again per block would take minutes and the
registry; instead the copy's `.venv` is a symlink to the environment running these tests, which
was made by exactly those steps (`.ci/run` runs them on a clean clone). Those steps become a check
that `.venv/bin/python` exists; the rest of each block runs unchanged. The copy's own `harness` and
`agent` packages are put first on PYTHONPATH, so the commands exercise the copy, not this checkout.
"""

import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
README = REPO / "README.md"
SETUP_STEP = re.compile(r"^\s*(python3? -m venv \.venv|\.venv/bin/pip install\b.*)$")


def readme_blocks() -> list[str]:
    if not README.is_file():
        return []
    return re.findall(r"^```bash test[ \t]*\n(.*?)^```[ \t]*$", README.read_text(encoding="utf-8"), flags=re.M | re.S)


def without_setup(block: str) -> str:
    """The block with each venv/pip set-up step (a whole line, or one `&&` link) replaced by a check."""
    lines = []
    for line in block.splitlines():
        links = [link.strip() for link in line.split("&&")]
        links = ["test -x .venv/bin/python" if SETUP_STEP.match(link) else link for link in links]
        lines.append(" && ".join(links))
    return "\n".join(lines)


def copy_repository(destination: Path) -> None:
    files = (
        subprocess.run(["git", "ls-files", "-z"], cwd=REPO, capture_output=True, check=True).stdout.decode().split("\0")
    )
    for name in filter(None, files):
        source = REPO / name
        if source.is_file():  # a tracked file deleted in this working tree is not part of the copy
            target = destination / name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
    (destination / ".venv").symlink_to(Path(sys.prefix))


def test_readme_has_blocks_marked_for_testing():
    assert readme_blocks(), f"{README} has no ```bash test block: the README's commands must be tested"


def test_ci_runs_the_readme_test_command():
    """.ci/run must run the command the README gives for the tests, character for character."""
    ci = (REPO / ".ci" / "run").read_text(encoding="utf-8")
    command = next(line.strip() for line in ci.splitlines() if line.strip().startswith("python3 -m venv .venv"))
    assert command in README.read_text(encoding="utf-8"), (
        f"README.md does not give the test command .ci/run runs: {command}"
    )


@pytest.mark.parametrize("block", readme_blocks(), ids=lambda b: re.sub(r"\s+", " ", b.strip())[:60])
def test_readme_block_runs(block, tmp_path):
    copy = tmp_path / "repo"
    copy.mkdir()
    copy_repository(copy)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MLFLOW_", "PYTEST_", "HARNESS_"))}
    env.update(
        PATH=f"{copy / '.venv' / 'bin'}{os.pathsep}{env.get('PATH', '')}",
        PYTHONPATH=str(copy),
        MLFLOW_DISABLE_TELEMETRY="true",
    )
    script = without_setup(block)
    result = subprocess.run(
        ["bash", "-e", "-o", "pipefail", "-c", script], cwd=copy, env=env, capture_output=True, text=True, timeout=1200
    )
    assert result.returncode == 0, (
        f"README block failed with {result.returncode}:\n{block}\nran as:\n{shlex.quote(script)}\n"
        f"--- stdout (tail)\n{result.stdout[-4000:]}\n--- stderr (tail)\n{result.stderr[-3000:]}"
    )
