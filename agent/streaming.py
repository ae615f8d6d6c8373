"""An answer streamed finding by finding, as the domain workers finish."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from agent import safety
from agent.data import anomalies as A

DOMAINS = list(A.DOMAINS)


class FindingStream:
    """Streams an answer's domain paragraphs in the order their workers finish, one chunk each.

    ``rest`` checks that the synthesized answer holds exactly the streamed paragraphs (it lists them in
    domain order) and yields what follows them (the closing lines)."""

    def __init__(self, paragraph: Callable[[dict[str, Any]], str], allowed: list[str]):
        self.paragraph = paragraph
        self.allowed = allowed
        self.sent: dict[str, str] = {}

    def add(self, result: dict[str, Any]) -> str:
        text = safety.redact(self.paragraph(result), self.allowed)
        piece = ("\n" if self.sent else "") + text
        self.sent[result["domain"]] = text
        return piece

    def rest(self, answer: str) -> str:
        body = "\n".join(self.sent[d] for d in DOMAINS if d in self.sent)
        if not answer.startswith(body):  # the synthesis must hold what was streamed, never rewrite it
            raise RuntimeError("streamed paragraphs differ from the synthesized answer")
        return answer[len(body) :]
