"""Scale-out with pytest-xdist (`pytest suites/ -n 4`): workers evaluate cases, the controller gates.

How a distributed session runs:
- The controller schedules all tests of one golden case onto one worker (`CaseScheduling`), so a
  case is run by the agent once, whichever scorers judge it.
- A worker evaluates a case when the first of its tests asks for it (`CaseByCase`), and sends
  what it evaluated to the controller as JSON in `config.workeroutput` (`worker_payload`).
- Gate tests judge the whole evaluation, which no worker has: workers leave them out of their
  collection and the controller reports them itself once every worker is done (plugin.py).
- The controller merges the payloads in golden-file order (`merge_payloads`), so means and
  bootstrap CIs are computed over the same sequence as in a serial run, then gates, writes the
  reports, logs and promotes exactly once. Workers never touch the tracking store for writing.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from harness.config import HarnessConfig
    from harness.evaluation import CaseResult, Evaluation
    from harness.golden import Case
    from harness.versions import Version

PAYLOAD_KEY = "harness"


class CaseByCase:
    """A worker's evaluation: versions and scorers loaded once, each case run on first request."""

    def __init__(self, cfg: HarnessConfig, resolver: Callable[[str, Path, str], Version]) -> None:
        from harness.evaluation import load_versions
        from harness.scorers import build_scorers

        self.cfg = cfg
        self.notes: list[str] = []  # e.g. a baseline that could not be loaded
        self.versions: list[Version] = load_versions(cfg, notes=self.notes, resolver=resolver)
        self.scorers = build_scorers(cfg)
        self.results: dict[str, dict[str, CaseResult]] = {v.label: {} for v in self.versions}

    def result(self, case: Case) -> CaseResult:
        """The candidate's scored result for `case`; every version runs it, as in a serial session."""
        from harness.evaluation import score_run
        from harness.runner import run_versions

        candidate = self.versions[0].label
        if case.id not in self.results[candidate]:
            runs = run_versions(self.versions, [case], self.cfg.concurrency, self.cfg.case_timeout_s, self.cfg.repeats)
            for run in runs:
                self.results[run.version.label].update(score_run(run, [case], self.scorers))
        return self.results[candidate][case.id]


def _row(result: CaseResult) -> dict[str, Any]:
    return {**result.to_dict(), "repeats": [asdict(o) for o in result.repeats]}


def worker_payload(by_case: CaseByCase | None, evaluation: Evaluation | None, deselected: int,
                   gate_items: Sequence[tuple[str, tuple[str, int | None, str], str]]) -> dict[str, Any]:
    """What a worker sends the controller. Cases its own tests asked for are `owned`; a whole
    evaluation some test requested on this worker is sent too, to fill cases no worker owned."""
    versions = by_case.versions if by_case else [v.version for v in evaluation.versions] if evaluation else []
    meta = [{"label": v.label, "reference": v.reference, "kind": v.kind, "load_s": v.load_s} for v in versions if v is not None]
    return {
        "versions": meta,
        "owned": {label: [_row(r) for r in rows.values()] for label, rows in by_case.results.items()} if by_case else {},
        "whole": {v.label: [_row(r) for r in v.results.values()] for v in evaluation.versions} if evaluation else {},
        "notes": by_case.notes if by_case else evaluation.notes if evaluation else [],
        "deselected": deselected,
        "gate_items": [list(item) for item in gate_items],
    }


def merge_payloads(cfg: HarnessConfig, cases: Sequence[Case], payloads: Sequence[dict[str, Any]]) -> Evaluation | None:
    """One Evaluation from the workers' results, in golden order, compared and gated as a serial
    run would be (`gate_evaluation`); None when no case ran."""
    from harness.evaluation import Evaluation, VersionResult, case_result_from_row, gate_evaluation

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

    versions = [
        VersionResult(m["label"], m["reference"], m["kind"], m["load_s"],
                      {c.id: case_result_from_row(c, rows[m["label"]][c.id]) for c in ran}, None, dict(cfg.weights))
        for m in meta
    ]
    notes = next((p["notes"] for p in payloads if p["notes"]), [])
    return gate_evaluation(Evaluation(cfg, ran, versions, notes=list(notes)))


def case_scheduling(config: Any, log: Any, param_to_case: dict[str, str]) -> Any:
    """xdist's scope scheduler, with a harness test's scope being its golden case (other tests: their own)."""
    from xdist.scheduler import LoadScopeScheduling

    class CaseScheduling(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            if nodeid.endswith("]") and "[" in nodeid:
                case_id = param_to_case.get(nodeid[nodeid.rindex("[") + 1:-1])
                if case_id is not None:
                    return f"harness-case:{case_id}"
            return nodeid

    return CaseScheduling(config, log)
