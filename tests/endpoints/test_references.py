"""Endpoint reference strings, client settings and request headers: parsed, or one line saying what is wrong."""

from __future__ import annotations

import pytest

from harness import HarnessError
from harness.versions.endpoints import is_endpoint_reference, resolve_endpoint
from harness.versions.endpoints.agent import request_headers, request_payload
from harness.versions.endpoints.client import ClientSettings
from harness.versions.endpoints.reference import parse_reference
from harness.versions.resolve import resolve

DATABRICKS = {"DATABRICKS_HOST": "adb-1.azuredatabricks.net/", "DATABRICKS_TOKEN": "dapi-test-token"}


@pytest.mark.parametrize(
    ("reference", "payload", "url", "model"),
    [
        ("http://127.0.0.1:5001/invocations", "chat_agent", "http://127.0.0.1:5001/invocations", None),
        ("HTTPS://serving.example.com/invocations", "chat_agent", "HTTPS://serving.example.com/invocations", None),
        ("responses+http://127.0.0.1:5001/invocations", "responses_agent", "http://127.0.0.1:5001/invocations", None),
        (
            "openai+http://127.0.0.1:8000/v1?model=my-agent",
            "chat_completions",
            "http://127.0.0.1:8000/v1/chat/completions",
            "my-agent",
        ),
        (
            "openai+https://llm.example.com/v1/?model=a%2Fb",
            "chat_completions",
            "https://llm.example.com/v1/chat/completions",
            "a/b",
        ),
        (
            "endpoints:/health-monitor",
            "chat_agent",
            "https://adb-1.azuredatabricks.net/serving-endpoints/health-monitor/invocations",
            None,
        ),
        (
            "responses+endpoints:/hm_v2",
            "responses_agent",
            "https://adb-1.azuredatabricks.net/serving-endpoints/hm_v2/invocations",
            None,
        ),
    ],
)
def test_reference_forms(reference, payload, url, model):
    assert is_endpoint_reference(reference)
    ref = parse_reference(reference, DATABRICKS)
    assert (ref.payload, ref.url, ref.model) == (payload, url, model)
    assert ref.token_env == ("DATABRICKS_TOKEN" if "endpoints:/" in reference else "HARNESS_ENDPOINT_TOKEN")


@pytest.mark.parametrize(
    "reference", ["agent.chat_agent:AGENT", "agent/chat_agent.py", "models:/hm@production", "runs:/abc/agent"]
)
def test_other_references_are_not_endpoints(reference):
    assert not is_endpoint_reference(reference)


@pytest.mark.parametrize(
    ("reference", "environ", "message"),
    [
        (
            "http://alice:s3cret@127.0.0.1:5001/invocations",
            {},
            "credentials in the URL are not accepted; set HARNESS_ENDPOINT_TOKEN",
        ),
        ("openai+http://127.0.0.1:8000/v1", {}, "give the model as '?model=NAME'"),
        ("openai+http://127.0.0.1:8000/v1?model=a&model=b", {}, "give the model as '?model=NAME' (once)"),
        ("http://127.0.0.1:port/invocations", {}, "the port is not a number"),
        ("http:///invocations", {}, "expected a URL such as http://127.0.0.1:5001/invocations"),
        ("endpoints:/hm", {"DATABRICKS_TOKEN": "x"}, "set DATABRICKS_HOST"),
        ("endpoints:/hm", {"DATABRICKS_HOST": "https://adb-1.net"}, "set DATABRICKS_TOKEN"),
        ("endpoints:/", DATABRICKS, "expected 'endpoints:/NAME'"),
        (
            "endpoints:/hm",
            {"DATABRICKS_HOST": "https://me:pw@adb-1.net", "DATABRICKS_TOKEN": "x"},
            "DATABRICKS_HOST: credentials in the URL",
        ),
    ],
)
def test_bad_references_are_one_line_errors(reference, environ, message):
    with pytest.raises(HarnessError) as info:
        parse_reference(reference, environ)
    text = str(info.value)
    assert message in text and "\n" not in text
    assert "s3cret" not in text and ":pw@" not in text  # never echo a password back


def test_resolve_dispatches_endpoint_references_without_calling_them():
    version = resolve("openai+http://127.0.0.1:9/v1?model=m", label="candidate")  # nothing listens on port 9
    try:
        assert (version.kind, version.label, version.reference) == (
            "endpoint:chat_completions",
            "candidate",
            "openai+http://127.0.0.1:9/v1?model=m",
        )
    finally:
        version.call.close()
    with pytest.raises(HarnessError, match=r"'http://\*\*\*@127\.0\.0\.1:9/invocations'"):
        resolve("http://alice:s3cret@127.0.0.1:9/invocations")


def test_settings_come_from_the_environment_with_one_line_errors():
    settings = ClientSettings.from_env(
        {"HARNESS_ENDPOINT_TIMEOUT_S": "2.5", "HARNESS_ENDPOINT_RETRIES": "0", "HARNESS_ENDPOINT_MAX_IN_FLIGHT": "128"}
    )
    assert (settings.timeout_s, settings.retries, settings.max_in_flight, settings.backoff_s) == (2.5, 0, 128, 0.5)
    with pytest.raises(HarnessError, match=r"environment HARNESS_ENDPOINT_RETRIES='two': expected an integer"):
        ClientSettings.from_env({"HARNESS_ENDPOINT_RETRIES": "two"})
    with pytest.raises(HarnessError, match=r"HARNESS_ENDPOINT_MAX_IN_FLIGHT='0': must be > 0"):
        ClientSettings.from_env({"HARNESS_ENDPOINT_MAX_IN_FLIGHT": "0"})


def test_headers_come_from_the_environment_only():
    ref = parse_reference("http://127.0.0.1:5001/invocations", {})
    headers = request_headers(
        ref,
        {
            "HARNESS_ENDPOINT_TOKEN": "tok-123",
            "HARNESS_ENDPOINT_HEADERS": '{"X-Tenant": "blue"}',
            "DATABRICKS_TOKEN": "other",
        },
    )
    assert headers["Authorization"] == "Bearer tok-123" and headers["X-Tenant"] == "blue"
    databricks = parse_reference("endpoints:/hm", DATABRICKS)
    assert (
        request_headers(databricks, {**DATABRICKS, "HARNESS_ENDPOINT_TOKEN": "tok-123"})["Authorization"]
        == "Bearer dapi-test-token"
    )
    with pytest.raises(HarnessError) as info:
        request_headers(ref, {"HARNESS_ENDPOINT_HEADERS": "X-Key: sekrit-value"})
    assert "HARNESS_ENDPOINT_HEADERS: not JSON" in str(info.value) and "sekrit" not in str(info.value)
    with pytest.raises(HarnessError, match="expected a JSON object of header names to text values"):
        request_headers(ref, {"HARNESS_ENDPOINT_HEADERS": '{"X-Retries": 3}'})
    with pytest.raises(HarnessError, match="HARNESS_ENDPOINT_HEADERS: not JSON"):
        resolve_endpoint("http://127.0.0.1:9/invocations", environ={"HARNESS_ENDPOINT_HEADERS": "{"})


def test_payloads_carry_what_the_in_process_adapter_passes():
    messages = [{"role": "user", "content": "Why did costs spike?"}]
    chat = request_payload(parse_reference("http://h/invocations", {}), messages, {"user_id": "u1"}, "cost-001-0")
    assert chat == {
        "messages": messages,
        "context": {"conversation_id": "cost-001-0", "user_id": "u1"},
        "custom_inputs": {"user_id": "u1"},
    }
    responses = request_payload(parse_reference("responses+http://h/invocations", {}), messages, {}, "c")
    assert responses == {"input": messages, "context": {"conversation_id": "c"}}
    openai = request_payload(parse_reference("openai+http://h/v1?model=m", {}), messages, {"user_id": "u1"}, "c")
    assert openai == {"model": "m", "messages": messages}
