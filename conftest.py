"""Root conftest: its presence puts the project root on sys.path, so `agent` and `tests.fixtures`
references resolve; the harness plugin itself loads through its `pytest11` entry point."""

from __future__ import annotations

import pytest


def pytest_sessionstart(session: pytest.Session) -> None:
    # The reference agent's embedded DuckDB store, built once per checkout in the project folder:
    # the agent's sandbox cannot write there, and its logged artifact carries the store from here
    # (otherwise every agent process would build its own, seconds each).
    if not session.config.option.collectonly:
        from agent.data.store import ensure_store

        ensure_store()
