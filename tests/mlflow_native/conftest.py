"""A throw-away project with its own SQLite store, for golden data kept as MLflow evaluation datasets."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.fixtures.project import WITHOUT_LATENCY, Project, make_project

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "harness" / "templates" / "example.jsonl"  # what `harness init` writes as golden_data/example.jsonl


@pytest.fixture
def project(tmp_path: Path) -> Project:
    return make_project(tmp_path, golden="mlflow-dataset:toy", ignore_suites=WITHOUT_LATENCY)


@pytest.fixture
def store(project: Project):
    """This process's MLflow pointed at the project's store, as a session's would be."""
    import mlflow

    before = mlflow.get_tracking_uri()
    mlflow.set_tracking_uri(project.tracking_uri)
    yield project
    mlflow.set_tracking_uri(before)
