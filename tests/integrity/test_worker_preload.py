"""A worker imports packages ahead of its load only from the installation, and never runs a package
of the same name in place of the artifact's own code."""

from __future__ import annotations

import subprocess
import sys

import pytest

from harness.versions.process.worker import Worker


def test_preload_skips_the_project_s_own_packages_even_through_an_editable_install(tmp_path):
    # `agent` is importable here only through the project's editable install (the working tree):
    # preloading it would make the worker run that code instead of the artifact's copy.
    script = (
        "import sys\nfrom harness.versions.process.worker import Worker\n"
        "Worker(None).preload({'modules': ['agent', 'agent.graph', 'tests', 'email.mime.text', 'no_such_package']})\n"
        "print('agent' in sys.modules, 'tests' in sys.modules, 'email.mime.text' in sys.modules)\n"
    )
    done = subprocess.run(
        [sys.executable, "-P", "-c", script], cwd=tmp_path, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split() == ["False", "False", "True"]


def test_a_load_whose_code_is_already_imported_under_the_same_name_fails_instead_of_running_other_code(tmp_path):
    artifact = tmp_path / "model"
    (artifact / "code" / "email").mkdir(parents=True)  # the standard library's `email` is imported in every process
    (artifact / "code" / "email" / "__init__.py").write_text("ANSWER = 'from the artifact'\n")
    (artifact / "MLmodel").write_text("flavors: {}\n")
    with pytest.raises(
        RuntimeError, match="email already imported in this process, so the artifact's own copy would not run"
    ):
        Worker(None).load({"path": str(artifact), "reference": "my_agent:answer"})
