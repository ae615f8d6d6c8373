"""`harness log REPORT_DIR`: finish what a session could not log; promote only on a signed record.

A report folder is an editable file, so it never promotes on its own word: only a record signed
with HARNESS_SIGNING_KEY, naming the logged model that was evaluated (whose artifact files still
hash to the sealed digest), under today's policy and golden files, promotes.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import TYPE_CHECKING

from harness import HarnessError, first_line

if TYPE_CHECKING:
    from harness.records.decision import Decision, Publication
    from harness.records.evaluation import Evaluation
    from harness.seal import GateRecord
    from harness.settings import HarnessConfig


def configure_log(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "report_dir", type=Path, help="a report folder written by `pytest suites/`, e.g. reports/latest"
    )
    parser.add_argument("--no-promote", dest="no_promote", action="store_true", help="log the run but move no alias")


def run_log(args: argparse.Namespace) -> int:
    from harness.reports.terminal import read_back_lines

    evaluation, decision, publication = log_report(args.report_dir, promote=not args.no_promote)
    print("\n".join(read_back_lines(evaluation, publication, args.report_dir.resolve() / "results.json")))
    return 1 if publication.failed else 0


def log_report(
    report_dir: Path, promote: bool = True, root: Path | None = None
) -> tuple[Evaluation, Decision, Publication]:
    """Log a report folder's run (a late log) and promote only on a record that verifies."""
    from harness.decision import SessionFacts, decide, reconsider
    from harness.pipeline import read_results
    from harness.publish import SESSION_FILE, log_and_promote
    from harness.records.decision import RegistryView
    from harness.seal import RECORD_FILE, GateRecord
    from harness.tracking.connection import connect
    from harness.tracking.lock import registry_lock

    report_dir = report_dir.resolve()  # reports/latest -> the folder itself, whose name identifies the report
    results = report_dir / "results.json"
    if not results.is_file():
        raise HarnessError(f"{report_dir}: no results.json here; pass a report folder written by `pytest suites/`")
    evaluation = read_results(results, root or Path.cwd())
    reasons: list[str] = []
    try:
        session = json.loads((report_dir / SESSION_FILE).read_text(encoding="utf-8"))
        promote = promote and bool(session.get("promote", False))
    except (OSError, json.JSONDecodeError, AttributeError):
        reasons.append(f"{SESSION_FILE} is missing or unreadable, so whether the session could promote is unknown")
    record_path = report_dir / RECORD_FILE
    try:
        record: GateRecord | None = GateRecord.from_json(record_path.read_text(encoding="utf-8"), str(record_path))
    except OSError:
        record = None
    if record is None or record.report_id != report_dir.name:
        reasons.append(f"{RECORD_FILE} is missing or belongs to another report")
        # Unpromotable (no case count matches -1): the report is logged only.
        unsealed = decide(evaluation, SessionFacts(cases_in_golden=-1), evaluation.config, RegistryView(), None, False)
        record = unsealed.bound(report_dir.name, "", None).record
    promote = promote and record.promote  # a --no-promote session's intent is sealed, not only in session.json
    if not reasons and promote:
        reasons += _record_refusals(record, evaluation.config, results)
    decision = reconsider(evaluation, record, promote, reasons)
    connect(evaluation.config.root)
    # Two `harness log` at once: one run, one version.
    with registry_lock(evaluation.config.model_name, f"harness log {report_dir.name}") as lease:
        return evaluation, decision, log_and_promote(evaluation, decision, report_dir, lease, late=True)


def _record_refusals(record: GateRecord, cfg: HarnessConfig, results: Path) -> list[str]:
    """Why a report folder's record may not promote from `harness log`."""
    from harness.config import project_config
    from harness.seal import SIGNING_KEY_ENV, file_sha256, golden_digests, policy_sha256, signing_key, verify_record
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
            "only on a record signed with that key"
        ]
    if not record.model_id:
        return edited + ["the record names no logged model"]
    try:
        artifact = artifact_sha256_of(record.model_uri)
    except Exception as exc:  # the store's own errors, whatever they are: the model cannot be read
        return edited + [f"the evaluated model {record.model_uri} cannot be read from the store ({first_line(exc)})"]
    project = project_config(cfg.root)
    return edited + verify_record(
        record,
        artifact_sha256=artifact,
        policy=policy_sha256(project),
        golden=golden_digests(project.golden_paths),
        key=key,
    )
