"""Endpoint reference strings: which URL to call, with which payload, and where its credentials come from.

Forms (credentials never come from the reference; a `user:password@` part is an error):
- `http(s)://host[:port]/invocations`: the MLflow scoring protocol with a ChatAgent payload
  (`{"messages": [...]}`), as `mlflow models serve` and Model Serving answer it;
- `responses+http(s)://host[:port]/invocations`: the same protocol with a ResponsesAgent payload
  (`{"input": [...]}`);
- `openai+http(s)://host[:port]/v1?model=NAME`: an OpenAI-compatible chat endpoint
  (`POST <base>/chat/completions`);
- `endpoints:/NAME` and `responses+endpoints:/NAME`: a Databricks serving endpoint,
  `$DATABRICKS_HOST/serving-endpoints/NAME/invocations` with `$DATABRICKS_TOKEN`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal
from urllib.parse import parse_qs, urlsplit, urlunsplit

from harness import HarnessError

Payload = Literal["chat_agent", "responses_agent", "chat_completions"]

PREFIXES = (
    "http://",
    "https://",
    "responses+http://",
    "responses+https://",
    "openai+http://",
    "openai+https://",
    "endpoints:/",
    "responses+endpoints:/",
)
ENDPOINT_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_\-.]*$")
TOKEN_ENV = "HARNESS_ENDPOINT_TOKEN"
HEADERS_ENV = "HARNESS_ENDPOINT_HEADERS"
DATABRICKS_HOST_ENV = "DATABRICKS_HOST"
DATABRICKS_TOKEN_ENV = "DATABRICKS_TOKEN"


@dataclass(frozen=True)
class EndpointRef:
    """A parsed endpoint reference: everything but the credentials, which are read from `token_env`."""

    reference: str
    payload: Payload
    url: str  # what is POSTed to
    token_env: str  # the environment variable holding the bearer token (optional except for Databricks)
    model: str | None = None  # the `model` field of OpenAI-compatible requests

    @property
    def protocol(self) -> str:
        """How error lines name what was expected of the endpoint."""
        return {
            "chat_agent": "an MLflow scoring endpoint (POST /invocations, ChatAgent payload)",
            "responses_agent": "an MLflow scoring endpoint (POST /invocations, ResponsesAgent payload)",
            "chat_completions": "an OpenAI-compatible chat endpoint (POST <base>/chat/completions)",
        }[self.payload]


def is_endpoint_reference(reference: str) -> bool:
    return reference.strip().lower().startswith(PREFIXES)


def parse_reference(reference: str, environ: Mapping[str, str]) -> EndpointRef:
    """Parse an endpoint reference; raises HarnessError with one line naming it and what is wrong."""
    reference = reference.strip()
    scheme, _, rest = reference.partition(":")
    scheme = scheme.lower()
    payload: Payload = "responses_agent" if scheme.startswith("responses+") else "chat_agent"
    if scheme.endswith("endpoints"):
        return _databricks(reference, rest, payload, environ)
    url = _checked_url(reference, reference.split("+", 1)[1] if "+" in scheme else reference)
    if scheme.startswith("openai+"):
        parts = urlsplit(url)
        models = parse_qs(parts.query).get("model", [])
        if len(models) != 1 or not models[0].strip():
            raise HarnessError(
                f"endpoint reference {reference!r}: give the model as '?model=NAME' (once), e.g. openai+http://127.0.0.1:8000/v1?model=my-agent"
            )
        base = urlunsplit((parts.scheme, parts.netloc, parts.path.rstrip("/"), "", ""))
        return EndpointRef(reference, "chat_completions", f"{base}/chat/completions", TOKEN_ENV, models[0].strip())
    return EndpointRef(reference, payload, url, TOKEN_ENV)


def _checked_url(reference: str, url: str) -> str:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise HarnessError(
            f"endpoint reference {reference!r}: expected a URL such as http://127.0.0.1:5001/invocations"
        )
    if parts.username is not None or parts.password is not None:
        raise HarnessError(
            f"endpoint reference {_without_userinfo(reference)!r}: credentials in the URL are not accepted; "
            f"set {TOKEN_ENV} (or {HEADERS_ENV}) instead"
        )
    try:
        parts.port  # noqa: B018 - raises on a port that is not a number
    except ValueError:
        raise HarnessError(f"endpoint reference {reference!r}: the port is not a number") from None
    if parts.fragment:
        raise HarnessError(f"endpoint reference {reference!r}: a URL fragment ('#...') has no meaning here")
    return url


def _without_userinfo(reference: str) -> str:
    return re.sub(r"//[^/@]*@", "//***@", reference)


def _databricks(reference: str, name: str, payload: Payload, environ: Mapping[str, str]) -> EndpointRef:
    name = name.lstrip("/")
    if not ENDPOINT_NAME.match(name):
        raise HarnessError(f"endpoint reference {reference!r}: expected 'endpoints:/NAME' with a serving endpoint name")
    host = environ.get(DATABRICKS_HOST_ENV, "").strip().rstrip("/")
    if not host:
        raise HarnessError(
            f"endpoint reference {reference!r}: set {DATABRICKS_HOST_ENV} (e.g. https://adb-123.azuredatabricks.net)"
        )
    if not environ.get(DATABRICKS_TOKEN_ENV, "").strip():
        raise HarnessError(
            f"endpoint reference {reference!r}: set {DATABRICKS_TOKEN_ENV} to a token that may query the endpoint"
        )
    if "://" not in host:
        host = f"https://{host}"  # the Databricks CLI and SDK accept a bare workspace host name too
    parts = urlsplit(host)
    if parts.username is not None or parts.password is not None:
        raise HarnessError(
            f"{DATABRICKS_HOST_ENV}: credentials in the URL are not accepted; set {DATABRICKS_TOKEN_ENV}"
        )
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.query or parts.fragment:
        raise HarnessError(
            f"{DATABRICKS_HOST_ENV}={host!r} is not a workspace URL such as https://adb-123.azuredatabricks.net"
        )
    return EndpointRef(reference, payload, f"{host}/serving-endpoints/{name}/invocations", DATABRICKS_TOKEN_ENV)
