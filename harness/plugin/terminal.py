"""What the terminal shows: failure messages (one short line by default, the detail with -v) and the live progress line.

Every message is masked (no secret from an answer reaches a terminal, a CI log or JUnit XML) and
made terminal-safe (control characters shown as `\\x1b`).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from harness.secrets import emails_in, safe

if TYPE_CHECKING:
    from harness.records.gate import GateCheck
    from harness.records.results import CaseResult

ANSWER_CHARS = 1200  # of an answer, in the detailed message; the reports hold all of it


def explain_score(result: CaseResult, scorer: str, verbose: bool = False) -> str:
    """A failed per-case check: case, scorer and why; with `verbose`, the question, expectation and answer too."""
    score = result.scores[scorer]
    asked = emails_in(m["content"] for m in result.case.messages)
    line = f"{result.case.id} {scorer}: {score.rationale}{_history_hint(result)}"
    if not verbose:
        return safe(line.splitlines()[0] if line else line, asked)
    text = result.output.text
    answer = text if len(text) <= ANSWER_CHARS else text[:ANSWER_CHARS] + f"… ({len(text)} chars)"
    expected = {k: v for k, v in result.case.expectations.items() if k != "expected_response"}
    return safe(
        f"{scorer} failed for case {result.case.id} ({result.case.source}) [judge: {score.judge}]\n"
        f"  why:      {score.rationale}{_history_hint(result)}\n"
        f"  question: {result.case.question}\n"
        f"  expected: {expected}\n"
        f"  answer:   {answer}",
        asked,
    )


def _history_hint(result: CaseResult) -> str:
    """A follow-up turn sent alone: the usual cause of its failure is an agent that keeps no memory."""
    conversation = result.case.conversation
    if conversation is None or conversation.turn == 1 or conversation.history != "agent":
        return ""
    return (
        f' (turn {conversation.turn} got no earlier turns under "history": "agent"; a stateless agent '
        'needs "history": "sent")'
    )


def explain_agent_error(result: CaseResult, reference: str) -> str:
    asked = emails_in(m["content"] for m in result.case.messages)
    return safe(
        f"agent {reference!r} failed on case {result.case.id} ({result.case.source}): {result.output.error}", asked
    )


def explain_check(check: GateCheck) -> str:
    """`gate check correctness>=0.85 failed: correctness mean 0.712 (threshold ≥ 0.85). <detail>`: the value
    actually checked and its bound, in the words of the decision line."""
    return safe(f"gate check {check.id} failed: {check.sentence()}. {check.detail}".strip())


class ProgressLine:
    """The session's live progress, from its first second: each step (logging, loading, scoring,
    publishing) and, after every answer, `answered n/total` with errors and an ETA.

    Writes through `write(text, replace)`: on a terminal one line rewritten in place (`replace`; at most
    every `every_s` seconds), in a log (CI) a plain line per step and every `every_s_log` seconds; an
    empty `text` ends the line."""

    def __init__(
        self, write: Callable[[str, bool], None], tty: bool, every_s: float = 0.2, every_s_log: float = 10.0
    ) -> None:
        self.write, self.tty = write, tty
        self.every_s = every_s if tty else every_s_log
        self.started = time.monotonic()
        self.answering = self.started
        self.last = float("-inf")
        self.lock = threading.Lock()
        self.open = False  # a line on the terminal waits to be ended

    def phase(self, step: str) -> None:
        """A step of the session begins: always shown (`step` reads like "logging my_agent:answer")."""
        with self.lock:
            self.last = time.monotonic()
            if step.startswith("answering"):
                self.answering = self.last
            self._show(f"harness: {step} ... ({self.last - self.started:.0f} s)")

    def __call__(self, done: int, total: int, errors: int) -> None:
        now = time.monotonic()
        final = done >= total
        with self.lock:
            if not final and now - self.last < self.every_s:
                return
            self.last = now
            elapsed = now - self.answering
            eta = f", about {elapsed / done * (total - done):.0f} s left" if done and not final else ""
            then = "; scoring ..." if final else ""  # what the session does next
            self._show(f"harness: answered {done}/{total}, {errors} error(s), {now - self.started:.0f} s{eta}{then}")

    def end(self) -> None:
        """The progress is over (the results follow): end the line left open on a terminal."""
        with self.lock:
            if self.open:
                self.write("", False)
                self.open = False

    def _show(self, text: str) -> None:
        self.write(text, self.open)
        self.open = self.tty
