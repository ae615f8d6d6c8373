"""The ChatAgent interface the harness relies on."""

from __future__ import annotations

import concurrent.futures as cf
import subprocess
import sys
from pathlib import Path

import mlflow
import pytest

import agent.chat_agent as ca
from agent.chat_agent import AGENT, HealthMonitorAgent
from agent.variants import DEGRADED, V1, V2

ROOT = Path(__file__).resolve().parents[2]


def test_agent_attributes():
    assert isinstance(AGENT, mlflow.pyfunc.ChatAgent) and isinstance(AGENT, HealthMonitorAgent)
    assert AGENT.model_code_path == str(ROOT / "agent" / "chat_agent.py")
    assert Path(AGENT.model_code_path).is_absolute() and Path(AGENT.model_config).is_file()
    for inst, name in ((V1, "v1"), (V2, "v2"), (DEGRADED, "degraded")):
        assert inst.model_config == str(ROOT / "agent" / "configs" / f"{name}.yaml") and inst.name == name
    src = Path(AGENT.model_code_path).read_text().rstrip()
    assert src.endswith("mlflow.models.set_model(AGENT)")


def test_response_shape(agent_v1):
    r = agent_v1.predict({"messages": [{"role": "user", "content": "Why did costs spike yesterday?"}]})
    out = r.custom_outputs
    assert set(out) == {"sources", "domains", "confidence"}
    assert out["domains"] == ["cost"] and 0.0 <= out["confidence"] <= 1.0
    assert all(set(s) == {"table", "sql"} and s["sql"] for s in out["sources"])
    text = r.messages[0].content
    assert text.splitlines()[-1] == "Sources: billing_usage, list_prices"
    assert r.messages[0].role == "assistant" and r.messages[0].id


def test_config_selection_env(monkeypatch, tmp_path):
    monkeypatch.setenv("HEALTH_MONITOR_CONFIG", "degraded")
    assert HealthMonitorAgent().name == "degraded"
    y = tmp_path / "mine.yaml"
    y.write_text("name: mine\nrouting:\n  max_domains: 2\n")
    monkeypatch.setenv("HEALTH_MONITOR_CONFIG", str(y))
    a = HealthMonitorAgent()
    assert a.name == "mine" and a.model_config == str(y.resolve())
    monkeypatch.delenv("HEALTH_MONITOR_CONFIG")
    assert HealthMonitorAgent().name == "v1"
    with pytest.raises(FileNotFoundError):
        HealthMonitorAgent("nope")


def test_config_selection_mlflow_model_config(monkeypatch):
    from mlflow.models import model_config

    monkeypatch.setattr(model_config, "__mlflow_model_config__", str(ROOT / "agent/configs/v2.yaml"), raising=False)
    assert ca.default_config_ref().endswith("v2.yaml")
    assert HealthMonitorAgent().name == "v2"
    monkeypatch.setattr(
        model_config, "__mlflow_model_config__", {"name": "inline", "answer": {"include_figures": False}}
    )
    a = HealthMonitorAgent()
    assert a.name == "inline" and Path(a.model_config).is_file()


def test_concurrent_predict_8_threads(agent_v1):
    qs = [
        "Why did costs spike yesterday?",
        "Any suspicious logins?",
        "Which jobs failed yesterday?",
        "Which tables are stale?",
        "Was anything slow on 2026-11-18?",
        "Give me a health summary",
    ] * 8
    serial = {q: agent_v1.predict({"messages": [{"role": "user", "content": q}]}).messages[0].content for q in set(qs)}
    with cf.ThreadPoolExecutor(8) as ex:
        got = list(ex.map(lambda q: (q, agent_v1.predict({"messages": [{"role": "user", "content": q}]})), qs))
    for q, r in got:
        assert r.messages[0].content == serial[q]


def test_importing_the_package_is_cheap():
    code = (
        "import sys, agent, agent.data.anomalies; print(sorted(m for m in ('mlflow','langgraph','duckdb') "
        "if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT).stdout
    assert out.strip() == "[]"
