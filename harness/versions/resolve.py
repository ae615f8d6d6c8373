"""Resolve an agent reference to a callable version behind one adapter.

Reference forms: `module.path:attr`, `path/to/agent.py` (models from code), `models:/name@alias`,
`models:/name/N`, `runs:/<id>/<path>`, and served endpoints (`http(s)://…/invocations`,
`openai+http(s)://…/v1?model=NAME`, `endpoints:/NAME`; see harness/versions/endpoints/). A reference is only
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
from dataclasses import replace
from pathlib import Path
from typing import Any

from harness import HarnessError, first_line
from harness.versions.version import Version

IMPORT_REF = re.compile(
    r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*:[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$"
)


def resolve(reference: str, root: Path | None = None, label: str = "") -> Version:
    """Load a version; raises HarnessError with one line naming the reference on any failure."""
    reference = reference.strip()
    root = root or Path.cwd()
    started = time.perf_counter()
    from harness.versions.endpoints import is_endpoint_reference, resolve_endpoint

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
        raise HarnessError(
            f"agent reference {reference!r} failed to load: {type(exc).__name__}: {first_line(exc, repr(exc))}"
        ) from exc
    return replace(version, load_s=time.perf_counter() - started, label=label or reference)


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
        raise HarnessError(
            f"agent reference {reference!r}: module '{exc.name}' not found{_did_you_mean(exc.name or '', known)}"
        ) from exc
    obj: Any = module
    for part in attr_path.split("."):
        if not hasattr(obj, part):
            names = [n for n in dir(obj) if not n.startswith("_")]
            raise HarnessError(
                f"agent reference {reference!r}: module '{module_name}' has no attribute "
                f"'{attr_path}'{_did_you_mean(part, names)}"
            )
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
        version = replace(version, model_code_path=str(code_path), model_config=getattr(obj, "model_config", None))
    elif module.__file__ and "set_model(" in Path(module.__file__).read_text(encoding="utf-8", errors="replace"):
        version = replace(version, model_code_path=module.__file__)
    if version.model_code_path:
        package_dir = _top_package_dir(module_name)
        version = replace(version, code_paths=[package_dir] if package_dir else [])
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
    from harness.tracking.agents import run_model_file

    spec = importlib.util.spec_from_file_location(f"_harness_agent_{uuid.uuid4().hex[:8]}", path)
    if spec is None or spec.loader is None:
        raise HarnessError(f"agent reference {reference!r}: not a Python file Python can load ({path})")
    loader = spec.loader
    module = importlib.util.module_from_spec(spec)
    if str(root) not in sys.path:
        sys.path.insert(0, str(root))
    obj = run_model_file(lambda: loader.exec_module(module))
    if obj is None:
        raise HarnessError(f"agent reference {reference!r}: the file does not call mlflow.models.set_model(...)")
    config = getattr(obj, "model_config", None)
    return replace(
        adapt(obj, reference), model_code_path=str(path), model_config=config if isinstance(config, str) else None
    )


def _load_registered(reference: str) -> Version:
    from harness.tracking.agents import load_model, registered_version

    registered = registered_version(reference)
    return replace(load_pyfunc(load_model(reference), reference), registered=registered)


def load_pyfunc(model: Any, reference: str) -> Version:
    """A loaded pyfunc model as a version: ChatAgent and ResponsesAgent models are called as such."""
    try:
        inner = model.unwrap_python_model()
    except Exception:
        inner = None
    if inner is not None and agent_kind(inner) in ("chat_agent", "responses_agent"):
        return adapt(inner, reference)

    def call(messages: list[dict[str, str]], params: dict[str, Any], cid: str) -> Any:
        return model.predict({"messages": messages, "custom_inputs": dict(params), "conversation_id": cid})

    return Version(reference, "pyfunc", call, 0.0)


# What a `module:attr` reference may name, in the order an object is matched (a ChatAgent is also a
# PythonModel, a compiled graph also a runnable): kind -> how it is called. The generated
# models-from-code file (harness/versions/process/loggable.py) calls each kind the same way.
AGENT_FORMS = {
    "chat_agent": "a ChatAgent",
    "responses_agent": "a ResponsesAgent",
    "python_model": "a PythonModel",
    "langgraph": "a compiled LangGraph graph",
    "runnable": "a LangChain runnable",
    "predict": "an object with predict(messages)",
    "callable": "a callable taking messages",
}
FORMS_TEXT = ", ".join(list(AGENT_FORMS.values())[:-1]) + " or " + list(AGENT_FORMS.values())[-1]


def agent_kind(obj: Any) -> str:
    """Which of AGENT_FORMS the object `obj` is, or "unknown"."""
    names = {c.__name__ for c in type(obj).__mro__}
    for kind, markers in (
        ("chat_agent", {"ChatAgent"}),
        ("responses_agent", {"ResponsesAgent"}),
        ("python_model", {"PythonModel"}),
        ("langgraph", {"Pregel", "CompiledStateGraph"}),
    ):
        if names & markers:
            return kind
    if callable(getattr(obj, "invoke", None)):
        return "runnable"
    if callable(getattr(obj, "predict", None)):
        return "predict"
    return "callable" if callable(obj) else "unknown"


def agent_object(obj: Any, reference: str) -> tuple[Any, str]:
    """(the object to call, its kind): a class is instantiated; anything not in AGENT_FORMS is a one-line error."""
    if inspect.isclass(obj):
        try:
            obj = obj()
        except TypeError as exc:
            raise HarnessError(
                f"agent reference {reference!r}: class cannot be created without arguments: {exc}"
            ) from None
    kind = agent_kind(obj)
    if kind == "unknown":
        found = "a module" if inspect.ismodule(obj) else f"a {type(obj).__name__}"
        raise HarnessError(
            f"agent reference {reference!r} names {found}, which the harness cannot call; it must name "
            f"{FORMS_TEXT} (or a method: 'module:obj.method')"
        )
    return obj, kind


def adapt(obj: Any, reference: str) -> Version:
    """Wrap any supported agent object in a `Version` whose call takes (messages, params, conversation id)."""
    obj, kind = agent_object(obj, reference)
    if kind == "chat_agent":
        from harness.tracking.agents import chat_agent_call

        call = chat_agent_call(obj)
    elif kind == "responses_agent":
        from harness.tracking.agents import responses_agent_call

        call = responses_agent_call(obj)
    elif kind == "python_model":
        # MLflow lets a PythonModel's predict leave out `context`; loaded, it is called either way.
        with_context = "context" in inspect.signature(obj.predict).parameters

        def call(messages, params, cid):
            request = {"messages": messages, "custom_inputs": dict(params), "conversation_id": cid}
            return obj.predict(None, request) if with_context else obj.predict(request)
    elif kind == "langgraph":

        def call(messages, params, cid):
            return obj.invoke({"messages": messages}, config={"configurable": {"thread_id": cid, **params}})
    elif kind == "runnable":

        def call(messages, params, cid):
            return obj.invoke(messages)
    elif kind == "predict":

        def call(messages, params, cid):
            return obj.predict(messages)
    else:

        def call(messages, params, cid):
            return obj(messages)

    return Version(reference, kind, call, 0.0)
