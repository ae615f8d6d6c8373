"""Health Monitor as an MLflow ChatAgent, loggable as a model from code.

    mlflow.pyfunc.log_model(name="agent", python_model=AGENT.model_code_path,
                            model_config=AGENT.model_config, pip_requirements=[...])

The variant config is chosen in this order: the ``model_config`` MLflow was given when the model
was logged (read through ``mlflow.models.ModelConfig`` while MLflow loads this file), else env
``HEALTH_MONITOR_CONFIG`` (a variant name such as ``v2`` or a YAML path), else ``v1``.
"""

from __future__ import annotations

import os

os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")

import hashlib  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import uuid  # noqa: E402
from collections.abc import Generator  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any

try:  # when MLflow loads this file from a model directory, make the package importable
    import agent  # noqa: F401
except ImportError:  # pragma: no cover - depends on how the model was logged
    for _p in (Path(__file__).resolve().parents[1], Path(__file__).resolve().parent / "code"):
        if (_p / "agent" / "__init__.py").exists():
            sys.path.insert(0, str(_p))
            break

import mlflow  # noqa: E402
import yaml  # noqa: E402
from mlflow.pyfunc import ChatAgent  # noqa: E402
from mlflow.types.agent import ChatAgentChunk, ChatAgentMessage, ChatAgentResponse, ChatContext  # noqa: E402

from agent.config import ENV_VAR, resolve_config_path  # noqa: E402
from agent.graph import HealthMonitor  # noqa: E402

MODEL_CODE_PATH = str(Path(__file__).resolve())


def _mlflow_model_config() -> str | dict | None:
    """The ``model_config`` MLflow is loading this file with, if any."""
    try:
        from mlflow.models import ModelConfig

        return ModelConfig().config
    except Exception:
        return None


def default_config_ref() -> str | dict:
    cfg = _mlflow_model_config()
    if cfg:
        return cfg
    return os.environ.get(ENV_VAR) or "v1"


def _config_file(cfg_ref: Any, engine: HealthMonitor) -> str:
    if engine.cfg.path:
        return str(Path(engine.cfg.path).resolve())
    # built from a dict: persist it so the instance can still be logged with model_config=<path>
    text = yaml.safe_dump(engine.cfg.raw or engine.cfg.data, sort_keys=True)
    p = Path(tempfile.gettempdir()) / f"health_monitor_config_{hashlib.sha256(text.encode()).hexdigest()[:12]}.yaml"
    if not p.exists():
        p.write_text(text, encoding="utf-8")
    return str(p)


class HealthMonitorAgent(ChatAgent):
    """Platform health assistant (cost, security, performance, reliability, data quality).

    ``custom_inputs`` / ``context`` may carry ``conversation_id`` (short-term memory through the
    LangGraph checkpointer) and ``user_id`` (long-term preferences).
    """

    def __init__(self, config: str | dict | None = None):
        ref = default_config_ref() if config is None else config
        if isinstance(ref, str):
            ref = str(resolve_config_path(ref))
        self.engine = HealthMonitor(ref)
        self.name = self.engine.cfg.name
        self.model_code_path: str = MODEL_CODE_PATH
        self.model_config: str = _config_file(ref, self.engine)

    def __repr__(self) -> str:
        return f"HealthMonitorAgent(config={self.name!r})"

    @staticmethod
    def _ids(context: Any, custom_inputs: dict[str, Any] | None) -> tuple[str | None, str | None]:
        ci = custom_inputs or {}
        if isinstance(context, dict):
            context = ChatContext(**{k: v for k, v in context.items() if k in ("conversation_id", "user_id")})
        conv = ci.get("conversation_id") or ci.get("thread_id") or (context.conversation_id if context else None)
        user = ci.get("user_id") or (context.user_id if context else None)
        return (str(conv) if conv else None), (str(user) if user else None)

    def _apply_preferences(self, user: str | None, custom_inputs: dict[str, Any] | None) -> None:
        prefs = (custom_inputs or {}).get("preferences")
        if user and isinstance(prefs, dict):
            for k, v in prefs.items():
                self.engine.prefs.set(user, k, v)

    @staticmethod
    def _custom_outputs(r: dict[str, Any]) -> dict[str, Any]:
        return {"sources": r["sources"], "domains": r["domains"], "confidence": r["confidence"]}

    def predict(
        self,
        messages: list[ChatAgentMessage],
        context: ChatContext | None = None,
        custom_inputs: dict[str, Any] | None = None,
    ) -> ChatAgentResponse:
        conv, user = self._ids(context, custom_inputs)
        self._apply_preferences(user, custom_inputs)
        r = self.engine.run(messages, conversation_id=conv, user_id=user)
        return ChatAgentResponse(
            messages=[
                ChatAgentMessage(role="assistant", content=r["content"], id=str(uuid.uuid4()), name="health_monitor")
            ],
            finish_reason="stop",
            custom_outputs=self._custom_outputs(r),
        )

    def predict_stream(
        self,
        messages: list[ChatAgentMessage],
        context: ChatContext | None = None,
        custom_inputs: dict[str, Any] | None = None,
    ) -> Generator[ChatAgentChunk, None, None]:
        conv, user = self._ids(context, custom_inputs)
        self._apply_preferences(user, custom_inputs)
        msg_id = str(uuid.uuid4())
        for kind, value in self.engine.stream(messages, conversation_id=conv, user_id=user):
            if kind == "delta":
                yield ChatAgentChunk(delta=ChatAgentMessage(role="assistant", content=value, id=msg_id))
            else:
                yield ChatAgentChunk(
                    delta=ChatAgentMessage(role="assistant", content="", id=msg_id),
                    finish_reason="stop",
                    custom_outputs=self._custom_outputs(value),
                )


AGENT = HealthMonitorAgent()

mlflow.models.set_model(AGENT)
