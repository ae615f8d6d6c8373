"""The team set-up for real: `harness server` starts PostgreSQL and an MLflow server on loopback,
`pytest suites/` runs against it twice, `harness promote` / `harness rollback` move aliases through
it, and the result is read back through MLflow's REST API and from PostgreSQL itself."""

import base64
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from harness.commands.server import find_pg_bindir, free_port
from tests.fixtures.project import REPO, make_project
from tests.integration.server_process import announced_uri

CI = {
    "MLFLOW_TRACKING_USERNAME": "ci-bot",
    "MLFLOW_TRACKING_PASSWORD": "ci-password-0123456",
}  # the server's CI identity
AUTH = {
    "Authorization": "Basic "
    + base64.b64encode(f"{CI['MLFLOW_TRACKING_USERNAME']}:{CI['MLFLOW_TRACKING_PASSWORD']}".encode()).decode()
}


@pytest.fixture
def tracking_server():
    """A running `harness server`: yields (tracking URI, data dir); stops it and checks it stopped cleanly."""
    # Not under pytest's tmp_path: that folder is private to us, and under root PostgreSQL runs as
    # the `postgres` user, which must be able to reach its data folder.
    data_dir = Path(tempfile.mkdtemp(prefix="harness-server-"))
    data_dir.chmod(0o755)
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MLFLOW_", "PYTEST_"))}
    env.update(
        PYTHONPATH=str(REPO),
        MLFLOW_DISABLE_TELEMETRY="true",
        HARNESS_CI_USERNAME=CI["MLFLOW_TRACKING_USERNAME"],
        HARNESS_CI_PASSWORD=CI["MLFLOW_TRACKING_PASSWORD"],
    )
    server = subprocess.Popen(
        [sys.executable, "-m", "harness.cli", "server", "--data-dir", str(data_dir / "server"), "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
        cwd=data_dir,
    )
    lines: list[str] = []
    try:
        uri, lines = announced_uri(server)  # the command prints the URI to use once the server answers
        assert uri == f"http://127.0.0.1:{port}"
        yield uri, data_dir / "server"
    finally:
        server.send_signal(signal.SIGTERM)
        code = server.wait(timeout=60)
        pgdata = data_dir / "server" / "pgdata"
        status = subprocess.run(
            ["runuser", "-u", "postgres", "--"] * (os.geteuid() == 0)
            + [str(find_pg_bindir() / "pg_ctl"), "status", "-D", str(pgdata)],
            capture_output=True,
            text=True,
        )
        shutil.rmtree(data_dir, ignore_errors=True)
    assert code == 0, "".join(lines)
    assert status.returncode == 3, f"PostgreSQL still running after harness server stopped: {status.stdout}"


def rest(uri, path, **query):
    url = f"{uri}/api/2.0/mlflow/{path}?{urllib.parse.urlencode(query)}"
    with urllib.request.urlopen(urllib.request.Request(url, headers=AUTH), timeout=30) as response:
        return json.loads(response.read())


def rest_post(uri, path, body):
    request = urllib.request.Request(
        f"{uri}/api/2.0/mlflow/{path}",
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json", **AUTH},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())


def test_suites_promote_and_rollback_through_a_postgres_backed_server(tracking_server, tmp_path):
    uri, server_dir = tracking_server
    project = make_project(tmp_path)

    for number in ("1", "2"):
        result = project.pytest(MLFLOW_TRACKING_URI=uri, **CI)
        assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
        assert "logged MLflow run" in result.stdout and f"to {uri}" in result.stdout
        assert f"promoted version {number} of toy_agent to @development" in result.stdout
        if number == "1":  # version 1 goes on to staging, so that version 2 has something to replace
            promoted = project.harness("promote", "--to", "staging", MLFLOW_TRACKING_URI=uri, **CI)
            assert promoted.returncode == 0, promoted.stdout + promoted.stderr

    promoted = project.harness("promote", "--to", "staging", MLFLOW_TRACKING_URI=uri, **CI)
    assert promoted.returncode == 0, promoted.stdout + promoted.stderr
    assert rest(uri, "registered-models/alias", name="toy_agent", alias="staging")["model_version"]["version"] == "2"
    rolled = project.harness("rollback", "staging", "--reason", "integration test", MLFLOW_TRACKING_URI=uri, **CI)
    assert rolled.returncode == 0, rolled.stdout + rolled.stderr

    # Read back over REST: aliases, the gate record on the version, and both evaluation runs.
    model = rest(uri, "registered-models/get", name="toy_agent")["registered_model"]
    aliases = {a["alias"]: a["version"] for a in model.get("aliases", [])}
    assert aliases == {"development": "2", "staging": "1"}
    version = rest(uri, "model-versions/get", name="toy_agent", version="1")["model_version"]
    tags = {t["key"]: t["value"] for t in version["tags"]}
    assert (
        tags["harness.gate"] == "passed"
        and dict(json.loads(tags["harness.gate_record"])["metrics"])["correctness"] == 1.0
    )
    experiment = rest(uri, "experiments/get-by-name", experiment_name="harness-evaluations")["experiment"]
    runs = rest_post(uri, "runs/search", {"experiment_ids": [experiment["experiment_id"]]})["runs"]
    assert len(runs) == 2
    for run in runs:
        metrics = {m["key"]: m["value"] for m in run["data"]["metrics"]}
        assert metrics["gate_passed"] == 1.0 and metrics["correctness"] == 1.0
    # The artifacts went to the server's artifact root, proxied: the reports of both runs are there.
    assert len(list((server_dir / "artifacts").rglob("summary.md"))) == 2

    # And the registry really lives in PostgreSQL, not in some SQLite file next to it.
    bindir = find_pg_bindir()
    port = (server_dir / "pgdata" / "postmaster.pid").read_text().splitlines()[3].strip()  # line 4: the port
    query = subprocess.run(
        [
            str(bindir / "psql"),
            "-h",
            "127.0.0.1",
            "-p",
            port,
            "-U",
            "mlflow",
            "-d",
            "mlflow",
            "-tAc",
            "SELECT count(*) FROM model_versions WHERE name = 'toy_agent'",
        ],
        capture_output=True,
        text=True,
        env={**os.environ, "PGPASSWORD": (server_dir / "pg.password").read_text().strip()},
    )
    assert query.returncode == 0, query.stderr
    assert query.stdout.strip() == "2"
