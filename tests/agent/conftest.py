"""Fixtures for the agent tests. Preferences go to a temporary SQLite file, never ~/.cache."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
os.environ.setdefault(
    "HEALTH_MONITOR_PREFS_DB", str(Path(tempfile.mkdtemp(prefix="hm_prefs_")) / "preferences.sqlite3")
)

import pytest  # noqa: E402


@pytest.fixture(scope="session")
def store():
    from agent.data.store import get_store

    return get_store()


@pytest.fixture(scope="session")
def engine():
    from agent.graph import HealthMonitor

    return HealthMonitor("v1")


@pytest.fixture(scope="session")
def agent_v1():
    from agent.variants import V1

    return V1


@pytest.fixture(scope="session")
def rule_failures():
    """The harness's own rule-based verdicts on one engine answer: (case, answer) -> {scorer: rationale},
    failures only."""
    from harness.golden import parse_case
    from harness.scorers.rules import Correctness, Guidelines, Relevance, Safety
    from harness.versions.version import AgentOutput

    scorers = (Correctness(), Relevance(), Safety(), Guidelines())

    def failures(case: dict, answer: dict) -> dict[str, str]:
        parsed = parse_case(case, case["id"])
        output = AgentOutput(answer["content"], {"domains": answer["domains"], "sources": answer["sources"]})
        return {s.name: r.rationale for s in scorers if not (r := s.score(parsed, output)).passed}

    return failures


def ask(agent, text, **kw):
    """Ask a ChatAgent one question; returns (text, custom_outputs)."""
    r = agent.predict({"messages": [{"role": "user", "content": text}], **kw})
    return r.messages[0].content, r.custom_outputs
