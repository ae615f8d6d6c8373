"""Scale-out with pytest-xdist (`pytest suites/ -n 4`): workers evaluate cases, the controller gates.

How a distributed session runs:
- Before any worker starts, the controller logs each version once (`pytest_sessionstart`) and
  hands every worker the logged models (`pytest_configure_node`), so all load the same artifact.
- The controller schedules all tests of one golden case onto one worker (`CaseScheduling`), so a
  case is run by the agent once, whichever scorers judge it.
- A worker evaluates a case when the first of its tests asks for it (`CaseByCase`), and sends
  what it evaluated to the controller as JSON in `config.workeroutput` (`worker_payload`; both
  in `distributed.py`, which has no pytest in it).
- Gate tests judge the whole evaluation, which no worker has: workers leave them out of their
  collection (`defer_gate_items`) and the controller reports them itself once every worker is
  done (`pytest_runtestloop`), through the same hooks a test run would use.
- The controller merges the payloads in golden-file order (`merge_payloads`), so means and
  bootstrap CIs are computed over the same sequence as in a serial run, then gates, writes the
  reports, logs and promotes exactly once. Workers never touch the tracking store for writing.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any, Literal

import pytest

from harness import HarnessError
from harness.distributed import merge_payloads, worker_payload
from harness.plugin.session import HarnessSession, state_of, usage_error

if TYPE_CHECKING:
    from harness.records.gate import GateCheck
    from harness.versions.process.client import LoggedAgent

PAYLOAD_KEY = "harness"  # xdist workeroutput: what a worker evaluated, as JSON
LOGGED_KEY = "harness_logged"  # xdist workerinput: the models the controller logged, as JSON


def case_scheduling(config: Any, log: Any, param_to_case: dict[str, str]) -> Any:
    """xdist's scope scheduler, with a harness test's scope being its golden case (other tests: their own)."""
    from xdist.scheduler import LoadScopeScheduling

    class CaseScheduling(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            if nodeid.endswith("]") and "[" in nodeid:
                case_id = param_to_case.get(nodeid[nodeid.rindex("[") + 1 : -1])
                if case_id is not None:
                    return f"harness-case:{case_id}"
            return nodeid

    return CaseScheduling(config, log)


# --- the hooks: controller and workers ---


def worker_logged(config: pytest.Config) -> dict[str, LoggedAgent] | None:
    """On a worker: the models the controller logged for it (None elsewhere)."""
    workerinput = getattr(config, "workerinput", None)
    if not workerinput or not workerinput.get(LOGGED_KEY):
        return None
    from harness.versions.process.loader import logged_from_json

    return logged_from_json(json.loads(workerinput[LOGGED_KEY]))


def defer_gate_items(state: HarnessSession, items: list[pytest.Item]) -> None:
    """Take the gate tests out of a worker's collection: they judge the whole evaluation, which only
    the controller has, and it reports them under the same ids. Not a deselection: nothing is lost."""
    gate = [i for i in items if hasattr(i, "callspec") and "harness_gate_check_id" in i.callspec.params]
    state.deferred_gate_items = [(i.nodeid, i.location, i.callspec.params["harness_gate_check_id"]) for i in gate]
    items[:] = [i for i in items if i not in gate]


def send_to_controller(config: pytest.Config, state: HarnessSession) -> None:
    workeroutput = getattr(config, "workeroutput", None)
    if workeroutput is not None:
        payload = worker_payload(state.by_case, state.evaluation, state.deselected, state.deferred_gate_items)
        payload["expected"] = {
            "quality": sorted(state.expected["quality"]),
            "gate": [item[0] for item in state.deferred_gate_items],
        }
        workeroutput[PAYLOAD_KEY] = payload


def pytest_sessionstart(session: pytest.Session) -> None:
    """Under xdist, before any worker starts: log each version once, so that every worker loads the
    same artifact (this also creates a SQLite store once, before workers race to create its schema)."""
    state = state_of(session.config)
    if state is None or not state.controller or state.in_process or session.config.option.collectonly:
        return
    loader = state.resolver()
    try:
        loader.start(workers=False)  # every logging process imports at once
        for reference in loader.to_log():
            loader.log(reference)
    except BaseException as exc:  # pytest skips the session-finish hook when its start fails
        state.close()
        if isinstance(exc, HarnessError):
            raise usage_error(exc) from None
        raise


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node: Any) -> None:
    """Hand each xdist worker the models the controller logged."""
    from harness.versions.process.loader import logged_to_json

    state = state_of(node.config)
    if state is not None and state.loader is not None:
        node.workerinput[LOGGED_KEY] = json.dumps(logged_to_json(state.loader.logged))


@pytest.hookimpl(optionalhook=True, tryfirst=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """Replace xdist's default `load` scheduling by one that keeps each golden case on one worker."""
    state = state_of(config)
    if state is None or config.getvalue("dist") != "load":
        return None
    try:
        cases = state.cases
    except HarnessError:
        return None  # not a harness session (or a broken golden file the workers will report)
    from harness.plugin.parametrize import case_test_id
    from harness.scorers import scorer_names

    param_to_case = {case_test_id(c.id): c.id for c in cases}
    param_to_case.update({f"{case_test_id(c.id)}-{s}": c.id for c in cases for s in scorer_names(state.config)})
    return case_scheduling(config, log, param_to_case)


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: Any, error: object | None) -> None:
    state = state_of(node.config)
    if state is None:
        return
    if error is not None:
        state.crashed_workers += 1
    payload = getattr(node, "workeroutput", {}).get(PAYLOAD_KEY)
    if payload is not None:
        state.worker_payloads.append(payload)
        for kind, nodeids in payload.get("expected", {}).items():
            state.expected[kind].update(nodeids)


@pytest.hookimpl(wrapper=True)
def pytest_runtestloop(session: pytest.Session) -> Any:
    """On the xdist controller, once every worker is done: merge, gate, and report the gate tests."""
    result = yield
    state = state_of(session.config)
    if state is None or not state.controller or not state.worker_payloads:
        return result
    state.deselected += max(p["deselected"] for p in state.worker_payloads)
    gate_items = {item[0]: item for p in state.worker_payloads for item in p["gate_items"]}
    state.evaluation = merge_payloads(state.config, state.cases, state.worker_payloads)
    if state.evaluation is None and gate_items:
        state.run()  # only gate tests were selected: no worker ran a case, so the controller runs them all
    if state.evaluation is not None and (gate := state.evaluation.gate) is not None:
        for nodeid, location, check_id in gate_items.values():
            _report_gate_check(session, nodeid, (location[0], location[1], location[2]), gate.check(check_id))
    return result


def _report_gate_check(
    session: pytest.Session, nodeid: str, location: tuple[str, int | None, str], check: GateCheck
) -> None:
    """Report a gate test the controller judged, through the same hooks a test run would use, so the
    terminal, --junitxml, --lf and the exit status see it as in a serial session."""
    from harness.reports.terminal import explain_check

    hook = session.config.hook
    call: tuple[Literal["passed", "failed", "skipped"], Any]
    if check.skipped:
        call = ("skipped", (location[0], (location[1] or 0) + 1, f"Skipped: {check.detail}"))
    elif check.passed:
        call = ("passed", None)
    else:
        call = ("failed", explain_check(check))
    hook.pytest_runtest_logstart(nodeid=nodeid, location=location)
    phases: tuple[tuple[Literal["setup", "call", "teardown"], tuple[Any, Any]], ...] = (
        ("setup", ("passed", None)),
        ("call", call),
        ("teardown", ("passed", None)),
    )
    for when, (outcome, longrepr) in phases:
        hook.pytest_runtest_logreport(report=pytest.TestReport(nodeid, location, {}, outcome, longrepr, when))
    hook.pytest_runtest_logfinish(nodeid=nodeid, location=location)
