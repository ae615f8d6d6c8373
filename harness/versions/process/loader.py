"""Resolve a session's references the way a promotable run must: logged once, loaded in their own process."""

from __future__ import annotations

import dataclasses
import json
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

from harness.tracking.connection import tracking_uri
from harness.versions.process.client import AgentProcess, LoggedAgent, isolated_version, slug
from harness.versions.process.log import log_agent

if TYPE_CHECKING:
    from harness.settings import HarnessConfig
    from harness.versions.version import Version


def _connect(cfg: HarnessConfig) -> str:
    from harness import HarnessError
    from harness.tracking.connection import connect

    try:
        return connect(cfg.root)
    except HarnessError as exc:
        raise HarnessError(
            f"{exc}: versions are logged to the tracking store before any case runs; fix MLFLOW_TRACKING_URI, "
            "or pass --in-process for a local loop that never promotes"
        ) from None


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
        self.loggers: dict[str, AgentProcess] = {}  # logging processes started ahead, by reference
        self.uri: str | None = None  # the tracking store, once this process is connected to it
        self.started = 0
        self.expected = len(self._answering_here())  # versions still to start in a worker

    def _connected(self) -> str:
        """Connect this process to the store once (for a server, one health check, not one per version)."""
        if self.uri is None:
            self.uri = _connect(self.cfg)
        return self.uri

    def _env(self) -> dict[str, str]:
        # Only the URI: the store is first touched by a request, after `_connected` in this process.
        uri = tracking_uri(self.cfg.root)
        return {"MLFLOW_TRACKING_URI": uri, "MLFLOW_REGISTRY_URI": uri}

    def _warm(self) -> AgentProcess:
        if self.spare is None:
            self.started += 1
            self.spare = AgentProcess(self.cfg.root, f"worker-{self.started}", self._env())
            modules = sorted({m for ms in self._imports().values() for m in ms})
            if modules:  # what the models imported when last loaded: imported while waiting, not while loading
                self.spare.send({"op": "preload", "modules": modules})
                self.spare.preloaded = True
        return self.spare

    def _imports_path(self) -> Path:
        return self.cfg.root / ".harness-cache" / "agent-imports.json"

    def _hint_file(self) -> dict[str, Any]:
        try:
            data = json.loads(self._imports_path().read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        return data if isinstance(data, dict) else {}

    def _imports(self) -> dict[str, list[str]]:
        """Installed packages each reference imported when this project last logged it (a speed hint only)."""
        refs = {r.strip() for r in self.cfg.all_versions}
        # Never the project's own packages, whatever the file says: those must come from each artifact.
        ours = {p.stem for p in self.cfg.root.iterdir()}
        return {
            r: [m for m in ms if isinstance(m, str) and m.split(".")[0] not in ours]
            for r, ms in self._hint_file().items()
            if r in refs and isinstance(ms, list)
        }

    def _remember_imports(self, reference: str, modules: list[str]) -> None:
        data = self._hint_file()
        if data.get(reference) != modules:
            data[reference] = modules
            try:
                self._imports_path().write_text(json.dumps(data, indent=1), encoding="utf-8")
            except OSError:
                pass

    def _take(self) -> AgentProcess:
        """The warm worker, and another started when more configured versions are to come."""
        process, self.spare = self._warm(), None
        self.expected -= 1
        if self.expected > 0:
            self._warm()
        return process

    def _answering_here(self) -> list[str]:
        """The configured references that will answer from a worker of this session (not endpoints)."""
        from harness.versions.endpoints import is_endpoint_reference

        return [
            r.strip() for r in self.cfg.all_versions if r.strip().lower() != "none" and not is_endpoint_reference(r)
        ]

    def to_log(self) -> list[str]:
        """The configured references this session logs itself (not a logged or registered model, not an endpoint)."""
        return [r for r in self._answering_here() if not r.startswith(("models:/", "runs:/")) and r not in self.logged]

    def start(self, workers: bool = True) -> None:
        """Start the processes this session will need now, so that their imports (MLflow's, seconds)
        overlap with collection and this process's own; `workers=False` starts only the logging ones."""
        for reference in self.to_log():
            if reference not in self.loggers:
                self.loggers[reference] = AgentProcess(self.cfg.root, f"log-{slug(reference)}", self._env())
        if workers and self.expected > 0:
            # Its imports overlap with the logging process's and this one's: started only once the model
            # is logged, the worker's start-up was seconds of this session's wall time on its own.
            self._warm()

    def log(self, reference: str) -> LoggedAgent:
        """The logged model for `reference`, logging it now if this session has not yet."""
        from harness.tracking import EXPERIMENT
        from harness.tracking.connection import import_store_client, pip_requirements

        reference = reference.strip()
        if reference not in self.logged:
            uri = self._connected()
            # Logging the saved model opens the store here: import its code while the agent's process saves it.
            threading.Thread(target=import_store_client, args=(uri,), daemon=True).start()
            self.logged[reference] = log_agent(
                reference,
                self.cfg.root,
                EXPERIMENT,
                pip_requirements(self.cfg.root),
                env=self._env(),
                process=self.loggers.pop(reference, None),
            )
        return self.logged[reference]

    def __call__(self, reference: str, root: Path, label: str) -> Version:
        from harness.tracking.agents import model_version, registered_version
        from harness.versions.endpoints import is_endpoint_reference
        from harness.versions.resolve import resolve

        reference = reference.strip()
        if is_endpoint_reference(reference):  # already answering from outside this process, as deployed
            return resolve(reference, root, label)
        self._connected()
        env = self._env()
        registered = registered_version(reference)
        if registered:  # pinned: the version the alias names now, by its logged model
            from harness.tracking.models import model_id_of

            mv = model_version(*registered)
            logged = LoggedAgent(reference, f"models:/{registered[0]}/{registered[1]}", model_id_of(mv))
        else:
            self._warm()  # the worker imports while the model is logged
            logged = self.log(reference)
        version = isolated_version(logged, root, label, registered, env=env, process=self._take())
        if not registered:
            # Hashed by this process as it was downloaded for loading, before any of the agent's code ran
            # on it: an agent's process could report anything about its own files.
            self.logged[reference] = version.isolated.logged
        modules = version.isolated.loaded.get("modules")
        if isinstance(modules, list):
            self._remember_imports(reference, [m for m in modules if isinstance(m, str)])
        self.versions.append(version)
        return version

    def close(self) -> None:
        for version in self.versions:
            version.isolated.close()
        for process in [*self.loggers.values(), *([self.spare] if self.spare else [])]:
            process.close()


def logged_to_json(logged: dict[str, LoggedAgent]) -> dict[str, Any]:
    return {ref: dataclasses.asdict(a) for ref, a in logged.items()}


def logged_from_json(data: dict[str, Any]) -> dict[str, LoggedAgent]:
    return {ref: LoggedAgent(**a) for ref, a in data.items()}
