"""`harness promote`, `harness rollback`, `harness history` and `harness status`.

The registry lifecycle on MLflow aliases and tags: a version moves development -> staging ->
production (the chain under `[tool.harness.promotion]`) only when its sealed gate record verifies and it
holds the previous alias; every move is a compare-and-set under the registry lock and is recorded
on the versions and in the model's alias history (see harness/tracking/). The model name comes
from `[tool.harness] model_name` (`--model` overrides); the store from MLFLOW_TRACKING_URI or the
project's `mlflow.db`.
"""

from __future__ import annotations

import argparse
import json
import time
from typing import Any

from harness import HarnessError
from harness.tracking.connection import store_errors


def _model_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--model", metavar="NAME", help="registered model (default: [tool.harness] model_name)")


def configure_promote(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--to",
        required=True,
        metavar="ALIAS",
        help="alias to move, the next one in the chain (e.g. staging, production)",
    )
    parser.add_argument(
        "--version", metavar="N", help="version to promote (default: the one holding the previous alias)"
    )
    parser.add_argument(
        "--force", action="store_true", help="override the gate, chain and freshness rules (needs --reason)"
    )
    parser.add_argument("--reason", default="", help="why; recorded in the alias history")
    _model_option(parser)


def configure_rollback(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("alias", help="alias to move back, e.g. production")
    parser.add_argument(
        "--to",
        dest="to_version",
        metavar="N",
        help="a version that once held the alias (default: the one it held before)",
    )
    parser.add_argument("--reason", default="", help="why; recorded in the alias history")
    _model_option(parser)


def configure_history(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--alias", help="only the moves of this alias")
    parser.add_argument("--limit", type=int, default=0, metavar="N", help="only the N most recent moves")
    _model_option(parser)


def configure_status(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--check",
        action="store_true",
        help="verify each alias's version (record, artifact files) and exit 1 if one does not verify or was "
        "moved outside the harness",
    )
    _model_option(parser)


def open_store(args: argparse.Namespace) -> tuple[Any, str, str]:
    """Load the config, connect to the tracking store, and name the model: (config, model name, store URI)."""
    from harness.config import load_config
    from harness.tracking.connection import connect, sqlite_file, tracking_uri

    cfg = load_config()
    uri = tracking_uri(cfg.root)
    if (database := sqlite_file(uri)) is not None and not database.is_file():
        # Opening it would create an empty store; say where nothing was found instead.
        raise HarnessError(
            f"no tracking store at {uri}: nothing has been logged there yet (run the suites first, or set "
            "MLFLOW_TRACKING_URI)"
        )
    connect(cfg.root)
    return cfg, args.model or cfg.model_name, uri


@store_errors
def run_promote(args: argparse.Namespace) -> int:
    from harness.tracking import aliases, policy

    cfg, model_name, _ = open_store(args)
    plan = policy.plan_promotion(model_name, args.to, args.version, cfg, force=args.force, reason=args.reason)
    if plan.noop:
        print(f"version {plan.version} of '{model_name}' already holds @{plan.alias}; nothing moved")
        return 0
    entry = plan.execute()
    forced = f"; forced: {entry['reason']} (overrode: {'; '.join(plan.overrode)})" if plan.overrode else ""
    print(
        f"promoted version {plan.version} of '{model_name}' to @{plan.alias} (was "
        f"{aliases.version_label(plan.current)}){forced}"
    )
    return 0


@store_errors
def run_rollback(args: argparse.Namespace) -> int:
    from harness.tracking import aliases, policy

    cfg, model_name, _ = open_store(args)
    plan = policy.plan_rollback(model_name, args.alias, args.to_version, cfg, reason=args.reason)
    plan.execute()
    print(
        f"rolled @{plan.alias} of '{model_name}' back to version {plan.version} (was "
        f"{aliases.version_label(plan.current)})"
    )
    return 0


@store_errors
def run_history(args: argparse.Namespace) -> int:
    from harness.tracking import aliases
    from harness.tracking.connection import mlflow_client

    cfg, model_name, _ = open_store(args)
    model = aliases.get_registered_model(mlflow_client(), model_name)
    history = aliases.alias_history(model)
    if args.alias:
        known = {e.get("alias") for e in history} | set(aliases.aliases_of(model)) | set(cfg.promotion.chain)
        if args.alias not in known:
            raise HarnessError(
                f"unknown alias '{args.alias}' of '{model_name}' (aliases with a history: "
                f"{', '.join(sorted(a for a in known if a)) or 'none'})"
            )
        history = [e for e in history if e.get("alias") == args.alias]
    if args.limit > 0:
        history = history[-args.limit :]
    if not history:
        print(f"no alias moves recorded for '{model_name}'")
        return 0
    rows = [
        [
            _when(e.get("at", "")),
            f"@{e.get('alias', '')}",
            e.get("from") or "-",
            e.get("to", ""),
            e.get("action", "")
            + (" (forced)" if e.get("forced") else "")
            + (f" ({e['state']})" if e.get("state") not in (None, "done") else ""),
            _short(e.get("by", ""), 24),
            _run(e.get("run_id")),
            e.get("reason", ""),
        ]
        for e in history
    ]
    print(f"alias history of '{model_name}', oldest first")
    print(_table(["when (UTC)", "alias", "from", "to", "action", "by", "eval run", "reason"], rows))
    return 0


WIDTH = 100  # every table fits a 100-column terminal; the last column wraps


def _table(headers: list[str], rows: list[list[Any]]) -> str:
    """A `simple` table at most WIDTH wide: the last column gets what the others leave, and wraps."""
    import textwrap

    from tabulate import tabulate

    others = [max(len(str(c)) for c in column) for column in zip(headers[:-1], *(r[:-1] for r in rows))]
    room = max(16, WIDTH - sum(others) - 2 * len(others))
    wrapped = [r[:-1] + [textwrap.fill(str(r[-1]), room) if r[-1] else ""] for r in rows]
    return tabulate(wrapped, headers=headers, tablefmt="simple", disable_numparse=True)


def _short(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def _run(run_id: str | None) -> str:
    """An evaluation run's id, shortened like a git commit (the full id is on the version's tags)."""
    return run_id[:8] if run_id else "-"


def _when(iso: str) -> str:
    """An ISO timestamp (UTC) to the minute: `2026-11-30 20:37`."""
    return iso[:16].replace("T", " ") if len(iso) >= 16 else iso or "-"


def _age(ms: float | None, now_ms: float) -> str:
    if ms is None:
        return "-"
    seconds = max(0, int((now_ms - ms) / 1000))
    days, rest = divmod(seconds, 86_400)
    hours, rest = divmod(rest, 3_600)
    minutes, seconds = divmod(rest, 60)
    if days:
        return f"{days}d {hours}h"
    if hours:
        return f"{hours}h {minutes}m"
    return f"{minutes}m {seconds}s" if minutes else f"{seconds}s"


def _figure(metric: str, raw: str) -> str:
    """A metric tag's value, compact: scores to 3 decimals, latencies in milliseconds (whole from 100)."""
    try:
        value = float(raw)
    except ValueError:
        return raw
    if metric.endswith("_ms"):
        return f"{value:,.0f}" if value >= 100 else f"{value:.1f}"
    return f"{value:.3f}"


@store_errors
def run_status(args: argparse.Namespace) -> int:
    from harness import tracking
    from harness.tracking import aliases as registry
    from harness.tracking.connection import mlflow_client
    from harness.tracking.lock import lock_holder
    from harness.tracking.verify import check_alias, quick_marks

    cfg, model_name, uri = open_store(args)
    client = mlflow_client()
    model = registry.get_registered_model(client, model_name)
    aliases = registry.aliases_of(model)
    names = list(cfg.promotion.chain) + sorted(a for a in aliases if a not in cfg.promotion.chain)
    versions = {v: client.get_model_version(model_name, v) for v in set(aliases.values())}
    now_ms = time.time() * 1000
    rows, problems = [], []
    for alias in names:
        number = aliases.get(alias)
        if number is None:
            rows.append([f"@{alias}", "-", "-", "-", "-", "-"])
            continue
        mv = versions[number]
        moved = registry.moved_at_ms(model, client, alias, number)
        record = {}
        if registry.ALIAS_TAG_PREFIX + alias in mv.tags:
            try:
                record = json.loads(mv.tags[registry.ALIAS_TAG_PREFIX + alias])
            except json.JSONDecodeError:
                record = {}
        marks = quick_marks(model, mv, alias)
        if args.check:
            verdict = check_alias(client, model, alias, cfg)
            problems += [f"{verdict.subject}: {p}" for p in verdict.problems]
            if verdict.problems and not marks:
                marks = ["does not verify"]
        trust = ", ".join(marks) or ("verified" if args.check else "sealed")
        rows.append(
            [
                f"@{alias}",
                number,
                trust,
                _age(moved if moved is not None else mv.creation_timestamp, now_ms),
                _run(mv.tags.get(tracking.RUN_TAG)),
                record.get("by", "-"),
            ]
        )
    print(f"'{model_name}' in {uri}")
    print(_table(["alias", "version", "record", "age", "eval run", "moved by"], rows))
    if versions:
        print()
        print(_metrics_table(cfg, versions, {a: aliases[a] for a in names if a in aliases}))
    holder = lock_holder(model_name, client)
    if holder:
        print(
            f"registry lock held by {holder.get('by', '?')} (pid {holder.get('pid', '?')}, "
            f"{holder.get('purpose', '?')}) since {holder.get('since', '?')}"
        )
    if problems:
        print()
        print("\n".join(problems))
    return 1 if problems else 0


def _metrics_table(cfg: Any, versions: dict[str, Any], aliases: dict[str, str]) -> str:
    """The gate metrics each aliased version was sealed with (from its record, never from tags
    anyone can set): one row per metric, one column per version, headed by its aliases."""
    from tabulate import tabulate

    numbers = sorted(versions, key=int, reverse=True)
    figures = {n: _sealed_metrics(versions[n]) for n in numbers}
    present = {m for values in figures.values() for m in values}
    # The gate's own metrics first, in the configuration's order, then the others.
    metrics = [m for m in cfg.thresholds if m in present] + sorted(present - set(cfg.thresholds))
    headers = ["metric"] + [f"v{n} " + " ".join(f"@{a}" for a, v in aliases.items() if v == n) for n in numbers]
    rows = [[m] + [_figure(m, str(figures[n][m])) if m in figures[n] else "-" for n in numbers] for m in metrics]
    return tabulate(
        rows, headers=headers, tablefmt="simple", disable_numparse=True, colalign=("left",) + ("right",) * len(numbers)
    )


def _sealed_metrics(mv: Any) -> dict[str, float]:
    from harness import tracking
    from harness.seal import GateRecord

    raw = mv.tags.get(tracking.RECORD_TAG)
    if not raw:
        return {}
    try:
        return dict(GateRecord.from_json(raw, "record").metrics)
    except HarnessError:
        return {}
