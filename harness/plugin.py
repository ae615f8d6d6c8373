"""pytest plugin (entry point `pytest11`): options, fixtures, parametrization, gate and promotion.

The plugin stays dormant until a collected test asks for one of its fixtures, so it costs nothing
in other test sessions. Heavy modules (mlflow, numpy, the agent) load only when a test runs.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from harness import HarnessError

if TYPE_CHECKING:
    from harness.config import HarnessConfig
    from harness.evaluation import CaseResult, Evaluation
    from harness.gate import GateCheck
    from harness.golden import Case

CASE_FIXTURES = ("harness_case", "harness_result")
STATE_KEY = pytest.StashKey["HarnessSession"]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("harness", "agent evaluation harness")
    group.addoption("--agent", help="agent reference to evaluate (overrides [tool.harness] agent)")
    group.addoption("--baseline", help="reference to compare the agent against")
    group.addoption("--versions", help="comma-separated references; the first is the candidate, each other is compared against it")
    group.addoption("--golden", action="append", help="golden JSONL file (repeatable; replaces [tool.harness] golden)")
    group.addoption("--judge-model", dest="judge_model", help="LLM judge model URI, e.g. openai:/gpt-4o-mini")
    group.addoption("--promote-to", dest="promote_to", help="alias to move when the gate passes")
    group.addoption("--no-promote", dest="no_promote", action="store_true", help="log the run but move no alias")
    group.addoption("--report-dir", dest="report_dir", help="where reports are written (default reports/)")
    group.addoption("--threshold", action="append", default=[], metavar="NAME=VALUE", help="override one gate threshold (repeatable)")
    group.addoption("--concurrency", type=int, help="agent calls in flight at once")
    group.addoption("--case-timeout", dest="case_timeout_s", type=float, help="seconds before a case is abandoned as timed out")
    group.addoption("--repeats", type=int, help="run each case N times and report answer flip rates")
    group.addoption("--require-baseline", dest="require_baseline", action="store_true", default=None, help="fail when the baseline cannot be loaded")


def _overrides(config: pytest.Config) -> dict[str, Any]:
    opt = config.option
    thresholds: dict[str, str] = {}
    for item in opt.threshold:
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            raise HarnessError(f"--threshold {item!r}: expected NAME=VALUE, e.g. correctness=0.9")
        thresholds[name.strip()] = value.strip()
    return {
        "agent": opt.agent,
        "baseline": opt.baseline,
        "versions": opt.versions,
        "golden": opt.golden,
        "judge_model": opt.judge_model,
        "promote_to": opt.promote_to,
        "promote": False if opt.no_promote else None,
        "report_dir": opt.report_dir,
        "thresholds": thresholds or None,
        "concurrency": opt.concurrency,
        "case_timeout_s": opt.case_timeout_s,
        "repeats": opt.repeats,
        "require_baseline": opt.require_baseline,
    }


class HarnessSession:
    """Per-pytest-session state: the configuration, the cases, and the evaluation once it ran."""

    def __init__(self, config: HarnessConfig) -> None:
        self.config = config
        self._cases: list[Case] | None = None
        self.load_error: str | None = None
        self.evaluation: Evaluation | None = None
        self.run_error: str | None = None
        self.selected_case_ids: set[str] | None = None
        self.deselected = 0
        self.errors = 0
        self.worker = bool(os.environ.get("PYTEST_XDIST_WORKER"))
        self.report_dir: Path | None = None
        self.summary_lines: list[str] = []
        self.registered_tags: set[str] = set()

    def pytest_deselected(self, items: list[pytest.Item]) -> None:
        self.deselected += len(items)

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if report.failed and report.when != "call":
            self.errors += 1

    @property
    def cases(self) -> list[Case]:
        if self._cases is None:
            from harness.golden import load_golden

            self._cases = load_golden(self.config.golden_paths)
        return self._cases

    def run(self) -> Evaluation:
        """Run and score every selected case for every version, once per session."""
        if self.evaluation is not None:
            return self.evaluation
        if self.run_error:
            pytest.exit(self.run_error, returncode=pytest.ExitCode.USAGE_ERROR)
        from harness.evaluation import evaluate, load_versions

        cases = [c for c in self.cases if self.selected_case_ids is None or c.id in self.selected_case_ids]
        try:
            versions = load_versions(self.config)
            self.evaluation = evaluate(self.config, cases, versions)
        except HarnessError as exc:
            self.run_error = str(exc)
            pytest.exit(self.run_error, returncode=pytest.ExitCode.USAGE_ERROR)
        return self.evaluation


def _state(config: pytest.Config) -> HarnessSession | None:
    return config.stash.get(STATE_KEY, None)


def pytest_configure(config: pytest.Config) -> None:
    from harness.config import load_config

    try:
        harness_config = load_config(Path(str(config.rootpath)), _overrides(config))
    except HarnessError as exc:
        raise pytest.UsageError(str(exc)) from None
    state = HarnessSession(harness_config)
    config.stash[STATE_KEY] = state
    config.pluginmanager.register(state, "harness-session")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    state = _state(metafunc.config)
    if state is None:
        return
    names = metafunc.fixturenames
    if any(f in names for f in CASE_FIXTURES):
        try:
            cases = state.cases
        except HarnessError as exc:
            state.load_error = str(exc)
            cases = []
        for tag in sorted({t for c in cases for t in c.tags} - state.registered_tags):
            metafunc.config.addinivalue_line("markers", f"{tag}: golden cases tagged '{tag}'")
            state.registered_tags.add(tag)
        if "harness_scorer" in names:
            from harness.scorers import scorer_names

            scorers = scorer_names(state.config)
            params = [
                pytest.param(case.id, scorer, id=f"{case.id}-{scorer}", marks=[getattr(pytest.mark, t) for t in case.tags])
                for case in cases
                for scorer in scorers
            ]
            metafunc.parametrize(("harness_case_id", "harness_scorer"), params)
        else:
            metafunc.parametrize(
                "harness_case_id", [pytest.param(c.id, id=c.id, marks=[getattr(pytest.mark, t) for t in c.tags]) for c in cases]
            )
    if "harness_gate_check" in names:
        from harness.gate import planned_checks

        checks = planned_checks(state.config)
        metafunc.parametrize("harness_gate_check_id", [pytest.param(c.id, id=c.id) for c in checks])


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(session: pytest.Session, config: pytest.Config, items: list[pytest.Item]) -> None:
    state = _state(config)
    if state is None:
        return
    if state.load_error:
        raise pytest.UsageError(state.load_error)
    # Gate checks read best after the per-case results they summarize.
    items.sort(key=lambda item: "harness_gate_check_id" in getattr(item, "fixturenames", ()))


@pytest.hookimpl(trylast=True)
def pytest_collection_finish(session: pytest.Session) -> None:
    """Note which cases the selected tests need (after -k, -m, --lf have deselected theirs)."""
    state = _state(session.config)
    if state is None:
        return
    case_ids = {
        item.callspec.params["harness_case_id"]
        for item in session.items
        if hasattr(item, "callspec") and "harness_case_id" in item.callspec.params
    }
    gate_selected = any(hasattr(i, "callspec") and "harness_gate_check_id" in i.callspec.params for i in session.items)
    state.selected_case_ids = None if gate_selected or not case_ids else case_ids


@pytest.fixture(scope="session")
def harness_session(request: pytest.FixtureRequest) -> HarnessSession:
    state = _state(request.config)
    assert state is not None
    return state


@pytest.fixture(scope="session")
def harness_config(harness_session: HarnessSession) -> HarnessConfig:
    return harness_session.config


@pytest.fixture(scope="session")
def harness_evaluation(harness_session: HarnessSession) -> Evaluation:
    """The whole evaluation, run once per session on first use."""
    return harness_session.run()


@pytest.fixture
def harness_case(harness_session: HarnessSession, harness_case_id: str) -> Case:
    return next(c for c in harness_session.cases if c.id == harness_case_id)


class AgentCaseError(Exception):
    """The agent failed on this case (raised, timed out, returned no answer): a test error, not a failure."""


@pytest.fixture
def harness_result(harness_evaluation: Evaluation, harness_case_id: str) -> CaseResult:
    """The candidate's scored answer for one case; an agent error makes the test error in setup."""
    result = harness_evaluation.candidate.results[harness_case_id]
    if result.output.error is not None:
        raise AgentCaseError(f"agent {harness_evaluation.candidate.reference!r} failed on case {harness_case_id} ({result.case.source}): {result.output.error}")
    return result


@pytest.fixture
def harness_gate_check(harness_evaluation: Evaluation, harness_gate_check_id: str) -> GateCheck:
    return harness_evaluation.gate.check(harness_gate_check_id)


def explain_score(result: CaseResult, scorer: str) -> str:
    """The failure message of a per-case test: what was asked, answered, expected, and why it failed."""
    score = result.scores[scorer]
    answer = result.output.text if len(result.output.text) <= 1200 else result.output.text[:1200] + f"… ({len(result.output.text)} chars)"
    expected = {k: v for k, v in result.case.expectations.items() if k != "expected_response"}
    return (
        f"{scorer} failed for case {result.case.id} ({result.case.source}) [judge: {score.judge}]\n"
        f"  why:      {score.rationale}\n"
        f"  question: {result.case.question}\n"
        f"  expected: {expected}\n"
        f"  answer:   {answer}"
    )


def explain_check(check: GateCheck) -> str:
    ci = f" (95% CI [{check.low:.4g}, {check.high:.4g}])" if check.low is not None else ""
    value = "no data" if check.value is None else f"{check.value:.4g}"
    return f"gate check {check.id} failed: {check.metric} = {value}{ci}, needs {check.op} {check.threshold:g}. {check.detail}".strip()


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    state = _state(session.config)
    if state is None or state.evaluation is None or state.worker:
        return
    from harness.finish import finish_session

    state.summary_lines, failed = finish_session(
        state.evaluation,
        promote=state.config.promote,
        blockers=_promotion_blockers(state, session),
    )
    if failed and session.exitstatus == 0:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def _promotion_blockers(state: HarnessSession, session: pytest.Session) -> list[str]:
    blockers = []
    if state.errors:
        blockers.append(f"{state.errors} test(s) errored")
    if state.deselected:
        blockers.append(f"only part of the suite ran ({state.deselected} test(s) deselected by -k/-m/--lf)")
    if session.shouldfail or session.shouldstop:
        blockers.append("the session was stopped early")
    return blockers


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    state = _state(config)
    if state is None or not state.summary_lines:
        return
    terminalreporter.write_sep("=", "agent evaluation gate")
    for line in state.summary_lines:
        terminalreporter.write_line(line)
