"""Resolve an agent reference to a callable version behind one adapter.

Reference forms: `module.path:attr`, `path/to/agent.py` (models from code), `models:/name@alias`,
`models:/name/N`, `runs:/<id>/<path>`, and served endpoints (`http(s)://…/invocations`,
`openai+http(s)://…/v1?model=NAME`, `endpoints:/NAME`; see harness/endpoints/). A reference is only
ever imported, loaded or called over HTTP, never evaluated, so a reference string cannot run shell
commands.
"""

from __future__ import annotations

import importlib
import importlib.util
import inspect
import re
import sys
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness import HarnessError, first_line

IMPORT_REF = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*:[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$")
MODEL_REF = re.compile(r"^models:/(?P<name>[^/@]+)(?:@(?P<alias>[A-Za-z0-9_\-]+)|/(?P<version>\d+))$")


class AgentOutputError(Exception):
    """The agent returned something that is not an answer."""


class AgentCallError(Exception):
    """A failed call whose message already reads `Type: reason` (the agent's own process phrased it)."""


@dataclass
class AgentOutput:
    text: str
    metadata: dict[str, Any] = field(default_factory=dict)
    latency_ms: float = 0.0
    error: str | None = None
    # The steps the answer took, read from its MLflow trace (harness/trajectory.py); None: not traced.
    trajectory: list[dict[str, Any]] | None = None


@dataclass
class Version:
    """A loaded agent version, called through `predict` whatever its kind."""

    reference: str
    kind: str
    call: Callable[[list[dict[str, str]], dict[str, Any], str], Any]
    load_s: float
    label: str = ""
    model_code_path: str | None = None
    model_config: str | None = None
    code_paths: list[str] = field(default_factory=list)
    registered: tuple[str, str] | None = None  # (model name, version) when it came from the registry
    isolated: Any = None  # the IsolatedAgent answering in its own process, for a version loaded there

    def predict(self, messages: list[dict[str, str]], params: dict[str, Any] | None = None, conversation_id: str = "") -> tuple[str, dict[str, Any]]:
        return normalize_output(self.call(messages, params or {}, conversation_id or uuid.uuid4().hex))

    def predict_traced(self, messages: list[dict[str, str]], params: dict[str, Any] | None = None,
                       conversation_id: str = "") -> tuple[str, dict[str, Any], list[dict[str, Any]] | None]:
        """`predict` under MLflow tracing, with the answer's trajectory (None: no spans below the root).

        A version answering from its own process is traced there and sends the trajectory back as
        JSON; any other is traced here (LangChain autolog must be on: see `trajectory.tracing`)."""
        cid = conversation_id or uuid.uuid4().hex
        if self.isolated is not None:
            reply = self.isolated.call(messages, params or {}, cid, trace=True, flush=False)  # the trajectory comes in the reply
            text, metadata = normalize_output({"content": reply["text"], "custom_outputs": reply.get("metadata") or {}})
            from harness.trajectory import received_trajectory

            return text, metadata, received_trajectory(reply.get("trajectory"))
        from harness.trajectory import traced_call

        attributes = {"harness.version": self.label, "harness.conversation_id": cid}
        raw, _, trajectory = traced_call(lambda: self.call(messages, params or {}, cid), attributes)
        text, metadata = normalize_output(raw)
        return text, metadata, trajectory


def resolve(reference: str, root: Path | None = None, label: str = "") -> Version:
    """Load a version; raises HarnessError with one line naming the reference on any failure."""
    reference = reference.strip()
    root = root or Path.cwd()
    started = time.perf_counter()
    from harness.endpoints import is_endpoint_reference, resolve_endpoint

    try:
        if is_endpoint_reference(reference):
            version = resolve_endpoint(reference)
        elif reference.startswith(("models:/", "runs:/")):
            version = _load_registered(reference)
        elif reference.endswith(".py"):
            version = _load_code_file(reference, root)
        elif IMPORT_REF.match(reference):
            version = _load_import(reference, root)
        else:
            raise HarnessError(
                f"agent reference {reference!r} is not 'module.path:attr', a '.py' models-from-code file, "
                "'models:/name@alias', 'models:/name/N', 'runs:/<id>/<path>' or an endpoint "
                "('http(s)://host/invocations', 'openai+http(s)://host/v1?model=NAME', 'endpoints:/NAME')"
            )
    except HarnessError:
        raise
    except Exception as exc:  # an import or load failure in the user's code
        raise HarnessError(f"agent reference {reference!r} failed to load: {type(exc).__name__}: {first_line(exc, repr(exc))}") from exc
    version.load_s = time.perf_counter() - started
    version.label = label or reference
    return version


def import_object(reference: str, root: Path) -> tuple[Any, Any]:
    """(module, object) that a `module.path:attr` reference names, importing from `root`; one-line errors."""
    module_name, attr_path = reference.split(":")
    if str(root) not in sys.path:
        sys.path.insert(0, str(root))
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        import pkgutil

        parent = (exc.name or module_name).rpartition(".")[0]
        where = [str(root)] if not parent else list(getattr(sys.modules.get(parent), "__path__", []))
        known = [m.name for m in pkgutil.iter_modules(where)]
        raise HarnessError(f"agent reference {reference!r}: module '{exc.name}' not found{_did_you_mean(exc.name or '', known)}") from exc
    obj: Any = module
    for part in attr_path.split("."):
        if not hasattr(obj, part):
            names = [n for n in dir(obj) if not n.startswith("_")]
            raise HarnessError(f"agent reference {reference!r}: module '{module_name}' has no attribute '{attr_path}'{_did_you_mean(part, names)}")
        obj = getattr(obj, part)
    return module, obj


def _did_you_mean(name: str, known: list[str]) -> str:
    import difflib

    close = difflib.get_close_matches(name.rpartition(".")[2], known, n=1)
    return f" (did you mean '{close[0]}'?)" if close else ""


def _load_import(reference: str, root: Path) -> Version:
    module_name = reference.split(":")[0]
    module, obj = import_object(reference, root)
    version = adapt(obj, reference)
    code_path = getattr(obj, "model_code_path", None)
    if code_path:
        version.model_code_path = str(code_path)
        version.model_config = getattr(obj, "model_config", None)
    elif module.__file__ and "set_model(" in Path(module.__file__).read_text(encoding="utf-8", errors="replace"):
        version.model_code_path = module.__file__
    if version.model_code_path:
        package_dir = _top_package_dir(module_name)
        version.code_paths = [package_dir] if package_dir else []
    return version


def _top_package_dir(module_name: str) -> str | None:
    top = sys.modules.get(module_name.split(".")[0])
    paths = getattr(top, "__path__", None)
    return str(Path(list(paths)[0])) if paths else None


def _load_code_file(reference: str, root: Path) -> Version:
    path = Path(reference)
    path = path if path.is_absolute() else root / path
    if not path.is_file():
        raise HarnessError(f"agent reference {reference!r}: file not found ({path})")
    from mlflow.models import model as mlflow_model_module

    mlflow_model_module.__mlflow_model__ = None
    spec = importlib.util.spec_from_file_location(f"_harness_agent_{uuid.uuid4().hex[:8]}", path)
    module = importlib.util.module_from_spec(spec)
    if str(root) not in sys.path:
        sys.path.insert(0, str(root))
    spec.loader.exec_module(module)
    obj = mlflow_model_module.__mlflow_model__
    if obj is None:
        raise HarnessError(f"agent reference {reference!r}: the file does not call mlflow.models.set_model(...)")
    version = adapt(obj, reference)
    version.model_code_path = str(path)
    version.model_config = getattr(obj, "model_config", None) if isinstance(getattr(obj, "model_config", None), str) else None
    return version


def _load_registered(reference: str) -> Version:
    import mlflow

    registered = registered_version(reference)
    version = load_pyfunc(mlflow.pyfunc.load_model(reference), reference)
    version.registered = registered
    return version


def registered_version(reference: str) -> tuple[str, str] | None:
    """(model name, version number) a `models:/name@alias` or `models:/name/N` reference names now; None for others."""
    import mlflow

    if not reference.startswith("models:/") or reference.startswith("models:/m-"):
        return None
    match = MODEL_REF.match(reference)
    if not match:
        raise HarnessError(f"agent reference {reference!r}: expected 'models:/name@alias' or 'models:/name/N'")
    client = mlflow.MlflowClient()
    try:
        if match["alias"]:
            mv = client.get_model_version_by_alias(match["name"], match["alias"])
        else:
            mv = client.get_model_version(match["name"], match["version"])
    except mlflow.exceptions.MlflowException as exc:
        raise HarnessError(f"agent reference {reference!r}: {first_line(exc, repr(exc))}") from None
    return mv.name, str(mv.version)


def load_pyfunc(model: Any, reference: str) -> Version:
    """A loaded pyfunc model as a version: ChatAgent and ResponsesAgent models are called as such."""
    try:
        inner = model.unwrap_python_model()
    except Exception:
        inner = None
    if inner is not None and _kind(inner) in ("chat_agent", "responses_agent"):
        return adapt(inner, reference)

    def call(messages: list[dict[str, str]], params: dict[str, Any], cid: str) -> Any:
        return model.predict({"messages": messages, "custom_inputs": dict(params), "conversation_id": cid})

    return Version(reference, "pyfunc", call, 0.0)


def _kind(obj: Any) -> str:
    names = {cls.__name__ for cls in type(obj).__mro__}
    if "ChatAgent" in names:
        return "chat_agent"
    if "ResponsesAgent" in names:
        return "responses_agent"
    if "Pregel" in names or "CompiledStateGraph" in names:
        return "langgraph"
    if callable(obj):
        return "callable"
    return "unknown"


def adapt(obj: Any, reference: str) -> Version:
    """Wrap any supported agent object in a `Version` whose call takes (messages, params, conversation id)."""
    if inspect.isclass(obj):
        try:
            obj = obj()
        except TypeError as exc:
            raise HarnessError(f"agent reference {reference!r}: class cannot be created without arguments: {exc}") from None
    kind = _kind(obj)
    if kind == "chat_agent":
        from mlflow.types.agent import ChatAgentMessage, ChatContext

        def call(messages, params, cid):
            return obj.predict(
                messages=[ChatAgentMessage(**m) for m in messages],
                context=ChatContext(conversation_id=cid, user_id=str(params.get("user_id")) if params.get("user_id") else None),
                custom_inputs=dict(params) or None,
            )
    elif kind == "responses_agent":
        from mlflow.types.agent import ChatContext
        from mlflow.types.responses import ResponsesAgentRequest

        def call(messages, params, cid):
            return obj.predict(
                ResponsesAgentRequest(input=messages, custom_inputs=dict(params) or None, context=ChatContext(conversation_id=cid))
            )
    elif kind == "langgraph":
        def call(messages, params, cid):
            return obj.invoke({"messages": messages}, config={"configurable": {"thread_id": cid, **params}})
    elif kind == "callable":
        def call(messages, params, cid):
            return obj(messages)
    else:
        raise HarnessError(
            f"agent reference {reference!r} names a {type(obj).__name__}, not a ChatAgent, ResponsesAgent, LangGraph graph or callable"
        )
    return Version(reference, kind, call, 0.0)


def normalize_output(raw: Any) -> tuple[str, dict[str, Any]]:
    """Turn whatever an agent returned into (text, metadata), or raise AgentOutputError saying why not."""
    if raw is None:
        raise AgentOutputError("agent returned None")
    if isinstance(raw, str):
        return raw, {}
    if hasattr(raw, "model_dump"):
        raw = raw.model_dump(exclude_none=True)
    if isinstance(raw, list) and len(raw) == 1:
        return normalize_output(raw[0])
    if isinstance(raw, dict):
        metadata = raw.get("custom_outputs") or raw.get("metadata") or {}
        if not isinstance(metadata, dict):
            metadata = {"custom_outputs": metadata}
        if isinstance(raw.get("messages"), list) and raw["messages"]:
            return _text(raw["messages"][-1]), metadata
        if isinstance(raw.get("output"), list):  # ResponsesAgent
            parts = [
                c.get("text", "")
                for item in raw["output"]
                if isinstance(item, dict) and item.get("type") == "message"
                for c in item.get("content", [])
                if isinstance(c, dict)
            ]
            if parts:
                return "".join(parts), metadata
        if isinstance(raw.get("choices"), list) and raw["choices"]:  # chat-completions shape
            return _text(raw["choices"][0].get("message", {})), metadata
        if "content" in raw:
            return _text(raw), metadata
        raise AgentOutputError(f"agent returned a dict without 'content', 'messages' or 'output' (keys: {sorted(raw)[:8]})")
    if hasattr(raw, "content"):
        return _text(raw), {}
    raise AgentOutputError(f"agent returned {type(raw).__name__}, expected text or a dict with 'content'")


def _text(message: Any) -> str:
    content = message.get("content") if isinstance(message, dict) else getattr(message, "content", None)
    if not isinstance(content, str):
        raise AgentOutputError(f"agent answer content is {type(content).__name__}, expected text")
    return content
