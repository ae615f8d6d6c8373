"""Agents for the A/B tests, answering the 24-case golden set in data/ab.jsonl ("What is A plus B?").

`good` is always right, `degraded` is wrong on every other case (a regression an exact paired
test finds on 24 cases), `wrong` is never right, `slow` is `good` 30 ms later, and `hostile`
answers right inside markup that would run script if a report failed to escape it.
"""

from __future__ import annotations

import json
import re
import time
from pathlib import Path
from typing import Any

GOLDEN = Path(__file__).resolve().parent / "data" / "ab.jsonl"
QUESTION = re.compile(r"What is (\d+) plus (\d+)\?")
HOSTILE_MARKUP = (
    "<script>document.title='PWNED'</script>"
    "<img src=x onerror=\"document.body.setAttribute('data-pwned','1')\">"
    '</pre></td></tr></table><b id="injected">bold</b>'
)


def _last_user(messages: list[Any]) -> str:
    for m in reversed(messages):
        role = m["role"] if isinstance(m, dict) else getattr(m, "role", "")
        if role == "user":
            return m["content"] if isinstance(m, dict) else m.content
    return ""


def _sum(messages: list[Any]) -> tuple[int, int] | None:
    match = QUESTION.search(_last_user(messages))
    if not match:
        return None
    a, b = int(match.group(1)), int(match.group(2))
    return a, a + b


def good(messages: list[Any]) -> str:
    found = _sum(messages)
    return f"The answer is {found[1]}." if found else "I don't know."


def degraded(messages: list[Any]) -> str:
    found = _sum(messages)
    if found and found[0] % 2 == 0:  # the first operand is the case number: wrong on even cases
        return "It is a small number."
    return good(messages)


def wrong(messages: list[Any]) -> str:
    return "I am not sure."


def slow(messages: list[Any]) -> str:
    time.sleep(0.03)
    return good(messages)


def hostile(messages: list[Any]) -> str:
    return f"{HOSTILE_MARKUP} {good(messages)}"


def write_golden(path: Path = GOLDEN, n: int = 24, start: int = 1, hostile_question: bool = False) -> Path:
    """The golden set: case i asks "What is i plus 10?" (expected fact: i + 10)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = []
    for i in range(start, start + n):
        question = f"What is {i} plus 10?"
        if hostile_question and i == start:
            question = f"{HOSTILE_MARKUP} {question}"
        lines.append(
            json.dumps(
                {
                    "id": f"ab-{i:03d}",
                    "inputs": {"messages": [{"role": "user", "content": question}]},
                    "expectations": {"expected_facts": [str(i + 10)], "must_not_contain": ["dapi"]},
                    "tags": ["odd" if i % 2 else "even", "arithmetic"],
                }
            )
        )
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _chat_agent_class():
    from mlflow.pyfunc import ChatAgent
    from mlflow.types.agent import ChatAgentMessage, ChatAgentResponse

    class ABChatAgent(ChatAgent):
        def predict(self, messages, context=None, custom_inputs=None):
            text = good([m.model_dump() if hasattr(m, "model_dump") else m for m in messages])
            return ChatAgentResponse(messages=[ChatAgentMessage(role="assistant", content=text, id="1")])

    return ABChatAgent


def __getattr__(name: str) -> Any:
    if name == "CHAT_AGENT":
        return _chat_agent_class()()
    raise AttributeError(name)


if __name__ == "__main__":
    write_golden()
