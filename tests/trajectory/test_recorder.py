"""LangChain runs recorded by the route recorder (no autolog): a LangGraph node that calls a LangChain
tool, which fails once and is retried; kept as a trajectory only for scoring, replayed into one stored
trace, masked, where the trace is exported.

Real LangGraph and LangChain, a real SQLite store.
"""

from __future__ import annotations

from typing import TypedDict

import mlflow
import pytest
from langchain_core.tools import tool
from langgraph.graph import END, START, StateGraph

from harness.tracking.tracing import traced_call, tracing
from harness.trajectory import match_trajectory, parse_expected_trajectory

KEY = "sk-proj-" + "Q7x9Lm2Vb8Rt4Nc6Hp1Zs5Wd3Fg0Jk7Yu2Ei9Oa4"  # a key-shaped secret in a tool argument
calls: list[str] = []


@tool
def run_sql(table: str, token: str) -> str:
    """Count the rows of a table."""
    calls.append(table)
    if len(calls) % 2 == 1:
        raise TimeoutError("warehouse busy")
    return "3 rows"


class State(TypedDict, total=False):
    question: str
    answer: str


def cost(state: State) -> State:
    try:
        run_sql.invoke({"table": "usage", "token": KEY})
    except TimeoutError:
        pass
    return {"answer": run_sql.invoke({"table": "usage", "token": KEY})}


def build():
    graph = StateGraph(State)
    graph.add_node("cost", cost)
    graph.add_edge(START, "cost")
    graph.add_edge("cost", END)
    return graph.compile()


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory):
    root = tmp_path_factory.mktemp("recorder")
    previous = mlflow.get_tracking_uri()
    mlflow.set_tracking_uri(f"sqlite:///{root / 'mlflow.db'}")
    mlflow.set_experiment("recorder")
    yield root
    mlflow.set_tracking_uri(previous)


def test_nodes_and_tool_calls_are_recorded_without_autolog(store) -> None:
    graph = build()
    with tracing(in_process=True):
        answer = traced_call(lambda: graph.invoke({"question": "cost?"}), {}, export=False)
    assert answer.result["answer"] == "3 rows"
    steps = answer.trajectory or []
    assert [(s["kind"], s["name"]) for s in steps if s["name"] in ("cost", "run_sql")] == [
        ("node", "cost"),
        ("call", "run_sql"),
        ("call", "run_sql"),
    ]
    first, retry = (s for s in steps if s["name"] == "run_sql")
    assert first["type"] == "TOOL" and first.get("error") is True and "error" not in retry
    assert first["args"]["table"] == "usage" and KEY not in str(steps)  # the trajectory's arguments are masked
    node = next(s for s in steps if s["name"] == "cost")
    assert retry["parent"] == steps.index(node)
    expected = parse_expected_trajectory({"steps": [{"tool": "run_sql", "args": {"table": "usage"}}], "mode": "strict"})
    assert match_trajectory(expected, steps).passed  # the failed attempt counts once
    assert answer.call_ms > 0 and answer.trace_ms >= 0
    assert mlflow.search_traces(return_type="list") == []  # scoring's traces are not exported
    from mlflow.utils.autologging_utils import autologging_is_disabled

    assert autologging_is_disabled("langchain")


def test_an_exported_trace_holds_the_recorded_steps_masked(store) -> None:
    graph = build()
    with tracing(in_process=True):
        answer = traced_call(lambda: graph.invoke({"question": "cost?"}), {"harness.version": "v"}, export=True)
    mlflow.flush_trace_async_logging()
    stored = mlflow.get_trace(answer.trace_id)
    names = [(s.name, str(s.span_type)) for s in stored.data.spans]
    assert names[0] == ("harness.predict", "AGENT")
    assert ("cost", "CHAIN") in names and names.count(("run_sql", "TOOL")) == 2
    assert KEY not in stored.to_json() and "[REDACTED]" in stored.to_json()
