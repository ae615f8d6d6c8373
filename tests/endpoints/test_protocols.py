"""Endpoint versions against a real loopback stand-in server: protocols, retries, limits and bad endpoints."""

from __future__ import annotations

import threading
import time
import uuid
from dataclasses import replace

import pytest

from harness.golden import load_golden
from harness.pipeline import evaluate
from harness.servers.ports import free_port
from harness.settings import HarnessConfig
from harness.versions.endpoints import resolve_endpoint
from harness.versions.endpoints.client import ClientSettings, EndpointError
from harness.versions.version import Version
from tests.endpoints.standin import StandIn
from tests.fixtures import FIXTURES

FAST = ClientSettings(timeout_s=5, retries=3, backoff_s=0.02, max_retry_wait_s=2)
TOKEN = "dapi0123456789abcdef"


@pytest.fixture
def standin():
    with StandIn() as server:
        yield server


@pytest.fixture
def endpoint():
    made: list[Version] = []

    def make(reference: str, settings: ClientSettings = FAST, **environ: str) -> Version:
        made.append(resolve_endpoint(reference, environ=environ, settings=settings))
        return made[-1]

    yield make
    for version in made:
        version.call.close()


def ask(
    version: Version, question: str = "Why did costs spike yesterday?", params: dict | None = None
) -> tuple[str, dict]:
    return version.predict([{"role": "user", "content": question}], params or {}, uuid.uuid4().hex)


def failure(version: Version) -> str:
    with pytest.raises(EndpointError) as info:
        ask(version)
    message = str(info.value)
    assert "\n" not in message
    return message


def test_mlflow_chat_agent_protocol(standin, endpoint):
    text, metadata = ask(endpoint(standin.url("/invocations")), params={"user_id": "u7"})
    assert text == "answer to: Why did costs spike yesterday?"
    assert metadata["domains"] == []  # the agent's custom_outputs stay the answer's metadata, as in-process
    assert {k: metadata["endpoint"][k] for k in ("status", "retries", "retry_wait_ms", "retried_on")} == {
        "status": 200,
        "retries": 0,
        "retry_wait_ms": 0.0,
        "retried_on": [],
    }
    sent = standin.requests[-1].body
    assert sent["context"]["user_id"] == "u7" and sent["custom_inputs"] == {"user_id": "u7"} and "messages" in sent


def test_mlflow_responses_agent_protocol(standin, endpoint):
    text, _ = ask(endpoint("responses+" + standin.url("/invocations")), "Which tables are stale?")
    assert text == "answer to: Which tables are stale?"
    assert "input" in standin.requests[-1].body and "messages" not in standin.requests[-1].body


def test_openai_compatible_protocol_with_token_from_the_environment(endpoint):
    with StandIn(token=TOKEN) as server:
        version = endpoint(f"openai+http://127.0.0.1:{server.port}/v1?model=hm-agent", HARNESS_ENDPOINT_TOKEN=TOKEN)
        text, metadata = ask(version)
        assert text == "answer to: Why did costs spike yesterday?"
        assert metadata["endpoint"]["usage"]["total_tokens"] == 7
        assert server.requests[-1].path == "/v1/chat/completions" and server.requests[-1].body["model"] == "hm-agent"
        assert server.requests[-1].headers["authorization"] == f"Bearer {TOKEN}"


def test_databricks_serving_endpoint(endpoint):
    with StandIn(token=TOKEN) as server:
        text, _ = ask(
            endpoint("endpoints:/ok", DATABRICKS_HOST=f"http://127.0.0.1:{server.port}", DATABRICKS_TOKEN=TOKEN)
        )
        assert text == "answer to: Why did costs spike yesterday?"
        assert server.requests[-1].path == "/serving-endpoints/ok/invocations"
        wrong = endpoint(
            "endpoints:/ok", DATABRICKS_HOST=f"http://127.0.0.1:{server.port}", DATABRICKS_TOKEN="dapi-revoked"
        )
        message = failure(wrong)
        assert "refused the request: HTTP 401 unauthorized (an Authorization header was sent)" in message
        assert "dapi-revoked" not in message
        assert "no credentials were sent: set HARNESS_ENDPOINT_TOKEN" in failure(endpoint(server.url("/invocations")))


def test_429_waits_what_retry_after_asks_then_answers(endpoint):
    with StandIn(retry_after_s=0.3) as server:
        text, metadata = ask(endpoint(server.url("/429x2/invocations")))
    assert text.startswith("answer to:")
    stats = metadata["endpoint"]
    assert (stats["status"], stats["retries"], stats["retried_on"]) == (200, 2, ["429", "429"])
    assert stats["retry_wait_ms"] >= 600  # two waits of at least Retry-After's 0.3 s
    assert stats["request_ms"] < stats["retry_wait_ms"]  # the answering attempt is timed apart from the waits
    assert server.count("429x2") == 3


def test_5xx_and_dropped_connections_are_retried_with_backoff(standin, endpoint):
    _, metadata = ask(endpoint(standin.url("/503x2/invocations")))
    assert metadata["endpoint"]["retried_on"] == ["503", "503"] and metadata["endpoint"]["retry_wait_ms"] > 0
    _, metadata = ask(endpoint(standin.url("/dropx1/invocations")))
    assert metadata["endpoint"]["retried_on"] == ["connect"]
    message = failure(endpoint(standin.url("/500/invocations")))
    assert "/500/invocations still HTTP 500 after 3 retries" in message and "stand-in says 500" in message
    assert standin.count("500") == 4


def test_4xx_is_not_retried(standin, endpoint):
    message = failure(endpoint(standin.url("/400/invocations")))
    assert "rejected the request: HTTP 400: " in message and "a ResponsesAgent takes responses+http(s)://" in message
    assert "refused the request: HTTP 403 forbidden" in failure(endpoint(standin.url("/403/invocations")))
    assert (standin.count("400"), standin.count("403")) == (1, 1)


def test_a_retry_after_beyond_the_limit_is_not_waited(standin, endpoint):
    started = time.perf_counter()
    message = failure(endpoint(standin.url("/retrylater/invocations")))
    assert (
        "asked to retry after 120 s (HTTP 429, Retry-After), more than HARNESS_ENDPOINT_MAX_RETRY_WAIT_S=2" in message
    )
    assert time.perf_counter() - started < 2


def test_bad_endpoints_get_one_clear_line_each(standin, endpoint):
    port = free_port()  # nothing listens there
    unreachable = failure(endpoint(f"http://127.0.0.1:{port}/invocations", ClientSettings(retries=2, backoff_s=0.01)))
    assert unreachable.startswith(
        f"http://127.0.0.1:{port}/invocations unreachable: connection refused after 2 retries"
    )
    assert failure(endpoint(standin.url("/html/invocations"))).endswith(
        "answered text/html that is not JSON: not an MLflow scoring endpoint (POST /invocations, ChatAgent payload)"
    )
    assert failure(endpoint(standin.url("/ok/predict"))).endswith(
        "answered HTTP 404: not an MLflow scoring endpoint (POST /invocations, ChatAgent payload)"
    )
    assert failure(endpoint(f"openai+http://127.0.0.1:{standin.port}/nowhere?model=m")).endswith(
        "answered HTTP 404: not an OpenAI-compatible chat endpoint (POST <base>/chat/completions)"
    )
    assert "answered without text: agent returned a dict without 'content'" in failure(
        endpoint(standin.url("/notext/invocations"))
    )
    assert failure(endpoint(standin.url("/empty/invocations"))).endswith("answered without text: the answer is empty")


def test_a_hung_endpoint_times_out_once_without_retry(endpoint):
    with StandIn(hang_s=3) as server:
        started = time.perf_counter()
        message = failure(endpoint(server.url("/hang/invocations"), ClientSettings(timeout_s=0.5, retries=3)))
        assert message.endswith("/hang/invocations gave no answer within 0.5 s")
        assert time.perf_counter() - started < 2.5 and server.count("hang") == 1


def test_secrets_never_appear_in_error_lines(endpoint):
    with StandIn() as server:
        version = endpoint(
            server.url("/echoauth500/invocations"),
            ClientSettings(retries=0),
            HARNESS_ENDPOINT_TOKEN=TOKEN,
            HARNESS_ENDPOINT_HEADERS='{"X-Api-Key": "k-very-secret"}',
        )
        message = failure(version)
    assert (
        message.endswith("still HTTP 500: upstream failed for ***")
        and TOKEN not in message
        and "k-very-secret" not in message
    )


def test_requests_in_flight_are_bounded(endpoint):
    with StandIn(think_s=0.2) as server:
        version = endpoint(server.url("/invocations"), ClientSettings(max_in_flight=3))
        threads = [threading.Thread(target=ask, args=(version,)) for _ in range(12)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert len(server.requests) == 12 and server.max_in_flight == 3


def test_failing_endpoints_are_agent_errors_in_an_evaluation_never_passes(standin, endpoint):
    cases = load_golden([FIXTURES / "toy.jsonl"])
    versions = [
        replace(endpoint(standin.url(f"/{mode}/invocations"), ClientSettings(retries=1, backoff_s=0.01)), label=label)
        for mode, label in (("500", "candidate"), ("ok", "baseline"))
    ]
    cfg = HarnessConfig(
        scorers=["correctness", "safety"],
        thresholds={"correctness": 0.0, "safety": 0.0},
        concurrency=4,
        case_timeout_s=5,
    )
    evaluation = evaluate(cfg, cases, versions)
    broken, healthy = evaluation.versions
    assert len(broken.agent_errors) == len(cases) and not healthy.agent_errors
    assert all(
        not s.passed and s.rationale.startswith("agent error: EndpointError: ")
        for r in broken.results.values()
        for s in r.scores.values()
    )
    assert not evaluation.gate.passed
    assert all(r.output.metadata["endpoint"]["status"] == 200 for r in healthy.results.values())
