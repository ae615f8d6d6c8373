"""The `pytest11` entry point: each hook hands off to `HarnessSession` or a module beside this one.

`pytest_configure` registers the fixtures (`fixtures.py`), the pytest-xdist hooks (`xdist.py`) and
the session object, which implements a few hooks itself. Heavy modules (mlflow, numpy, the agent)
load only when a session evaluates.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from harness import HarnessError
from harness.plugin.session import STATE_KEY, HarnessSession, state_of, usage_error


def pytest_addoption(parser: pytest.Parser) -> None:
    from harness.plugin.options import add_options

    add_options(parser)


def pytest_configure(config: pytest.Config) -> None:
    from harness.config import load_config
    from harness.plugin import fixtures, xdist
    from harness.plugin.benchmark import apply_benchmark_defaults
    from harness.plugin.options import overrides
    from harness.seal import take_signing_key

    take_signing_key()
    try:
        harness_config = load_config(Path(str(config.rootpath)), overrides(config))
    except HarnessError as exc:
        raise usage_error(exc) from None
    state = HarnessSession(harness_config, logged=xdist.worker_logged(config), pluginmanager=config.pluginmanager)
    config.stash[STATE_KEY] = state
    config.pluginmanager.register(fixtures, "harness-fixtures")
    config.pluginmanager.register(xdist, "harness-xdist")
    config.pluginmanager.register(state, "harness-session")
    # Before pytest-benchmark's own (trylast) configure reads them: save under reports/benchmarks.
    apply_benchmark_defaults(config.option, harness_config.report_path)


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    state = state_of(metafunc.config)
    if state is not None:
        from harness.plugin.parametrize import parametrize

        parametrize(state, metafunc)


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(session: pytest.Session, config: pytest.Config, items: list[pytest.Item]) -> None:
    state = state_of(config)
    if state is None:
        return
    if state.load_error:
        raise usage_error(state.load_error)
    from harness.plugin.collection import gate_tests_last

    gate_tests_last(items)
    if state.worker:
        from harness.plugin.xdist import defer_gate_items

        defer_gate_items(state, items)


@pytest.hookimpl(trylast=True)
def pytest_collection_finish(session: pytest.Session) -> None:
    state = state_of(session.config)
    if state is not None:
        from harness.plugin.collection import finish_collection

        finish_collection(state, session)


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtestloop(session: pytest.Session) -> Any:
    state = state_of(session.config)
    if state is not None:
        from harness.plugin.collection import load_before_run

        load_before_run(state, session)
    return (yield)


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    state = state_of(session.config)
    if state is None:
        return
    if state.worker:
        from harness.plugin.xdist import send_to_controller

        send_to_controller(session.config, state)
        state.close()
        return
    from harness.plugin.finish import finish

    finish(state, session, exitstatus)


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> Any:
    """After pytest's own summary (failures, short test summary): the run ends with the gate table and
    the promotion line."""
    result = yield
    state = state_of(config)
    if state is not None:
        from harness.plugin.finish import write_summary

        write_summary(state, terminalreporter)
    return result
