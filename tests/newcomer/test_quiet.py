"""What a `harness init` project prints under `-q`, and what a session leaves in the temporary directory:
a progress line from the start, the gate table, nothing else; no `harness-*` folder after a run, an
interrupt or a killed agent process."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

from tests.newcomer.conftest import env, harness_init, run

MAX_LINES = 40
MAX_COLUMNS = 120


def leftovers(tmp_path: Path) -> list[str]:
    return sorted(p.name for p in (tmp_path / "tmp").glob("harness-*"))


def add_agent(project: Path, source: str) -> None:
    """Another agent function beside the example's `answer`, in my_agent/agent.py."""
    agent = project / "my_agent" / "agent.py"
    agent.write_text(agent.read_text(encoding="utf-8") + "\n\n" + source, encoding="utf-8")


def test_a_quiet_passing_session_prints_progress_then_the_gate_table(newcomer):
    project, tmp_path, _, session = newcomer
    assert session.returncode == 0, session.stdout[-3000:] + session.stderr[-2000:]
    lines = session.stdout.splitlines() + session.stderr.splitlines()
    assert len(lines) <= MAX_LINES, session.stdout
    assert max(len(line) for line in lines) <= MAX_COLUMNS, session.stdout
    assert "warning" not in (session.stdout + session.stderr).lower(), session.stdout + session.stderr
    assert session.stderr == ""
    # The first line is the harness's (collection has just ended), and the steps follow in order.
    assert lines[0] == "harness: 3 golden case(s): starting the agent processes ... (0 s)", lines[:3]
    steps = [
        "harness: logging and loading my_agent:answer (candidate)",
        "harness: answering 3 case(s) with 1 version(s)",
        "harness: answered 3/3, 0 error(s)",
        "harness: writing reports",
        "harness: logging the MLflow run",
        "harness: registering and moving @development",
        "=== agent evaluation gate ===",
    ]
    at = [next(i for i, line in enumerate(lines) if step in line) for step in steps]
    assert at == sorted(at), lines
    # Before the gate table: the progress line and pytest's own dots only; no benchmark table, no library chatter.
    before = lines[: at[-1]]
    assert all(line.startswith("harness: ") or set(line.split()[0]) <= set(".s") for line in before if line), before
    for noise in ("Successfully registered", "Created version", "Saved benchmark", "Legend", "INFO"):
        assert noise not in session.stdout
    assert leftovers(tmp_path) == []


def test_an_interrupted_session_ends_in_one_line_and_leaves_no_temporary_folder(tmp_path: Path) -> None:
    project = tmp_path / "project"
    project.mkdir()
    assert harness_init(project, tmp_path).returncode == 0
    add_agent(project, "def slow(messages):\n    import time\n\n    time.sleep(120)\n    return answer(messages)\n")
    with subprocess.Popen(
        [sys.executable, "-m", "pytest", "suites/", "-q", "--agent", "my_agent.agent:slow"],
        cwd=project,
        env=env(tmp_path),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    ) as session:
        assert session.stdout is not None
        seen = []
        for line in session.stdout:  # interrupted while the agent answers
            seen.append(line)
            if line.startswith("harness: answering"):
                break
        assert seen and leftovers(tmp_path), "".join(seen)  # its agent processes' folders exist meanwhile
        session.send_signal(signal.SIGINT)
        rest = session.stdout.read()
        session.wait(timeout=120)
    assert session.returncode == 2, "".join(seen) + rest
    assert "Traceback" not in rest and "OperationalError" not in rest, rest
    assert leftovers(tmp_path) == []


def test_a_killed_agent_process_leaves_no_temporary_folder(tmp_path: Path) -> None:
    project = tmp_path / "project"
    project.mkdir()
    assert harness_init(project, tmp_path).returncode == 0
    add_agent(project, "def killed(messages):\n    import os, signal\n\n    os.kill(os.getpid(), signal.SIGKILL)\n")
    session = run(
        [sys.executable, "-m", "pytest", "suites/", "-q", "--agent", "my_agent.agent:killed"], project, tmp_path
    )
    assert session.returncode == 1 and "agent error rate 100.0%" in session.stdout, session.stdout[-3000:]
    assert "warning" not in session.stderr.lower(), session.stderr
    assert leftovers(tmp_path) == []
