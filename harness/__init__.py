"""Evaluation harness with gated MLflow registry promotion for LLM agents."""

import os

# Before mlflow or deepeval are imported anywhere: nothing may reach the network by default.
os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
os.environ.setdefault("DEEPEVAL_TELEMETRY_OPT_OUT", "1")
os.environ.setdefault("DEEPEVAL_DISABLE_DOTENV", "1")
os.environ.setdefault("DO_NOT_TRACK", "1")
# The harness downloads artifacts itself (to hash them before an agent loads them): no progress bars.
os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")


class HarnessError(Exception):
    """A user-facing error: its message is one line that names the file, line, key or reference."""


def first_line(exc: BaseException, default: str | None = None) -> str:
    """The first line of an exception's message, for one-line errors; `default` (or its type name) when empty."""
    text = str(exc).strip()
    if text:
        return text.splitlines()[0]
    return type(exc).__name__ if default is None else default
