"""MLflow logging, registration and aliases for evaluated agent versions.

The tracking store is MLflow's own `MLFLOW_TRACKING_URI`; by default SQLite `mlflow.db` in the
project root. A version is registered with its gate record as tags in the same call that
creates it, and only then aliased, so no alias can point to a version without a gate record.
"""

from __future__ import annotations

import difflib
import getpass
import json
import os
import random
import socket
import time
import tomllib
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

from harness import HarnessError, first_line

if TYPE_CHECKING:
    from harness.config import PromotionPolicy
    from harness.evaluation import Evaluation

GATE_TAG = "harness.gate"
RUN_TAG = "harness.eval_run_id"
METRIC_TAG_PREFIX = "harness.metric."
REPORT_TAG = "harness.report_id"  # the report folder's name: `harness log` finds the run it already logged
EXPERIMENT = "harness-evaluations"


@dataclass
class Promotion:
    model_name: str
    version: str
    alias: str
    run_id: str


def tracking_uri(root: Path) -> str:
    return os.environ.get("MLFLOW_TRACKING_URI") or f"sqlite:///{(root / 'mlflow.db').resolve()}"


def connect(root: Path) -> str:
    """Point MLflow at the tracking store and fail fast, in one line, when it cannot be reached."""
    uri = tracking_uri(root)
    if uri.startswith(("http://", "https://")):
        try:
            with urllib.request.urlopen(uri.rstrip("/") + "/health", timeout=5) as response:
                response.read()
        except (urllib.error.URLError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            raise HarnessError(f"tracking server {uri} is unreachable ({reason})") from None
    elif uri.startswith("sqlite:///"):
        directory = Path(uri[len("sqlite:///"):]).parent
        if not directory.is_dir():
            raise HarnessError(f"tracking store {uri}: folder {directory} does not exist")
    import mlflow

    mlflow.set_tracking_uri(uri)
    mlflow.set_registry_uri(uri)
    return uri


def _pip_requirements(root: Path) -> list[str]:
    """The project's own dependencies, passed explicitly so log_model never infers them by running predict."""
    pyproject = root / "pyproject.toml"
    if pyproject.is_file():
        with pyproject.open("rb") as fh:
            deps = tomllib.load(fh).get("project", {}).get("dependencies", [])
        if deps:
            return [d for d in deps if not d.startswith(("pytest",))]
    return ["mlflow"]


def log_evaluation(evaluation: Evaluation, report_dir: Path) -> str:
    """Log one MLflow run: params, metrics, the per-case table and the reports. Returns the run id."""
    import mlflow

    cfg = evaluation.config
    candidate = evaluation.candidate
    mlflow.set_experiment(EXPERIMENT)
    with mlflow.start_run(run_name=f"eval {candidate.reference}") as run:
        params: dict[str, Any] = {
            "agent": candidate.reference,
            "agent_kind": candidate.kind,
            "model_config": getattr(candidate.version, "model_config", None) or "",
            "versions": ",".join(v.reference for v in evaluation.versions),
            "n_cases": len(evaluation.cases),
            "concurrency": cfg.concurrency,
            "case_timeout_s": cfg.case_timeout_s,
            "judge_model": cfg.judge_model or "rule-based",
        }
        document = json.loads((report_dir / "results.json").read_text(encoding="utf-8"))
        for golden in document["config"]["golden"]:
            params[f"golden.{Path(golden['path']).name}.sha256"] = golden["sha256"]
        for name, value in cfg.thresholds.items():
            params[f"threshold.{name}"] = value
        mlflow.log_params(params)
        metrics: dict[str, float] = {}
        for version in evaluation.versions:
            prefix = "" if version is candidate else f"{version.label}/"
            for name, est in version.metrics().items():
                metrics[f"{prefix}{name}"] = est.value
                if version is candidate:
                    metrics[f"{name}_ci_low"], metrics[f"{name}_ci_high"] = est.low, est.high
        metrics["gate_passed"] = float(evaluation.gate.passed)
        metrics.update(comparison_metrics(evaluation))  # issue 4: compare/<metric>/delta, .../p_value
        mlflow.log_metrics({k: v for k, v in metrics.items() if v == v})  # drop NaN
        if evaluation.comparisons:  # the comparison reports are also among the `reports` artifacts
            first = evaluation.comparisons[0]
            mlflow.set_tags({"harness.compare.baseline": first.baseline_reference,
                             "harness.compare.worse": ",".join(m.metric for m in first.regressions) or "none"})
        mlflow.log_table(_redacted(_case_table(evaluation)), artifact_file="eval_results.json")
        mlflow.log_artifacts(str(report_dir), artifact_path="reports")
        # Last, and in one call: a run with REPORT_TAG is completely logged (`harness log` relies on it).
        mlflow.set_tags({GATE_TAG: "passed" if evaluation.gate.passed else "failed", "harness.report_dir": str(report_dir), REPORT_TAG: report_dir.name})
        return run.info.run_id


def comparison_metrics(evaluation: Evaluation) -> dict[str, float]:
    """The A/B headline numbers as MLflow metrics: `compare/<metric>/delta`, `.../p_value`, and more.

    The first comparison (candidate vs the baseline) is under `compare/`; with --versions a,b,c the
    others are under `compare/<label>/`.
    """
    import math
    import re

    out: dict[str, float] = {}
    for i, c in enumerate(evaluation.comparisons):
        prefix = "compare/" if i == 0 else "compare/" + re.sub(r"[^A-Za-z0-9_\-. /]", "_", c.baseline_label) + "/"
        for m in c.metrics:
            for key, value in (("delta", m.delta), ("ci_low", m.ci_low), ("ci_high", m.ci_high),
                               ("p_value", m.p_value), ("p_adjusted", m.p_adjusted)):
                out[f"{prefix}{m.metric}/{key}"] = value
        for r in c.latency:
            out[f"{prefix}latency_{r.percentile}/ratio"] = r.ratio
        out[f"{prefix}n_shared"] = float(c.n_shared)
        out[f"{prefix}worse"] = float(len(c.regressions))
    return {k: float(v) for k, v in out.items() if isinstance(v, (int, float)) and math.isfinite(v)}


def _case_table(evaluation: Evaluation) -> dict[str, list[Any]]:
    table: dict[str, list[Any]] = {"version": [], "case_id": [], "question": [], "answer": [], "error": [], "latency_ms": []}
    scorer_names = evaluation.candidate.scorer_names
    for name in scorer_names:
        table[name] = []
        table[f"{name}_rationale"] = []
    for version in evaluation.versions:
        for result in version.results.values():
            table["version"].append(version.label)
            table["case_id"].append(result.case.id)
            table["question"].append(result.case.question)
            table["answer"].append(result.output.text[:20_000])
            table["error"].append(result.output.error or "")
            table["latency_ms"].append(result.output.latency_ms)
            for name in scorer_names:
                score = result.scores.get(name)
                table[name].append(score.value if score else None)
                table[f"{name}_rationale"].append(score.rationale if score else "")
    return table


def _redacted(table: dict[str, list[Any]]) -> dict[str, list[Any]]:
    """The per-case table with secrets masked (issue 9); each row keeps the emails its own question named."""
    from harness.redact import emails_in, redact_tree

    allowed = [emails_in([q]) for q in table["question"]]
    return {column: [redact_tree(v, allowed[i]) for i, v in enumerate(values)] for column, values in table.items()}


def promote_evaluated(evaluation: Evaluation, run_id: str) -> Promotion:
    """Register the candidate (with its gate record) and point `promote_to` at it. Gate must have passed."""
    import mlflow

    cfg = evaluation.config
    if not evaluation.gate.passed:
        raise HarnessError("refusing to promote: the gate did not pass")
    candidate = evaluation.candidate
    version = candidate.version
    client = mlflow.MlflowClient()
    tags = {GATE_TAG: "passed", RUN_TAG: run_id, "harness.agent": candidate.reference}
    tags.update({f"{METRIC_TAG_PREFIX}{name}": f"{est.value:.4f}" for name, est in candidate.metrics().items() if est.value == est.value})
    if version.registered:
        name, number = version.registered
        for key, value in tags.items():
            client.set_model_version_tag(name, number, key, value)
    else:
        if not version.model_code_path:
            raise HarnessError(
                f"cannot log {candidate.reference!r} as a model from code: its module does not call "
                "mlflow.models.set_model(...) and the object has no 'model_code_path'"
            )
        first = evaluation.cases[0]
        with mlflow.start_run(run_id=run_id):
            info = mlflow.pyfunc.log_model(
                name="agent",
                python_model=version.model_code_path,
                model_config=version.model_config,
                code_paths=version.code_paths or None,
                pip_requirements=_pip_requirements(cfg.root),
                input_example={"messages": [{"role": "user", "content": first.question}]},
            )
        mv = mlflow.register_model(info.model_uri, cfg.model_name, tags=tags)
        name, number = mv.name, str(mv.version)
    set_alias(name, cfg.promote_to, number, reason="gate passed", run_id=run_id)
    return Promotion(name, number, cfg.promote_to, run_id)


# --- Aliases: compare-and-set moves under a cross-process lock, audit tags, history, policy ------
#
# MLflow has no atomic compare-and-set on an alias, so every harness move of an alias runs under a
# lock on the tracking store itself: a registered model named `<model>.harness-lock`, created with
# its owner's token as tags. Creating a registered model is exclusive in every MLflow store (the
# name is the table's primary key in the SQL stores behind both SQLite and a tracking server), so
# at most one process holds the lock; the holder re-reads the alias under it and refuses when it
# is not where the decision saw it. A lock left by a process that died expires after LOCK_TTL_S
# (by the holder's clock) and is then deleted by the next process that needs it; a holder checks
# that it still owns the lock right before it writes.

HISTORY_TAG = "harness.alias_history"  # registered-model tag: JSON list of every alias move, oldest first
ALIAS_TAG_PREFIX = "harness.alias."  # version tag `harness.alias.<alias>`: its latest move to that alias
LOCK_SUFFIX = ".harness-lock"
LOCK_TAG_PREFIX = "harness.lock."
LOCK_TTL_S = 120.0
LOCK_TIMEOUT_S = 30.0
MAX_TAG_VALUE = 100_000  # MLflow's limit on a registry tag value; the oldest history entries give way


class AliasConflict(HarnessError):
    """The alias (or the stage the version had to hold) moved after the decision: nothing was moved."""


def _who() -> str:
    try:
        user = getpass.getuser()
    except Exception:  # no login name and no passwd entry (some containers)
        user = "unknown"
    return f"{user}@{socket.gethostname()}"


def _now_iso() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds")


def _ms(iso: str) -> float | None:
    try:
        return datetime.fromisoformat(iso).timestamp() * 1000
    except (TypeError, ValueError):
        return None


def version_label(version: str | None) -> str:
    return f"version {version}" if version else "unset"




def _error_code(exc: BaseException) -> str:
    return str(getattr(exc, "error_code", ""))


def mlflow_client() -> Any:
    import mlflow

    return mlflow.MlflowClient()


def get_registered_model(client: Any, model_name: str) -> Any:
    """The registered model, or one line naming the unknown model (and a close match, if any)."""
    from mlflow.exceptions import MlflowException

    try:
        return client.get_registered_model(model_name)
    except MlflowException as exc:
        if _error_code(exc) not in ("RESOURCE_DOES_NOT_EXIST", "INVALID_PARAMETER_VALUE"):
            raise
    try:
        known = sorted(m.name for m in client.search_registered_models(max_results=1000) if not m.name.endswith(LOCK_SUFFIX))
    except MlflowException:
        known = []
    hint = difflib.get_close_matches(model_name, known, n=1)
    listing = f" (did you mean '{hint[0]}'?)" if hint else f"; registered models: {', '.join(known[:10]) or 'none'}"
    raise HarnessError(f"unknown model '{model_name}' in the tracking store{listing}") from None


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
    """Every alias move the harness recorded on this model, oldest first."""
    raw = registered_model.tags.get(HISTORY_TAG)
    if not raw:
        return []
    try:
        history = json.loads(raw)
    except json.JSONDecodeError:
        history = None
    if not isinstance(history, list) or not all(isinstance(e, dict) for e in history):
        raise HarnessError(f"model '{registered_model.name}': tag {HISTORY_TAG} is not a JSON list of moves; repair or delete the tag")
    return history


def _history_json(history: list[dict[str, Any]]) -> str:
    text = json.dumps(history, separators=(",", ":"))
    while len(text) > MAX_TAG_VALUE and len(history) > 1:
        history = history[max(1, len(history) // 10):]  # the versions keep their own alias tags
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


# --- the lock ------------------------------------------------------------------------------------


@dataclass
class Lease:
    client: Any
    name: str  # the lock's registered-model name
    token: str

    def holder(self) -> dict[str, str] | None:
        return _lock_tags(self.client, self.name)

    def check(self) -> None:
        """Raise unless this process still holds the lock (it may have expired and been taken over)."""
        holder = self.holder()
        if not holder or holder.get(LOCK_TAG_PREFIX + "owner") != self.token:
            raise HarnessError(f"lost the registry lock {self.name} before writing (it expired after {LOCK_TTL_S:g}s and was taken over); nothing moved")


def _lock_tags(client: Any, name: str) -> dict[str, str] | None:
    from mlflow.exceptions import MlflowException

    try:
        return dict(client.get_registered_model(name).tags)
    except MlflowException as exc:
        if _error_code(exc) == "RESOURCE_DOES_NOT_EXIST":
            return None
        raise


def _expired(holder: dict[str, str]) -> bool:
    try:
        return float(holder.get(LOCK_TAG_PREFIX + "expires", "0")) < time.time()
    except ValueError:
        return True


def lock_holder(model_name: str, client: Any = None) -> dict[str, str] | None:
    """Who holds the model's registry lock right now (tags without the prefix), or None."""
    tags = _lock_tags(client or mlflow_client(), model_name + LOCK_SUFFIX)
    return {k[len(LOCK_TAG_PREFIX):]: v for k, v in tags.items() if k.startswith(LOCK_TAG_PREFIX)} if tags else None


@contextmanager
def registry_lock(model_name: str, purpose: str, timeout_s: float = LOCK_TIMEOUT_S, ttl_s: float = LOCK_TTL_S) -> Iterator[Lease]:
    """Hold the model's registry lock, waiting up to `timeout_s` for another holder to finish."""
    from mlflow.exceptions import MlflowException

    client = mlflow_client()
    lease = Lease(client, model_name + LOCK_SUFFIX, uuid.uuid4().hex)
    deadline = time.monotonic() + timeout_s
    while True:
        tags = {"owner": lease.token, "by": _who(), "pid": str(os.getpid()), "purpose": purpose,
                "since": _now_iso(), "expires": f"{time.time() + ttl_s:.3f}"}
        holder = None
        try:
            client.create_registered_model(
                lease.name, tags={LOCK_TAG_PREFIX + k: v for k, v in tags.items()},
                description=f"harness registry lock of '{model_name}' (transient; deleted when the move is done)",
            )
            break
        except MlflowException as exc:
            if _error_code(exc) in ("INVALID_PARAMETER_VALUE", "PERMISSION_DENIED", "UNAUTHENTICATED"):
                raise HarnessError(f"cannot create the registry lock {lease.name}: {first_line(exc)}") from None
            if _error_code(exc) == "RESOURCE_ALREADY_EXISTS":
                holder = _lock_tags(client, lease.name)
                if holder and holder.get(LOCK_TAG_PREFIX + "owner") == lease.token:
                    break  # our own create, retried by the client after a lost response
                if holder and _expired(holder):
                    _delete_quietly(client, lease.name)
                    continue
            # otherwise a transient store error (e.g. SQLite busy): wait and try again
            error = first_line(exc)
        if time.monotonic() >= deadline:
            if holder:
                h = {k[len(LOCK_TAG_PREFIX):]: v for k, v in holder.items()}
                raise HarnessError(
                    f"the registry lock of '{model_name}' is held by {h.get('by', '?')} (pid {h.get('pid', '?')}, "
                    f"{h.get('purpose', '?')}, since {h.get('since', '?')}); waited {timeout_s:g}s, nothing moved: try again "
                    f"(a lock left by a process that died expires {LOCK_TTL_S:g}s after it was taken)"
                )
            raise HarnessError(f"could not take the registry lock of '{model_name}' within {timeout_s:g}s: {error}; nothing moved")
        time.sleep(random.uniform(0.05, 0.2))
    try:
        lease.check()  # read it back
        yield lease
    finally:
        try:
            holder = _lock_tags(client, lease.name)
            if holder and holder.get(LOCK_TAG_PREFIX + "owner") == lease.token:
                _delete_quietly(client, lease.name)
        except Exception:
            pass  # the lock expires on its own


def _delete_quietly(client: Any, name: str) -> None:
    from mlflow.exceptions import MlflowException

    try:
        client.delete_registered_model(name)
    except MlflowException:
        pass  # already deleted or released by someone else


# --- moves ---------------------------------------------------------------------------------------


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
) -> dict[str, Any]:
    """Compare-and-set: point `alias` at `version` only if it still points at `expected_current`.

    Under the registry lock: re-read the alias (and, with `requires_alias`, that the version still
    holds the stage it is promoted from), refuse with AliasConflict if either changed since the
    decision, then move the alias, tag the version with who/when/from/to/why/run id
    (`harness.alias.<alias>`), tag the version it replaced (`harness.alias.<alias>.left`), append
    the move to the model's `harness.alias_history` tag, and read the alias back.
    Returns the history entry.
    """
    client = mlflow_client()
    version = str(version)
    expected_current = None if expected_current is None else str(expected_current)
    with registry_lock(model_name, f"{action} @{alias} -> version {version}", timeout_s=lock_timeout_s) as lease:
        model = get_registered_model(client, model_name)
        aliases = aliases_of(model)
        history = alias_history(model)
        current = aliases.get(alias)
        if current != expected_current:
            last = next((e for e in reversed(history) if e.get("alias") == alias), None)
            how = ""
            if last and last.get("to") == current:
                how = f" ({last.get('action', 'move')} by {last.get('by', '?')} at {last.get('at', '?')}: {last.get('reason', '')})"
            raise AliasConflict(
                f"@{alias} of '{model_name}' changed after this decision: it was {version_label(expected_current)}, "
                f"now {version_label(current)}{how}; nothing moved, look again and retry"
            )
        if requires_alias and aliases.get(requires_alias) != version:
            raise AliasConflict(
                f"version {version} of '{model_name}' no longer holds @{requires_alias} (now {version_label(aliases.get(requires_alias))}); "
                f"nothing moved, look again and retry"
            )
        entry: dict[str, Any] = {"at": _now_iso(), "alias": alias, "from": current, "to": version, "action": action,
                                 "by": _who(), "reason": reason, "run_id": run_id or "", "forced": bool(forced)}
        if overrode:
            entry["overrode"] = list(overrode)
        lease.check()
        client.set_registered_model_alias(model_name, alias, version)
        client.set_model_version_tag(model_name, version, ALIAS_TAG_PREFIX + alias, json.dumps(entry))
        if current and current != version:
            left = {"at": entry["at"], "by": entry["by"], "to": version, "action": action, "reason": reason}
            client.set_model_version_tag(model_name, current, f"{ALIAS_TAG_PREFIX}{alias}.left", json.dumps(left))
        client.set_registered_model_tag(model_name, HISTORY_TAG, _history_json(history + [entry]))
        after = aliases_of(client.get_registered_model(model_name)).get(alias)
        if after != version:
            raise HarnessError(
                f"@{alias} of '{model_name}' points at {version_label(after)} right after it was moved to version {version}: "
                "something moved it without the harness lock; see `harness history`"
            )
    return entry


def set_alias(model_name: str, alias: str, version: str, reason: str, run_id: str = "") -> dict[str, Any]:
    """Point an alias at a version after a passing evaluation, from wherever it points now (recorded)."""
    current = aliases_of(get_registered_model(mlflow_client(), model_name)).get(alias)
    return move_alias(model_name, alias, version, current, reason=reason, run_id=run_id, action="evaluation")


# --- the promotion policy ------------------------------------------------------------------------


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
        return move_alias(self.model_name, self.alias, self.version, self.current, self.reason, self.run_id, self.forced,
                          action=self.action, requires_alias=self.requires_alias, overrode=self.overrode)


def plan_promotion(model_name: str, to_alias: str, version: str | None, policy: PromotionPolicy,
                   force: bool = False, reason: str = "", now_ms: float | None = None) -> Plan:
    """Decide a promotion to `to_alias`, or raise one line saying which rule refuses it.

    Rules: the version's recorded gate passed (tag harness.gate=passed); it holds the alias before
    `to_alias` in the chain (no stage skipped); and for the last alias of the chain, when
    `require_fresh_eval_hours` > 0, its evaluation is fresh and was made against the current
    holder of that alias (see fresh_eval_problem). `force` (with a reason) overrides these rules
    and records what it overrode; it never overrides an unknown model, version or alias.
    """
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
    if version is None:
        if previous is None:
            raise HarnessError(f"@{to_alias} is the first alias of the chain: name the version with --version N")
        version = aliases.get(previous)
        if version is None:
            raise HarnessError(f"@{previous} of '{model_name}' holds no version: nothing to promote to @{to_alias}")
    mv = get_version(client, model_name, version)
    version = str(mv.version)
    current = aliases.get(to_alias)
    plan = Plan(model_name, to_alias, version, current, reason.strip(), mv.tags.get(RUN_TAG, ""), "promote", forced=force)
    if plan.noop:
        return plan
    problems = []
    gate = mv.tags.get(GATE_TAG)
    if gate is None:
        problems.append(f"version {version} of '{model_name}' has no gate record (tag {GATE_TAG}); only a version whose evaluation passed the gate can be promoted")
    elif gate != "passed":
        problems.append(f"version {version} of '{model_name}' did not pass its gate ({GATE_TAG}={gate})")
    if previous is not None and aliases.get(previous) != version:
        held = ", ".join(f"@{a}" for a, v in sorted(aliases.items()) if v == version) or "no alias"
        problems.append(f"version {version} does not hold @{previous} (it holds {held}; @{previous} is {version_label(aliases.get(previous))}): "
                        f"a promotion to @{to_alias} may not skip @{previous}")
    hint = ""
    if position == len(chain) - 1 and policy.require_fresh_eval_hours > 0:
        problem = fresh_eval_problem(client, model, mv, to_alias, policy.require_fresh_eval_hours, now_ms)
        if problem:
            problems.append(problem)
            hint = (f"; re-evaluate it with `pytest suites/ --agent models:/{model_name}/{version} "
                    f"--baseline models:/{model_name}@{to_alias}{f' --promote-to {previous}' if previous else ''}`")
    if problems and not force:
        raise HarnessError("; ".join(problems) + hint + ' (--force --reason "..." overrides, recorded in the history)')
    plan.overrode = problems
    plan.requires_alias = None if force else previous
    if not plan.reason:
        plan.reason = f"promoted from @{previous}" if previous else "promoted"
    return plan


def fresh_eval_problem(client: Any, model: Any, mv: Any, alias: str, hours: float, now_ms: float | None = None) -> str | None:
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
        return f"@{alias} needs an evaluation of version {version} from the last {hours:g} h, and it has no eval run (tag {RUN_TAG})"
    try:
        run = client.get_run(run_id)
    except Exception as exc:
        return f"@{alias} needs a fresh evaluation of version {version}, and its eval run {run_id} cannot be read ({first_line(exc)})"
    now_ms = time.time() * 1000 if now_ms is None else now_ms
    age_h = (now_ms - run.info.start_time) / 3_600_000
    if run.data.tags.get(GATE_TAG) != "passed":
        return f"version {version}'s eval run {run_id} did not pass its gate"
    if age_h > hours:
        return f"@{alias} needs an evaluation of version {version} from the last {hours:g} h; its eval run {run_id} started {age_h:.1f} h ago"
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
        return (f"@{alias} needs an evaluation against its current holder, version {holder}; eval run {run_id} compared against "
                f"@{alias} before it moved to version {holder}")
    return (f"@{alias} needs an evaluation against its current holder, version {holder}; eval run {run_id} of version {version} "
            f"compared against {', '.join(compared) or 'no baseline'}")


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
                del stack[len(stack) - stack[::-1].index(to):]
            else:
                stack.append(to)
            continue
        if source and (not stack or stack[-1] != str(source)):
            stack.append(str(source))  # it held the alias before the harness recorded anything
        if not stack or stack[-1] != to:
            stack.append(to)
    return stack


def plan_rollback(model_name: str, alias: str, to_version: str | None, policy: PromotionPolicy, reason: str = "") -> Plan:
    """Decide a rollback of `alias` to the version it held before (or to `to_version`, which must have held it)."""
    client = mlflow_client()
    model = get_registered_model(client, model_name)
    aliases = aliases_of(model)
    history = [e for e in alias_history(model) if e.get("alias") == alias]
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
            raise HarnessError(f"nothing to return to: the history of @{alias} of '{model_name}' has no version before "
                               f"{version_label(current)}")
        target = stack[-1]
        try:
            mv = get_version(client, model_name, target)
        except HarnessError:
            raise HarnessError(f"@{alias} held version {target} before, but that version no longer exists; choose one with --to N "
                               f"(versions that held @{alias}: {', '.join(held)})") from None
    else:
        mv = get_version(client, model_name, to_version)
        target = str(mv.version)
        if target == current:
            raise HarnessError(f"version {target} already holds @{alias} of '{model_name}': nothing to roll back to")
        if target not in held and ALIAS_TAG_PREFIX + alias not in mv.tags:
            raise HarnessError(f"version {target} never held @{alias} of '{model_name}'; a rollback returns to a version that did "
                               f"({', '.join(held) or 'none'})")
    return Plan(model_name, alias, target, current, reason.strip() or f"rollback from {version_label(current)}",
                mv.tags.get(RUN_TAG, ""), "rollback")
