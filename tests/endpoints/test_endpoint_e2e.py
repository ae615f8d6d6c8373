"""`pytest suites/ --agent <endpoint>`: a real session evaluates an endpoint like any other version.

`--in-process`: an endpoint already answers outside the harness's process, and there is no artifact
of it to log and load in a worker.
"""

from __future__ import annotations

import json

from harness.servers.ports import free_port
from tests.endpoints.standin import StandIn
from tests.fixtures.project import make_project
from tests.fixtures.toy_agents import ANSWERS


def test_suites_evaluate_an_endpoint_against_an_in_process_baseline(tmp_path):
    with StandIn(answers=ANSWERS, retry_after_s=0.1) as server:
        project = make_project(tmp_path, agent=server.url("/429x1/invocations"))
        result = project.pytest(
            "-q", "-p", "no:randomly", "--in-process", "--no-promote", "--baseline", "tests.fixtures.toy_agents:good"
        )
    assert result.returncode == 0, result.stdout[-3000:]
    candidate, baseline = json.loads((project.latest() / "results.json").read_text(encoding="utf-8"))["versions"]
    assert (candidate["kind"], baseline["kind"]) == ("endpoint:chat_agent", "callable")
    assert [c["answer"] for c in candidate["cases"]] == [c["answer"] for c in baseline["cases"]]
    # Every case was rate limited once: the retry and its wait are in each case's metadata.
    assert all(
        c["metadata"]["endpoint"]["retries"] == 1 and c["metadata"]["endpoint"]["retry_wait_ms"] >= 100
        for c in candidate["cases"]
    )


def test_an_unreachable_endpoint_fails_every_case_and_the_gate(tmp_path):
    url = f"http://127.0.0.1:{free_port()}/invocations"
    project = make_project(tmp_path, agent=url)
    result = project.pytest(
        "-q", "-p", "no:randomly", "--in-process", HARNESS_ENDPOINT_RETRIES="1", HARNESS_ENDPOINT_BACKOFF_S="0.01"
    )
    assert result.returncode != 0
    assert f"EndpointError: {url} unreachable: connection refused after 1 retry" in result.stdout
    cases = json.loads((project.latest() / "results.json").read_text(encoding="utf-8"))["versions"][0]["cases"]
    assert all(c["error"].startswith(f"EndpointError: {url} unreachable") for c in cases)
    assert not project.client().search_registered_models()  # nothing promoted
