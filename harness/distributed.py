"""A distributed session's evaluation, without pytest: each worker evaluates the cases its tests ask
for (`CaseByCase`) and sends them as JSON (`worker_payload`); the controller merges the payloads
into one evaluation, gated as a serial run would be (`merge_payloads`). The pytest-xdist hooks that
carry the payloads are in `harness/plugin/xdist.py`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from harness.golden import Case
    from harness.records.evaluation import Evaluation
    from harness.records.results import CaseResult
    from harness.settings import HarnessConfig
    from harness.versions.resolve import Version


class CaseByCase:
    """A worker's evaluation: versions and scorers loaded once, each case run on first request."""

    def __init__(self, cfg: HarnessConfig, resolver: Callable[[str, Path, str], Version]) -> None:
        from harness.scorers import build_scorers
        from harness.versions.baseline import load_versions

        self.cfg = cfg
        self.notes: list[str] = []  # e.g. a baseline that could not be loaded
        self.versions: list[Version] = load_versions(cfg, notes=self.notes, resolver=resolver)
        self.scorers = build_scorers(cfg)
        self.results: dict[str, dict[str, CaseResult]] = {v.label: {} for v in self.versions}

    def result(self, case: Case) -> CaseResult:
        """The candidate's scored result for `case`; every version runs it, as in a serial session."""
        from harness.pipeline import reads_trajectories, score_run
        from harness.runner import run_versions

        candidate = self.versions[0].label
        if case.id not in self.results[candidate]:
            runs = run_versions(
                self.versions,
                [case],
                self.cfg.concurrency,
                self.cfg.case_timeout_s,
                self.cfg.repeats,
                trace=reads_trajectories(self.scorers),
            )
            for run in runs:
                self.results[run.version.label].update(score_run(run, [case], self.scorers))
        return self.results[candidate][case.id]


def worker_payload(
    by_case: CaseByCase | None,
    evaluation: Evaluation | None,
    deselected: int,
    gate_items: Sequence[tuple[str, tuple[str, int | None, str], str]],
) -> dict[str, Any]:
    """What a worker sends the controller. Cases its own tests asked for are `owned`; a whole
    evaluation some test requested on this worker is sent too, to fill cases no worker owned."""
    from harness.records.codec import encode_payload, version_meta

    versions = by_case.versions if by_case else evaluation.versions if evaluation else []
    return encode_payload(
        [version_meta(v) for v in versions],
        {label: rows.values() for label, rows in by_case.results.items()} if by_case else {},
        {v.label: v.results.values() for v in evaluation.versions} if evaluation else {},
        by_case.notes if by_case else evaluation.notes if evaluation else [],
        deselected,
        gate_items,
    )


def merge_payloads(cfg: HarnessConfig, cases: Sequence[Case], payloads: Sequence[dict[str, Any]]) -> Evaluation | None:
    """One Evaluation from the workers' results, in golden order, compared and gated as a serial
    run would be (`gate_evaluation`); None when no case ran."""
    from harness.pipeline import gate_evaluation, version_result
    from harness.records.codec import decode_versions
    from harness.records.evaluation import Evaluation

    meta = next((p["versions"] for p in payloads if p["versions"]), None)
    if not meta:
        return None
    rows: dict[str, dict[str, dict[str, Any]]] = {m["label"]: {} for m in meta}
    # A case owned by a worker wins over a copy from some worker's whole evaluation: the owner's
    # result is the one its per-case tests judged.
    for kind in ("owned", "whole"):
        for payload in payloads:
            for label, version_rows in payload[kind].items():
                for row in version_rows:
                    rows[label].setdefault(row["id"], row)
    candidate = meta[0]["label"]
    ran = [c for c in cases if c.id in rows[candidate]]
    if not ran:
        return None

    by_id = {c.id: c for c in ran}
    entries = [{**m, "cases": [rows[m["label"]][c.id] for c in ran]} for m in meta]
    versions = [
        version_result(m["label"], m["reference"], m["kind"], m["load_s"], results, None, cfg.weights)
        for m, results in decode_versions(entries, lambda row: by_id[row["id"]])
    ]
    notes: list[str] = next((p["notes"] for p in payloads if p["notes"]), [])
    return gate_evaluation(Evaluation(cfg, ran, versions, notes=list(notes)))
