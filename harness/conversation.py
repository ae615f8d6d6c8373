"""Conversation-level verdicts from per-turn results: a conversation passes when every turn did.

Each turn of a multi-turn case is scored as a case of its own (see harness/golden.py); this folds
them back per conversation. Pure: it takes any mapping of case id to a result with `.case` and
`.pass_k` (evaluation's CaseResult) and reads nothing else.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from harness.golden import Case, Conversation


class TurnResult(Protocol):
    @property
    def case(self) -> Case: ...

    @property
    def pass_k(self) -> bool: ...


@dataclass(frozen=True)
class ConversationResult:
    id: str
    turns: int  # turns in the golden case
    scored: tuple[str, ...]  # the turn case ids that were scored, in turn order
    failed: tuple[str, ...]  # those that did not pass every applicable scorer

    @property
    def complete(self) -> bool:
        """Every turn of the conversation was scored (a selection may have left some out)."""
        return len(self.scored) == self.turns

    @property
    def passed(self) -> bool:
        """Every turn scored and passed: a turn left out is not a pass."""
        return self.complete and not self.failed

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "turns": self.turns,
            "scored": list(self.scored),
            "failed": list(self.failed),
            "passed": self.passed,
        }


def conversation_results(results: Mapping[str, TurnResult]) -> list[ConversationResult]:
    """One verdict per conversation among `results`, in first-seen order; single-turn cases are left out."""
    turns: dict[str, list[tuple[Conversation, TurnResult]]] = {}
    for result in results.values():
        if (conversation := result.case.conversation) is not None:
            turns.setdefault(conversation.id, []).append((conversation, result))
    out = []
    for conv_id, placed in turns.items():
        placed.sort(key=lambda pair: pair[0].turn)
        group = [result for _, result in placed]
        out.append(
            ConversationResult(
                id=conv_id,
                turns=placed[0][0].turns,
                scored=tuple(r.case.id for r in group),
                failed=tuple(r.case.id for r in group if not r.pass_k),
            )
        )
    return out
