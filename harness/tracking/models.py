"""Registered versions: exactly the logged model that was evaluated, with its sealed record.

A version is created together with its gate record in one request (`register_model(tags=...)`), from
the logged model the session evaluated (no second `log_model`), and only under the registry lock,
so two processes finishing the same run give one version. `record_problems` re-reads everything a
promotion rests on from the store: the version's record, the evaluation run's copy of it, and the
version's own artifact files, hashed again.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from harness import first_line
from harness.seal import GateRecord, golden_digests, signing_key, tree_sha256, verify_record
from harness.tracking import GATE_TAG, RECORD_SHA_TAG, RECORD_TAG, RUN_TAG
from harness.tracking.connection import error_code
from harness.tracking.lock import Lease

if TYPE_CHECKING:
    from harness.records.evaluation import Evaluation
    from harness.settings import HarnessConfig

DESCRIPTION_LIMIT = 5000  # MLflow's SQL stores keep at most this many characters of a description
# A registered model's description from this heading on is the harness's; above it, its owners'.
HISTORY_MARK = "### Alias history"


def version_for_run(client: Any, model_name: str, run_id: str) -> Any:
    """The model version registered for an evaluation run, if any (its record came with it)."""
    from mlflow.exceptions import MlflowException

    try:
        found = client.search_model_versions(f"name = '{model_name}' and tags.`{RUN_TAG}` = '{run_id}'")
    except MlflowException as exc:
        if error_code(exc) == "RESOURCE_DOES_NOT_EXIST":
            return None
        raise
    return min(found, key=lambda v: int(v.version)) if found else None


def register_evaluated(lease: Lease, model_name: str, record: GateRecord, run_id: str) -> tuple[Any, bool]:
    """Under the lock: the version already registered for `run_id`, or a new one of the evaluated model.

    Returns (model version, whether it was created now).
    """
    import mlflow
    from mlflow.exceptions import MlflowException

    client = lease.client
    existing = version_for_run(client, model_name, run_id)
    if existing is not None:
        return existing, False
    tags = _version_tags(record, run_id)
    lease.check()
    if record.model_id is None:  # a `runs:/` reference: MLflow resolves where its files are
        return mlflow.register_model(record.model_uri, model_name, tags=tags), True
    # The client's calls, not `mlflow.register_model`, which prints "Successfully registered model" and
    # "Created version" into the session; the evaluation run is the version's run (its page links both).
    try:
        client.create_registered_model(model_name)
    except MlflowException as exc:
        if error_code(exc) not in ("RESOURCE_ALREADY_EXISTS", "ALREADY_EXISTS"):
            raise
    mv = client.create_model_version(model_name, record.model_uri, run_id=run_id, tags=tags, model_id=record.model_id)
    _name_run(client, run_id, model_name, str(mv.version))
    return mv, True


def _name_run(client: Any, run_id: str, model_name: str, number: str) -> None:
    """The run list names the version a run registered: `my_agent version 3: my_agent:answer, gate passed`."""
    name = client.get_run(run_id).info.run_name or ""
    prefix = f"{model_name}: "
    if name.startswith(prefix):
        client.update_run(run_id, name=f"{model_name} version {number}: {name[len(prefix) :]}"[:250])


def reseal_version(lease: Lease, model_name: str, number: str, record: GateRecord, run_id: str) -> Any:
    """A registry version evaluated again (e.g. for a fresh evaluation against production): its new record."""
    tags = _version_tags(record, run_id)
    lease.check()
    for key, value in tags.items():
        lease.client.set_model_version_tag(model_name, number, key, value)
    return lease.client.get_model_version(model_name, number)


def _version_tags(record: GateRecord, run_id: str) -> dict[str, str]:
    """The version's tags: a few short ones (the version list shows them all on every row); the figures
    are in the sealed record and, as a table, in the version's description."""
    return {GATE_TAG: "passed", RUN_TAG: run_id, RECORD_TAG: record.to_json()}


def version_description(evaluation: Evaluation, record: GateRecord, run_id: str) -> str:
    """The model version's description (Markdown, which the MLflow UI renders): the verdict, the gate
    table and what was evaluated, so the version page says why it was registered."""
    from harness.reports.terminal import gate_table

    gate = evaluation.gated
    baseline = f"against {record.baseline}" if record.baseline else "without a baseline"
    head = (
        f"**Gate {'PASSED' if gate.passed else 'FAILED'}** on {record.cases_evaluated} golden case(s), "
        f"{baseline}; evaluation run `{run_id}`."
    )
    tail = (
        f"Registered from the evaluated artifact `{record.model_uri}` (files sha256 `{record.artifact_sha256[:16]}…`), "
        f"harness {record.harness_version}. The sealed gate record is the `{RECORD_TAG}` tag; the full report "
        "is in the run's "
        "`reports` artifacts."
    )
    text = ""
    for width in (10_000, 120):  # the whole notes when they fit the store's limit, else cut like the terminal's
        text = f"{head}\n\n{gate_table(gate, width=width)}\n\n{tail}"
        if len(text) <= DESCRIPTION_LIMIT:
            break
    return text[:DESCRIPTION_LIMIT]


def describe_version(client: Any, name: str, version: str, markdown: str) -> None:
    """Set a model version's description (shown, rendered, on its page in the MLflow UI)."""
    client.update_model_version(name, str(version), description=markdown[:DESCRIPTION_LIMIT])


def history_markdown(history: list[dict[str, Any]], room: int = DESCRIPTION_LIMIT) -> str:
    """The alias history as a Markdown table, newest first, cut to `room` characters at a whole row."""

    def cell(value: Any) -> str:
        return " ".join(str(value).split()).replace("|", "\\|") or "-"

    lines = ["| when (UTC) | alias | from | to | action | by | reason |", "|---|---|---|---|---|---|---|"]
    shown = 0
    entries = [e for e in reversed(history) if e.get("state") != "abandoned"]
    for e in entries:
        action = (
            e.get("action", "")
            + (" (forced)" if e.get("forced") else "")
            + (" (pending)" if e.get("state") == "pending" else "")
        )
        row = (
            f"| {cell(str(e.get('at', ''))[:16].replace('T', ' '))} | @{cell(e.get('alias', ''))} | "
            f"{cell(e.get('from') or '-')} "
            f"| {cell(e.get('to', ''))} | {cell(action)} | {cell(e.get('by', ''))} | {cell(e.get('reason', ''))} |"
        )
        if sum(len(line) + 1 for line in lines) + len(row) + 80 > room:
            break
        lines.append(row)
        shown += 1
    if shown < len(entries):
        lines.append(f"\n{len(entries) - shown} older move(s): see `harness history`.")
    return "\n".join(lines)


def describe_history(client: Any, model_name: str, history: list[dict[str, Any]]) -> None:
    """Write the alias history into the registered model's description, below whatever its owners wrote there."""
    # The owners' part keeps at most half the room (a store refuses a longer description outright).
    own = (
        (client.get_registered_model(model_name).description or "")
        .split(HISTORY_MARK)[0]
        .rstrip()[: DESCRIPTION_LIMIT // 2]
    )
    head = f"{own}\n\n{HISTORY_MARK}\n" if own else f"{HISTORY_MARK}\n"
    text = (
        head + "Newest first; written by the agent evaluation harness on every alias move (text above this heading "
        "is kept).\n\n"
    )
    client.update_registered_model(
        model_name, description=text + history_markdown(history, DESCRIPTION_LIMIT - len(text))
    )


def record_problems(client: Any, mv: Any, cfg: HarnessConfig, today: bool = True) -> list[str]:
    """Why version `mv` may not be promoted on its record; [] when the record verifies.

    `today` False: the record must verify as sealed (a passing, complete evaluation of these very
    artifact files, its run and signature intact) but not against today's policy and golden files."""
    from harness.seal import policy_sha256
    from harness.tracking.agents import download_model

    number = mv.version
    raw = mv.tags.get(RECORD_TAG)
    if not raw:
        return [
            f"version {number} has no sealed gate record (tag {RECORD_TAG}): only a version that the harness evaluated "
            "from its logged artifact and registered after a passing, complete session can be promoted"
        ]
    record = GateRecord.from_json(raw, f"version {number}'s {RECORD_TAG}")
    run_id = mv.tags.get(RUN_TAG, "")
    try:
        run = client.get_run(run_id)
    except Exception as exc:
        return [
            f"version {number}'s evaluation run {run_id or '(none)'} cannot be read from the store ({first_line(exc)})"
        ]
    if run.data.tags.get(RECORD_SHA_TAG) != record.sha256:
        return [f"version {number}'s gate record differs from the one its evaluation run {run_id} sealed"]
    if record.model_id not in (model_id_of(mv), None) or (record.model_id is None and mv.source != record.model_uri):
        return [f"version {number} is not the logged model {record.model_id or record.model_uri} that was evaluated"]
    try:
        # A check answers in lines of its own: no download progress bars on the terminal.
        os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
        local = download_model(f"models:/{mv.name}/{number}")
        artifact = tree_sha256(local)
    except Exception as exc:
        return [f"version {number}'s artifact files cannot be read to check them ({first_line(exc)})"]
    policy, golden = None, None
    if today:
        from harness.config import project_config

        project = project_config(cfg.root)  # the pyproject's policy: no command-line or HARNESS_* override counts
        policy = policy_sha256(project)
        try:
            golden = golden_digests(project.golden_paths)
        except OSError as exc:
            return [f"the golden files cannot be read to check the record ({first_line(exc)})"]
    return [
        f"version {number}: {p}"
        for p in verify_record(record, artifact_sha256=artifact, policy=policy, golden=golden, key=signing_key())
    ]


def model_id_of(mv: Any) -> str | None:
    """The logged model a registered version was made from (the registry may leave `model_id` unset)."""
    if getattr(mv, "model_id", None):
        return mv.model_id
    source = str(mv.source or "")
    return source[len("models:/") :] if source.startswith("models:/m-") else None


def artifact_sha256_of(model_uri: str) -> str:
    from harness.tracking.agents import download_model

    return tree_sha256(Path(download_model(model_uri)))
