"""Multi-turn golden cases expand into one case per turn, each knowing its conversation; bad input is one line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from harness import HarnessError
from harness.golden import Conversation, load_golden


def turn(question: str, facts: list[str] | None = None) -> dict:
    return {
        "inputs": {"messages": [{"role": "user", "content": question}]},
        "expectations": {"expected_facts": facts or []},
    }


def write(tmp_path: Path, *records: dict) -> Path:
    path = tmp_path / "golden.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return path


GOOD = {
    "id": "conv-1",
    "turns": [
        turn("Which jobs failed yesterday?", ["hourly_orders_sync"]),
        turn("And the day before?", ["2026-11-18"]),
    ],
    "tags": ["conversation"],
    "params": {"user_id": "u1"},
}


def test_a_conversation_becomes_one_case_per_turn(tmp_path: Path) -> None:
    single = {"id": "cost-1", "inputs": {"messages": [{"role": "user", "content": "Why did costs spike?"}]}}
    cases = load_golden([write(tmp_path, single, GOOD)])
    assert [c.id for c in cases] == ["cost-1", "conv-1/turn-1", "conv-1/turn-2"]
    first, second = cases[1], cases[2]
    assert cases[0].conversation is None
    assert (
        second.messages == [{"role": "user", "content": "And the day before?"}]
        and second.question == "And the day before?"
    )
    assert second.expectations == {"expected_facts": ["2026-11-18"]}
    assert second.tags == ["conversation"] and second.params == {"user_id": "u1"}
    assert second.source == f"{tmp_path / 'golden.jsonl'}:2"
    assert first.conversation == Conversation("conv-1", 1, 2, (), "agent")
    assert second.conversation == Conversation(
        "conv-1", 2, 2, (({"role": "user", "content": "Which jobs failed yesterday?"},),), "agent"
    )
    assert Conversation.from_dict(json.loads(json.dumps(second.conversation.to_dict()))) == second.conversation


def test_history_can_be_sent_by_the_caller(tmp_path: Path) -> None:
    cases = load_golden([write(tmp_path, {**GOOD, "history": "sent"})])
    assert {c.conversation.history for c in cases} == {"sent"}


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"turns": []}, "'turns' must be a non-empty list (case conv-1)"),
        ({"turns": "And the day before?"}, "'turns' must be a non-empty list (case conv-1)"),
        ({"turns": [turn("a"), "b"]}, "turns[1] must be an object with 'inputs' and 'expectations' (case conv-1)"),
        (
            {"turns": [turn("a"), {**turn("b"), "tags": ["x"]}]},
            "unknown key turns[1].tags (known keys: inputs, expectations)",
        ),
        ({"turns": [turn("a"), {"expectations": {}}]}, "'turns[1].inputs' is missing or not an object (case conv-1)"),
        (
            {"turns": [turn("a"), {"inputs": {"messages": [{"role": "assistant", "content": "hi"}]}}]},
            "turns[1].inputs.messages must end with a user message (case conv-1)",
        ),
        (
            {"turns": [turn("a"), {"inputs": {"messages": [{"role": "bot", "content": "hi"}]}}]},
            "turns[1].inputs.messages[0].role must be one of",
        ),
        (
            {"turns": [turn("a"), {**turn("b"), "expectations": {"expected_facts": "2026-11-18"}}]},
            "turns[1].expectations.expected_facts must be a list of strings (case conv-1)",
        ),
        (
            {"inputs": {"messages": [{"role": "user", "content": "a"}]}},
            "a case with 'turns' keeps 'inputs' and 'expectations' inside each turn (case conv-1)",
        ),
        ({"history": "server"}, "'history' must be one of ['agent', 'sent'], got 'server' (case conv-1)"),
        ({"tags": ["two words"]}, "tag 'two words' must be letters, digits and underscores"),
        ({"id": ""}, "'id' is missing or not a non-empty string"),
    ],
)
def test_bad_conversation_is_one_line_naming_file_line_and_field(tmp_path: Path, change: dict, message: str) -> None:
    path = write(
        tmp_path, {"id": "ok-1", "inputs": {"messages": [{"role": "user", "content": "hi"}]}}, {**GOOD, **change}
    )
    with pytest.raises(HarnessError) as info:
        load_golden([path])
    text = str(info.value)
    assert text.startswith(f"{path}:2: ") and message in text and "\n" not in text


def test_a_turn_id_that_clashes_with_a_case_is_a_duplicate(tmp_path: Path) -> None:
    clash = {"id": "conv-1/turn-2", "inputs": {"messages": [{"role": "user", "content": "hi"}]}}
    with pytest.raises(
        HarnessError, match=r"golden.jsonl:2: duplicate case id 'conv-1/turn-2' \(first at .*golden.jsonl:1\)"
    ):
        load_golden([write(tmp_path, GOOD, clash)])
