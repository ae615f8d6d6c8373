"""Alias moves: compare-and-set under the registry lock, recorded so that no crash loses a move.

Every move is written ahead: the history entry goes to the model's `harness.alias_history` tag as
`pending` first, then the alias moves, then the versions get their audit tags and the entry turns
`done`. A process killed anywhere in between leaves a pending entry that the next write under the
lock settles from what the alias actually points at (`done` if it moved, `abandoned` if not), so
the history never loses a move and never shows one that did not happen.
"""

from __future__ import annotations

import difflib
import json
from datetime import datetime
from typing import Any

from harness import HarnessError
from harness.tracking.connection import error_code as _error_code
from harness.tracking.connection import mlflow_client
from harness.tracking.lock import LOCK_SUFFIX, LOCK_TIMEOUT_S, Lease, now_iso, registry_lock, who

HISTORY_TAG = "harness.alias_history"  # registered-model tag: JSON list of every alias move, oldest first
ALIAS_TAG_PREFIX = "harness.alias."  # version tag `harness.alias.<alias>`: its latest move to that alias
MAX_TAG_VALUE = 100_000  # MLflow's limit on a registry tag value; the oldest history entries give way


NOT_FOUND_CODES = ("RESOURCE_DOES_NOT_EXIST", "INVALID_PARAMETER_VALUE")  # no such model, version or alias


class AliasConflict(HarnessError):
    """The alias (or the stage the version had to hold) moved after the decision: nothing was moved."""


def version_label(version: str | None) -> str:
    return f"version {version}" if version else "unset"


def _ms(iso: str) -> float | None:
    try:
        return datetime.fromisoformat(iso).timestamp() * 1000
    except (TypeError, ValueError):
        return None


def get_registered_model(client: Any, model_name: str) -> Any:
    """The registered model, or one line naming the unknown model (and a close match, if any)."""
    from mlflow.exceptions import MlflowException

    try:
        return client.get_registered_model(model_name)
    except MlflowException as exc:
        if _error_code(exc) not in NOT_FOUND_CODES:
            raise
    try:
        known = sorted(
            m.name for m in client.search_registered_models(max_results=1000) if not m.name.endswith(LOCK_SUFFIX)
        )
    except MlflowException:
        known = []
    hint = difflib.get_close_matches(model_name, known, n=1)
    listing = f" (did you mean '{hint[0]}'?)" if hint else f"; registered models: {', '.join(known[:10]) or 'none'}"
    raise HarnessError(f"unknown model '{model_name}' in the tracking store{listing}") from None


def alias_exists(model_name: str, alias: str) -> bool:
    """Whether `alias` of `model_name` exists in the current store; any answer but "no such model
    or alias" is raised, since it cannot say either way."""
    from mlflow.exceptions import MlflowException

    try:
        mlflow_client().get_model_version_by_alias(model_name, alias)
    except MlflowException as exc:
        if _error_code(exc) in NOT_FOUND_CODES:
            return False
        raise
    return True


def get_version(client: Any, model_name: str, version: str) -> Any:
    """A model version, or one line naming the unknown version."""
    from mlflow.exceptions import MlflowException

    if not str(version).isdigit():
        raise HarnessError(f"version must be a positive whole number, got '{version}'")
    try:
        return client.get_model_version(model_name, str(int(version)))
    except MlflowException as exc:
        if _error_code(exc) != "RESOURCE_DOES_NOT_EXIST":
            raise
    try:
        numbers = sorted(int(v.version) for v in client.search_model_versions(f"name = '{model_name}'"))
    except MlflowException:
        numbers = []
    have = f"its versions are {', '.join(map(str, numbers))}" if numbers else "it has no versions"
    raise HarnessError(f"model '{model_name}' has no version {version} ({have})") from None


def aliases_of(registered_model: Any) -> dict[str, str]:
    return {alias: str(version) for alias, version in (registered_model.aliases or {}).items()}


def alias_history(registered_model: Any) -> list[dict[str, Any]]:
    """Every alias move the harness recorded on this model, oldest first (`state` pending, done or abandoned)."""
    raw = registered_model.tags.get(HISTORY_TAG)
    if not raw:
        return []
    try:
        history = json.loads(raw)
    except json.JSONDecodeError:
        history = None
    if not isinstance(history, list) or not all(isinstance(e, dict) for e in history):
        raise HarnessError(
            f"model '{registered_model.name}': tag {HISTORY_TAG} is not a JSON list of moves; repair or delete the tag"
        )
    return history


def _history_json(history: list[dict[str, Any]]) -> str:
    text = json.dumps(history, separators=(",", ":"))
    while len(text) > MAX_TAG_VALUE and len(history) > 1:
        history = history[max(1, len(history) // 10) :]  # the versions keep their own alias tags
        text = json.dumps(history, separators=(",", ":"))
    return text


def moved_at_ms(registered_model: Any, client: Any, alias: str, version: str) -> float | None:
    """When `alias` last moved to `version`: from the history, else from the version's alias tag."""
    for entry in reversed(alias_history(registered_model)):
        if entry.get("alias") == alias and entry.get("to") == version:
            return _ms(entry.get("at", ""))
    try:
        tag = client.get_model_version(registered_model.name, version).tags.get(ALIAS_TAG_PREFIX + alias)
        return _ms(json.loads(tag).get("at", "")) if tag else None
    except Exception:
        return None


def settle(
    client: Any, model_name: str, history: list[dict[str, Any]], aliases: dict[str, str]
) -> list[dict[str, Any]]:
    """The history with every move a killed process left `pending` settled by where its alias points now.

    Under the lock only. A pending move whose alias points at its target happened: its version tags
    are written (if the process died before writing them) and it becomes `done`; any other pending
    move never happened and becomes `abandoned`.
    """
    settled, changed = [], False
    for entry in history:
        if entry.get("state") == "pending":
            changed = True
            moved = aliases.get(str(entry.get("alias"))) == str(entry.get("to"))
            entry = {**entry, "state": "done" if moved else "abandoned"}
            if moved:
                _tag_versions(client, model_name, entry)
        settled.append(entry)
    if changed:
        client.set_registered_model_tag(model_name, HISTORY_TAG, _history_json(settled))
    return settled


def _tag_versions(client: Any, model_name: str, entry: dict[str, Any]) -> None:
    """The audit tags of one move: on the version it moved to, and on the version it replaced."""
    record = {k: v for k, v in entry.items() if k != "state"}
    client.set_model_version_tag(model_name, entry["to"], ALIAS_TAG_PREFIX + entry["alias"], json.dumps(record))
    if entry.get("from") and entry["from"] != entry["to"]:
        left = {
            "at": entry["at"],
            "by": entry["by"],
            "to": entry["to"],
            "action": entry["action"],
            "reason": entry["reason"],
        }
        client.set_model_version_tag(
            model_name, entry["from"], f"{ALIAS_TAG_PREFIX}{entry['alias']}.left", json.dumps(left)
        )


def move_alias(
    model_name: str,
    alias: str,
    version: str,
    expected_current: str | None,
    reason: str,
    run_id: str = "",
    forced: bool = False,
    *,
    action: str = "promote",
    requires_alias: str | None = None,
    overrode: list[str] | None = None,
    lock_timeout_s: float = LOCK_TIMEOUT_S,
    lease: Lease | None = None,
) -> dict[str, Any]:
    """Compare-and-set: point `alias` at `version` only if it still points at `expected_current`.

    Under the registry lock (taken here, or the caller's `lease`): settle moves a dead process left
    pending, re-read the alias (and, with `requires_alias`, that the version still holds the stage
    it is promoted from), refuse with AliasConflict if either changed since the decision, then write
    the move ahead as pending, move the alias, tag the versions, mark the move done, and read the
    alias back. Returns the history entry.
    """
    if lease is None:
        with registry_lock(model_name, f"{action} @{alias} -> version {version}", timeout_s=lock_timeout_s) as held:
            return move_alias(
                *(model_name, alias, version, expected_current, reason, run_id, forced),
                action=action,
                requires_alias=requires_alias,
                overrode=overrode,
                lease=held,
            )
    client = lease.client
    version = str(version)
    expected_current = None if expected_current is None else str(expected_current)
    model = get_registered_model(client, model_name)
    aliases = aliases_of(model)
    history = settle(client, model_name, alias_history(model), aliases)
    _still_as_decided(model_name, alias, version, expected_current, aliases, history, requires_alias)
    entry: dict[str, Any] = {"at": now_iso(), "alias": alias, "from": aliases.get(alias), "to": version}
    entry |= {"action": action, "by": who(), "reason": reason, "run_id": run_id or "", "forced": bool(forced)}
    entry |= {"overrode": list(overrode)} if overrode else {}
    lease.check()
    client.set_registered_model_tag(model_name, HISTORY_TAG, _history_json(history + [{**entry, "state": "pending"}]))
    client.set_registered_model_alias(model_name, alias, version)
    _tag_versions(client, model_name, entry)
    client.set_registered_model_tag(model_name, HISTORY_TAG, _history_json(history + [{**entry, "state": "done"}]))
    after = aliases_of(client.get_registered_model(model_name)).get(alias)
    if after != version:
        raise HarnessError(
            f"@{alias} of '{model_name}' points at {version_label(after)} right after it was moved to version "
            f"{version}: something moved it without the harness lock; see `harness history`"
        )
    _describe(client, model_name, history + [{**entry, "state": "done"}])
    return entry


def _still_as_decided(
    model_name: str,
    alias: str,
    version: str,
    expected_current: str | None,
    aliases: dict[str, str],
    history: list[dict[str, Any]],
    requires_alias: str | None,
) -> None:
    """AliasConflict when the alias (or the stage the version is promoted from) changed since the decision."""
    current = aliases.get(alias)
    if current != expected_current:
        last = next((e for e in reversed(history) if e.get("alias") == alias and e.get("state") != "abandoned"), None)
        how = ""
        if last and last.get("to") == current:
            how = (
                f" ({last.get('action', 'move')} by {last.get('by', '?')} at {last.get('at', '?')}: "
                f"{last.get('reason', '')})"
            )
        raise AliasConflict(
            f"@{alias} of '{model_name}' changed after this decision: it was {version_label(expected_current)}, "
            f"now {version_label(current)}{how}; nothing moved, look again and retry"
        )
    if requires_alias and aliases.get(requires_alias) != version:
        raise AliasConflict(
            f"version {version} of '{model_name}' no longer holds @{requires_alias} (now "
            f"{version_label(aliases.get(requires_alias))}); "
            f"nothing moved, look again and retry"
        )


def _describe(client: Any, model_name: str, history: list[dict[str, Any]]) -> None:
    """The history as a readable table in the model's description (a view of the history tag)."""
    from harness.tracking.models import describe_history

    try:
        describe_history(client, model_name, history)
    except Exception:
        pass  # the move is done and recorded in the tag; the description is only its view


def set_alias(
    model_name: str, alias: str, version: str, reason: str, run_id: str = "", lease: Lease | None = None
) -> dict[str, Any]:
    """Point an alias at a version after a passing evaluation, from wherever it points now (recorded)."""
    client = lease.client if lease else mlflow_client()
    current = aliases_of(get_registered_model(client, model_name)).get(alias)
    return move_alias(
        model_name, alias, version, current, reason=reason, run_id=run_id, action="evaluation", lease=lease
    )
