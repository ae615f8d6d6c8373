"""Which tracking store, and failing fast, in one line, when it cannot be reached.

The store is MLflow's own `MLFLOW_TRACKING_URI`; by default SQLite `mlflow.db` in the project root.
"""

from __future__ import annotations

import functools
import importlib
import os
import tomllib
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from harness import HarnessError, first_line

T = TypeVar("T")


def tracking_uri(root: Path) -> str:
    return os.environ.get("MLFLOW_TRACKING_URI") or f"sqlite:///{(root / 'mlflow.db').resolve()}"


def sqlite_file(uri: str) -> Path | None:
    """The database file of a `sqlite:///` store URI; None for other stores."""
    return Path(uri[len("sqlite:///") :]) if uri.startswith("sqlite:///") else None


def connect(root: Path) -> str:
    """Point MLflow at the tracking store and fail fast, in one line, when it cannot be reached."""
    uri = tracking_uri(root)
    if uri.startswith(("http://", "https://")):
        try:
            with urllib.request.urlopen(uri.rstrip("/") + "/health", timeout=5) as response:
                response.read()
        except (urllib.error.URLError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            raise HarnessError(f"tracking server {uri} is unreachable ({reason})") from None
    elif (database := sqlite_file(uri)) is not None and not database.parent.is_dir():
        raise HarnessError(f"tracking store {uri}: folder {database.parent} does not exist")
    import mlflow

    mlflow.set_tracking_uri(uri)
    mlflow.set_registry_uri(uri)
    return uri


def import_store_client(uri: str) -> None:
    """Import MLflow's client for the store at `uri` (seconds, for a database store) ahead of need,
    for a process that has time to spare now."""
    importlib.import_module("mlflow.pyfunc")
    if uri.startswith(("sqlite:", "postgresql", "mysql", "mssql")):
        importlib.import_module("mlflow.store.tracking.sqlalchemy_store")


def current_tracking_uri() -> str:
    """The store this process logs to now (set by `connect`, MLFLOW_TRACKING_URI or MLflow's default)."""
    import mlflow

    return mlflow.get_tracking_uri()


def mlflow_client() -> Any:
    import mlflow

    return mlflow.MlflowClient()


USERNAME_ENV, PASSWORD_ENV = "MLFLOW_TRACKING_USERNAME", "MLFLOW_TRACKING_PASSWORD"  # read by MLflow's own client


def refusal(exc: BaseException) -> str | None:
    """One line for a request the tracking server's authentication refused; None for other errors."""
    code = error_code(exc)
    user = os.environ.get(USERNAME_ENV)
    if code == "UNAUTHENTICATED":
        who = (
            f"identity '{user}' with the password in {PASSWORD_ENV}"
            if user
            else f"no identity ({USERNAME_ENV} is not set)"
        )
        return f"the tracking server does not accept {who}: set {USERNAME_ENV} and {PASSWORD_ENV}"
    if code == "PERMISSION_DENIED":
        return (
            f"the tracking server refused identity '{user or 'anonymous'}': it lacks EDIT permission on the "
            "registered model "
            "(moving an alias, registering or tagging a version); on the team server only the CI identity has it"
        )
    return None


def store_errors(call: Callable[..., T]) -> Callable[..., T]:
    """Any MLflow failure inside `call` becomes one `tracking store: ...` line (a HarnessError)."""

    @functools.wraps(call)
    def wrapper(*args: Any, **kwargs: Any) -> T:
        from mlflow.exceptions import MlflowException

        try:
            return call(*args, **kwargs)
        except MlflowException as exc:
            raise HarnessError(refusal(exc) or f"tracking store: {first_line(exc)}") from None

    return wrapper


def error_code(exc: BaseException) -> str:
    return str(getattr(exc, "error_code", ""))


def pip_requirements(root: Path) -> list[str]:
    """The project's own dependencies, passed explicitly so log_model never infers them by running predict."""
    pyproject = root / "pyproject.toml"
    if pyproject.is_file():
        with pyproject.open("rb") as fh:
            deps = tomllib.load(fh).get("project", {}).get("dependencies", [])
        if deps:
            return [d for d in deps if not d.startswith(("pytest",))]
    return ["mlflow"]
