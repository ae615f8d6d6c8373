"""The optional LLM path against a fake OpenAI-compatible server on 127.0.0.1 (no network)."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from agent.graph import HealthMonitor
from agent.llm import LLMClient, LLMError, client_from_config


class _Fake:
    def __init__(self):
        self.mode = "good"
        self.requests: list[dict] = []


@pytest.fixture()
def fake_llm():
    state = _Fake()

    class H(BaseHTTPRequestHandler):
        def log_message(self, *a):
            pass

        def do_POST(self):
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            state.requests.append(body)
            system = body["messages"][0]["content"]
            user = body["messages"][-1]["content"]
            if "JSON list" in system:
                content = '["reliability"]' if state.mode != "garbage" else "no idea"
            elif state.mode == "drop_facts":
                content = "Something happened at some point."
            elif state.mode == "garbage":
                self.send_response(200)
                self.end_headers()
                self.wfile.write(b"{not json")
                return
            else:
                findings = user.split("Findings:\n", 1)[1]
                content = "In short: " + findings + " contact me at leak@evil.example.com dapi0123456789abcdef"
            if body.get("stream"):
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.end_headers()
                for w in content.split(" "):
                    self.wfile.write(f"data: {json.dumps({'choices': [{'delta': {'content': w + ' '}}]})}\n\n".encode())
                self.wfile.write(b"data: [DONE]\n\n")
                return
            data = json.dumps({"choices": [{"message": {"role": "assistant", "content": content}}]}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(data)

    srv = ThreadingHTTPServer(("127.0.0.1", 0), H)
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    state.url = f"http://127.0.0.1:{srv.server_address[1]}/v1"
    yield state
    srv.shutdown()


def test_client_is_off_unless_configured(monkeypatch):
    monkeypatch.delenv("HEALTH_MONITOR_LLM_BASE_URL", raising=False)
    monkeypatch.delenv("HEALTH_MONITOR_LLM_MODEL", raising=False)
    assert client_from_config({"enabled": True}) is None
    assert client_from_config({"enabled": False, "base_url": "http://x", "model": "m"}) is None
    monkeypatch.setenv("HEALTH_MONITOR_LLM_BASE_URL", "http://127.0.0.1:9/v1")
    monkeypatch.setenv("HEALTH_MONITOR_LLM_MODEL", "m")
    assert client_from_config({"enabled": True}).model == "m"
    assert HealthMonitor("v1").llm is None  # v1 never uses an LLM


def test_v2_uses_llm_for_routing_and_phrasing(fake_llm, monkeypatch):
    monkeypatch.setenv("HEALTH_MONITOR_LLM_BASE_URL", fake_llm.url)
    monkeypatch.setenv("HEALTH_MONITOR_LLM_MODEL", "fake")
    h = HealthMonitor("v2")
    r = h.run([{"role": "user", "content": "What went wrong with the hourly sync?"}])
    assert r["llm_used"] and r["domains"] == ["reliability"]
    assert r["content"].startswith("In short:") and "hourly_orders_sync" in r["content"]
    assert r["content"].splitlines()[-1] == "Sources: job_runs"
    assert "leak@evil.example.com" not in r["content"] and "dapi0123" not in r["content"]  # redacted
    assert len(fake_llm.requests) == 2 and fake_llm.requests[0]["model"] == "fake"


def test_v2_falls_back_when_llm_drops_facts_or_breaks(fake_llm, monkeypatch):
    monkeypatch.setenv("HEALTH_MONITOR_LLM_BASE_URL", fake_llm.url)
    monkeypatch.setenv("HEALTH_MONITOR_LLM_MODEL", "fake")
    h = HealthMonitor("v2")
    det = HealthMonitor("v1").run([{"role": "user", "content": "Which jobs failed yesterday?"}])["content"]
    fake_llm.mode = "drop_facts"
    r = h.run([{"role": "user", "content": "Which jobs failed yesterday?"}])
    assert not r["llm_used"] and r["content"] == det
    fake_llm.mode = "garbage"
    r = h.run([{"role": "user", "content": "Which jobs failed yesterday?"}])
    assert not r["llm_used"] and r["content"] == det and r["domains"] == ["reliability"]
    monkeypatch.setenv("HEALTH_MONITOR_LLM_BASE_URL", "http://127.0.0.1:9/v1")  # nothing listens
    r = HealthMonitor("v2").run([{"role": "user", "content": "Which jobs failed yesterday?"}])
    assert r["content"] == det


def test_client_stream_and_errors(fake_llm):
    c = LLMClient(fake_llm.url, "fake")
    text = "".join(c.stream([{"role": "system", "content": "x"}, {"role": "user", "content": "Findings:\nhi"}]))
    assert text.startswith("In short:")
    fake_llm.mode = "garbage"
    with pytest.raises(LLMError):
        c.chat([{"role": "system", "content": "x"}, {"role": "user", "content": "Findings:\nhi"}])
