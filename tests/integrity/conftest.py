"""Throw-away projects whose agent is a plain module in the project folder, run with real `pytest suites/`."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.fixtures.project import TOY_TABLES, WITHOUT_LATENCY, Project, make_project
from tests.integrity.agents import PLAIN_CALLABLE

SIGNING_KEY = {"HARNESS_SIGNING_KEY": "integrity-test-key"}


def module_project(
    tmp_path: Path,
    source: str = PLAIN_CALLABLE,
    model_name: str = "my_faq_agent",
    tables: str = TOY_TABLES,
    **files: str,
) -> Project:
    """A project whose agent is `my_agent:answer`, a module in the project folder (plus any other `files`). Without
    the latency suite: these tests check what is logged, registered and promoted."""
    project = make_project(
        tmp_path, agent="my_agent:answer", model_name=model_name, tables=tables, ignore_suites=WITHOUT_LATENCY
    )
    (project.root / "my_agent.py").write_text(source, encoding="utf-8")
    for name, text in files.items():
        (project.root / name).write_text(text, encoding="utf-8")
    return project


@pytest.fixture
def project(tmp_path: Path) -> Project:
    return module_project(tmp_path)


def versions(project: Project, name: str = "my_faq_agent") -> list:
    from mlflow.exceptions import MlflowException

    try:
        return project.client().search_model_versions(f"name = '{name}'")
    except MlflowException:
        return []
