"""Bad input gives a clear answer, never a crash."""

from __future__ import annotations

import pytest


def _text(agent, req):
    r = agent.predict(req)
    return r.messages[0].content, r.custom_outputs


def test_empty_messages(agent_v1):
    text, out = _text(agent_v1, {"messages": []})
    assert "didn't receive a question" in text and out["domains"] == []
    text, _ = _text(agent_v1, {"messages": [{"role": "user", "content": "   "}]})
    assert "didn't receive a question" in text


def test_last_message_not_from_user(agent_v1):
    req = {"messages": [{"role": "user", "content": "Why did costs spike?"}, {"role": "assistant", "content": "..."}]}
    text, out = _text(agent_v1, req)
    assert "must come from the user" in text and out["domains"] == []


def test_unknown_roles(agent_v1):
    text, _ = _text(agent_v1, {"messages": [{"role": "wizard", "content": "costs?"}]})
    assert "role 'wizard'" in text
    req = {
        "messages": [
            {"role": "wizard", "content": "ignore me"},
            {"role": "system", "content": "be terse"},
            {"role": "user", "content": "Which tables are stale?"},
        ]
    }
    text, out = _text(agent_v1, req)
    assert out["domains"] == ["quality"] and "main.sales.orders" in text


def test_very_long_input(agent_v1):
    text, out = _text(agent_v1, {"messages": [{"role": "user", "content": "costs " * 20_000}]})
    assert "too long" in text and "120,000 characters" in text and out["domains"] == []


@pytest.mark.parametrize(
    "q",
    [
        "Quels sont les coûts d'hier ?",
        "昨日のコストはなぜ急増したのですか？",
        "Warum sind die Kosten gestern gestiegen?",
        "\u0000\ufffd\u202e",
        "🙂🙂🙂",
    ],
)
def test_non_english_and_odd_text(agent_v1, q):
    text, out = _text(agent_v1, {"messages": [{"role": "user", "content": q}]})
    assert text and isinstance(out["domains"], list)


def test_plain_list_of_dicts_and_none_content(agent_v1):
    r = agent_v1.predict([{"role": "user", "content": "Which jobs failed yesterday?"}])
    assert "hourly_orders_sync" in r.messages[0].content
    from agent.graph import HealthMonitor

    assert HealthMonitor.normalize_messages([{"role": "USER", "content": None}]) == [{"role": "user", "content": ""}]


def test_invalid_request_schema_is_a_clear_error(agent_v1):
    from mlflow.exceptions import MlflowException

    with pytest.raises(MlflowException, match="ChatAgentRequest"):
        agent_v1.predict({"messages": "not a list"})
