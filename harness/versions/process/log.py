"""Logging an agent as an MLflow model from code: its sandboxed process saves it, the harness logs the files."""

from __future__ import annotations

import sys
from pathlib import Path

from harness import HarnessError
from harness.sandbox import plain_tree
from harness.versions.process.client import LOAD_TIMEOUT_S, AgentProcess, AgentProcessDied, LoggedAgent, slug


def log_agent(
    reference: str,
    root: Path,
    experiment: str,
    pip_requirements: list[str],
    env: dict[str, str] | None = None,
    timeout_s: float = LOAD_TIMEOUT_S,
    process: AgentProcess | None = None,
) -> LoggedAgent:
    """Log `reference` as an MLflow model from code: its sandboxed process (`process`: one started
    ahead, closed here either way) saves it into its scratch folder, which runs the agent's module;
    this process hashes the saved files and logs them to the store, which the agent cannot write."""
    if reference.startswith(("models:/", "runs:/")):
        if process is not None:
            process.close()
        return LoggedAgent(reference, reference, None)
    from harness.tracking.agents import log_saved_model

    process = process or AgentProcess(root, f"log-{slug(reference)}", env)
    try:
        try:
            reply = process.request(
                {
                    "op": "log",
                    "reference": reference,
                    "root": str(root),
                    "path": sys.path,
                    "scratch": str(process.scratch),
                    "pip_requirements": pip_requirements,
                },
                timeout_s,
            )
        except (AgentProcessDied, TimeoutError) as exc:
            raise HarnessError(f"cannot log {reference!r} as an MLflow model: {exc}") from None
        if not reply.get("ok"):
            raise HarnessError(
                reply["error"]
                if reply.get("harness_error")
                else f"cannot log {reference!r} as an MLflow model from code: {reply.get('error')}"
            )
        process.stop()  # nothing of the agent's runs while its saved files are hashed and logged
        saved = process.scratch / "model"
        if Path(str(reply.get("path"))) != saved or not plain_tree(saved):
            raise HarnessError(
                f"cannot log {reference!r}: its process did not save a model of plain files where it was asked to"
            )
        # The digest that counts is of the store's copy, taken as it is downloaded for loading.
        model_uri, model_id = log_saved_model(experiment, saved)
        return LoggedAgent(reference, model_uri, model_id, bool(reply.get("generated")))
    finally:
        process.close()
