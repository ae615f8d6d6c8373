"""A pytest plugin for `whole_job.py`: where one `pytest suites/` session's wall time goes.

Loaded with `-p job_phases`; `JOB_T0` is the time the benchmark started the process and
`JOB_PHASES` the JSON file the phases (seconds) are written to as pytest unconfigures.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Generator
from typing import Any

import pytest

T0 = float(os.environ.get("JOB_T0", time.time()))
marks: dict[str, float] = {}
evaluation_s: list[float] = []


def pytest_configure(config: pytest.Config) -> None:
    marks["configured"] = time.time()


@pytest.hookimpl(wrapper=True)
def pytest_collection_finish(session: pytest.Session) -> Generator[None, Any, Any]:
    result = yield
    marks["collected"] = time.time()
    from harness.plugin.session import state_of

    state = state_of(session.config)
    if state is not None:
        run = state.run

        def timed_run() -> Any:  # the evaluation itself: answers, scores, comparisons, gate
            started = time.time()
            try:
                return run()
            finally:
                if not evaluation_s:
                    evaluation_s.append(time.time() - started)

        state.run = timed_run  # type: ignore[method-assign]
    return result


def pytest_runtest_logstart(nodeid: str, location: Any) -> None:
    marks.setdefault("first test", time.time())


@pytest.hookimpl(tryfirst=True)
def pytest_sessionfinish(session: pytest.Session) -> None:
    marks["tests done"] = time.time()


@pytest.hookimpl(trylast=True)
def pytest_unconfigure(config: pytest.Config) -> None:
    now = time.time()
    first = marks.get("first test", marks["collected"])
    evaluation = evaluation_s[0] if evaluation_s else 0.0
    phases = {
        "start-up (python, pytest, plugins, config)": marks["configured"] - T0,
        "collection (cases, parametrize, plan)": marks["collected"] - marks["configured"],
        "versions (log the model, start its process)": first - marks["collected"],
        "evaluation (answers, scores, gate)": evaluation,
        "tests (pytest reporting, latency suite)": marks.get("tests done", now) - first - evaluation,
        "finish (reports, MLflow run, summary)": now - marks.get("tests done", now),
        "_until": now - T0,
    }
    with open(os.environ["JOB_PHASES"], "w", encoding="utf-8") as fh:
        json.dump(phases, fh)
