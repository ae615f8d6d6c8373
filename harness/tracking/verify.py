"""Whether a registered version may be consumed (served, deployed): checked where it is consumed.

Two facts, both re-read from the store: the version's sealed record verifies as sealed (its
artifact files hash to the sealed digest, its signature, a passing and complete session; see
`models.record_problems`), and, for an alias, its current position is the last move in the
harness's alias history. An alias set by hand (`set_registered_model_alias`) fails the second
even when the version it points at has a good record.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from harness import HarnessError, first_line
from harness.tracking import RECORD_TAG
from harness.tracking.aliases import alias_history, aliases_of, get_registered_model, get_version
from harness.tracking.models import record_problems

if TYPE_CHECKING:
    from harness.settings import HarnessConfig

REGISTRY_URI = re.compile(r"^models:/(?P<name>[^/@]+)(?:@(?P<alias>[\w-]+)|/(?P<version>\d+))$")
OUTSIDE = "moved outside the harness"
NO_RECORD = "no sealed record"


@dataclass(frozen=True)
class Verdict:
    """One alias or version checked: what it is, the version it resolved to, and every problem found."""

    subject: str  # models:/name@alias or models:/name/N
    version: str
    problems: tuple[str, ...]

    @property
    def verified(self) -> bool:
        return not self.problems


def position_problem(model: Any, alias: str, version: str) -> str | None:
    """Why @alias pointing at `version` is not where the harness last moved it; None when it is."""
    moves = [e for e in alias_history(model) if e.get("alias") == alias and e.get("state") != "abandoned"]
    if not moves:
        return f"@{alias} points at version {version} and the harness never moved it: {OUTSIDE}"
    last = moves[-1]
    if str(last.get("to")) != version:
        return (
            f"@{alias} points at version {version}, but its last move in the harness's history is to version "
            f"{last.get('to')} "
            f"({last.get('action', 'move')} by {last.get('by', '?')} at {last.get('at', '?')}): {OUTSIDE}"
        )
    return None


def _record(client: Any, mv: Any, cfg: HarnessConfig) -> list[str]:
    try:
        return record_problems(client, mv, cfg, today=False)
    except HarnessError as exc:  # a record tag that does not parse
        return [first_line(exc)]


def check_alias(client: Any, model: Any, alias: str, cfg: HarnessConfig) -> Verdict:
    """`alias` (which `model` has): its version's record, and whether the harness moved it there."""
    subject = f"models:/{model.name}@{alias}"
    version = aliases_of(model)[alias]
    problems = _record(client, client.get_model_version(model.name, version), cfg)
    position = position_problem(model, alias, version)
    return Verdict(subject, version, tuple(problems + ([position] if position else [])))


def check_version(client: Any, model_name: str, version: str, cfg: HarnessConfig) -> Verdict:
    mv = get_version(client, model_name, version)
    return Verdict(f"models:/{model_name}/{mv.version}", str(mv.version), tuple(_record(client, mv, cfg)))


def check_reference(reference: str | None, cfg: HarnessConfig, model_name: str | None = None) -> list[Verdict]:
    """Check `models:/NAME@ALIAS`, `models:/NAME/N`, `@ALIAS` or a bare version number of
    `model_name`, or (None) every alias of `model_name`."""
    from harness.tracking.connection import mlflow_client

    client = mlflow_client()
    name = model_name or cfg.model_name
    if reference is None:
        model = get_registered_model(client, name)
        aliases = aliases_of(model)
        if not aliases:
            raise HarnessError(f"model '{name}' has no aliases to verify")
        return [check_alias(client, model, alias, cfg) for alias in sorted(aliases)]
    reference = reference.strip()
    if reference.startswith("@"):
        reference = f"models:/{name}{reference}"
    if reference.isdigit():
        return [check_version(client, name, reference, cfg)]
    match = REGISTRY_URI.match(reference)
    if not match:
        raise HarnessError(
            f"{reference!r} is not a registered version: expected models:/NAME@ALIAS, models:/NAME/N, @ALIAS "
            "or a version number"
        )
    if match["version"]:
        return [check_version(client, match["name"], match["version"], cfg)]
    model = get_registered_model(client, match["name"])
    if match["alias"] not in aliases_of(model):
        raise HarnessError(
            f"model '{match['name']}' has no alias @{match['alias']} (its aliases: "
            f"{', '.join('@' + a for a in sorted(aliases_of(model))) or 'none'})"
        )
    return [check_alias(client, model, match["alias"], cfg)]


def quick_marks(model: Any, mv: Any, alias: str) -> list[str]:
    """What `harness status` says of an alias without hashing artifacts: no record, moved by hand."""
    marks = [] if RECORD_TAG in mv.tags else [NO_RECORD]
    if position_problem(model, alias, str(mv.version)):
        marks.append(OUTSIDE)
    return marks
