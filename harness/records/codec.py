"""The one JSON encoding of the records that leave a process: an `Evaluation` (results.json, read
back by `harness log` and `harness compare`), a worker's results (the xdist payloads) and a
`Decision` (session.json). Every document carries `schema_version`; a document of another
version is refused in one line rather than misread. Per case, `CaseResult.to_dict` / `from_dict`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Protocol

from harness import HarnessError

if TYPE_CHECKING:
    from harness.golden import Case
    from harness.records.decision import Decision
    from harness.records.evaluation import Evaluation
    from harness.records.results import CaseResult, VersionResult

SCHEMA_VERSION = 1
# The settings a results.json records, read back as the configuration it was evaluated under.
RECORDED_SETTINGS = (
    "agent",
    "versions",
    "model_name",
    "promote_to",
    "thresholds",
    "non_inferiority",
    "weights",
    "baseline",
    "judge_model",
    "concurrency",
    "case_timeout_s",
    "repeats",
    "in_process",
)
# Those of them `harness log` applies again over the project's configuration.
REAPPLIED_SETTINGS = (
    "agent",
    "versions",
    "model_name",
    "promote_to",
    "thresholds",
    "non_inferiority",
    "judge_model",
    "repeats",
)


class Named(Protocol):
    """A version by its name, loaded (`Version`) or evaluated (`VersionResult`)."""

    @property
    def label(self) -> str: ...
    @property
    def reference(self) -> str: ...
    @property
    def kind(self) -> str: ...
    @property
    def load_s(self) -> float: ...


def version_meta(version: Named) -> dict[str, Any]:
    """What names a version in every document: enough to rebuild its record around its cases."""
    return {"label": version.label, "reference": version.reference, "kind": version.kind, "load_s": version.load_s}


def encode_version(version: VersionResult) -> dict[str, Any]:
    return {
        **version_meta(version),
        "model_config": getattr(version.version, "model_config", None),
        "metrics": {name: est.to_dict() for name, est in version.metrics().items()},
        "cases": [r.to_dict() for r in version.results.values()],
    }


def encode_evaluation(evaluation: Evaluation, blockers: Sequence[str] | None = None) -> dict[str, Any]:
    """An evaluation as results.json holds it (the report writer adds the golden files' digests and
    the latency section).

    `blockers`: the session's reasons not to promote, whatever the gate says (None: not known here)."""
    cfg = evaluation.config
    recorded = {key: getattr(cfg, key) for key in RECORDED_SETTINGS}
    return {
        "schema_version": SCHEMA_VERSION,
        "config": recorded | {"versions": [v.reference for v in evaluation.versions]},
        "n_cases": len(evaluation.cases),
        "gate": evaluation.gate.to_dict() if evaluation.gate else None,
        "blockers": None if blockers is None else list(blockers),
        # The candidate against each other version (schema: harness.records.comparison.COMPARISON_SCHEMA),
        # and one-line notes such as a baseline that could not be loaded.
        "comparisons": [c.to_dict() for c in evaluation.comparisons],
        "notes": list(evaluation.notes),
        "versions": [encode_version(v) for v in evaluation.versions],
    }


def checked(document: Any, where: str) -> dict[str, Any]:
    """`document` if it is an evaluation this codec reads, else one line saying why not."""
    if not isinstance(document, dict) or not isinstance(document.get("versions"), list) or not document["versions"]:
        raise HarnessError(f"{where}: not a results.json document (no 'versions' list)")
    if document.get("schema_version", SCHEMA_VERSION) != SCHEMA_VERSION:
        raise HarnessError(
            f"{where}: schema_version {document.get('schema_version')!r}; this harness reads {SCHEMA_VERSION}"
        )
    for entry in document["versions"]:
        if not isinstance(entry, dict) or not isinstance(entry.get("cases"), list):
            raise HarnessError(f"{where}: every entry of 'versions' needs a 'cases' list")
    return document


def recorded_settings(document: Mapping[str, Any]) -> dict[str, Any]:
    """The settings `harness log` applies again: those results.json recorded, its golden files by path."""
    recorded = document["config"]
    settings = {key: recorded.get(key) for key in REAPPLIED_SETTINGS}
    return settings | {"golden": [g["path"] for g in recorded.get("golden", [])] or None}


def decode_versions(
    entries: Iterable[Mapping[str, Any]], case_of: Callable[[Mapping[str, Any]], Case]
) -> list[tuple[dict[str, Any], dict[str, CaseResult]]]:
    """Each version's name (`version_meta`) and its case results; `case_of` gives a row's case."""
    from harness.records.results import CaseResult

    decoded = []
    for entry in entries:
        meta = {key: entry[key] for key in ("label", "reference", "kind", "load_s")}
        results = {}
        for row in entry["cases"]:
            results[row["id"]] = CaseResult.from_dict(case_of(row), row)
        decoded.append((meta, results))
    return decoded


def encode_payload(
    versions: Sequence[Mapping[str, Any]],
    owned: Mapping[str, Iterable[CaseResult]],
    whole: Mapping[str, Iterable[CaseResult]],
    notes: Sequence[str],
    deselected: int,
    gate_items: Sequence[Sequence[Any]],
) -> dict[str, Any]:
    """What an xdist worker sends the controller: its versions' names, the results its own tests
    asked for (`owned`), a whole evaluation some test requested (`whole`), notes, deselections, gate tests."""
    return {
        "schema_version": SCHEMA_VERSION,
        "versions": [dict(v) for v in versions],
        "owned": {label: [r.to_dict() for r in rows] for label, rows in owned.items()},
        "whole": {label: [r.to_dict() for r in rows] for label, rows in whole.items()},
        "notes": list(notes),
        "deselected": deselected,
        "gate_items": [list(item) for item in gate_items],
    }


def encode_session(decision: Decision) -> dict[str, Any]:
    """session.json: what the session knew beyond results.json: whether it meant to promote, and why it may not."""
    return {
        "schema_version": SCHEMA_VERSION,
        "promote": decision.record.promote,
        "blockers": list(decision.blockers),
        "refusals": list(decision.refusals),
    }
