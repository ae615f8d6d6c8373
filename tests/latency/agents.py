"""Agents with known timings for the latency tests: a lazy first call, and a two-node LangGraph graph."""

from __future__ import annotations

import time
from typing import Any

INTENT_S = 0.01
WORKER_S = 0.08
LAZY_FIRST_S = 0.15


class Lazy:
    """Slow on its first answer only, like an agent that opens its database on first use."""

    def __init__(self) -> None:
        self.ready = False

    def __call__(self, messages: list[dict[str, str]]) -> str:
        if not self.ready:
            time.sleep(LAZY_FIRST_S)
            self.ready = True
        return "ready"


def two_node_graph() -> Any:
    """intent (10 ms) -> worker (80 ms): the breakdown must find both, worker first."""
    from langgraph.graph import END, START, MessagesState, StateGraph

    def intent(state: MessagesState) -> dict:
        time.sleep(INTENT_S)
        return {}

    def worker(state: MessagesState) -> dict:
        time.sleep(WORKER_S)
        return {"messages": [{"role": "assistant", "content": "done"}]}

    builder = StateGraph(MessagesState)
    builder.add_node("intent", intent)
    builder.add_node("worker", worker)
    builder.add_edge(START, "intent")
    builder.add_edge("intent", "worker")
    builder.add_edge("worker", END)
    return builder.compile(name="two_node")
