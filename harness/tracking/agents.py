"""MLflow's side of an agent version: models-from-code files, logged models (logged, downloaded and
loaded back), the registered version a `models:/` reference names, and the requests MLflow's
`ChatAgent` and `ResponsesAgent` interfaces take. Resolving references is `harness.versions.resolve`."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from harness import HarnessError, first_line
from harness.tracking.connection import mlflow_client

MODEL_REF = re.compile(r"^models:/(?P<name>[^/@]+)(?:@(?P<alias>[A-Za-z0-9_\-]+)|/(?P<version>\d+))$")

AgentCall = Callable[[list[dict[str, str]], dict[str, Any], str], Any]  # (messages, params, conversation id)


def run_model_file(execute: Callable[[], None]) -> Any:
    """The object a models-from-code file hands `mlflow.models.set_model` while `execute` runs it; None if none."""
    from mlflow.models import model as mlflow_model_module

    mlflow_model_module.__mlflow_model__ = None
    execute()
    return mlflow_model_module.__mlflow_model__


def load_model(uri: str, suppress_warnings: bool = False) -> Any:
    """A logged model as a pyfunc. `suppress_warnings`: skip MLflow's requirements scan (seconds)."""
    import mlflow

    return mlflow.pyfunc.load_model(uri, suppress_warnings=suppress_warnings)


def download_model(uri: str, dst_path: str | None = None) -> str:
    """A local folder with the model's artifact files (a private copy when `dst_path` is given)."""
    import mlflow

    return mlflow.artifacts.download_artifacts(artifact_uri=uri, dst_path=dst_path)


def save_agent_model(
    path: str, python_model: Any, model_config: Any, code_paths: list[str], pip_requirements: list[str]
) -> str:
    """Save an agent as a pyfunc model from code into the local folder `path` (in the agent's own
    sandboxed process, which cannot write to the store); returns `path`."""
    import mlflow
    from mlflow.utils import environment

    # MLflow checks the requirements against every installed distribution (seconds, on each save);
    # the model is evaluated in this very environment, so that check cannot find anything.
    environment.warn_dependency_requirement_mismatches = lambda model_requirements: None
    mlflow.pyfunc.save_model(
        path,
        python_model=python_model,
        model_config=model_config,
        code_paths=code_paths or None,
        pip_requirements=pip_requirements,
    )
    return path


def log_saved_model(experiment: str, path: Path) -> tuple[str, str]:
    """Log a model folder saved by an agent's process as a new logged model of `experiment`, without
    running any of its code: (model URI, logged model id)."""
    import mlflow
    from mlflow.models import Model

    mlflow.set_experiment(experiment)
    model = mlflow.tracking.fluent._create_logged_model(name="agent", flavor="python_function")
    try:
        # The MLmodel file names its logged model, as `log_model` would have written it.
        description = Model.load(str(path / "MLmodel"))
        description.model_id = description.model_uuid = model.model_id
        description.artifact_path = model.artifact_location
        description.save(str(path / "MLmodel"))
        mlflow_client().log_model_artifacts(model.model_id, str(path))
    except Exception:
        mlflow.finalize_logged_model(model.model_id, "FAILED")
        raise
    mlflow.finalize_logged_model(model.model_id, "READY")
    return f"models:/{model.model_id}", model.model_id


def registered_version(reference: str) -> tuple[str, str] | None:
    """(model name, version number) a `models:/name@alias` or `models:/name/N` reference names now; None for others."""
    import mlflow

    if not reference.startswith("models:/") or reference.startswith("models:/m-"):
        return None
    match = MODEL_REF.match(reference)
    if not match:
        raise HarnessError(f"agent reference {reference!r}: expected 'models:/name@alias' or 'models:/name/N'")
    client = mlflow_client()
    try:
        if match["alias"]:
            mv = client.get_model_version_by_alias(match["name"], match["alias"])
        else:
            mv = client.get_model_version(match["name"], match["version"])
    except mlflow.exceptions.MlflowException as exc:
        raise HarnessError(f"agent reference {reference!r}: {first_line(exc, repr(exc))}") from None
    return mv.name, str(mv.version)


def model_version(name: str, number: str) -> Any:
    """The registry's record of version `number` of `name`."""
    return mlflow_client().get_model_version(name, number)


def chat_agent_call(agent: Any) -> AgentCall:
    """Call a `ChatAgent` with its own message and context types."""
    from mlflow.types.agent import ChatAgentMessage, ChatContext

    def call(messages: list[dict[str, str]], params: dict[str, Any], cid: str) -> Any:
        user_id = str(params.get("user_id")) if params.get("user_id") else None
        return agent.predict(
            messages=[ChatAgentMessage.model_validate(m) for m in messages],
            context=ChatContext(conversation_id=cid, user_id=user_id),
            custom_inputs=dict(params) or None,
        )

    return call


def responses_agent_call(agent: Any) -> AgentCall:
    """Call a `ResponsesAgent` with a `ResponsesAgentRequest`."""
    from mlflow.types.agent import ChatContext
    from mlflow.types.responses import ResponsesAgentRequest

    def call(messages: list[dict[str, str]], params: dict[str, Any], cid: str) -> Any:
        return agent.predict(
            ResponsesAgentRequest(
                input=[dict(m) for m in messages],  # type: ignore[misc]
                custom_inputs=dict(params) or None,
                context=ChatContext(conversation_id=cid),
            )
        )

    return call
