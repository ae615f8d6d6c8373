"""Whether a session was complete enough to promote: every case, every gate test, no selection, no interrupt.

The pytest plugin gathers the facts; the rule of what blocks promotion lives here, in plain code.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class SessionFacts:
    """What the test session did, as far as promotion is concerned."""

    selection: tuple[
        str, ...
    ] = ()  # each way tests were selected or the run cut short: "-k cost", "node ids", "-x", ...
    cases_in_golden: int = 0
    cases_evaluated: int = 0
    gate_tests_expected: int = 0
    gate_tests_run: int = 0
    quality_tests_expected: int = 0
    quality_tests_run: int = 0
    errors: int = 0  # tests that errored outside their call (setup or teardown)
    interrupted: bool = False
    stopped_early: bool = False
    in_process: bool = False  # the fast local loop: the agent ran inside the harness, not from its logged artifact
    worker_crashed: int = 0  # xdist workers that went down
    sandbox: str = ""  # how agent code was confined ("bubblewrap", "none"); "" when it ran in process
    sandbox_required: bool = False  # the `require_sandbox` policy applies to this session


def blockers(facts: SessionFacts) -> list[str]:
    """Each reason, in one phrase, why this session may not promote; [] when it may."""
    out = []
    if facts.in_process:
        out.append("evaluated in process (--in-process is a fast local loop and never promotes)")
    if facts.interrupted:
        out.append("the session was interrupted")
    elif facts.stopped_early:
        out.append("the session stopped early (-x/--maxfail or a failed collection)")
    if facts.selection:
        out.append(f"only part of the suite was selected ({', '.join(facts.selection)})")
    if facts.cases_evaluated != facts.cases_in_golden:
        out.append(f"{facts.cases_evaluated} of {facts.cases_in_golden} golden case(s) evaluated")
    if facts.quality_tests_run < facts.quality_tests_expected:
        out.append(f"{facts.quality_tests_run} of {facts.quality_tests_expected} per-case test(s) ran")
    if facts.gate_tests_run < facts.gate_tests_expected or not facts.gate_tests_expected:
        out.append(f"{facts.gate_tests_run} of {facts.gate_tests_expected} gate test(s) ran")
    if facts.errors:
        out.append(f"{facts.errors} test(s) errored")
    if facts.worker_crashed:
        out.append(f"{facts.worker_crashed} xdist worker(s) crashed")
    if facts.sandbox == "none" and facts.sandbox_required:
        out.append("agent code ran without a sandbox (require_sandbox: no bubblewrap here)")
    return out
