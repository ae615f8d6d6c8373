"""The decision: whether a session may promote, and why not, decided once from its evaluation,
what the session did (`SessionFacts`: every case, every gate test, no selection, no interrupt), the
project's own policy and what the registry holds.

Pure: the plugin gathers the session's facts and `harness.publish` the project's configuration and
the registry's view; `decide` returns a `Decision` that `publish` only acts on.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from harness.records.decision import Decision, Evaluated, RegistryView
from harness.seal import GateRecord, golden_digests, harness_version, policy_document, policy_sha256

if TYPE_CHECKING:
    from harness.records.evaluation import Evaluation
    from harness.settings import HarnessConfig

NOT_LOGGED = "no logged model was evaluated (an endpoint cannot be registered: evaluate the model it serves)"


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
    """The completeness rule: each reason, in one phrase, why this session may not promote; [] when it may."""
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


def decide(
    evaluation: Evaluation,
    facts: SessionFacts,
    project: HarnessConfig | str,
    registry: RegistryView,
    evaluated: Evaluated | None,
    promote: bool,
) -> Decision:
    """The session's decision. `project`: the project's own configuration (pyproject.toml alone), or
    why it cannot be read; `evaluated`: the logged model the candidate answered from, None when it
    answered in process or from an endpoint (never promotable)."""
    found = blockers(facts) + ([NOT_LOGGED] if evaluated is None and not facts.in_process else [])
    scorer_errors = scorer_error_blockers(evaluation)
    found += scorer_errors + policy_blockers(evaluation, project, registry)
    record = GateRecord(
        model_uri=evaluated.model_uri if evaluated else evaluation.candidate.reference,
        model_id=evaluated.model_id if evaluated else None,
        artifact_sha256=evaluated.artifact_sha256 if evaluated else "",
        golden=tuple(golden_digests(evaluation.config.golden_paths)),
        policy_sha256=policy_sha256(evaluation.config),
        harness_version=harness_version(),
        cases_evaluated=len(evaluation.cases),
        cases_in_golden=facts.cases_in_golden,
        baseline=baseline_pinned(evaluation),
        complete=not blockers(facts),
        blockers=tuple(found),
        gate_passed=evaluation.gated.passed,
        isolated=evaluated is not None,
        report_id="",
        metrics=tuple(
            (name, e.value) for name, e in sorted(evaluation.candidate.metrics().items()) if e.value == e.value
        ),
        promote=promote,
        sandbox=facts.sandbox or "none",
    )
    failed = not evaluation.gated.passed or bool(scorer_errors)
    return Decision(record, tuple(found), tuple(refusals(evaluation, record, promote)), failed)


def reconsider(evaluation: Evaluation, record: GateRecord, promote: bool, reasons: Sequence[str]) -> Decision:
    """The decision a report folder's sealed `record` backs (`harness log`), with `reasons` it may not promote."""
    return Decision(record, record.blockers, tuple(refusals(evaluation, record, promote) + list(reasons)))


def baseline_pinned(evaluation: Evaluation) -> str | None:
    """The version compared against, with the registry version its reference resolved to."""
    if len(evaluation.versions) < 2:
        return None
    other = evaluation.versions[1]
    pinned = other.version.registered if other.version is not None else None
    return f"{other.reference} (version {pinned[1]})" if pinned else other.reference


def refusals(evaluation: Evaluation, record: GateRecord, promote: bool) -> list[str]:
    """Why the session will not promote: its gate, its blockers, promotion turned off."""
    reasons = []
    if not record.gate_passed:
        reasons.append(f"gate failed: {failure_line(evaluation) or 'see the gate table'}")
    reasons += record.blockers
    if not promote:
        reasons.append("promotion disabled (--no-promote)")
    elif not evaluation.config.promote_to:
        reasons.append("promote_to is empty")
    if not reasons and not record.promotable:
        reasons.append("the gate record does not allow it")
    return reasons


def policy_blockers(evaluation: Evaluation, project: HarnessConfig | str, registry: RegistryView) -> list[str]:
    """A session judged under another policy than the project's own, or not compared against the
    project's baseline (command-line options, HARNESS_* variables), may report, never promote."""
    from harness.config import effective_baselines

    if isinstance(project, str):
        return [f"the project's own configuration cannot be read ({project})"]
    cfg = evaluation.config
    found = []
    if policy_sha256(cfg) != policy_sha256(project):
        changed = sorted(k for k, v in policy_document(cfg).items() if policy_document(project).get(k) != v)
        found.append(
            f"the gate policy differs from pyproject.toml's ({', '.join(changed)} overridden on the command "
            "line or by HARNESS_*)"
        )
    compared = {v.reference.strip() for v in evaluation.versions[1:]}
    # The default `@production` may not exist yet (a model's first versions); any other baseline must.
    default = f"models:/{project.model_name}@production"
    skipped = [
        ref
        for ref in effective_baselines(project)
        if ref not in compared and (ref != default or registry.has("production"))
    ]
    if skipped:
        found.append(f"not compared against the project's baseline {', '.join(skipped)}")
    return found


def scorer_error_blockers(evaluation: Evaluation) -> list[str]:
    """A rule scorer that raised has no threshold of its own to fail, so it blocks promotion (judge
    errors have max_judge_error_rate): a check that could not be made is never a pass."""
    names = sorted(
        {
            name
            for r in evaluation.candidate.results.values()
            if r.output.error is None
            for name, s in r.scores.items()
            if s.error and s.judge == "rule"
        }
    )
    return [f"scorer error(s) in {', '.join(names)}"] if names else []


def baseline_name(evaluation: Evaluation) -> str:
    """How the decision line names the baseline: `@production` for a registry alias, else its reference."""
    if not evaluation.comparisons:
        return "the baseline"
    reference = evaluation.comparisons[0].baseline_reference
    return reference[reference.rindex("@") :] if reference.startswith("models:/") and "@" in reference else reference


def failure_line(evaluation: Evaluation) -> str:
    """Every failing check in words, `; `-joined: the decision line of the reports and the terminal."""
    against = baseline_name(evaluation)
    return "; ".join(c.sentence(against) for c in evaluation.gated.failures)
