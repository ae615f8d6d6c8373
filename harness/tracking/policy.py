"""Who may move which alias where: the rules of `harness promote` and `harness rollback`.

A promotion follows the chain (`development -> staging -> production`, no stage skipped) and is
allowed only for a version whose sealed gate record verifies (harness/tracking/models.py): tags
alone, such as `harness.gate=passed` set by hand, never promote. `--force --reason` overrides the
rules and is recorded as forced.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from harness import HarnessError, first_line
from harness.tracking import GATE_TAG, RUN_TAG
from harness.tracking.aliases import (
    ALIAS_TAG_PREFIX,
    alias_history,
    aliases_of,
    get_registered_model,
    get_version,
    move_alias,
    moved_at_ms,
    version_label,
)
from harness.tracking.connection import mlflow_client
from harness.tracking.models import record_problems

if TYPE_CHECKING:
    from harness.settings import HarnessConfig


@dataclass
class Plan:
    """A decided move, handed to move_alias (which re-checks it under the lock)."""

    model_name: str
    alias: str
    version: str
    current: str | None
    reason: str
    run_id: str
    action: str
    forced: bool = False
    requires_alias: str | None = None
    overrode: list[str] = field(default_factory=list)

    @property
    def noop(self) -> bool:
        return self.current == self.version

    def execute(self) -> dict[str, Any]:
        return move_alias(
            self.model_name,
            self.alias,
            self.version,
            self.current,
            self.reason,
            self.run_id,
            self.forced,
            action=self.action,
            requires_alias=self.requires_alias,
            overrode=self.overrode,
        )


def plan_promotion(
    model_name: str,
    to_alias: str,
    version: str | None,
    cfg: HarnessConfig,
    force: bool = False,
    reason: str = "",
    now_ms: float | None = None,
) -> Plan:
    """Decide a promotion to `to_alias`, or raise one line saying which rule refuses it.

    Rules: the version's sealed gate record verifies (record_problems); it holds the alias before
    `to_alias` in the chain (no stage skipped); and for the last alias of the chain, when
    `require_fresh_eval_hours` > 0, its evaluation is fresh and was made against the current
    holder of that alias (see fresh_eval_problem). `force` (with a reason) overrides these rules
    and records what it overrode; it never overrides an unknown model, version or alias.
    """
    policy = cfg.promotion
    chain = policy.chain
    if to_alias not in chain:
        raise HarnessError(f"unknown alias '{to_alias}': the promotion chain is {' -> '.join(chain)}")
    if force and not reason.strip():
        raise HarnessError('--force needs --reason "...": the reason is recorded in the alias history')
    client = mlflow_client()
    model = get_registered_model(client, model_name)
    aliases = aliases_of(model)
    position = chain.index(to_alias)
    previous = chain[position - 1] if position else None
    mv = get_version(client, model_name, version or _held_by_previous(model_name, aliases, previous, to_alias))
    version = str(mv.version)
    current = aliases.get(to_alias)
    plan = Plan(
        model_name, to_alias, version, current, reason.strip(), mv.tags.get(RUN_TAG, ""), "promote", forced=force
    )
    if plan.noop:
        return plan
    problems = record_problems(client, mv, cfg)
    if previous is not None and aliases.get(previous) != version:
        problems.append(_skip_problem(aliases, version, previous, to_alias))
    hint = ""
    if position == len(chain) - 1 and policy.require_fresh_eval_hours > 0:
        problem = fresh_eval_problem(client, model, mv, to_alias, policy.require_fresh_eval_hours, now_ms)
        if problem:
            problems.append(problem)
            hint = (
                f"; re-evaluate it with `pytest suites/ --agent models:/{model_name}/{version} "
                f"--baseline models:/{model_name}@{to_alias}{f' --promote-to {previous}' if previous else ''}`"
            )
    if problems and not force:
        raise HarnessError("; ".join(problems) + hint + ' (--force --reason "..." overrides, recorded in the history)')
    plan.overrode = problems
    plan.requires_alias = None if force else previous
    if not plan.reason:
        plan.reason = f"promoted from @{previous}" if previous else "promoted"
    return plan


def _held_by_previous(model_name: str, aliases: dict[str, str], previous: str | None, to_alias: str) -> str:
    """The version to promote when none is named: the one holding the alias before `to_alias`."""
    if previous is None:
        raise HarnessError(f"@{to_alias} is the first alias of the chain: name the version with --version N")
    version = aliases.get(previous)
    if version is None:
        raise HarnessError(f"@{previous} of '{model_name}' holds no version: nothing to promote to @{to_alias}")
    return version


def _skip_problem(aliases: dict[str, str], version: str, previous: str, to_alias: str) -> str:
    held = ", ".join(f"@{a}" for a, v in sorted(aliases.items()) if v == version) or "no alias"
    return (
        f"version {version} does not hold @{previous} (it holds {held}; @{previous} is "
        f"{version_label(aliases.get(previous))}): a promotion to @{to_alias} may not skip @{previous}"
    )


def fresh_eval_problem(
    client: Any, model: Any, mv: Any, alias: str, hours: float, now_ms: float | None = None
) -> str | None:
    """Why the version's evaluation does not count as fresh against the current holder of `alias`, or None.

    "A fresh evaluation against the current production" means: the version's eval run (tag
    harness.eval_run_id) passed its gate, started no more than `hours` ago, and, when the alias
    already points at another version P, compared the candidate against P: the run's `versions`
    parameter lists `models:/<name>/<P>`, or `models:/<name>@<alias>` and the run started after
    the alias last moved to P (so the floating reference resolved to P).
    """
    name, version = model.name, str(mv.version)
    run_id = mv.tags.get(RUN_TAG)
    if not run_id:
        return (
            f"@{alias} needs an evaluation of version {version} from the last {hours:g} h, and it has no "
            f"eval run (tag {RUN_TAG})"
        )
    try:
        run = client.get_run(run_id)
    except Exception as exc:
        return (
            f"@{alias} needs a fresh evaluation of version {version}, and its eval run {run_id} cannot be "
            f"read ({first_line(exc)})"
        )
    now_ms = time.time() * 1000 if now_ms is None else now_ms
    age_h = (now_ms - run.info.start_time) / 3_600_000
    if run.data.tags.get(GATE_TAG) != "passed":
        return f"version {version}'s eval run {run_id} did not pass its gate"
    if age_h > hours:
        return (
            f"@{alias} needs an evaluation of version {version} from the last {hours:g} h; its eval run "
            f"{run_id} started {age_h:.1f} h ago"
        )
    holder = aliases_of(model).get(alias)
    if holder is None or holder == version:
        return None
    compared = [r.strip() for r in run.data.params.get("versions", "").split(",")[1:] if r.strip()]
    if f"models:/{name}/{holder}" in compared:
        return None
    if f"models:/{name}@{alias}" in compared:
        moved = moved_at_ms(model, client, alias, holder)
        if moved is not None and moved <= run.info.start_time:
            return None
        return (
            f"@{alias} needs an evaluation against its current holder, version {holder}; eval run {run_id} "
            "compared against "
            f"@{alias} before it moved to version {holder}"
        )
    return (
        f"@{alias} needs an evaluation against its current holder, version {holder}; eval run {run_id} of "
        f"version {version} "
        f"compared against {', '.join(compared) or 'no baseline'}"
    )


def holders_before(history: list[dict[str, Any]], alias: str) -> list[str]:
    """The versions `alias` returns to on successive rollbacks, most recent last.

    A promotion (or the hook's move) pushes the version it moved to; a rollback truncates the
    stack back to its target, so a version rolled back from is not returned to by a later plain
    rollback (only with --to).
    """
    stack: list[str] = []
    for entry in history:
        if entry.get("alias") != alias or not entry.get("to"):
            continue
        to, source = str(entry["to"]), entry.get("from")
        if entry.get("action") == "rollback":
            if to in stack:
                del stack[len(stack) - stack[::-1].index(to) :]
            else:
                stack.append(to)
            continue
        if source and (not stack or stack[-1] != str(source)):
            stack.append(str(source))  # it held the alias before the harness recorded anything
        if not stack or stack[-1] != to:
            stack.append(to)
    return stack


def plan_rollback(model_name: str, alias: str, to_version: str | None, cfg: HarnessConfig, reason: str = "") -> Plan:
    """Decide a rollback of `alias` to the version it held before (or to `to_version`, which must have held it).

    The version's own sealed record must verify (`record_problems` with `today=False`): it passed
    under the policy and golden files of its day, from these very artifact files."""
    policy = cfg.promotion
    client = mlflow_client()
    model = get_registered_model(client, model_name)
    aliases = aliases_of(model)
    history = [e for e in alias_history(model) if e.get("alias") == alias and e.get("state") != "abandoned"]
    if alias not in policy.chain and alias not in aliases and not history:
        known = sorted(set(policy.chain) | set(aliases))
        raise HarnessError(f"unknown alias '{alias}' of '{model_name}' (known: {', '.join(known)})")
    current = aliases.get(alias)
    held = sorted({str(v) for e in history for v in (e.get("from"), e.get("to")) if v}, key=int)
    if to_version is None:
        stack = holders_before(history, alias)
        while stack and stack[-1] == current:
            stack.pop()
        if not stack:
            before = (
                f"no version before {version_label(current)}"
                if current
                else "no version to return to (the alias is unset)"
            )
            raise HarnessError(f"nothing to return to: the history of @{alias} of '{model_name}' has {before}")
        target = stack[-1]
        try:
            mv = get_version(client, model_name, target)
        except HarnessError:
            raise HarnessError(
                f"@{alias} held version {target} before, but that version no longer exists; choose one with --to N "
                f"(versions that held @{alias}: {', '.join(held)})"
            ) from None
    else:
        mv = get_version(client, model_name, to_version)
        target = str(mv.version)
        if target == current:
            raise HarnessError(f"version {target} already holds @{alias} of '{model_name}': nothing to roll back to")
        if target not in held and ALIAS_TAG_PREFIX + alias not in mv.tags:
            raise HarnessError(
                f"version {target} never held @{alias} of '{model_name}'; a rollback returns to a version that did "
                f"({', '.join(held) or 'none'})"
            )
    # The history and the alias tags are plain registry tags anyone with write access can set: only
    # a version whose own sealed record verifies is returned to.
    problems = record_problems(client, mv, cfg, today=False)
    if problems:
        raise HarnessError(f"cannot roll @{alias} of '{model_name}' back to version {target}: {problems[0]}")
    return Plan(
        model_name,
        alias,
        target,
        current,
        reason.strip() or f"rollback from {version_label(current)}",
        mv.tags.get(RUN_TAG, ""),
        "rollback",
    )
