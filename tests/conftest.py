"""Settings and shared fixtures for this project's own test run (not for `pytest suites/`)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from tests.reliability.tracking_server import TrackingServer


def pytest_configure(config: pytest.Config) -> None:
    # The slowest tests, at the end of every run (CI logs included): where the suite's time goes.
    if config.option.durations is None:
        config.option.durations = 30


@pytest.fixture
def tracking_server(tmp_path: Path) -> Iterator[TrackingServer]:
    """A real `mlflow server` behind the kill proxy (tests/reliability/tracking_server.py), closed after the test."""
    from tests.reliability.tracking_server import TrackingServer  # noqa: F811  (the server's code, only for the tests that use it)

    (tmp_path / "server").mkdir()
    server = TrackingServer(tmp_path / "server")
    server.start()
    yield server
    server.close()
