"""Resolve a session's references the way a promotable run must: logged once, loaded in their own process."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import TYPE_CHECKING, Any

from harness.agent_process.client import AgentProcess, LoggedAgent, isolated_version, log_agent

if TYPE_CHECKING:
    from harness.config import HarnessConfig
    from harness.versions import Version


def _connect(cfg: HarnessConfig) -> str:
    from harness import HarnessError
    from harness.tracking.connection import connect

    try:
        return connect(cfg.root)
    except HarnessError as exc:
        raise HarnessError(f"{exc}: versions are logged to the tracking store before any case runs; fix MLFLOW_TRACKING_URI, "
                           "or pass --in-process for a local loop that never promotes") from None


class IsolatedLoader:
    """A `resolver` for `load_versions`: each reference logged as an MLflow model once (a registry
    reference is pinned to the version it names now), then loaded back in a worker process.

    `logged` carries models an xdist controller logged before its workers started, so every
    worker evaluates the same artifact.
    """

    def __init__(self, cfg: HarnessConfig, logged: dict[str, LoggedAgent] | None = None) -> None:
        self.cfg = cfg
        self.logged: dict[str, LoggedAgent] = dict(logged or {})
        self.versions: list[Version] = []
        self.spare: AgentProcess | None = None  # a worker started ahead, importing MLflow while a model is logged
        self.started = 0
        self.expected = len([r for r in cfg.all_versions if r.strip().lower() != "none"])  # versions still to start

    def _env(self) -> dict[str, str]:
        uri = _connect(self.cfg)
        return {"MLFLOW_TRACKING_URI": uri, "MLFLOW_REGISTRY_URI": uri}

    def _warm(self) -> None:
        if self.spare is None:
            self.started += 1
            self.spare = AgentProcess(self.cfg.root, f"worker-{self.started}", self._env())

    def _take(self) -> AgentProcess:
        """The warm worker, and another started when more configured versions are to come."""
        self._warm()
        process, self.spare = self.spare, None
        self.expected -= 1
        if self.expected > 0:
            self._warm()
        return process

    def log(self, reference: str) -> LoggedAgent:
        """The logged model for `reference`, logging it now if this session has not yet."""
        from harness.tracking import EXPERIMENT
        from harness.tracking.connection import pip_requirements

        reference = reference.strip()
        if reference not in self.logged:
            self._warm()
            from harness.tracking.models import artifact_sha256_of

            logged = log_agent(reference, self.cfg.root, EXPERIMENT, pip_requirements(self.cfg.root), env=self._env())
            # Hashed here, once the logging process is gone and before any agent process loads it:
            # an agent's process could report anything about its own files.
            self.logged[reference] = dataclasses.replace(logged, sha256=artifact_sha256_of(logged.model_uri))
        return self.logged[reference]

    def __call__(self, reference: str, root: Path, label: str) -> Version:
        import mlflow

        from harness.endpoints import is_endpoint_reference
        from harness.versions import registered_version, resolve

        reference = reference.strip()
        if is_endpoint_reference(reference):  # already answering from outside this process, as deployed
            return resolve(reference, root, label)
        env = self._env()
        registered = registered_version(reference)
        if registered:  # pinned: the version the alias names now, by its logged model
            from harness.tracking.models import artifact_sha256_of, model_id_of

            mv = mlflow.MlflowClient().get_model_version(*registered)
            uri = f"models:/{registered[0]}/{registered[1]}"
            logged = LoggedAgent(reference, uri, model_id_of(mv), sha256=artifact_sha256_of(uri))
        else:
            logged = self.log(reference)
        version = isolated_version(logged, root, label, registered, env=env, process=self._take())
        self.versions.append(version)
        return version

    def close(self) -> None:
        for version in self.versions:
            version.isolated.close()
        if self.spare is not None:
            self.spare.close()


def logged_to_json(logged: dict[str, LoggedAgent]) -> dict[str, Any]:
    return {ref: dataclasses.asdict(a) for ref, a in logged.items()}


def logged_from_json(data: dict[str, Any]) -> dict[str, LoggedAgent]:
    return {ref: LoggedAgent(**a) for ref, a in data.items()}
