"""What a person reads when a test fails: one short line by default, the detail with -v.

Every message is masked (no secret from an answer reaches a terminal, a CI log or JUnit XML) and
made terminal-safe (control characters shown as `\\x1b`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from harness.secrets import emails_in, mask, sanitize_terminal

if TYPE_CHECKING:
    from harness.records.results import CaseResult
    from harness.records.gate import GateCheck

ANSWER_CHARS = 1200  # of an answer, in the detailed message; the reports hold all of it


def safe(text: str, asked: frozenset[str] = frozenset()) -> str:
    """`text` with secrets masked (emails in `asked` kept) and control characters made visible."""
    return sanitize_terminal(mask(text, asked).text)


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
    return f' (turn {conversation.turn} got no earlier turns under "history": "agent"; a stateless agent needs "history": "sent")'


def explain_agent_error(result: CaseResult, reference: str) -> str:
    asked = emails_in(m["content"] for m in result.case.messages)
    return safe(f"agent {reference!r} failed on case {result.case.id} ({result.case.source}): {result.output.error}", asked)


def explain_check(check: GateCheck) -> str:
    """`gate check correctness>=0.85 failed: correctness mean 0.712 (threshold ≥ 0.85). <detail>`: the value
    actually checked and its bound, in the words of the decision line."""
    return safe(f"gate check {check.id} failed: {check.sentence()}. {check.detail}".strip())
