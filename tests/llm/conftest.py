"""Fixtures for the LLM-judge tests: the packaged local LLM server, and a deliberately broken endpoint."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from harness import HarnessError
from tests.llm.endpoints import BrokenJudgeEndpoint


@pytest.fixture(scope="session")
def local_llm() -> Iterator[object]:
    """SmolLM2 behind llama.cpp's server on loopback, for the whole session; stopped afterwards.

    Without the `local-llm` extra this fails (it does not skip): CI installs the extra, so a
    missing server is a broken set-up, not an optional test.
    """
    from harness.commands import local_llm as server_module

    try:
        server = server_module.start()
    except HarnessError as exc:
        pytest.fail(f"local LLM unavailable: {exc}", pytrace=False)
    yield server
    server.stop()


@pytest.fixture(scope="session")
def broken_endpoint() -> Iterator[BrokenJudgeEndpoint]:
    endpoint = BrokenJudgeEndpoint(hang_s=10.0)
    yield endpoint
    endpoint.close()
