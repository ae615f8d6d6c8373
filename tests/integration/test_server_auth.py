"""Only CI may move an alias: `harness server` runs MLflow's basic-auth with the CI identity as its
only writer. Against a real server (SQLite behind it, so no PostgreSQL is needed): a read-only
identity cannot move an alias, the CI identity can through `harness promote`, and a version
aliased by hand fails `harness verify`, `harness status --check` and `harness serve`."""

from __future__ import annotations

import base64
import json
import os
import signal
import subprocess
import sys
import tempfile
import urllib.request
from pathlib import Path

import pytest

from harness.servers.ports import free_port
from tests.fixtures.project import REPO, make_project
from tests.integration.server_process import announced_uri

CI = {"MLFLOW_TRACKING_USERNAME": "ci-bot", "MLFLOW_TRACKING_PASSWORD": "ci-password-0123456"}
READER = {"MLFLOW_TRACKING_USERNAME": "teammate", "MLFLOW_TRACKING_PASSWORD": "teammate-password-42"}


@pytest.fixture
def auth_server():
    """A running `harness server` with authentication: yields its tracking URI."""
    data_dir = Path(tempfile.mkdtemp(prefix="harness-auth-server-"))
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MLFLOW_", "PYTEST_", "HARNESS_"))}
    env.update(
        PYTHONPATH=str(REPO),
        MLFLOW_DISABLE_TELEMETRY="true",
        HARNESS_CI_USERNAME=CI["MLFLOW_TRACKING_USERNAME"],
        HARNESS_CI_PASSWORD=CI["MLFLOW_TRACKING_PASSWORD"],
    )
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "harness.cli",
            "server",
            "--data-dir",
            str(data_dir / "server"),
            "--port",
            str(port),
            "--workers",
            "1",
            "--database-uri",
            f"sqlite:///{data_dir / 'mlflow.db'}",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
        cwd=data_dir,
    )
    lines: list[str] = []
    try:
        uri, lines = announced_uri(server)
        assert any("authentication on: ci-bot (the CI identity) may move aliases" in line for line in lines), "".join(
            lines
        )
        yield uri
    finally:
        server.send_signal(signal.SIGTERM)
        code = server.wait(timeout=60)
    assert code == 0, "".join(lines)


def _as(identity: dict[str, str]) -> dict[str, str]:
    token = base64.b64encode(
        f"{identity['MLFLOW_TRACKING_USERNAME']}:{identity['MLFLOW_TRACKING_PASSWORD']}".encode()
    ).decode()
    return {"Authorization": f"Basic {token}", "Content-Type": "application/json"}


def test_only_the_ci_identity_moves_an_alias_and_a_hand_set_one_is_refused_where_consumed(auth_server, tmp_path):
    import mlflow
    from mlflow.exceptions import MlflowException

    uri = auth_server
    # The CI identity (the server's admin) creates a teammate's account; it reads only.
    body = json.dumps(
        {"username": READER["MLFLOW_TRACKING_USERNAME"], "password": READER["MLFLOW_TRACKING_PASSWORD"]}
    ).encode()
    request = urllib.request.Request(f"{uri}/api/2.0/mlflow/users/create", data=body, headers=_as(CI), method="POST")
    with urllib.request.urlopen(request, timeout=30) as response:
        assert response.status == 200

    project = make_project(tmp_path)
    ci = {"MLFLOW_TRACKING_URI": uri, **CI}
    result = project.pytest(**ci)
    assert "promoted version 1 of toy_agent to @development" in result.stdout, (
        result.stdout[-3000:] + result.stderr[-2000:]
    )
    promoted = project.harness("promote", "--to", "staging", **ci)
    assert promoted.returncode == 0, promoted.stdout + promoted.stderr

    # A read-only identity: refused by the server, in one line naming it and the permission it lacks.
    reader = {"MLFLOW_TRACKING_URI": uri, **READER}
    refused = project.harness("promote", "--to", "production", "--force", "--reason", "friday deploy", **reader)
    assert refused.returncode == 1, refused.stdout + refused.stderr
    assert refused.stderr.strip().splitlines() == [
        "harness promote: error: the tracking server refused identity 'teammate': it lacks EDIT permission on "
        "the registered model "
        "(moving an alias, registering or tagging a version); on the team server only the CI identity has it"
    ]
    anonymous = project.harness("status", MLFLOW_TRACKING_URI=uri)
    assert (
        anonymous.returncode == 1
        and "does not accept no identity (MLFLOW_TRACKING_USERNAME is not set)" in anonymous.stderr
    )
    os.environ.update(READER)
    try:
        client = mlflow.MlflowClient(tracking_uri=uri, registry_uri=uri)
        with pytest.raises(MlflowException, match="403|Permission denied"):
            client.set_registered_model_alias("toy_agent", "production", "1")
    finally:
        for key in READER:
            os.environ.pop(key, None)
    assert project.harness("status", "--check", **reader).returncode == 0  # reading is allowed

    # Someone with write access registers a version by hand and gives it @production.
    os.environ.update(CI)
    try:
        client = mlflow.MlflowClient(tracking_uri=uri, registry_uri=uri)
        first = client.get_model_version("toy_agent", "1")
        rogue = str(
            client.create_model_version(
                "toy_agent", first.source, model_id=first.source.removeprefix("models:/")
            ).version
        )
        client.set_registered_model_alias("toy_agent", "production", rogue)
    finally:
        for key in CI:
            os.environ.pop(key, None)
    verify = project.harness("verify", "models:/toy_agent@production", **reader)
    assert (
        verify.returncode == 1
        and "moved outside the harness" in verify.stdout
        and "has no sealed gate record" in verify.stdout
    )
    status = project.harness("status", "--check", **reader)
    assert status.returncode == 1 and "no sealed record, moved outside the harness" in status.stdout, status.stdout
    served = project.harness("serve", "models:/toy_agent@production", **reader)
    assert served.returncode == 1 and "refusing to serve an unverified version" in served.stderr
    # The promoted version passes.
    assert project.harness("verify", "models:/toy_agent@staging", **reader).returncode == 0
    assert project.harness("verify", "models:/toy_agent@development", **reader).returncode == 0
