"""Real MLflow spans become steps that say where they ran: an agent that traces its model calls, a
tool with a traced helper inside, a failed and retried tool call and two tools called in parallel
threads, traced in process under `tracking.tracing.tracing` into a real SQLite store, then matched."""

from __future__ import annotations

import contextvars
import time
from concurrent.futures import ThreadPoolExecutor

import mlflow
import pytest

from harness.tracking.tracing import traced_call, tracing
from harness.trajectory import match_trajectory, parse_expected_trajectory, usage_of

attempts: list[str] = []


@mlflow.trace(span_type="LLM")
def call_llm(prompt: str) -> str:
    return "run_sql"


@mlflow.trace
def format_rows(rows: int) -> str:
    return f"{rows} rows"


@mlflow.trace(span_type="TOOL")
def run_sql(table: str) -> str:
    attempts.append(table)
    if len(attempts) == 1:
        raise TimeoutError("warehouse busy")
    return format_rows(3)


@mlflow.trace(span_type="TOOL")
def get_weather(city: str) -> str:
    time.sleep(0.2)
    return "sunny"


@mlflow.trace(span_type="TOOL")
def get_time(city: str) -> str:
    time.sleep(0.2)
    return "noon"


def agent() -> str:
    call_llm("what did it cost?")
    try:
        run_sql("usage")
    except TimeoutError:
        run_sql("usage")  # the retry
    with ThreadPoolExecutor(2) as pool:  # each thread runs in a copy of this context: its spans are the root's children
        futures = [pool.submit(contextvars.copy_context().run, tool, "Paris") for tool in (get_weather, get_time)]
        answers = [f.result() for f in futures]
    return call_llm(", ".join(answers))


@pytest.fixture(scope="module")
def steps(tmp_path_factory: pytest.TempPathFactory) -> list[dict]:
    root = tmp_path_factory.mktemp("steps")
    previous = mlflow.get_tracking_uri()
    mlflow.set_tracking_uri(f"sqlite:///{root / 'mlflow.db'}")
    mlflow.set_experiment("span-steps")
    try:
        with tracing(in_process=True):
            taken = traced_call(agent, {"harness.version": "tools"}).trajectory
        mlflow.flush_trace_async_logging()
    finally:
        mlflow.set_tracking_uri(previous)
    assert taken is not None
    return taken


def test_steps_record_type_parent_failure_and_time(steps: list[dict]) -> None:
    assert [s["type"] for s in steps] == ["LLM", "TOOL", "TOOL", "UNKNOWN", "TOOL", "TOOL", "LLM"]
    names = [s["name"] for s in steps]
    assert names[:4] == ["call_llm", "run_sql", "run_sql", "format_rows"] and names[-1] == "call_llm"
    assert sorted(names[4:6]) == ["get_time", "get_weather"]
    assert steps[1].get("error") is True and "error" not in steps[2]
    assert steps[3]["parent"] == 2 and all("parent" not in s for i, s in enumerate(steps) if i != 3)
    first, second = steps[4], steps[5]
    assert second["start_ms"] < first["end_ms"]  # the two threads overlapped
    assert all(s["start_ms"] <= s["end_ms"] for s in steps)


@pytest.mark.parametrize("order", [["get_weather", "get_time"], ["get_time", "get_weather"]])
def test_a_tool_only_strict_route_passes_whatever_the_threads_did_first(steps: list[dict], order: list[str]) -> None:
    expected = parse_expected_trajectory(
        {
            "mode": "strict",
            "steps": [{"tool": "run_sql", "args": {"table": "usage"}}, *({"tool": name} for name in order)],
        }
    )
    match = match_trajectory(expected, steps)
    assert match.passed, match.rationale("strict")


def test_counting_the_failed_attempt_and_the_helper_is_asked_for(steps: list[dict]) -> None:
    route = {"mode": "strict", "steps": [{"tool": "run_sql"}, {"tool": "get_weather"}, {"tool": "get_time"}]}
    failed = match_trajectory(parse_expected_trajectory({**route, "include_failed": True}), steps)
    assert not failed.passed and failed.extra == ['tool run_sql(table="usage")']
    helper = match_trajectory(
        parse_expected_trajectory({**route, "include_nested": True, "tool_types": ["TOOL", "UNKNOWN"]}), steps
    )
    assert not helper.passed and helper.extra == ["tool format_rows(rows=3)"]
    used = usage_of(route, steps)
    assert (used.tool_calls, used.llm_calls, used.steps, used.redundant_calls) == (3, 2, 5, 0)


def test_llm_steps_are_the_model_calls(steps: list[dict]) -> None:
    expected = parse_expected_trajectory({"mode": "strict", "steps": [{"llm": "call_llm"}, {"llm": "call_llm"}]})
    assert match_trajectory(expected, steps).passed
