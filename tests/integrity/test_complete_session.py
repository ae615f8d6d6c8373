"""Only a complete session promotes: every golden case, every gate test, no selection, no interrupt."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import pytest

from tests.integrity.agents import WRONG_CALLABLE
from tests.integrity.conftest import SIGNING_KEY, module_project, versions

NODE = "suites/test_quality.py::test_quality[toy-001-correctness]"


@pytest.mark.parametrize(
    "selection, named",
    [
        ([NODE], "test node ids"),
        (["-k", "toy-001"], "-k toy-001"),
        (["-m", "geography"], "-m geography"),
        (["--deselect", NODE], "--deselect"),
        (["-x"], "-x"),
    ],
)
def test_a_selected_or_cut_short_session_does_not_promote(tmp_path, selection, named):
    # The full run of this agent fails the gate; any part of it that passes must still not promote.
    project = module_project(
        tmp_path,
        WRONG_CALLABLE.replace(
            'return "I have no idea."', 'return "Paris" if "France" in messages[-1]["content"] else "I have no idea."'
        ),
    )
    result = project.pytest(*selection)
    assert "only part of the suite was selected" in result.stdout and named in result.stdout, result.stdout[-3000:]
    assert "promoted version" not in result.stdout
    assert versions(project) == []


def test_node_ids_under_xdist_do_not_promote(project):
    result = project.pytest(NODE, "-n", "2")
    assert "only part of the suite was selected (test node ids)" in result.stdout, result.stdout[-3000:]
    assert versions(project) == []


def test_an_interrupt_after_the_evaluation_does_not_promote(project):
    (project.root / "suites" / "test_zz_interrupt.py").write_text(
        "import os, signal\n\n\ndef test_interrupt(harness_evaluation):\n    os.kill(os.getpid(), signal.SIGINT)\n",
        encoding="utf-8",
    )
    result = project.pytest()
    assert result.returncode == 2, result.stdout[-3000:]
    assert "the session was interrupted" in result.stdout and "promoted version" not in result.stdout
    assert versions(project) == []


def test_an_interrupt_inside_the_finish_hook_leaves_no_traceback_and_harness_log_completes(project):
    env = project.env(**SIGNING_KEY)
    process = subprocess.Popen(
        [sys.executable, "-m", "pytest", "suites", "-p", "no:deepeval", "-p", "no:cacheprovider"],
        cwd=project.root,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines = []
    for line in process.stdout:
        lines.append(line)
        if line.startswith("harness: logging the MLflow run"):
            os.kill(process.pid, signal.SIGINT)
    process.wait(timeout=120)
    output = "".join(lines)
    assert process.returncode == 2, output[-3000:]
    assert "Traceback" not in output and "interrupted while logging the MLflow run" in output
    assert versions(project) == []
    done = project.harness("log", "reports/latest", **SIGNING_KEY)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "promoted version 1 of my_faq_agent to @development" in done.stdout
