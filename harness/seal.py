"""The sealed gate record: the facts a promotion rests on, digested, and signed when a key is set.

At decision time the session seals what it evaluated (the logged model's id and a sha256 over its
artifact files), against what (the golden files' sha256, the baseline), under which policy (a
digest of every decision setting), and how completely (cases evaluated out of cases in the golden
files, no selection, no interrupt). With `HARNESS_SIGNING_KEY` set the record carries an HMAC, so
nobody without the key can write one that verifies. `verify_record` says, one reason a line, why a
record does not back a promotion. Pure: no tracking store here, the caller brings the facts.
"""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from harness import HarnessError

if TYPE_CHECKING:
    from harness.settings import HarnessConfig

SIGNING_KEY_ENV = "HARNESS_SIGNING_KEY"
RECORD_FILE = "gate_record.json"
RECORD_SCHEMA = 1
# Settings that change how a run is executed or where it writes, not what passes: left out of the policy digest.
NOT_POLICY = {
    "agent",
    "baseline",
    "versions",
    "promote",
    "report_dir",
    "concurrency",
    "judge_cache",
    "root",
    "source",
    "judge_timeout_s",
    "judge_retries",
    "in_process",
}


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with Path(path).open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


# MLflow writes this one file at the top of a folder when it downloads a registry URI
# (`models:/name/N`); it names the registry entry, not the model, so it is not part of the
# artifact's digest. A file of that name anywhere below the top is the model's own and counts.
DOWNLOAD_ONLY_FILE = "registered_model_meta"


def tree_sha256(root: str | Path) -> str:
    """sha256 over every file under `root` (but MLflow's top-level download note): relative path and
    content digest, in path order."""
    root = Path(root)
    digest = hashlib.sha256()
    files = (
        [root]
        if root.is_file()
        else sorted(p for p in root.rglob("*") if p.is_file() and p.relative_to(root).as_posix() != DOWNLOAD_ONLY_FILE)
    )
    for path in files:
        name = path.name if path == root else path.relative_to(root).as_posix()
        digest.update(f"{name}\0{file_sha256(path)}\n".encode())
    return digest.hexdigest()


def golden_digests(paths: Sequence[Path]) -> list[tuple[str, str]]:
    """(label, sha256) of each golden source, in configuration order: a file's name and content digest, an
    MLflow evaluation dataset's `mlflow-dataset:<name>@<version>` and its cases' digest."""
    from harness.golden import source_digest

    return [source_digest(Path(path)) for path in paths]


def _canonical(value: Any) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), default=str).encode("utf-8")


def policy_document(cfg: HarnessConfig) -> dict[str, Any]:
    """Every setting that decides pass or fail: thresholds, margins, scorers, judges, promote_to, chain, ..."""
    document = dataclasses.asdict(cfg)
    return {key: value for key, value in document.items() if key not in NOT_POLICY}


def policy_sha256(cfg: HarnessConfig) -> str:
    return hashlib.sha256(_canonical(policy_document(cfg))).hexdigest()


def harness_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("agent-eval-harness")
    except PackageNotFoundError:
        return "0+unknown"


@dataclass(frozen=True)
class GateRecord:
    """What was evaluated, against what, under which policy, how completely, and the verdict."""

    model_uri: str  # the logged model that was evaluated and is the one registered
    model_id: str | None
    artifact_sha256: str
    golden: tuple[tuple[str, str], ...]  # (file name or mlflow-dataset:<name>@<version>, sha256)
    policy_sha256: str
    harness_version: str
    cases_evaluated: int
    cases_in_golden: int
    baseline: str | None  # the reference compared against, with the registry version it resolved to
    complete: bool  # every case, every gate test, no selection, no interrupt
    blockers: tuple[str, ...]
    gate_passed: bool
    isolated: bool  # the agent answered from its own process, loaded from the logged artifact
    report_id: str
    # What a version shows comes from here, not from the report folder's editable files: the
    # candidate's figures, the digest of results.json as written, and whether the session meant to promote.
    metrics: tuple[tuple[str, float], ...] = ()
    results_sha256: str = ""
    promote: bool = True
    created_at: str = field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds"))
    signature: str = ""  # HMAC-SHA256 (hex) over the rest, with HARNESS_SIGNING_KEY; empty when unsigned
    schema: int = RECORD_SCHEMA
    sandbox: str = "none"  # how the agent's code was confined while it was logged and evaluated (harness/sandbox)

    def body(self) -> dict[str, Any]:
        return {k: v for k, v in dataclasses.asdict(self).items() if k != "signature"}

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self), sort_keys=True)

    @property
    def sha256(self) -> str:
        return hashlib.sha256(_canonical(dataclasses.asdict(self))).hexdigest()

    @property
    def promotable(self) -> bool:
        return (
            self.gate_passed
            and self.complete
            and self.isolated
            and not self.blockers
            and self.cases_evaluated == self.cases_in_golden
        )

    def signed(self, key: str | None) -> GateRecord:
        if not key:
            return self
        return dataclasses.replace(self, signature=_hmac(key, self.body()))

    @classmethod
    def from_json(cls, text: str, where: str) -> GateRecord:
        try:
            data = json.loads(text)
            if data.get("schema") != RECORD_SCHEMA:
                raise ValueError(f"schema {data.get('schema')!r}, expected {RECORD_SCHEMA}")
            data["golden"] = tuple(tuple(pair) for pair in data["golden"])
            data["blockers"] = tuple(data["blockers"])
            data["metrics"] = tuple((str(name), float(value)) for name, value in data.get("metrics", ()))
            return cls(**data)
        except (TypeError, ValueError, KeyError, AttributeError) as exc:
            raise HarnessError(f"{where}: not a valid gate record ({type(exc).__name__}: {exc})") from None


def _hmac(key: str, body: Mapping[str, Any]) -> str:
    return hmac.new(key.encode("utf-8"), _canonical(body), hashlib.sha256).hexdigest()


_taken: list[str | None] = []  # the key once taken out of the environment (see take_signing_key)


def signing_key() -> str | None:
    return _taken[0] if _taken else os.environ.get(SIGNING_KEY_ENV) or None


def take_signing_key() -> None:
    """Move the key out of the environment into this process's memory: agent code (an in-process
    agent, and every process this one starts) must not be able to read it and sign its own record."""
    if not _taken:
        _taken.append(os.environ.pop(SIGNING_KEY_ENV, None) or None)


def verify_record(
    record: GateRecord,
    *,
    artifact_sha256: str,
    policy: str | None,
    golden: Sequence[tuple[str, str]] | None,
    key: str | None,
) -> list[str]:
    """Why `record` does not back a promotion of the artifact it names under today's policy; [] when it does.

    `policy` and `golden` None: today's policy and golden files are not compared (a rollback returns
    to a version that passed under the policy of its day)."""
    problems = []
    if not record.gate_passed:
        problems.append("its gate did not pass")
    if not record.isolated:
        problems.append("it was evaluated in process (a fast local loop), not from its logged artifact")
    if not record.complete or record.blockers or record.cases_evaluated != record.cases_in_golden:
        why = "; ".join(record.blockers) or f"{record.cases_evaluated} of {record.cases_in_golden} cases evaluated"
        problems.append(f"its evaluation was incomplete ({why})")
    if record.artifact_sha256 != artifact_sha256:
        problems.append("its artifact files differ from the ones that were evaluated (sha256 mismatch)")
    if policy is not None and record.policy_sha256 != policy:
        problems.append(
            "the gate policy changed since it was evaluated (thresholds, margins, scorers, judges, promote_to or chain)"
        )
    if golden is not None and tuple(tuple(g) for g in golden) != record.golden:
        changed = [label for label, sha in record.golden if (label, sha) not in {tuple(g) for g in golden}]
        problems.append(f"the golden data changed since it was evaluated ({', '.join(changed) or 'sources differ'})")
    if key:
        if not record.signature:
            problems.append(f"its record is not signed and {SIGNING_KEY_ENV} is set")
        elif not hmac.compare_digest(record.signature, _hmac(key, record.body())):
            problems.append(f"its record's signature does not verify with {SIGNING_KEY_ENV}")
    elif record.signature:
        problems.append(f"its record is signed but {SIGNING_KEY_ENV} is not set here, so it cannot be verified")
    return problems
