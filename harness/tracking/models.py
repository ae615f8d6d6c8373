"""Registered versions: exactly the logged model that was evaluated, with its sealed record.

A version is created together with its gate record in one request (`register_model(tags=...)`), from
the logged model the session evaluated (no second `log_model`), and only under the registry lock,
so two processes finishing the same run give one version. `record_problems` re-reads everything a
promotion rests on from the store: the version's record, the evaluation run's copy of it, and the
version's own artifact files, hashed again.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from harness import first_line
from harness.seal import GateRecord, golden_digests, signing_key, tree_sha256, verify_record
from harness.tracking import GATE_TAG, METRIC_TAG_PREFIX, RECORD_SHA_TAG, RECORD_TAG, RUN_TAG
from harness.tracking.connection import error_code
from harness.tracking.lock import Lease

if TYPE_CHECKING:
    from harness.config import HarnessConfig


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


def register_evaluated(lease: Lease, model_name: str, record: GateRecord, run_id: str, metrics: dict[str, float]) -> tuple[Any, bool]:
    """Under the lock: the version already registered for `run_id`, or a new one of the evaluated model.

    Returns (model version, whether it was created now).
    """
    import mlflow

    existing = version_for_run(lease.client, model_name, run_id)
    if existing is not None:
        return existing, False
    tags = {GATE_TAG: "passed", RUN_TAG: run_id, RECORD_TAG: record.to_json()}
    tags.update({f"{METRIC_TAG_PREFIX}{name}": f"{value:.4f}" for name, value in metrics.items() if value == value})
    lease.check()
    return mlflow.register_model(record.model_uri, model_name, tags=tags), True


def reseal_version(lease: Lease, model_name: str, number: str, record: GateRecord, run_id: str, metrics: dict[str, float]) -> Any:
    """A registry version evaluated again (e.g. for a fresh evaluation against production): its new record."""
    tags = {GATE_TAG: "passed", RUN_TAG: run_id, RECORD_TAG: record.to_json()}
    tags.update({f"{METRIC_TAG_PREFIX}{name}": f"{value:.4f}" for name, value in metrics.items() if value == value})
    lease.check()
    for key, value in tags.items():
        lease.client.set_model_version_tag(model_name, number, key, value)
    return lease.client.get_model_version(model_name, number)


def record_problems(client: Any, mv: Any, cfg: HarnessConfig) -> list[str]:
    """Why version `mv` may not be promoted on its record; [] when the record verifies."""
    import mlflow

    from harness.seal import policy_sha256

    number = mv.version
    raw = mv.tags.get(RECORD_TAG)
    if not raw:
        return [f"version {number} has no sealed gate record (tag {RECORD_TAG}): only a version that the harness evaluated "
                "from its logged artifact and registered after a passing, complete session can be promoted"]
    record = GateRecord.from_json(raw, f"version {number}'s {RECORD_TAG}")
    run_id = mv.tags.get(RUN_TAG, "")
    try:
        run = client.get_run(run_id)
    except Exception as exc:
        return [f"version {number}'s evaluation run {run_id or '(none)'} cannot be read from the store ({first_line(exc)})"]
    if run.data.tags.get(RECORD_SHA_TAG) != record.sha256:
        return [f"version {number}'s gate record differs from the one its evaluation run {run_id} sealed"]
    if record.model_id not in (model_id_of(mv), None) or (record.model_id is None and mv.source != record.model_uri):
        return [f"version {number} is not the logged model {record.model_id or record.model_uri} that was evaluated"]
    try:
        local = mlflow.artifacts.download_artifacts(artifact_uri=f"models:/{mv.name}/{number}")
        artifact = tree_sha256(local)
    except Exception as exc:
        return [f"version {number}'s artifact files cannot be read to check them ({first_line(exc)})"]
    try:
        golden = golden_digests(cfg.golden_paths)
    except OSError as exc:
        return [f"the golden files cannot be read to check the record ({first_line(exc)})"]
    return [f"version {number}: {p}" for p in verify_record(record, artifact_sha256=artifact, policy=policy_sha256(cfg),
                                                            golden=golden, key=signing_key())]


def model_id_of(mv: Any) -> str | None:
    """The logged model a registered version was made from (the registry may leave `model_id` unset)."""
    if getattr(mv, "model_id", None):
        return mv.model_id
    source = str(mv.source or "")
    return source[len("models:/"):] if source.startswith("models:/m-") else None


def artifact_sha256_of(model_uri: str) -> str:
    import mlflow

    return tree_sha256(Path(mlflow.artifacts.download_artifacts(artifact_uri=model_uri)))
