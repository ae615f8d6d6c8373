"""Hostile agents and a hostile scorer: each misbehaves in one way the harness must survive."""

from __future__ import annotations

import _thread
import collections
import threading
import time
from typing import Any

from harness.golden import Case
from harness.scorers.base import Score
from harness.versions.version import AgentOutput
from tests.fixtures.toy_agents import _last_user, good

HUGE_CHARS = 10_000_000
# One question per fault; the golden file built by the tests uses these as its questions.
FAULTS = {
    "raise": "Please raise.",
    "hang": "Please hang.",
    "none": "Please return None.",
    "huge": "Please return a huge answer.",
    "nontext": "Please return a number.",
    "leak": "Please leak memory.",
    "exit": "Please kill your thread.",
}


def faulty(messages: list[dict[str, str]]) -> Any:
    """Misbehaves as the question asks; answers the toy questions correctly otherwise."""
    question = _last_user(messages)
    if question == FAULTS["raise"]:
        raise RuntimeError("database connection refused")
    if question == FAULTS["hang"]:
        time.sleep(3600)
    if question == FAULTS["none"]:
        return None
    if question == FAULTS["huge"]:
        return "x" * HUGE_CHARS
    if question == FAULTS["nontext"]:
        return {"content": 42}
    if question == FAULTS["leak"]:
        return bytearray(1 << 62)  # an unbounded allocation: fails with MemoryError, like a leak at its end
    if question == FAULTS["exit"]:
        _thread.exit()  # SystemExit in the agent's own thread
    return good(messages)


HOSTILE_ANSWER = (
    "<script>document.title='pwned'</script><img src=x onerror=\"document.body.setAttribute('data-pwned','1')\"> "
    "Here you go: dapi0123456789abcdef01234567 password: hunter2hunter2 and mail carol.secret@example.com"
)


def hostile(messages: list[dict[str, str]]) -> str:
    """An answer that tries to run script in an HTML report and leaks a token, a password and an email."""
    return HOSTILE_ANSWER + " " + good(messages)


_calls: collections.Counter[str] = collections.Counter()
_calls_lock = threading.Lock()


def flaky(messages: list[dict[str, str]]) -> str:
    """Right on even calls of a question, wrong on odd ones: any 2 consecutive calls of a case differ."""
    question = _last_user(messages)
    with _calls_lock:
        n = _calls[question]
        _calls[question] += 1
    return good(messages) if n % 2 == 0 else "I don't know."


class Explodes:
    """A rule-based scorer with a bug: it raises on every case."""

    name = "explodes"
    judge = "rule"

    def score(self, case: Case, output: AgentOutput) -> Score:
        raise ZeroDivisionError("division by zero in the scorer")
