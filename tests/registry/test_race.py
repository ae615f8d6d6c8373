"""Concurrent promotions against a real MLflow tracking server process: exactly one wins."""

from __future__ import annotations

import dataclasses
import json
import multiprocessing
import os
import shutil
import sys
from pathlib import Path

import pytest

from harness.servers.ports import free_port
from harness.servers.process import LocalServer, launch
from tests.registry import race_workers


@pytest.fixture(scope="module")
def server(store, tmp_path_factory):
    """`mlflow server` on a copy of the test store (so it knows the tiny logged model), on a free port."""
    root = tmp_path_factory.mktemp("tracking-server")
    shutil.copy(store.root / "mlflow.db", root / "mlflow.db")
    port = free_port()
    mlflow_cli = Path(sys.executable).with_name("mlflow")
    command = [str(mlflow_cli)] if mlflow_cli.exists() else [sys.executable, "-m", "mlflow"]
    command += [
        "server",
        "--backend-store-uri",
        f"sqlite:///{root / 'mlflow.db'}",
        "--artifacts-destination",
        str(root / "artifacts"),
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        "1",
    ]
    env = dict(os.environ, MLFLOW_SERVER_ENABLE_JOB_EXECUTION="false")  # no background job runner: faster start
    server = launch(LocalServer, "mlflow server", command, port, root / "server.log", env)
    url = f"http://127.0.0.1:{port}"
    server.wait_ready([url + "/health"], 120)
    try:
        yield url
    finally:
        server.stop()


@pytest.fixture
def remote(reg, server, monkeypatch):
    """The test's model, on the tracking server instead of the SQLite file."""
    import mlflow

    monkeypatch.setenv("MLFLOW_TRACKING_URI", server)
    mlflow.set_tracking_uri(server)
    mlflow.set_registry_uri(server)
    reg.store = dataclasses.replace(reg.store, uri=server)
    reg.client = mlflow.MlflowClient(tracking_uri=server, registry_uri=server)
    return reg


def _collect(processes, results, n):
    got = [results.get(timeout=180) for _ in range(n)]
    for p in processes:
        p.join(timeout=30)
    return got


def test_two_racing_promotions_one_wins_the_other_says_why(remote):
    reg = remote
    v1, v2, v3 = reg.add(), reg.add(), reg.add()
    for alias in ("development", "staging", "production"):
        assert reg.cli("promote", "--to", alias, "--version", v1)[0] == 0
    for alias in ("development", "staging"):
        assert reg.cli("promote", "--to", alias, "--version", v2)[0] == 0
    entries_before = len(reg.history())

    ctx = multiprocessing.get_context("spawn")
    barrier, results = ctx.Barrier(2), ctx.Queue()
    commands = [
        ["promote", "--to", "production"],  # the release job: v2, from staging
        ["promote", "--to", "production", "--version", v3, "--force", "--reason", "hotfix job"],
    ]
    processes = [
        ctx.Process(target=race_workers.harness_command, args=(str(reg.project), reg.store.uri, argv, barrier, results))
        for argv in commands
    ]
    for p in processes:
        p.start()
    outcomes = _collect(processes, results, 2)

    assert sorted(code for _, code, _, _ in outcomes) == [0, 1], outcomes
    ((win_argv, _, win_out, _),) = [o for o in outcomes if o[1] == 0]
    ((_, _, lose_out, lose_err),) = [o for o in outcomes if o[1] == 1]
    winner = v3 if "--force" in win_argv else v2
    assert f"promoted version {winner} of '{reg.name}' to @production (was version {v1})" in win_out
    lines = lose_err.strip().splitlines()
    assert len(lines) == 1 and lose_out == "", lose_err
    assert lines[0].startswith("harness promote: error: @production of")
    assert (
        f"changed after this decision: it was version {v1}, now version {winner}" in lines[0]
        and "nothing moved" in lines[0]
    )
    assert reg.aliases()["production"] == winner
    new = reg.history()[entries_before:]
    assert [(e["alias"], e["from"], e["to"]) for e in new] == [("production", v1, winner)]
    assert reg.client.search_registered_models(f"name = '{reg.name}.harness-lock'") == []


def test_the_lock_excludes_across_processes(remote):
    reg = remote
    reg.add()
    ctx = multiprocessing.get_context("spawn")
    n = 2
    barrier, results = ctx.Barrier(n), ctx.Queue()
    processes = [
        ctx.Process(target=race_workers.hold_lock, args=(reg.store.uri, reg.name, 3, 0.2, barrier, results))
        for _ in range(n)
    ]
    for p in processes:
        p.start()
    outcomes = _collect(processes, results, n)
    assert all(isinstance(spans, list) for _, spans in outcomes), outcomes
    spans = sorted(span for _, holder_spans in outcomes for span in holder_spans)
    assert len(spans) == n * 3
    for (_, end), (next_start, _) in zip(spans, spans[1:]):
        assert end <= next_start, f"two processes held the lock at once: {json.dumps(spans)}"
