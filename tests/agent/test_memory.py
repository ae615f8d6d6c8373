"""Short-term memory (checkpointer keyed by conversation id) and long-term preferences."""

from __future__ import annotations

import uuid

from agent.memory import PreferenceStore, parse_preference_statement


def _ask(agent, text, **kw):
    r = agent.predict({"messages": [{"role": "user", "content": text}], **kw})
    return r.messages[0].content, r.custom_outputs


def test_follow_up_via_conversation_id_in_custom_inputs(agent_v1):
    cid = uuid.uuid4().hex
    first, _ = _ask(agent_v1, "Why did costs spike yesterday?", custom_inputs={"conversation_id": cid})
    assert "2026-11-19" in first
    second, out = _ask(agent_v1, "and the day before?", custom_inputs={"conversation_id": cid})
    assert out["domains"] == ["cost"] and "2026-11-18" in second and "no cost spike" in second
    third, _ = _ask(agent_v1, "and the day before that?", custom_inputs={"conversation_id": cid})
    assert "2026-11-17" in third


def test_follow_up_via_context_and_isolation(agent_v1):
    a, b = uuid.uuid4().hex, uuid.uuid4().hex
    _ask(agent_v1, "Which jobs failed yesterday?", context={"conversation_id": a})
    _ask(agent_v1, "Any suspicious logins on 2026-11-17?", context={"conversation_id": b})
    ra, oa = _ask(agent_v1, "and the day before?", context={"conversation_id": a})
    rb, ob = _ask(agent_v1, "what about the day after?", context={"conversation_id": b})
    assert oa["domains"] == ["reliability"] and "2026-11-18" in ra
    assert ob["domains"] == ["security"] and "2026-11-18" in rb and "token" in rb
    # without a conversation id there is no memory
    _, o = _ask(agent_v1, "and the day before?")
    assert o["domains"] == []


def test_follow_up_from_history_in_messages(agent_v1):
    msgs = [
        {"role": "user", "content": "Was bi-warehouse slow on 2026-11-18?"},
        {"role": "assistant", "content": "Performance: yes, mostly queueing."},
        {"role": "user", "content": "and the day before?"},
    ]
    r = agent_v1.predict({"messages": msgs})
    assert r.custom_outputs["domains"] == ["performance"]
    assert "bi-warehouse" in r.messages[0].content and "2026-11-17" in r.messages[0].content


def test_preference_store_roundtrip(tmp_path):
    p = PreferenceStore(tmp_path / "p.sqlite3")
    assert p.get("u1") == {}
    p.set("u1", "currency_unit", "DBU")
    p.set("u1", "default_workspace", "prod-etl")
    assert PreferenceStore(tmp_path / "p.sqlite3").get("u1") == {
        "currency_unit": "dbu",
        "default_workspace": "prod-etl",
    }
    assert p.get("u2") == {}
    p.clear("u1")
    assert p.get("u1") == {}
    import pytest

    with pytest.raises(ValueError):
        p.set("u1", "currency_unit", "yen")


def test_preference_statements():
    assert parse_preference_statement("Remember that I prefer DBUs") == {"currency_unit": "dbu"}
    assert parse_preference_statement("From now on my default workspace is prod-etl") == {
        "default_workspace": "prod-etl"
    }
    assert parse_preference_statement("Why did costs spike?") == {}


def test_preferences_change_answers_per_user(agent_v1):
    user = f"user-{uuid.uuid4().hex[:6]}"
    text, out = _ask(agent_v1, "Remember that I prefer DBUs", context={"user_id": user})
    assert "DBUs" in text and out["domains"] == []
    mine, _ = _ask(agent_v1, "Why did costs spike yesterday?", context={"user_id": user})
    other, _ = _ask(agent_v1, "Why did costs spike yesterday?", context={"user_id": "someone-else"})
    assert "Usage on 2026-11-19 was" in mine and "Usage on 2026-11-19 was" not in other
    ws_user = f"user-{uuid.uuid4().hex[:6]}"
    _ask(agent_v1, "x", custom_inputs={"user_id": ws_user, "preferences": {"default_workspace": "dev-sandbox"}})
    scoped, _ = _ask(agent_v1, "How much did we spend yesterday?", custom_inputs={"user_id": ws_user})
    assert "in workspace dev-sandbox" in scoped
