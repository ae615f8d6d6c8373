"""Once tests are collected: their order, what the selected ones need, the plan; and loading the versions as
the run starts."""

from __future__ import annotations

import importlib
import logging
import os
import warnings
from typing import Any

import pytest

from harness import HarnessError
from harness.plugin.session import HarnessSession, usage_error

# Library noise that says nothing about the agent: kept out of a harness session's output here, so
# that no user has to filter it in their own configuration.
NOISY_WARNINGS = (
    "ignore::DeprecationWarning:mlflow.*",
    "ignore::DeprecationWarning:sqlalchemy.*",
    "ignore::FutureWarning:mlflow.*",
    "ignore:.*type hint.*:UserWarning",
    "ignore:.*Add type hints to the `predict` method.*:UserWarning",
    "ignore:.*select_dtypes.*",
    "ignore::pytest_benchmark.logger.PytestBenchmarkWarning",
)
NOISY_LOGGERS = ("mlflow", "alembic", "urllib3")


def _params(item: pytest.Item) -> dict[str, object]:
    callspec = getattr(item, "callspec", None)
    return callspec.params if callspec is not None else {}


def gate_tests_last(items: list[pytest.Item]) -> None:
    """Gate checks read best after the per-case results they summarize."""
    items.sort(
        key=lambda item: bool({"harness_gate_check_id", "harness_ab_metric"} & set(getattr(item, "fixturenames", ())))
    )


def evaluates(state: HarnessSession) -> bool:
    """Whether this session runs an evaluation: some harness test was selected and the cases loaded."""
    return not state.load_error and bool(state.expected["gate"] or state.expected["quality"])


def finish_collection(state: HarnessSession, session: pytest.Session) -> None:
    """Note which cases the selected tests need (after -k, -m, --lf have deselected theirs) and which
    harness tests must report; then, in a session that evaluates, print the plan. Nothing is logged,
    started or looked up here: an IDE collects on every save (`--collect-only`)."""
    _note_selection(state, session.items)
    if session.config.option.collectonly:
        return
    if any("harness_bench_case_id" in _params(i) for i in session.items):
        from harness.plugin.benchmark import enable_benchmark_autosave, quiet_benchmarks

        enable_benchmark_autosave(session.config)  # only sessions that benchmark save benchmarks
        quiet_benchmarks(session.config)
    if not evaluates(state):
        return
    _quiet_libraries(session.config)
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None and session.config.get_verbosity() >= 0:  # under -q: the progress line only
        from harness.plan import plan_lines
        from harness.sandbox import detect
        from harness.scorers import scorer_names
        from harness.scorers.trajectory import unscored_routes_line

        box = detect()
        if state.in_process:
            mode = "in process (fast local loop, never promotes)"
        else:
            mode = "from their logged artifacts, each in its own process" + (
                " (bubblewrap sandbox)" if box.confined else ""
            )
        unconfined = [] if state.in_process or box.confined else [box.line()]
        routes = unscored_routes_line(scorer_names(state.config), state.cases)
        for line in [
            f"versions answer {mode}",
            *unconfined,
            *plan_lines(state.config, state.cases),
            *([routes] if routes else []),
        ]:
            reporter.write_line(f"harness: {line}")
    state.say(f"{len(state.cases)} golden case(s): starting the agent processes")


def load_before_run(state: HarnessSession, session: pytest.Session) -> None:
    """As the run starts, before any test: log and load the versions (the agent processes started
    warming up during collection). A version that cannot be logged or loaded is one line, not a test error."""
    if (
        session.config.option.collectonly
        or session.testsfailed
        or not evaluates(state)
        or state.worker
        or state.controller
    ):
        return  # (a collection error ends the session before any test: nothing to load for)
    try:
        quiet_warnings()
        state.load()
    except HarnessError as exc:
        raise usage_error(exc) from None


def _note_selection(state: HarnessSession, items: list[pytest.Item]) -> None:
    case_ids = {str(_params(i)["harness_case_id"]) for i in items if "harness_case_id" in _params(i)}
    gate_selected = any({"harness_gate_check_id", "harness_ab_metric"} & _params(i).keys() for i in items)
    state.selected_case_ids = None if gate_selected or not case_ids else case_ids
    for item in items:
        params = _params(item)
        if "harness_scorer" in params:
            state.expected["quality"].add(item.nodeid)
        elif "harness_gate_check_id" in params:
            state.expected["gate"].add(item.nodeid)


def _quiet_libraries(config: pytest.Config) -> None:
    """Inside tests through pytest's `filterwarnings`; outside them (loading, publishing) `quiet_warnings`."""
    for line in NOISY_WARNINGS:
        config.addinivalue_line("filterwarnings", line)
    # MLflow sets its loggers' level from this as it is imported (later, lazily): INFO would print
    # "Creating initial MLflow database tables" and the like into the session.
    os.environ.setdefault("MLFLOW_LOGGING_LEVEL", "WARNING")
    for name in NOISY_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)


def quiet_warnings() -> None:
    """The library warnings of NOISY_WARNINGS ignored outside tests too (loading, publishing, pytest-benchmark's
    end), for the rest of this process: pytest's `filterwarnings` apply inside tests only."""
    for line in NOISY_WARNINGS:
        warnings.filterwarnings(*_filter(line))


def _filter(line: str) -> tuple[Any, str, type[Warning], str]:
    """A `filterwarnings` ini line ("action:message:category:module") as `warnings.filterwarnings` arguments."""
    action, message, category, module = (line.split(":", 3) + ["", "", ""])[:4]
    if category:
        module_name, _, name = category.rpartition(".")
        found = getattr(importlib.import_module(module_name or "builtins"), name)
    else:
        found = Warning
    return action, message, found, module
