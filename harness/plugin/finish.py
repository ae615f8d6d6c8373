"""The session's end: what it ran (the completeness facts), the decision (`harness.decision.decide`),
the hand-off to `harness.publish`, and the gate summary that ends the terminal output."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any

import pytest

from harness import sandbox

if TYPE_CHECKING:
    from harness.decision import SessionFacts
    from harness.plugin.session import HarnessSession
    from harness.records.decision import Evaluated


def finish(state: HarnessSession, session: pytest.Session, exitstatus: int) -> None:
    """Publish the evaluation (if one ran); an interrupt stops it and says what was left undone."""
    try:
        _publish(state, session, exitstatus)
    except KeyboardInterrupt:
        state.summary_lines.append(
            f"interrupted while {state.finishing or 'finishing'}: nothing more was done. Whatever was written "
            "stays (see reports/latest); `harness log reports/latest` or the next `pytest suites/` completes it"
        )
        session.exitstatus = pytest.ExitCode.INTERRUPTED
    finally:
        state.close()


def _publish(state: HarnessSession, session: pytest.Session, exitstatus: int) -> None:
    from harness.decision import decide
    from harness.plugin.collection import quiet_warnings
    from harness.publish import project_policy, publish, registry_view
    from harness.reports.terminal import session_lines

    def progress(step: str) -> None:
        state.finishing = step
        state.say(step)

    if state.evaluation is None:  # nothing was evaluated: nothing to decide or publish
        return
    facts = session_facts(state, session, exitstatus)
    evaluation = replace(
        state.evaluation,
        node_breakdowns=dict(state.node_breakdowns),
        benchmark_json=state.benchmark_json,
        started_s=state.started_s,
    )
    cfg = evaluation.config
    quiet_warnings()
    try:
        project = project_policy(cfg)
        decision = decide(evaluation, facts, project, registry_view(project), _evaluated(state), cfg.promote)
        publication = publish(decision, evaluation, progress)
    finally:
        state.end_progress()
    state.summary_lines = session_lines(evaluation, publication)
    if (decision.failed or publication.failed) and session.exitstatus == 0:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def _evaluated(state: HarnessSession) -> Evaluated | None:
    """The logged model the candidate answered from, by its identity."""
    from harness.records.decision import Evaluated

    found = state.evaluated()
    return Evaluated(found[0].model_uri, found[0].model_id, found[1]) if found else None


def session_facts(state: HarnessSession, session: pytest.Session, exitstatus: int) -> SessionFacts:
    """What this session ran, for the completeness rule (`harness.decision.blockers`)."""
    from harness.decision import SessionFacts

    expected = state.expected
    return SessionFacts(
        selection=tuple(_selection(state, session)),
        cases_in_golden=len(state.cases),
        cases_evaluated=len(state.evaluation.cases) if state.evaluation else 0,
        gate_tests_expected=len(expected["gate"]),
        gate_tests_run=len(expected["gate"] & state.reported),
        quality_tests_expected=len(expected["quality"]),
        quality_tests_run=len(expected["quality"] & state.reported),
        errors=state.errors,
        interrupted=exitstatus == pytest.ExitCode.INTERRUPTED,
        stopped_early=bool(session.shouldfail or session.shouldstop),
        in_process=state.in_process,
        worker_crashed=state.crashed_workers,
        sandbox="" if state.in_process else sandbox.detect().kind,
        sandbox_required=sandbox.required(state.config.require_sandbox),
    )


def _selection(state: HarnessSession, session: pytest.Session) -> list[str]:
    """The command-line options that left tests out of this session."""
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
    return selection


def write_summary(state: HarnessSession, terminalreporter: Any) -> None:
    """The gate table and the promotion line, with secrets masked (addresses the cases asked about kept)."""
    if not state.summary_lines:
        return
    from harness.secrets import emails_in, safe

    asked = emails_in(m["content"] for case in state.cases for m in case.messages)
    terminalreporter.write_sep("=", "agent evaluation gate")
    for line in state.summary_lines:
        terminalreporter.write_line(safe(line, asked))
