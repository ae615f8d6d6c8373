"""The session's decision and what publishing it did: two records the terminal, the reports and
`harness log` render from (`harness.reports.terminal`)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from harness.seal import GateRecord


@dataclass(frozen=True)
class Evaluated:
    """The logged model the candidate answered from: its identity and its artifact files' sha256."""

    model_uri: str
    model_id: str | None
    artifact_sha256: str


@dataclass(frozen=True)
class RegistryView:
    """What the registry held when the session decided: the model's aliases that exist; None when
    the store could not say (then every alias counts as there: a baseline is never skipped silently)."""

    aliases: frozenset[str] | None = None

    def has(self, alias: str) -> bool:
        return self.aliases is None or alias in self.aliases


@dataclass(frozen=True)
class Decision:
    """Whether the session may promote, and why not, decided once.

    `record` holds every fact of the decision; `publish` binds it to the report folder it is written
    into (`bound`: the folder's name, results.json's digest, the signature) and acts on the rest."""

    record: GateRecord
    blockers: tuple[str, ...]  # every reason the session may not promote whatever its gate says
    refusals: tuple[str, ...]  # why it will not promote: the gate, the blockers, promotion disabled, ...
    failed: bool = False  # the session fails: its gate failed or a rule scorer raised

    @property
    def may_promote(self) -> bool:
        return not self.refusals

    def bound(self, report_id: str, results_sha256: str, key: str | None) -> Decision:
        record = replace(self.record, report_id=report_id, results_sha256=results_sha256, signature="")
        return replace(self, record=record.signed(key))


@dataclass(frozen=True)
class Publication:
    """What publishing a decision did: each field None where that step did not happen."""

    outcome: str  # the promotion line: promoted, not promoted and why, or the step that failed
    report_dir: str | None = None
    tracking_uri: str | None = None
    run_id: str | None = None
    run_reused: bool = False  # the report's run was logged before (a retry), not logged again
    late: bool = False  # logged afterwards from the report folder (`harness log`)
    model_name: str | None = None
    version: str | None = None  # the registered version the alias points to
    alias: str | None = None
    failed: bool = False  # a step that should have happened did not (reports, store, promotion)
