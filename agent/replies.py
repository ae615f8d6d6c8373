"""The replies the agent writes without querying: refusals, greetings, help, malformed requests."""

from __future__ import annotations

from typing import Any

from agent import intent as intent_mod
from agent import memory, safety

HELP = (
    "I can help with platform health questions about cost, security, performance, reliability "
    'and data quality, for example "Why did costs spike yesterday?" or "Which tables are stale?"'
)
OUT_OF_SCOPE = "Sorry, that is outside what I can help with. " + HELP
GREETING = "Hello! " + HELP


def direct_reply(it: dict[str, Any]) -> str:
    """The reply to a message no worker answers: a refusal, a greeting, a malformed request."""
    kind = it.get("kind")
    if kind == "refuse":
        return safety.REFUSAL
    if kind == "sql_write":
        return safety.SQL_REFUSAL
    if kind == "empty":
        return "I didn't receive a question. " + HELP
    if kind == "not_user":
        return (
            f"The last message must come from the user, but it came from role '{it.get('role')}'. "
            "Send your question as a user message. " + HELP
        )
    if kind == "too_long":
        return (
            f"Your message is too long ({it.get('length', 0):,} characters; the limit is "
            f"{intent_mod.MAX_QUESTION_CHARS:,}). Please ask a shorter question. " + HELP
        )
    if kind == "greeting":
        return GREETING
    if kind == "prefs_saved":
        return f"Noted: I'll use {memory.describe(it.get('saved') or {})} in my answers from now on."
    return OUT_OF_SCOPE
