"""The session-finish sequence: seal the decision, write reports, log one run, register, move the alias.

Each step happens at most once per report folder and can be finished later by `harness log`:
reports and the sealed record are written first (nothing is lost when the store is down), then one
MLflow run, then, only when the record is promotable, exactly the logged model that was evaluated is
registered with the record and `promote_to` moves to it, under the registry lock.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from harness import HarnessError, first_line
from harness.completeness import SessionFacts, blockers
from harness.seal import (
    RECORD_FILE,
    GateRecord,
    file_sha256,
    golden_digests,
    harness_version,
    policy_document,
    policy_sha256,
    signing_key,
)

if TYPE_CHECKING:
    from harness.records.evaluation import Evaluation
    from harness.settings import HarnessConfig
    from harness.tracking.lock import Lease
    from harness.versions.process.client import LoggedAgent

    Evaluated = tuple[LoggedAgent, str]  # the logged model the candidate answered from, its artifact sha256

RESULTS_FILE = "results.json"
SESSION_FILE = "session.json"  # what the session knew beyond results.json: whether it may promote, and why not
NOT_LOGGED = "no logged model was evaluated (an endpoint cannot be registered: evaluate the model it serves)"
Progress = Callable[[str], None]


def _quiet(_: str) -> None:
    pass


def seal(
    evaluation: Evaluation,
    facts: SessionFacts,
    report_id: str,
    evaluated: Evaluated | None,
    promote: bool = False,
    results_sha256: str = "",
) -> GateRecord:
    """The decision's record: what was evaluated, against what, under which policy, how completely,
    the candidate's figures, and whether the session meant to promote.

    `evaluated`: the logged model the candidate answered from and its artifact files' sha256; None
    when it answered in process (never promotable). `results_sha256`: results.json as written.
    """
    cfg = evaluation.config
    baseline = None
    if len(evaluation.versions) > 1:
        other = evaluation.versions[1]
        pinned = other.version.registered if other.version is not None else None
        baseline = f"{other.reference} (version {pinned[1]})" if pinned else other.reference
    return GateRecord(
        model_uri=evaluated[0].model_uri if evaluated else evaluation.candidate.reference,
        model_id=evaluated[0].model_id if evaluated else None,
        artifact_sha256=evaluated[1] if evaluated else "",
        golden=tuple(golden_digests(cfg.golden_paths)),
        policy_sha256=policy_sha256(cfg),
        harness_version=harness_version(),
        cases_evaluated=len(evaluation.cases),
        cases_in_golden=facts.cases_in_golden,
        baseline=baseline,
        complete=not blockers(facts),
        blockers=tuple(all_blockers(evaluation, facts, evaluated)),
        gate_passed=evaluation.gate.passed,
        isolated=evaluated is not None,
        report_id=report_id,
        metrics=tuple(
            (name, est.value) for name, est in sorted(evaluation.candidate.metrics().items()) if est.value == est.value
        ),
        results_sha256=results_sha256,
        promote=promote,
        sandbox=facts.sandbox or "none",
    ).signed(signing_key())


def all_blockers(evaluation: Evaluation, facts: SessionFacts, evaluated: Evaluated | None) -> list[str]:
    """Every reason this session may not promote, whatever its gate says (as the record will hold them)."""
    found = blockers(facts) + ([NOT_LOGGED] if evaluated is None and not facts.in_process else [])
    return found + scorer_error_blockers(evaluation) + policy_blockers(evaluation)


def policy_blockers(evaluation: Evaluation) -> list[str]:
    """A session judged under another policy than the project's own, or not compared against the
    project's baseline (command-line options, HARNESS_* variables), may report, never promote."""
    from harness.config import effective_baselines, project_config

    cfg = evaluation.config
    try:
        project = project_config(cfg.root)
    except HarnessError as exc:
        return [f"the project's own configuration cannot be read ({first_line(exc)})"]
    found = []
    if policy_sha256(cfg) != policy_sha256(project):
        changed = sorted(k for k, v in policy_document(cfg).items() if policy_document(project).get(k) != v)
        found.append(
            f"the gate policy differs from pyproject.toml's ({', '.join(changed)} overridden on the command "
            "line or by HARNESS_*)"
        )
    compared = {v.reference.strip() for v in evaluation.versions[1:]}
    skipped = [ref for ref in effective_baselines(project) if ref not in compared and _exists(ref, project)]
    if skipped:
        found.append(f"not compared against the project's baseline {', '.join(skipped)}")
    return found


def _exists(reference: str, cfg: HarnessConfig) -> bool:
    """Whether the project's baseline is there to compare against: the default `@production` may not
    exist yet (a model's first versions); anything else, or a store that cannot say, counts as there."""
    if reference != f"models:/{cfg.model_name}@production":
        return True
    from harness.tracking.aliases import alias_exists
    from harness.tracking.connection import connect

    try:
        connect(cfg.root)
        return alias_exists(cfg.model_name, "production")
    except Exception:  # the store cannot say
        return True


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


def headline(evaluation: Evaluation) -> list[str]:
    """The gate table, the verdict line, flip rates and the A/B headlines."""
    from harness.reports.decision import decision

    gate = evaluation.gate
    lines = [
        gate.table(),
        "",
        f"{len(evaluation.cases)} case(s) evaluated for {len(evaluation.versions)} version(s); gate "
        f"{'PASSED' if gate.passed else 'FAILED'}: "
        f"{decision(evaluation).verdict}",
    ]
    lines += flip_lines(evaluation)
    lines += [f"note: {note}" for note in evaluation.notes]
    for comparison in evaluation.comparisons:
        lines += comparison.headline_lines()
    return lines


def flip_lines(evaluation: Evaluation) -> list[str]:
    """One line per version run with --repeats: how often its answer changed between runs of a case."""
    lines = []
    for version in evaluation.versions:
        estimate = version.metric_estimate("flip_rate")
        if estimate is not None:
            flipped = sum(1 for r in version.results.values() if r.flipped)
            runs = 1 + max(len(r.repeats) for r in version.results.values())
            lines.append(
                f"flip rate {version.label}: {estimate.value:.3f} ({flipped} of {estimate.n} case(s) answered "
                f"differently across {runs} runs)"
            )
    return lines


def finish_session(
    evaluation: Evaluation, facts: SessionFacts, promote: bool, evaluated: Evaluated | None, progress: Progress = _quiet
) -> tuple[list[str], bool]:
    """Seal, write reports, log the run, promote if allowed. Returns (terminal lines, whether the session failed)."""
    from harness.reports.files import write_reports

    cfg = evaluation.config
    lines = headline(evaluation)
    progress("writing reports")
    try:
        report_dir = write_reports(evaluation, cfg.report_path, blockers=all_blockers(evaluation, facts, evaluated))
        record = seal(evaluation, facts, report_dir.name, evaluated, promote, file_sha256(report_dir / RESULTS_FILE))
        (report_dir / RECORD_FILE).write_text(record.to_json(), encoding="utf-8")
        (report_dir / SESSION_FILE).write_text(
            json.dumps({"promote": promote, "blockers": list(record.blockers)}, indent=2), encoding="utf-8"
        )
    except OSError as exc:
        lines.append(f"could not write reports to {cfg.report_path}: {exc}; nothing logged or promoted")
        return lines, True
    lines.append(f"reports: {report_dir}")
    failed = not evaluation.gate.passed or bool(scorer_error_blockers(evaluation))
    more, store_failed = log_and_promote(evaluation, report_dir, record, promote, progress=progress)
    record_outcome(report_dir, more[-1])
    return lines + more, failed or store_failed


def record_outcome(report_dir: Path, line: str) -> None:
    """The promotion line, into the reports that were written before it was known."""
    from harness.reports.decision import append_outcome

    try:
        append_outcome(report_dir, line)
    except OSError:
        pass  # the terminal has it; the reports keep their placeholder


def not_promoted_reasons(evaluation: Evaluation, record: GateRecord, promote: bool) -> list[str]:
    reasons = []
    if not record.gate_passed:
        from harness.reports.decision import failure_line

        reasons.append(f"gate failed: {failure_line(evaluation) or 'see the gate table'}")
    reasons += record.blockers
    if not promote:
        reasons.append("promotion disabled (--no-promote)")
    elif not evaluation.config.promote_to:
        reasons.append("promote_to is empty")
    if not reasons and not record.promotable:
        reasons.append("the gate record does not allow it")
    return reasons


def log_and_promote(
    evaluation: Evaluation,
    report_dir: Path,
    record: GateRecord,
    promote: bool,
    extra_reasons: list[str] | None = None,
    late: bool = False,
    progress: Progress = _quiet,
) -> tuple[list[str], bool]:
    """Log the report's run and promote its candidate, each at most once per report folder.

    Safe to repeat after a tracking failure at any point: a run already logged for this report (tag
    `harness.report_id`) and a version already registered for that run (tag `harness.eval_run_id`,
    written in the same call that creates the version) are reused, never created twice; an alias is
    only ever set on such a version, so it always has its record.
    """
    from harness.tracking.connection import connect
    from harness.tracking.runs import log_evaluation, logged_run

    cfg = evaluation.config
    lines: list[str] = []
    retry = f"run `harness log {report_dir}` once the store is reachable"
    progress("logging the MLflow run")
    try:
        uri = connect(cfg.root)
        run_id = logged_run(report_dir)
        if run_id:
            lines.append(f"report already logged as MLflow run {run_id} in {uri}")
        else:
            run_id = log_evaluation(evaluation, report_dir, record, late=late)
            lines.append(
                f"logged MLflow run {run_id} to {uri}" + (" (a late log from the report folder)" if late else "")
            )
    except Exception as exc:  # any tracking failure: keep the reports, say how to finish later
        lines.append(
            f"could not log to the tracking store: {first_line(exc)}; nothing promoted. The reports are in "
            f"{report_dir}; {retry}"
        )
        return lines, True
    reasons = not_promoted_reasons(evaluation, record, promote) + list(extra_reasons or [])
    if reasons:
        lines.append("not promoted: " + "; ".join(reasons))
        return lines, False
    progress(f"registering and moving @{cfg.promote_to}")
    try:
        lines.append(promote_record(evaluation, record, run_id))
    except Exception as exc:
        lines.append(f"promotion failed: {first_line(exc)}; run {run_id} is logged, no alias moved; {retry}")
        return lines, True
    return lines, False


def promote_record(evaluation: Evaluation, record: GateRecord, run_id: str, lease: Lease | None = None) -> str:
    """Under the registry lock (taken here, or the caller's `lease`): register the evaluated model
    once (or re-seal a registry candidate), then move `promote_to`."""
    from harness.tracking.lock import registry_lock

    cfg = evaluation.config
    if lease is None:
        with registry_lock(cfg.model_name, f"register run {run_id} and move @{cfg.promote_to}") as held:
            return promote_record(evaluation, record, run_id, held)
    from harness.tracking.aliases import ALIAS_TAG_PREFIX, set_alias
    from harness.tracking.models import (
        artifact_sha256_of,
        describe_version,
        register_evaluated,
        reseal_version,
        version_description,
    )

    if artifact_sha256_of(record.model_uri) != record.artifact_sha256:
        raise HarnessError(
            f"the files of {record.model_uri} changed after they were hashed, before the cases ran: not registered"
        )
    registered = evaluation.candidate.version.registered if evaluation.candidate.version is not None else None
    if registered:
        mv, created = reseal_version(lease, registered[0], registered[1], record, run_id), False
    else:
        mv, created = register_evaluated(lease, cfg.model_name, record, run_id)
    describe_version(lease.client, mv.name, str(mv.version), version_description(evaluation, record, run_id))
    moved = mv.tags.get(f"{ALIAS_TAG_PREFIX}{cfg.promote_to}")
    if moved and json.loads(moved).get("run_id") == run_id:
        return (
            f"version {mv.version} of {mv.name} was already promoted to @{cfg.promote_to} for run "
            f"{run_id}; nothing to do"
        )
    set_alias(mv.name, cfg.promote_to, str(mv.version), reason="gate passed", run_id=run_id, lease=lease)
    earlier = "" if created or registered else f" (registered earlier for run {run_id})"
    return f"promoted version {mv.version} of {mv.name}{earlier} to @{cfg.promote_to}"


def log_report(report_dir: Path, promote: bool = True, root: Path | None = None) -> tuple[list[str], bool]:
    """`harness log`: log a report folder's run (a late log) and promote only on a record that verifies.

    A report folder is an editable file, so it never promotes on its own word: only a record signed
    with HARNESS_SIGNING_KEY, naming the logged model that was evaluated (whose artifact files still
    hash to the sealed digest), under today's policy and golden files, promotes.
    """
    from harness.config import load_config
    from harness.pipeline import evaluation_from_results
    from harness.tracking.connection import connect
    from harness.tracking.lock import registry_lock

    report_dir = report_dir.resolve()  # reports/latest -> the folder itself, whose name identifies the report
    results = report_dir / "results.json"
    if not results.is_file():
        raise HarnessError(f"{report_dir}: no results.json here; pass a report folder written by `pytest suites/`")
    try:
        document = json.loads(results.read_text(encoding="utf-8"))
        recorded = document["config"]
    except (json.JSONDecodeError, KeyError, TypeError) as exc:
        raise HarnessError(f"{results}: not a harness results document ({type(exc).__name__}: {exc})") from None
    reasons: list[str] = []
    try:
        session = json.loads((report_dir / SESSION_FILE).read_text(encoding="utf-8"))
        promote = promote and bool(session.get("promote", False))
    except (OSError, json.JSONDecodeError, AttributeError):
        reasons.append(f"{SESSION_FILE} is missing or unreadable, so whether the session could promote is unknown")
    overrides = {
        key: recorded.get(key)
        for key in ("versions", "model_name", "promote_to", "thresholds", "non_inferiority", "judge_model", "repeats")
    }
    overrides["agent"] = recorded.get("agent")
    overrides["golden"] = [g["path"] for g in recorded.get("golden", [])] or None
    cfg = load_config(root or Path.cwd(), overrides)
    evaluation = evaluation_from_results(document, cfg)
    record_path = report_dir / RECORD_FILE
    try:
        record = GateRecord.from_json(record_path.read_text(encoding="utf-8"), str(record_path))
    except OSError:
        record = None
    if record is None or record.report_id != report_dir.name:
        reasons.append(f"{RECORD_FILE} is missing or belongs to another report")
        record = seal(evaluation, SessionFacts(cases_in_golden=-1), report_dir.name, None)  # unpromotable: logged only
    promote = promote and record.promote  # a --no-promote session's intent is sealed, not only in session.json
    lines = headline(evaluation)
    lines[2] = (
        f"{len(evaluation.cases)} case(s) read from {results}; gate {'PASSED' if evaluation.gate.passed else 'FAILED'}"
    )
    if not reasons and promote:
        reasons += _record_refusals(record, cfg, results)
    connect(cfg.root)
    with registry_lock(
        cfg.model_name, f"harness log {report_dir.name}"
    ) as lease:  # two `harness log` at once: one run, one version
        more, failed = _log_under_lock(evaluation, report_dir, record, promote, reasons, lease)
    record_outcome(report_dir, more[-1])
    return lines + more, failed


def _log_under_lock(
    evaluation: Evaluation, report_dir: Path, record: GateRecord, promote: bool, reasons: list[str], lease: Lease
) -> tuple[list[str], bool]:
    from harness.tracking.connection import connect, mlflow_client
    from harness.tracking.models import version_for_run
    from harness.tracking.runs import log_evaluation, logged_run

    cfg = evaluation.config
    uri = connect(cfg.root)
    run_id = logged_run(report_dir)
    lines = []
    if run_id:
        lines.append(f"report already logged as MLflow run {run_id} in {uri}")
    else:
        run_id = log_evaluation(evaluation, report_dir, record, late=True)
        lines.append(f"logged MLflow run {run_id} to {uri} (a late log from the report folder)")
    refusals = not_promoted_reasons(evaluation, record, promote) + reasons
    if refusals:
        if record.gate_passed and version_for_run(mlflow_client(), cfg.model_name, run_id) is None:
            refusals.append("to evaluate and promote, run `pytest suites/` again")
        lines.append("not promoted: " + "; ".join(refusals))
        return lines, False
    try:
        lines.append(promote_record(evaluation, record, run_id, lease))
    except Exception as exc:
        lines.append(f"promotion failed: {first_line(exc)}; run {run_id} is logged, no alias moved")
        return lines, True
    return lines, False


def _record_refusals(record: GateRecord, cfg, results: Path) -> list[str]:
    """Why a report folder's record may not promote from `harness log`."""
    from harness.seal import SIGNING_KEY_ENV, verify_record
    from harness.tracking.models import artifact_sha256_of

    # The version's description is written from results.json: only with the figures the session sealed.
    edited = (
        []
        if file_sha256(results) == record.results_sha256
        else [f"{results} differs from the results.json its session sealed (its figures were edited or copied in)"]
    )
    key = signing_key()
    if not key:
        return edited + [
            f"{SIGNING_KEY_ENV} is not set: a report folder is an editable file, so `harness log` promotes "
            "only on a record "
            "signed with that key"
        ]
    if not record.model_id:
        return edited + ["the record names no logged model"]
    try:
        artifact = artifact_sha256_of(record.model_uri)
    except Exception as exc:
        return edited + [f"the evaluated model {record.model_uri} cannot be read from the store ({first_line(exc)})"]
    from harness.config import project_config

    project = project_config(cfg.root)
    return edited + verify_record(
        record,
        artifact_sha256=artifact,
        policy=policy_sha256(project),
        golden=golden_digests(project.golden_paths),
        key=key,
    )
