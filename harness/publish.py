"""Publishing a decision: write the reports and the sealed record, log one run, register, move the alias.

`publish` only acts: what may be promoted and why not was decided before (`harness.decision`). Each
step happens at most once per report folder and can be finished later by `harness log`: reports and
the sealed record are written first (nothing is lost when the store is down), then one MLflow run,
then, only when the decision allows it, exactly the logged model that was evaluated is registered
with the record and `promote_to` moves to it, under the registry lock.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from harness import HarnessError, first_line
from harness.records.codec import encode_session
from harness.records.decision import Decision, Publication, RegistryView
from harness.seal import RECORD_FILE, file_sha256, signing_key

if TYPE_CHECKING:
    from harness.records.evaluation import Evaluation
    from harness.seal import GateRecord
    from harness.settings import HarnessConfig
    from harness.tracking.lock import Lease

RESULTS_FILE = "results.json"
SESSION_FILE = "session.json"  # what the session knew beyond results.json: whether it may promote, and why not
Progress = Callable[[str], None]


def _quiet(_: str) -> None:
    pass


def project_policy(cfg: HarnessConfig) -> HarnessConfig | str:
    """The project's own configuration (pyproject.toml alone), or why it cannot be read."""
    from harness.config import project_config

    try:
        return project_config(cfg.root)
    except HarnessError as exc:
        return first_line(exc)


def registry_view(project: HarnessConfig | str) -> RegistryView:
    """Which of the model's aliases the decision asks about exist; the store is asked only when the
    project's own configuration (not the session's, whose baseline an option may have swapped) compares
    against the default `@production`, and a store that cannot say says None."""
    from harness.config import effective_baselines

    if isinstance(project, str):  # the project's configuration cannot be read: the decision says so
        return RegistryView(None)
    cfg = project
    if f"models:/{cfg.model_name}@production" not in effective_baselines(cfg):
        return RegistryView(frozenset())
    from harness.tracking.aliases import alias_exists
    from harness.tracking.connection import connect, store_errors

    try:
        connect(cfg.root)
        return RegistryView(
            frozenset({"production"}) if store_errors(alias_exists)(cfg.model_name, "production") else frozenset()
        )
    except (HarnessError, OSError):
        return RegistryView(None)


def publish(decision: Decision, evaluation: Evaluation, progress: Progress = _quiet) -> Publication:
    """Write the reports and the sealed record, log the run, promote if the decision allows it."""
    from harness.reports.files import write_reports

    cfg = evaluation.config
    progress("writing reports")
    try:
        report_dir = write_reports(evaluation, cfg.report_path, blockers=decision.blockers)
        decision = decision.bound(report_dir.name, file_sha256(report_dir / RESULTS_FILE), signing_key())
        (report_dir / RECORD_FILE).write_text(decision.record.to_json(), encoding="utf-8")
        (report_dir / SESSION_FILE).write_text(json.dumps(encode_session(decision), indent=2), encoding="utf-8")
    except OSError as exc:
        return Publication(
            f"could not write reports to {cfg.report_path}: {exc}; nothing logged or promoted", failed=True
        )
    return log_and_promote(evaluation, decision, report_dir, progress=progress)


def log_and_promote(
    evaluation: Evaluation,
    decision: Decision,
    report_dir: Path,
    lease: Lease | None = None,
    late: bool = False,
    progress: Progress = _quiet,
) -> Publication:
    """Log the report's run and promote its candidate, each at most once per report folder; the
    outcome goes into the reports that were written before it was known.

    Safe to repeat after a tracking failure at any point: a run already logged for this report (tag
    `harness.report_id`) and a version already registered for that run (tag `harness.eval_run_id`,
    written in the same call that creates the version) are reused, never created twice; an alias is
    only ever set on such a version, so it always has its record.
    """
    cfg = evaluation.config
    done = Publication("", report_dir=str(report_dir), late=late, model_name=cfg.model_name)
    retry = "" if late else f"; run `harness log {report_dir}` once the store is reachable"
    progress("logging the MLflow run")
    try:
        done = log_run(evaluation, decision.record, done)
    except Exception as exc:  # any tracking failure: keep the reports, say how to finish later
        why = (
            f"could not log to the tracking store: {first_line(exc)}; nothing promoted. The reports are in {report_dir}"
        )
        return _recorded(done, why + retry, failed=True)
    if not decision.may_promote:
        return _recorded(done, "not promoted: " + "; ".join(_refusals(decision, done)))
    progress(f"registering and moving @{cfg.promote_to}")
    try:
        version, outcome = promote_record(evaluation, decision.record, str(done.run_id), lease)
    except Exception as exc:
        why = f"promotion failed: {first_line(exc)}; run {done.run_id} is logged, no alias moved"
        return _recorded(done, why + retry, failed=True)
    return _recorded(replace(done, version=version, alias=cfg.promote_to), outcome)


def _refusals(decision: Decision, done: Publication) -> list[str]:
    """A late log of a passing report refused promotion: only a new session can promote it now."""
    reasons = list(decision.refusals)
    if done.late and decision.record.gate_passed:
        from harness.tracking.connection import mlflow_client
        from harness.tracking.models import version_for_run

        if version_for_run(mlflow_client(), str(done.model_name), str(done.run_id)) is None:
            reasons.append("to evaluate and promote, run `pytest suites/` again")
    return reasons


def _recorded(done: Publication, outcome: str = "", failed: bool = False) -> Publication:
    """`done` with its outcome, which also goes into the reports in place of their placeholder."""
    from harness.reports.decision import append_outcome

    done = replace(done, outcome=outcome or done.outcome, failed=failed or done.failed)
    try:
        append_outcome(Path(str(done.report_dir)), done.outcome)
    except OSError:
        pass  # the terminal has it; the reports keep their placeholder
    return done


def log_run(evaluation: Evaluation, record: GateRecord, done: Publication) -> Publication:
    """The report's MLflow run: the one logged for it before, or a new one."""
    from harness.tracking.connection import connect
    from harness.tracking.runs import log_evaluation, logged_run

    report_dir = Path(str(done.report_dir))
    uri = connect(evaluation.config.root)
    run_id = logged_run(report_dir)
    if run_id:
        return replace(done, tracking_uri=uri, run_id=run_id, run_reused=True)
    return replace(done, tracking_uri=uri, run_id=log_evaluation(evaluation, report_dir, record, late=done.late))


def promote_record(
    evaluation: Evaluation, record: GateRecord, run_id: str, lease: Lease | None = None
) -> tuple[str, str]:
    """Under the registry lock (taken here, or the caller's `lease`): register the evaluated model
    once (or re-seal a registry candidate), then move `promote_to`. Returns (version, outcome line)."""
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
    version = str(mv.version)
    describe_version(lease.client, mv.name, version, version_description(evaluation, record, run_id))
    moved = mv.tags.get(f"{ALIAS_TAG_PREFIX}{cfg.promote_to}")
    if moved and json.loads(moved).get("run_id") == run_id:
        return version, (
            f"version {version} of {mv.name} was already promoted to @{cfg.promote_to} for run {run_id}; nothing to do"
        )
    set_alias(mv.name, cfg.promote_to, version, reason="gate passed", run_id=run_id, lease=lease)
    earlier = "" if created or registered else f" (registered earlier for run {run_id})"
    return version, f"promoted version {version} of {mv.name}{earlier} to @{cfg.promote_to}"
