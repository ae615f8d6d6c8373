"""`HarnessSession`: one pytest session's state, and what the hooks and fixtures ask of it."""

from __future__ import annotations

import contextlib
import os
import time
from typing import TYPE_CHECKING, Any, NoReturn

import pytest

from harness import HarnessError

if TYPE_CHECKING:
    from harness.distributed import CaseByCase
    from harness.golden import Case
    from harness.records.evaluation import Evaluation
    from harness.records.latency import NodeBreakdown
    from harness.records.results import CaseResult
    from harness.reports.terminal import ProgressLine
    from harness.settings import HarnessConfig
    from harness.versions.process.client import LoggedAgent
    from harness.versions.process.loader import IsolatedLoader
    from harness.versions.resolve import Version

STATE_KEY = pytest.StashKey["HarnessSession"]()


def usage_error(message: object) -> pytest.UsageError:
    """The one line that stops a session, with secrets masked: an agent's import error may quote one."""
    from harness.secrets import safe

    return pytest.UsageError(safe(str(message)))


def state_of(config: pytest.Config) -> HarnessSession | None:
    """The harness session of this pytest session (None before `pytest_configure` or without the plugin)."""
    return config.stash.get(STATE_KEY, None)


class HarnessSession:
    """Per-pytest-session state: the configuration, the cases, and the evaluation once it ran."""

    def __init__(
        self, config: HarnessConfig, logged: dict[str, LoggedAgent] | None = None, pluginmanager: Any = None
    ) -> None:
        self.config = config
        self.in_process = config.in_process
        self.logged = logged  # models an xdist controller logged for its workers
        self.pluginmanager = pluginmanager
        self.loader: IsolatedLoader | None = None
        self._cases: list[Case] | None = None
        self.load_error: str | None = None
        self.evaluation: Evaluation | None = None
        # The latency suite's findings, added to the published evaluation at the session's end.
        self.node_breakdowns: dict[str, NodeBreakdown] = {}
        self.benchmark_json: dict[str, Any] | None = None
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
        # pytest-xdist (xdist.py, distributed.py): a worker's case-by-case evaluation and the gate tests it
        # left to the controller; the controller's collected worker payloads.
        self.by_case: CaseByCase | None = None
        self.deferred_gate_items: list[tuple[str, tuple[str, int | None, str], str]] = []
        self.worker_payloads: list[dict[str, Any]] = []
        self.summary_lines: list[str] = []
        self.registered_tags: set[str] = set()
        self.finishing = ""  # the finish step under way, named if an interrupt cuts it
        self.crashed_workers = 0
        self._progress: ProgressLine | None = None
        self.started_s = time.time()  # the session's start: its MLflow run's start

    # --- hooks this object implements itself (registered as the plugin "harness-session") ---

    def pytest_deselected(self, items: list[pytest.Item]) -> None:
        self.deselected += len(items)

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if report.failed and report.when != "call":
            self.errors += 1
        if report.when == "call" or (report.when == "setup" and not report.passed):  # ran, or errored/skipped before
            self.reported.add(report.nodeid)

    @pytest.hookimpl(optionalhook=True)
    def pytest_benchmark_update_json(self, config: pytest.Config, benchmarks: list, output_json: dict) -> None:
        """Keep pytest-benchmark's JSON for the reports; it runs before our session-finish hook, and
        before pytest-benchmark saves it: masked in place there (it names the cases by their ids)."""
        from harness.secrets import mask_tree

        masked = mask_tree(output_json).value
        output_json.clear()
        output_json.update(masked)
        self.benchmark_json = output_json

    # --- the session ---

    @property
    def controller(self) -> bool:
        """Whether this process is a pytest-xdist controller (it gates; its workers run the cases)."""
        return not self.worker and self.pluginmanager is not None and self.pluginmanager.hasplugin("dsession")

    @property
    def cases(self) -> list[Case]:
        if self._cases is None:
            from harness.golden import load_golden

            self._cases = load_golden(self.config.golden_paths)
        return self._cases

    def resolver(self) -> Any:
        """How this session loads versions: from their logged artifacts in worker processes, or (the
        explicit fast loop) imported in process."""
        from harness.versions.resolve import resolve

        if self.in_process:
            return resolve
        if self.loader is None:
            from harness.versions.process.loader import IsolatedLoader

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
        """Stop the agent processes, then remove this process's temporary folder (their scratch folders)."""
        from harness.sandbox import remove_session_temp

        try:
            if self.loader is not None:
                self.loader.close()
        finally:
            remove_session_temp()

    def progress(self) -> ProgressLine | None:
        """The session's live progress line: rewritten in place on a terminal, plain lines in a CI log."""
        if self._progress is None:
            reporter = self.pluginmanager.get_plugin("terminalreporter") if self.pluginmanager else None
            if reporter is None:
                return None
            from harness.reports.terminal import ProgressLine

            tty = bool(reporter.isatty)
            capture = self.pluginmanager.get_plugin("capturemanager")

            def write(text: str, replace: bool) -> None:
                # The answers run inside the first test, whose output pytest captures: not this line's.
                with capture.global_and_fixture_disabled() if capture else contextlib.nullcontext():
                    writer = getattr(reporter, "_tw", None)  # pytest's own writer knows where its line stands
                    if not replace and writer is not None and writer.width_of_current_line:
                        reporter.write("\n")  # after pytest's dots, or to end this line
                    if text:
                        reporter.write(("\r\x1b[K" if replace else "") + text + ("" if tty else "\n"), flush=True)

            self._progress = ProgressLine(write, tty)
        return self._progress

    def end_progress(self) -> None:
        if self._progress is not None:
            self._progress.end()

    def say(self, step: str) -> None:
        """A step of the session, on the progress line."""
        progress = self.progress()
        if progress is not None:
            progress.phase(step)

    def stop(self, error: str) -> NoReturn:
        """End the pytest session with a usage error in one line; later requests end it the same way."""
        from harness.secrets import safe

        self.run_error = error
        pytest.exit(safe(error), returncode=pytest.ExitCode.USAGE_ERROR)

    def run(self) -> Evaluation:
        """Run and score every selected case for every version, once per session."""
        if self.evaluation is not None:
            return self.evaluation
        if self.run_error:
            self.stop(self.run_error)
        from harness.pipeline import evaluate

        cases = [c for c in self.cases if self.selected_case_ids is None or c.id in self.selected_case_ids]
        try:
            versions = self.load()
            self.say(f"answering {len(cases)} case(s) with {len(versions)} version(s)")
            evaluation = evaluate(self.config, cases, versions, notes=self.notes, progress=self.progress())
        except HarnessError as exc:
            self.stop(str(exc))
        finally:
            self.end_progress()
        self.evaluation = evaluation
        return evaluation

    def load(self) -> list[Version]:
        """The versions, loaded once: logged and started in their own processes (or imported, in process)."""
        from harness.versions.baseline import load_versions

        if self.versions is None:
            notes: list[str] = []  # e.g. a baseline that could not be loaded: printed at the end
            self.versions = load_versions(self.config, notes=notes, resolver=self._announced(self.resolver()))
            self.notes = notes
        return self.versions

    def _announced(self, resolver: Any) -> Any:
        """`resolver`, saying on the progress line which version it logs and loads."""
        doing = "importing" if self.in_process else "logging and loading"

        def resolve(reference: str, root: Any, label: str) -> Version:
            self.say(f"{doing} {reference.strip()} ({label})")
            return resolver(reference, root, label)

        return resolve

    def case_result(self, case_id: str) -> CaseResult:
        """The candidate's result for one case: from the whole evaluation, or on an xdist worker, case by case."""
        if not self.worker:
            return self.run().candidate.results[case_id]
        if self.by_case is None:
            from harness.distributed import CaseByCase

            try:
                self.by_case = CaseByCase(self.config, self.resolver())
            except HarnessError as exc:
                self.stop(str(exc))
        return self.by_case.result(next(c for c in self.cases if c.id == case_id))

    def evaluated(self) -> tuple[LoggedAgent, str] | None:
        """The logged model the candidate's answers came from, and its artifact files' sha256."""
        if self.evaluation is None:
            return None
        candidate = self.evaluation.candidate
        isolated = getattr(candidate.version, "isolated", None)
        logged = isolated.logged if isolated is not None else None
        if logged is None and self.loader is not None:  # the xdist controller logged it for its workers
            logged = self.loader.logged.get(candidate.reference.strip())
        if logged is None:
            return None
        if logged.sha256:
            return logged, logged.sha256
        from harness.tracking.models import artifact_sha256_of

        return logged, artifact_sha256_of(logged.model_uri)
