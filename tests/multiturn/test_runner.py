"""The runner plays a conversation's turns in order, in one conversation fresh per version, repeat and run."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

from harness.golden import Case, load_golden
from harness.runner import run_versions
from harness.versions.resolve import adapt
from harness.versions.version import Version
from tests.multiturn.test_golden import turn, write


class Recorder:
    """A version's call that records every call and answers with the last user message's text."""

    def __init__(self, fail_on: str = "") -> None:
        self.calls: list[tuple[str, list[dict[str, str]]]] = []
        self.params: list[dict[str, Any]] = []
        self.in_flight = self.most_in_flight = 0
        self.fail_on = fail_on
        self.lock = threading.Lock()

    def __call__(self, messages: list[dict[str, str]], params: dict[str, Any], cid: str) -> str:
        with self.lock:
            self.calls.append((cid, [dict(m) for m in messages]))
            self.params.append(dict(params))
            self.in_flight += 1
            self.most_in_flight = max(self.most_in_flight, self.in_flight)
        time.sleep(0.02)  # long enough for conversations run side by side to overlap
        with self.lock:
            self.in_flight -= 1
        if messages[-1]["content"] == self.fail_on:
            raise RuntimeError("no answer today")
        return f"answer to {messages[-1]['content']}"

    def conversations(self) -> dict[str, list[str]]:
        """Conversation id -> the questions asked in it, in call order (the cold-start call left out)."""
        out: dict[str, list[str]] = {}
        for cid, messages in self.calls:
            if not cid.endswith("--1"):
                out.setdefault(cid, []).append(messages[-1]["content"])
        return out


def conversation_cases(tmp_path: Path, history: str = "agent") -> list[Case]:
    records = [
        {
            "id": f"conv-{c}",
            "turns": [turn(f"{c}{k}") for k in range(1, 4)],
            "history": history,
            "params": {"user_id": "u1"},
        }
        for c in "abc"
    ]
    return load_golden(
        [write(tmp_path, *records, {"id": "single", "inputs": {"messages": [{"role": "user", "content": "s"}]}})]
    )


def test_turns_play_in_order_in_one_conversation_per_version_and_repeat(tmp_path: Path) -> None:
    cases = conversation_cases(tmp_path)
    recorders = [Recorder(), Recorder()]
    versions = [Version(f"v{i}", "callable", r, 0.0, label=f"v{i}") for i, r in enumerate(recorders)]
    runs = run_versions(versions, cases, concurrency=4, timeout_s=10, repeats=2)

    for run, recorder in zip(runs, recorders):
        played = recorder.conversations()
        conversations = {cid: asked for cid, asked in played.items() if asked != ["s"]}
        assert len(conversations) == 6  # three conversations, two repeats
        assert sorted(conversations.values()) == sorted([[f"{c}{k}" for k in range(1, 4)] for c in "abc"] * 2)
        assert all(len(messages) == 1 for _, messages in recorder.calls)  # the agent keeps the history
        # the id also travels in the custom inputs, beside the case's own params
        assert all(
            params == {"user_id": "u1", "conversation_id": cid}
            for (cid, messages), params in zip(recorder.calls, recorder.params)
            if cid in conversations
        )
        assert recorder.most_in_flight >= 2  # different conversations run side by side
        assert run.outputs["conv-b/turn-2"][1].text == "answer to b2"
    ids = [set(r.conversations()) for r in recorders]
    assert not ids[0] & ids[1]

    again = Recorder()
    run_versions([Version("v0", "callable", again, 0.0, label="v0")], cases, concurrency=4, timeout_s=10)
    assert not set(again.conversations()) & ids[0]


def test_a_failed_turn_keeps_its_error_and_the_next_turn_is_still_asked(tmp_path: Path) -> None:
    cases = conversation_cases(tmp_path)
    recorder = Recorder(fail_on="a1")
    [run] = run_versions([Version("v", "callable", recorder, 0.0, label="v")], cases, concurrency=2, timeout_s=10)
    assert run.output("conv-a/turn-1").error == "RuntimeError: no answer today"
    assert run.output("conv-a/turn-2").error is None and run.output("conv-a/turn-2").text == "answer to a2"
    assert ["a1", "a2", "a3"] in recorder.conversations().values()


def test_a_turn_asked_alone_is_asked_after_the_earlier_turns(tmp_path: Path) -> None:
    only = [c for c in conversation_cases(tmp_path) if c.id == "conv-c/turn-3"]
    recorder = Recorder()
    [run] = run_versions([Version("v", "callable", recorder, 0.0, label="v")], only, concurrency=2, timeout_s=10)
    assert list(recorder.conversations().values()) == [["c1", "c2", "c3"]]
    assert list(run.outputs) == ["conv-c/turn-3"] and run.output("conv-c/turn-3").text == "answer to c3"


def day_agent(messages: list[dict[str, str]]) -> str:
    """A stateless plain callable: it can follow up only on the history it is sent."""
    question = messages[-1]["content"]
    if question.startswith("Costs on day "):
        return f"Spend on day {question.split()[-1].rstrip('?')} was high."
    earlier = [m["content"] for m in messages[:-1] if m["role"] == "assistant"]
    if question == "And the day before?" and earlier:
        day = int(earlier[-1].split()[3])
        return f"Spend on day {day - 1} was normal."
    return "Which day?"


def test_a_stateless_callable_follows_up_when_the_history_is_sent(tmp_path: Path) -> None:
    record = {
        "id": "days",
        "turns": [turn("Costs on day 19?"), turn("And the day before?"), turn("And the day before?")],
    }
    version = adapt(day_agent, "day_agent")
    for history, answers in (
        ("sent", ["Spend on day 19 was high.", "Spend on day 18 was normal.", "Spend on day 17 was normal."]),
        ("agent", ["Spend on day 19 was high.", "Which day?", "Which day?"]),
    ):
        cases = load_golden([write(tmp_path, {**record, "history": history})])
        [run] = run_versions([version], cases, concurrency=1, timeout_s=10)
        assert [run.output(c.id).text for c in cases] == answers, history
