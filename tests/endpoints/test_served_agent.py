"""The reference agent behind a real `mlflow models serve`, evaluated as a version against itself in process."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request

import pytest

from harness import HarnessError
from harness.commands.serve import served
from harness.golden import load_golden
from harness.pipeline import evaluate
from harness.settings import HarnessConfig
from harness.versions.resolve import resolve
from tests.fixtures.project import REPO

PIP = ["mlflow", "langgraph", "duckdb", "pandas", "pyyaml"]
MODEL = "hm_served"
CASES = (
    "cost-001",
    "security-001",
    "performance-001",
    "reliability-001",
    "quality-001",
    "summary-001",
    "multiturn-001",
)


@pytest.fixture(scope="module")
def model_uri(tmp_path_factory):
    """V1 logged as a model from code and registered as `hm_served@staging` in a throw-away SQLite store."""
    import mlflow

    from agent.variants import V1

    folder = tmp_path_factory.mktemp("served")
    uri = f"sqlite:///{folder}/mlflow.db"
    patch = pytest.MonkeyPatch()
    patch.setenv("MLFLOW_TRACKING_URI", uri)
    previous = mlflow.get_tracking_uri(), mlflow.get_registry_uri()
    # Both: an earlier test in this process may have pointed the registry at its own store.
    mlflow.set_tracking_uri(uri)
    mlflow.set_registry_uri(uri)
    try:
        experiment = mlflow.create_experiment("served", artifact_location=(folder / "artifacts").as_uri())
        with mlflow.start_run(experiment_id=experiment):
            mlflow.pyfunc.log_model(
                name="agent",
                python_model=V1.model_code_path,
                model_config=V1.model_config,
                pip_requirements=PIP,
                registered_model_name=MODEL,
            )
        mlflow.MlflowClient().set_registered_model_alias(MODEL, "staging", "1")
        yield f"models:/{MODEL}@staging"
    finally:
        mlflow.set_tracking_uri(previous[0])
        mlflow.set_registry_uri(previous[1])
        patch.undo()


@pytest.fixture(scope="module")
def base_url(model_uri):
    with served(model_uri, timeout_s=600) as url:
        yield url


def test_served_agent_scores_like_the_in_process_agent(base_url):
    cases = [c for c in load_golden([REPO / "golden_data" / "health_monitor.jsonl"]) if c.id in CASES]
    candidate = resolve(f"{base_url}/invocations", label="candidate")
    baseline = resolve("agent.variants:V1", REPO, label="baseline")
    cfg = HarnessConfig(concurrency=2, case_timeout_s=120, thresholds={"correctness": 0.5})
    try:
        evaluation = evaluate(cfg, cases, [candidate, baseline])
    finally:
        candidate.call.close()
    served_run, local_run = evaluation.versions
    assert len(served_run.results) == len(CASES) and not served_run.agent_errors and not local_run.agent_errors
    for case_id, remote in served_run.results.items():
        local = local_run.results[case_id]
        assert remote.output.text == local.output.text, case_id
        assert {n: s.value for n, s in remote.scores.items()} == {n: s.value for n, s in local.scores.items()}, case_id
        endpoint = remote.output.metadata.pop("endpoint")
        assert remote.output.metadata == local.output.metadata, case_id  # custom_outputs: sources, domains, confidence
        # What each side measured: the runner times the whole call (HTTP, JSON, the served agent) for
        # the endpoint and the bare predict in process; the endpoint's own figures split the call up.
        assert (
            endpoint["status"] == 200
            and endpoint["retries"] == 0
            and endpoint["request_ms"] <= remote.output.latency_ms
        )
    latency = evaluation.comparisons[0].to_dict()["latency"]
    assert latency and all(served_run.latencies_ms) and all(local_run.latencies_ms)


def _serve(model_uri, tmp_path, *options):
    """`harness serve` in its own process: (process, base URL) once it serves."""
    env = {**os.environ, "PYTHONPATH": str(REPO), "MLFLOW_TRACKING_URI": os.environ["MLFLOW_TRACKING_URI"]}
    process = subprocess.Popen(
        [sys.executable, "-m", "harness.cli", "serve", model_uri, "--timeout", "600", *options],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    first = process.stdout.readline()
    assert first.startswith(f"serving {model_uri} at http://127.0.0.1:"), first + (
        process.stdout.read() if process.poll() is not None else ""
    )
    return process, first.split(" at ")[1].split()[0]


def _gone(base_url):
    with pytest.raises((urllib.error.URLError, OSError)):
        urllib.request.urlopen(f"{base_url}/ping", timeout=5)


def test_harness_serve_command_serves_until_stopped(model_uri, tmp_path):
    # The fixture's alias was set by hand, outside the harness: served only with --allow-unverified, and said so.
    refused = subprocess.run(
        [sys.executable, "-m", "harness.cli", "serve", model_uri],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        timeout=120,
    )
    assert refused.returncode == 1 and "refusing to serve an unverified version" in refused.stderr, (
        refused.stdout + refused.stderr
    )
    process, base_url = _serve(model_uri, tmp_path, "--allow-unverified")
    try:
        assert f"--agent {base_url}/invocations" in process.stdout.readline()
        assert process.stdout.readline().startswith("WARNING: serving an unverified version (--allow-unverified): ")
        request = urllib.request.Request(
            f"{base_url}/invocations",
            method="POST",
            headers={"Content-Type": "application/json"},
            data=json.dumps({"messages": [{"role": "user", "content": "Which tables are stale?"}]}).encode(),
        )
        with urllib.request.urlopen(request, timeout=60) as response:
            assert "main.sales.orders" in json.loads(response.read())["messages"][-1]["content"]
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=60) == 143
        _gone(base_url)  # the server went with the command: nothing waited for but the command itself
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def test_the_scoring_server_dies_with_a_killed_harness_serve(model_uri, tmp_path):
    process, base_url = _serve(model_uri, tmp_path, "--allow-unverified")
    try:
        with urllib.request.urlopen(f"{base_url}/ping", timeout=30) as response:
            assert response.status == 200
        process.kill()  # no handler runs: the scoring server's group must still go
        process.wait(timeout=30)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                urllib.request.urlopen(f"{base_url}/ping", timeout=2).close()
            except (urllib.error.URLError, OSError):
                break
            time.sleep(0.2)
        _gone(base_url)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def test_serve_errors_are_one_line(model_uri):
    with pytest.raises(HarnessError, match=r"model 'agent\.variants:V1': expected 'models:/name@alias'"):
        with served("agent.variants:V1"):
            pass
    with pytest.raises(HarnessError) as info:
        with served(f"models:/{MODEL}@nonexistent", timeout_s=300):
            pass
    assert info.match(r"the scoring server for models:/hm_served@nonexistent exited with code \d+: .*nonexistent")
    assert "\n" not in str(info.value)
