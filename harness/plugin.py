"""pytest plugin (entry point `pytest11`): options, fixtures, parametrization, gate and promotion.

The plugin stays dormant until a collected test asks for one of its fixtures, so it costs nothing
in other test sessions. Heavy modules (mlflow, numpy, the agent) load only when a test runs.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from harness import HarnessError

if TYPE_CHECKING:
    from harness.agent_process.client import LoggedAgent
    from harness.agent_process.loader import IsolatedLoader
    from harness.completeness import SessionFacts
    from harness.config import HarnessConfig
    from harness.evaluation import CaseResult, Evaluation, VersionResult
    from harness.versions import Version
    from harness.compare import MetricComparison
    from harness.gate import GateCheck
    from harness.golden import Case
    from harness.xdist import CaseByCase

CASE_FIXTURES = ("harness_case", "harness_result")
LOGGED_KEY = "harness_logged"  # xdist workerinput: the models the controller logged, as JSON
STATE_KEY = pytest.StashKey["HarnessSession"]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("harness", "agent evaluation harness")
    group.addoption("--agent", help="agent reference to evaluate (overrides [tool.harness] agent)")
    group.addoption("--baseline", help="reference to compare the agent against")
    group.addoption("--versions", help="comma-separated references; the first is the candidate, each other is compared against it")
    group.addoption("--golden", action="append", help="golden JSONL file (repeatable; replaces [tool.harness] golden)")
    group.addoption("--judge-model", dest="judge_model", help="LLM judge model URI, e.g. openai:/gpt-4o-mini")
    # LLM judges: the judge cache and judge repeats.
    group.addoption("--judge-cache", dest="judge_cache", choices=["on", "off"], help="reuse cached judge answers (default on)")
    group.addoption("--judge-repeats", dest="judge_repeats", type=int, help="score each answer N times with each LLM judge and report flips")
    group.addoption("--promote-to", dest="promote_to", help="alias to move when the gate passes")
    group.addoption("--no-promote", dest="no_promote", action="store_true", help="log the run but move no alias")
    group.addoption("--report-dir", dest="report_dir", help="where reports are written (default reports/)")
    group.addoption("--threshold", action="append", default=[], metavar="NAME=VALUE", help="override one gate threshold (repeatable)")
    group.addoption("--concurrency", type=int, help="agent calls in flight at once")
    group.addoption("--case-timeout", dest="case_timeout_s", type=float, help="seconds before a case is abandoned as timed out")
    group.addoption("--repeats", type=int, help="run each case N times and report answer flip rates")
    group.addoption("--require-baseline", dest="require_baseline", action="store_true", default=None, help="fail when the baseline cannot be loaded")
    group.addoption("--in-process", dest="in_process", action="store_true", default=False,
                    help="fast local loop: run the agent inside this process, not from its logged artifact; never promotes")


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
        "judge_cache": opt.judge_cache,
        "judge_repeats": opt.judge_repeats,
        "promote_to": opt.promote_to,
        "promote": False if opt.no_promote else None,
        "report_dir": opt.report_dir,
        "thresholds": thresholds or None,
        "concurrency": opt.concurrency,
        "case_timeout_s": opt.case_timeout_s,
        "repeats": opt.repeats,
        "require_baseline": opt.require_baseline,
        "in_process": True if opt.in_process else None,
    }


class HarnessSession:
    """Per-pytest-session state: the configuration, the cases, and the evaluation once it ran."""

    def __init__(self, config: HarnessConfig, logged: dict[str, LoggedAgent] | None = None) -> None:
        self.config = config
        self.in_process = config.in_process
        self.logged = logged  # models an xdist controller logged for its workers
        self.loader: IsolatedLoader | None = None
        self._cases: list[Case] | None = None
        self.load_error: str | None = None
        self.evaluation: Evaluation | None = None
        self.versions: list[Version] | None = None
        self.notes: list[str] = []
        self.run_error: str | None = None
        self.selected_case_ids: set[str] | None = None
        self.deselected = 0
        self.errors = 0
        # Completeness: the harness tests collected (quality, gate) and those that reported an outcome.
        self.expected: dict[str, set[str]] = {"quality": set(), "gate": set()}
        self.reported: set[str] = set()
        self.worker = bool(os.environ.get("PYTEST_XDIST_WORKER"))
        # pytest-xdist (harness/xdist.py): a worker's case-by-case evaluation and the gate tests it
        # left to the controller; the controller's collected worker payloads.
        self.by_case: CaseByCase | None = None
        self.deferred_gate_items: list[tuple[str, tuple[str, int | None, str], str]] = []
        self.worker_payloads: list[dict[str, Any]] = []
        self.summary_lines: list[str] = []
        self.registered_tags: set[str] = set()
        self.finishing = ""  # the finish step under way, named if an interrupt cuts it
        self.pluginmanager: Any = None
        self.crashed_workers = 0

    def pytest_deselected(self, items: list[pytest.Item]) -> None:
        self.deselected += len(items)

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if report.failed and report.when != "call":
            self.errors += 1
        if report.when == "call" or (report.when == "setup" and not report.passed):  # ran, or errored/skipped before
            self.reported.add(report.nodeid)

    def resolver(self) -> Any:
        """How this session loads versions: from their logged artifacts in worker processes, or (the
        explicit fast loop) imported in process."""
        from harness.versions import resolve

        if self.in_process:
            return resolve
        if self.loader is None:
            from harness.agent_process.loader import IsolatedLoader

            self.loader = IsolatedLoader(self.config, self.logged)
        return self.loader

    def start_ahead(self) -> None:
        """Once the session is known to evaluate: start the agent processes now, so that their imports
        overlap with the rest of collection and this process's own."""
        if self.in_process or self.loader is not None:
            return
        try:
            self.resolver().start()
        except (HarnessError, OSError):
            pass  # loading reports it, in one line, where it would have anyway

    def close(self) -> None:
        if self.loader is not None:
            self.loader.close()

    def progress_line(self) -> Any:
        """Live progress of the evaluation on the terminal (rewritten in place) or in a CI log (every 10 s)."""
        from harness.progress import ProgressLine

        reporter = self.pluginmanager.get_plugin("terminalreporter") if self.pluginmanager else None
        if reporter is None:
            return None
        tty = bool(reporter.isatty)

        def write(text: str, final: bool) -> None:
            if tty:
                reporter.write("\r" + text + ("\n" if final else ""), flush=True)
            else:
                reporter.write_line(text)

        return ProgressLine(write, tty)

    @pytest.hookimpl(optionalhook=True)
    def pytest_benchmark_update_json(self, config: pytest.Config, benchmarks: list, output_json: dict) -> None:
        """Keep pytest-benchmark's JSON for the reports; it runs before our session-finish hook."""
        if self.evaluation is not None:
            self.evaluation.benchmark_json = output_json

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
        from harness.evaluation import evaluate

        cases = [c for c in self.cases if self.selected_case_ids is None or c.id in self.selected_case_ids]
        try:
            versions = self.load()
            self.evaluation = evaluate(self.config, cases, versions, notes=self.notes, progress=self.progress_line())
        except HarnessError as exc:
            self.run_error = str(exc)
            pytest.exit(self.run_error, returncode=pytest.ExitCode.USAGE_ERROR)
        return self.evaluation

    def load(self) -> list[Version]:
        """The versions, loaded once: logged and started in their own processes (or imported, in process)."""
        from harness.evaluation import load_versions

        if self.versions is None:
            notes: list[str] = []  # e.g. a baseline that could not be loaded: printed at the end
            self.versions = load_versions(self.config, notes=notes, resolver=self.resolver())
            self.notes = notes
        return self.versions

    def case_result(self, case_id: str) -> CaseResult:
        """The candidate's result for one case: from the whole evaluation, or on an xdist worker, case by case."""
        if not self.worker:
            return self.run().candidate.results[case_id]
        if self.by_case is None:
            from harness.xdist import CaseByCase

            try:
                self.by_case = CaseByCase(self.config, self.resolver())
            except HarnessError as exc:
                self.run_error = str(exc)
                pytest.exit(self.run_error, returncode=pytest.ExitCode.USAGE_ERROR)
        return self.by_case.result(next(c for c in self.cases if c.id == case_id))


def __getattr__(name: str) -> Any:
    """`explain_score` and `explain_check`, which suite files copied from earlier versions import from here."""
    if name in ("explain_score", "explain_check"):
        import harness.explain

        return getattr(harness.explain, name)
    raise AttributeError(name)


def _state(config: pytest.Config) -> HarnessSession | None:
    return config.stash.get(STATE_KEY, None)


def pytest_configure(config: pytest.Config) -> None:
    from harness.config import load_config
    from harness.seal import take_signing_key

    take_signing_key()

    try:
        harness_config = load_config(Path(str(config.rootpath)), _overrides(config))
    except HarnessError as exc:
        raise pytest.UsageError(str(exc)) from None
    logged = None
    workerinput = getattr(config, "workerinput", None)
    if workerinput and workerinput.get(LOGGED_KEY):
        from harness.agent_process.loader import logged_from_json

        logged = logged_from_json(json.loads(workerinput[LOGGED_KEY]))
    state = HarnessSession(harness_config, logged=logged)
    config.stash[STATE_KEY] = state
    state.pluginmanager = config.pluginmanager
    config.pluginmanager.register(state, "harness-session")
    # Before pytest-benchmark's own (trylast) configure reads them: save under reports/benchmarks.
    from harness.latency import apply_benchmark_defaults

    apply_benchmark_defaults(config.option, harness_config.report_path)


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    state = _state(metafunc.config)
    if state is None:
        return
    names = metafunc.fixturenames
    if any(f in names for f in CASE_FIXTURES):
        if not _is_controller(metafunc.config) and not metafunc.config.option.collectonly:
            state.start_ahead()
        try:
            cases = state.cases
        except HarnessError as exc:
            state.load_error = str(exc)
            cases = []
        for tag in sorted({t for c in cases for t in c.tags} - state.registered_tags):
            metafunc.config.addinivalue_line("markers", f"{tag}: golden cases tagged '{tag}'")
            state.registered_tags.add(tag)
        if "harness_scorer" in names:
            from harness.scorers import applicable_scorer_names

            applicable = applicable_scorer_names(state.config, cases)
            params = [
                pytest.param(case.id, scorer, id=f"{case.id}-{scorer}", marks=[getattr(pytest.mark, t) for t in case.tags])
                for case in cases
                for scorer in applicable[case.id]
            ]
            metafunc.parametrize(("harness_case_id", "harness_scorer"), params)
        else:
            metafunc.parametrize(
                "harness_case_id", [pytest.param(c.id, id=c.id, marks=[getattr(pytest.mark, t) for t in c.tags]) for c in cases]
            )
    if "harness_version_label" in names:  # the latency suite
        from harness.evaluation import version_labels

        labels = version_labels(state.config.all_versions)
        if "harness_bench_case_id" in names:
            from harness.latency import representative_cases

            try:
                bench_cases = representative_cases(state.cases)
            except HarnessError as exc:
                state.load_error, bench_cases = str(exc), []
            params = [pytest.param(label, c.id, id=f"{label}-{c.id}") for label in labels for c in bench_cases]
            metafunc.parametrize(("harness_version_label", "harness_bench_case_id"), params)
        else:
            metafunc.parametrize("harness_version_label", labels)
    if "harness_ab_metric" in names:  # A/B: test_ab[<metric>], or test_ab[<metric>-vs-<ref>] for 3+ versions
        from harness.scorers import scorer_names

        metrics = [*scorer_names(state.config), "overall"]
        others = state.config.all_versions[1:]
        if len(others) > 1:
            params = [pytest.param(m, ref, id=f"{m}-vs-{ref}") for ref in others for m in metrics]
        else:  # the one baseline: configured, or the default models:/<name>@production found at run time
            params = [pytest.param(m, None, id=m) for m in metrics]
        metafunc.parametrize(("harness_ab_metric", "harness_ab_baseline"), params)
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
    items.sort(key=lambda item: bool({"harness_gate_check_id", "harness_ab_metric"} & set(getattr(item, "fixturenames", ()))))
    if state.worker:
        _defer_gate_items(state, items)


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
    gate_selected = any(
        hasattr(i, "callspec") and ("harness_gate_check_id" in i.callspec.params or "harness_ab_metric" in i.callspec.params)
        for i in session.items
    )
    state.selected_case_ids = None if gate_selected or not case_ids else case_ids
    for item in session.items:
        params = item.callspec.params if hasattr(item, "callspec") else {}
        if "harness_scorer" in params:
            state.expected["quality"].add(item.nodeid)
        elif "harness_gate_check_id" in params:
            state.expected["gate"].add(item.nodeid)
    if any(hasattr(i, "callspec") and "harness_bench_case_id" in i.callspec.params for i in session.items):
        from harness.latency import enable_benchmark_autosave

        enable_benchmark_autosave(session.config)  # only sessions that benchmark save benchmarks
    if state.load_error or not (state.expected["gate"] or state.expected["quality"]):
        return
    _quiet_libraries(session.config)
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None:
        from harness.gate import plan_lines

        mode = "in process (fast local loop, never promotes)" if state.in_process else "from their logged artifacts, each in its own process"
        for line in [f"versions answer {mode}", *plan_lines(state.config, state.cases)]:
            reporter.write_line(f"harness: {line}")
    if not state.worker and not _is_controller(session.config):
        try:  # before any test runs: a version that cannot be logged or loaded is one line, not a test error
            state.load()
        except HarnessError as exc:
            raise pytest.UsageError(str(exc)) from None


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


def _quiet_libraries(config: pytest.Config) -> None:
    import logging

    for line in NOISY_WARNINGS:
        config.addinivalue_line("filterwarnings", line)
    for name in NOISY_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)


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


@pytest.fixture
def harness_version(harness_evaluation: Evaluation, harness_version_label: str) -> VersionResult:
    """One evaluated version of the latency suite, by its report label."""
    version = next((v for v in harness_evaluation.versions if v.label == harness_version_label), None)
    if version is None or version.version is None:
        pytest.skip(f"version {harness_version_label!r} was not loaded in this session")
    return version


@pytest.fixture
def harness_bench_case(harness_session: HarnessSession, harness_bench_case_id: str) -> Case:
    return next(c for c in harness_session.cases if c.id == harness_bench_case_id)


class AgentCaseError(Exception):
    """The agent failed on this case (raised, timed out, returned no answer): a test error, not a failure."""


@pytest.fixture
def harness_result(harness_session: HarnessSession, harness_case_id: str) -> CaseResult:
    """The candidate's scored answer for one case; an agent error makes the test error in setup."""
    result = harness_session.case_result(harness_case_id)
    if result.output.error is not None:
        from harness.explain import explain_agent_error

        raise AgentCaseError(explain_agent_error(result, harness_session.config.agent))
    return result


@pytest.fixture
def harness_gate_check(harness_evaluation: Evaluation, harness_gate_check_id: str) -> GateCheck:
    check = harness_evaluation.gate.check(harness_gate_check_id)
    if check.skipped:  # a check against the baseline when none ran
        pytest.skip(check.detail)
    return check


@pytest.fixture
def harness_ab(harness_evaluation: Evaluation, harness_ab_metric: str, harness_ab_baseline: str | None) -> MetricComparison:
    """The candidate-vs-baseline comparison of one metric; skips when that baseline did not run."""
    comparisons = harness_evaluation.comparisons
    if harness_ab_baseline is not None:
        comparisons = [c for c in comparisons if c.baseline_reference == harness_ab_baseline]
    if not comparisons:
        why = "; ".join(harness_evaluation.notes) or "no baseline configured (set baseline, --baseline or --versions)"
        pytest.skip(f"no baseline ran: {why}")
    metric = comparisons[0].metric(harness_ab_metric)
    if metric is None or metric.n == 0:
        pytest.skip(f"{harness_ab_metric}: no case has a value for both versions")
    return metric


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    state = _state(session.config)
    if state is not None and state.worker:
        _send_to_controller(session.config, state)
        state.close()
        return
    if state is None:
        return
    try:
        if state.evaluation is not None:
            _finish(state, session, exitstatus)
    except KeyboardInterrupt:
        state.summary_lines.append(f"interrupted while {state.finishing or 'finishing'}: nothing more was done. Whatever was written "
                                   "stays (see reports/latest); `harness log reports/latest` or the next `pytest suites/` completes it")
        session.exitstatus = pytest.ExitCode.INTERRUPTED
    finally:
        state.close()


def _finish(state: HarnessSession, session: pytest.Session, exitstatus: int) -> None:
    from harness.publish import finish_session

    reporter = session.config.pluginmanager.get_plugin("terminalreporter")

    def progress(step: str) -> None:
        state.finishing = step
        if reporter is not None:
            reporter.write_line(f"harness: {step} ...")

    facts = session_facts(state, session, exitstatus)
    state.summary_lines, failed = finish_session(state.evaluation, facts, promote=state.config.promote,
                                                 evaluated=_evaluated(state), progress=progress)
    if failed and session.exitstatus == 0:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def session_facts(state: HarnessSession, session: pytest.Session, exitstatus: int) -> SessionFacts:
    """What this session ran, for the completeness rule (harness/completeness.py)."""
    from harness.completeness import SessionFacts

    opt = session.config.option
    selection = []
    if getattr(opt, "keyword", ""):
        selection.append(f"-k {opt.keyword}")
    if getattr(opt, "markexpr", ""):
        selection.append(f"-m {opt.markexpr}")
    if getattr(opt, "lf", False):
        selection.append("--lf")
    if getattr(opt, "stepwise", False) or getattr(opt, "stepwise_skip", False):
        selection.append("--sw")
    if getattr(opt, "deselect", None):
        selection.append("--deselect")
    if getattr(opt, "maxfail", 0):
        selection.append("-x" if opt.maxfail == 1 else f"--maxfail {opt.maxfail}")
    if any("::" in str(arg) for arg in session.config.args):
        selection.append("test node ids")
    if state.deselected:
        selection.append(f"{state.deselected} test(s) deselected")
    expected = state.expected
    return SessionFacts(
        selection=tuple(selection),
        cases_in_golden=len(state.cases),
        cases_evaluated=len(state.evaluation.cases),
        gate_tests_expected=len(expected["gate"]),
        gate_tests_run=len(expected["gate"] & state.reported),
        quality_tests_expected=len(expected["quality"]),
        quality_tests_run=len(expected["quality"] & state.reported),
        errors=state.errors,
        interrupted=exitstatus == pytest.ExitCode.INTERRUPTED,
        stopped_early=bool(session.shouldfail or session.shouldstop),
        in_process=state.in_process,
        worker_crashed=state.crashed_workers,
    )


def _evaluated(state: HarnessSession) -> tuple[LoggedAgent, str] | None:
    """The logged model the candidate's answers came from, and its artifact files' sha256."""
    candidate = state.evaluation.candidate
    isolated = getattr(candidate.version, "isolated", None)
    logged = isolated.logged if isolated is not None else None
    if logged is None and state.loader is not None:  # the xdist controller logged it for its workers
        logged = state.loader.logged.get(candidate.reference.strip())
    if logged is None:
        return None
    if logged.sha256:
        return logged, logged.sha256
    from harness.tracking.models import artifact_sha256_of

    return logged, artifact_sha256_of(logged.model_uri)


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> Any:
    """After pytest's own summary (failures, short test summary): the run ends with the gate table and
    the promotion line."""
    result = yield
    state = _state(config)
    if state is not None and state.summary_lines:
        from harness.explain import safe
        from harness.secrets import emails_in

        asked = emails_in(m["content"] for case in state.cases for m in case.messages)
        terminalreporter.write_sep("=", "agent evaluation gate")
        for line in state.summary_lines:
            terminalreporter.write_line(safe(line, asked))
    return result


# --- pytest-xdist: workers evaluate their cases, the controller alone gates (see harness/xdist.py) ---


def _is_controller(config: pytest.Config) -> bool:
    state = _state(config)
    return state is not None and not state.worker and config.pluginmanager.hasplugin("dsession")


def _defer_gate_items(state: HarnessSession, items: list[pytest.Item]) -> None:
    """Take the gate tests out of a worker's collection: they judge the whole evaluation, which only
    the controller has, and it reports them under the same ids. Not a deselection: nothing is lost."""
    gate = [i for i in items if hasattr(i, "callspec") and "harness_gate_check_id" in i.callspec.params]
    state.deferred_gate_items = [(i.nodeid, i.location, i.callspec.params["harness_gate_check_id"]) for i in gate]
    items[:] = [i for i in items if i not in gate]


def _send_to_controller(config: pytest.Config, state: HarnessSession) -> None:
    from harness.xdist import PAYLOAD_KEY, worker_payload

    workeroutput = getattr(config, "workeroutput", None)
    if workeroutput is not None:
        payload = worker_payload(state.by_case, state.evaluation, state.deselected, state.deferred_gate_items)
        payload["expected"] = {"quality": sorted(state.expected["quality"]), "gate": [item[0] for item in state.deferred_gate_items]}
        workeroutput[PAYLOAD_KEY] = payload


def pytest_sessionstart(session: pytest.Session) -> None:
    """Under xdist, before any worker starts: log each version once, so that every worker loads the
    same artifact (this also creates a SQLite store once, before workers race to create its schema)."""
    state = _state(session.config)
    if state is None or not _is_controller(session.config) or state.in_process:
        return
    loader = state.resolver()
    try:
        loader.start(workers=False)  # every logging process imports at once
        for reference in loader.to_log():
            loader.log(reference)
    except BaseException as exc:  # pytest skips the session-finish hook when its start fails
        state.close()
        if isinstance(exc, HarnessError):
            raise pytest.UsageError(str(exc)) from None
        raise


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node: Any) -> None:
    """Hand each xdist worker the models the controller logged."""
    from harness.agent_process.loader import logged_to_json

    state = _state(node.config)
    if state is not None and state.loader is not None:
        node.workerinput[LOGGED_KEY] = json.dumps(logged_to_json(state.loader.logged))


@pytest.hookimpl(optionalhook=True, tryfirst=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """Replace xdist's default `load` scheduling by one that keeps each golden case on one worker."""
    state = _state(config)
    if state is None or config.getvalue("dist") != "load":
        return None
    try:
        cases = state.cases
    except HarnessError:
        return None  # not a harness session (or a broken golden file the workers will report)
    from harness.scorers import scorer_names
    from harness.xdist import case_scheduling

    param_to_case = {c.id: c.id for c in cases}
    param_to_case.update({f"{c.id}-{s}": c.id for c in cases for s in scorer_names(state.config)})
    return case_scheduling(config, log, param_to_case)


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: Any, error: object | None) -> None:
    from harness.xdist import PAYLOAD_KEY

    state = _state(node.config)
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
    state = _state(session.config)
    if state is None or not _is_controller(session.config) or not state.worker_payloads:
        return result
    from harness.xdist import merge_payloads

    state.deselected += max(p["deselected"] for p in state.worker_payloads)
    gate_items = {item[0]: item for p in state.worker_payloads for item in p["gate_items"]}
    state.evaluation = merge_payloads(state.config, state.cases, state.worker_payloads)
    if state.evaluation is None and gate_items:
        state.run()  # only gate tests were selected: no worker ran a case, so the controller runs them all
    if state.evaluation is not None:
        for nodeid, location, check_id in gate_items.values():
            _report_gate_check(session, nodeid, (location[0], location[1], location[2]), state.evaluation.gate.check(check_id))
    return result


def _report_gate_check(session: pytest.Session, nodeid: str, location: tuple[str, int | None, str], check: GateCheck) -> None:
    """Report a gate test the controller judged, through the same hooks a test run would use, so the
    terminal, --junitxml, --lf and the exit status see it as in a serial session."""
    from _pytest.reports import TestReport

    from harness.explain import explain_check

    hook = session.config.hook
    if check.skipped:
        call = ("skipped", (location[0], (location[1] or 0) + 1, f"Skipped: {check.detail}"))
    elif check.passed:
        call = ("passed", None)
    else:
        call = ("failed", explain_check(check))
    hook.pytest_runtest_logstart(nodeid=nodeid, location=location)
    for when, (outcome, longrepr) in (("setup", ("passed", None)), ("call", call), ("teardown", ("passed", None))):
        hook.pytest_runtest_logreport(report=TestReport(nodeid, location, {}, outcome, longrepr, when))
    hook.pytest_runtest_logfinish(nodeid=nodeid, location=location)
