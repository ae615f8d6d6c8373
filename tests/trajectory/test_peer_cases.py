"""Cases from the published test suites of the trajectory evaluators this harness is compared with
(agentevals, Google ADK, MLflow, deepeval, pydantic-evals), each with the outcome that peer gives.

Pure matching logic on steps as `harness.trajectory.trajectory_from_spans` records them (kind, name,
span type, arguments, enclosing step, times, failure); tests/trajectory/test_span_steps.py checks
that real MLflow spans give those steps.
"""

from __future__ import annotations

import pytest

from harness.golden import parse_case
from harness.scorers import load_scorer
from harness.trajectory import match_trajectory, parse_expected_trajectory, usage_of
from harness.versions.version import AgentOutput


def call(
    name: str,
    span_type: str = "TOOL",
    parent: int | None = None,
    start: float | None = None,
    end: float | None = None,
    error: bool = False,
    **args: object,
) -> dict:
    step: dict = {"kind": "call", "name": name, "type": span_type, "args": args}
    if parent is not None:
        step["parent"] = parent
    if start is not None:
        step["start_ms"], step["end_ms"] = start, end
    if error:
        step["error"] = True
    return step


def node(name: str, start: float | None = None, end: float | None = None) -> dict:
    return {"kind": "node", "name": name, **({"start_ms": start, "end_ms": end} if start is not None else {})}


def expect(steps: list, mode: str = "in_order", **options: object):
    return parse_expected_trajectory({"steps": steps, "mode": mode, **options})


# --- one-to-one matching in the unordered modes (agentevals unordered/subset/superset, ADK ANY_ORDER) ---


@pytest.mark.parametrize("mode", ["any_order", "subset", "superset"])
def test_a_loose_step_does_not_take_the_call_a_stricter_step_needs(mode: str) -> None:
    expected = expect(
        [{"tool": "search", "args": {"q": "x"}, "compare": {"q": "any"}}, {"tool": "search", "args": {"q": "cats"}}],
        mode,
    )
    match = match_trajectory(expected, [call("search", q="cats"), call("search", q="dogs")])
    assert match.score == 1.0 and match.passed, match.rationale(mode)


@pytest.mark.parametrize("mode", ["any_order", "subset", "superset"])
def test_contains_does_not_take_the_call_an_exact_step_needs(mode: str) -> None:
    expected = expect(
        [
            {"tool": "run_sql", "args": {"table": "billing"}, "compare": {"table": "contains"}},
            {"tool": "run_sql", "args": {"table": "billing_daily"}},
        ],
        mode,
    )
    match = match_trajectory(expected, [call("run_sql", table="billing_daily"), call("run_sql", table="billing")])
    assert match.passed, match.rationale(mode)


def test_one_call_never_satisfies_two_expected_steps() -> None:
    expected = expect([{"tool": "search"}, {"tool": "search"}], "superset")
    match = match_trajectory(expected, [call("search", q="cats")])
    assert match.score == 0.5 and not match.passed and match.missing == ["tool search()"]


# --- step kinds by span type: every peer counts tool spans only ---------------------------------


@pytest.mark.parametrize("mode", ["strict", "any_order", "subset", "in_order", "superset"])
def test_model_calls_around_a_tool_do_not_break_a_tool_only_expectation(mode: str) -> None:
    taken = [
        call("call_llm", "LLM", prompt="q"),
        call("run_sql", table="usage"),
        call("call_llm", "CHAT_MODEL", prompt="rows"),
    ]
    match = match_trajectory(expect([{"tool": "run_sql"}], mode), taken)
    assert match.passed and match.score == 1.0, match.rationale(mode)
    assert match.taken == ['tool run_sql(table="usage")']


def test_a_traced_helper_inside_a_tool_is_not_a_step_unless_asked_for() -> None:
    taken = [
        call("run_sql", table="usage"),
        call("format_rows", "UNKNOWN", parent=0),
        call("run_sql", "TOOL", parent=0, table="inner"),
    ]
    assert match_trajectory(expect([{"tool": "run_sql"}], "strict"), taken).passed
    nested = match_trajectory(expect([{"tool": "run_sql"}], "strict", include_nested=True), taken)
    assert not nested.passed and nested.extra == ['tool run_sql(table="inner")']


def test_tool_types_decide_which_spans_are_tools() -> None:
    taken = [call("run_sql", table="usage"), call("explain", "UNKNOWN", rows=3)]
    assert not match_trajectory(expect([{"tool": "run_sql"}, {"tool": "explain"}], "strict"), taken).passed
    assert match_trajectory(
        expect([{"tool": "run_sql"}, {"tool": "explain"}], "strict", tool_types=["TOOL", "UNKNOWN"]), taken
    ).passed


def test_llm_steps_match_model_calls() -> None:
    taken = [
        node("agent"),
        call("ChatOpenAI", "CHAT_MODEL", messages=["q"]),
        call("run_sql"),
        call("ChatOpenAI", "CHAT_MODEL"),
    ]
    assert match_trajectory(expect([{"llm": "ChatOpenAI"}, {"llm": "ChatOpenAI"}], "strict"), taken).passed
    both = expect([{"llm": "ChatOpenAI"}, {"tool": "run_sql"}, {"llm": "ChatOpenAI"}], "strict")
    assert match_trajectory(both, taken).passed
    assert not match_trajectory(both, taken[:3]).passed


# --- whole arguments (agentevals tool_args_match_mode, ADK, deepeval INPUT_PARAMETERS) -------------


def test_args_mode_exact_fails_an_extra_argument_subset_and_ignore_do_not() -> None:
    taken = [call("search", q="cats", limit=10)]
    step = {"tool": "search", "args": {"q": "cats"}}
    assert match_trajectory(expect([step], "strict"), taken).passed  # subset: the default
    exact = match_trajectory(expect([step], "strict", args_mode="exact"), taken)
    assert not exact.passed and exact.missing == ['tool search(q="cats")']
    assert match_trajectory(
        expect([{**step, "args": {"q": "cats", "limit": 10}}], "strict", args_mode="exact"), taken
    ).passed
    assert match_trajectory(
        expect([{"tool": "search", "args": {"q": "dogs"}}], "strict", args_mode="ignore"), taken
    ).passed


def test_args_mode_per_step_overrides_the_expectation() -> None:
    taken = [call("search", q="cats", limit=10), call("fetch", url="u", retries=2)]
    expected = expect(
        [{"tool": "search", "args": {"q": "cats"}, "args_mode": "subset"}, {"tool": "fetch", "args": {"url": "u"}}],
        "strict",
        args_mode="exact",
    )
    match = match_trajectory(expected, taken)
    assert match.missing == ['tool fetch(url="u")'] and match.score == 0.5


def test_a_custom_comparator_by_module_and_name() -> None:
    step = {"tool": "score", "args": {"value": 0.3}, "compare": {"value": "math:isclose"}}
    assert match_trajectory(expect([step]), [call("score", value=0.1 + 0.2)]).passed
    assert not match_trajectory(expect([{**step, "compare": {}}]), [call("score", value=0.1 + 0.2)]).passed
    assert not match_trajectory(expect([step]), [call("score", value=0.31)]).passed


# --- "calls no tool" (agentevals: an empty reference matches a run without tool calls) ----------------


@pytest.mark.parametrize("mode", ["strict", "in_order", "any_order", "subset", "superset"])
def test_empty_steps_mean_no_call_of_the_named_kinds(mode: str) -> None:
    answered = [node("classify"), call("ChatOpenAI", "CHAT_MODEL"), node("refuse")]
    assert match_trajectory(expect([], mode), answered).passed
    called = match_trajectory(expect([], mode), [*answered, call("run_sql", table="usage")])
    assert not called.passed and called.score == 0.0 and called.extra == ['tool run_sql(table="usage")']
    assert not match_trajectory(expect([], mode, kinds=["llm"]), answered).passed


def test_no_span_at_all_is_no_evidence_of_calling_nothing() -> None:
    scorer = load_scorer("trajectory")
    case = parse_case(
        {
            "id": "c",
            "inputs": {"messages": [{"role": "user", "content": "hi"}]},
            "expectations": {"expected_trajectory": {"steps": []}},
        },
        "x:1",
    )
    untraced = scorer.score(case, AgentOutput("hello"))
    assert not untraced.passed and untraced.rationale.startswith("not traced")
    assert scorer.score(case, AgentOutput("hello", trajectory=[node("chat")])).passed


# --- parallel calls (agentevals compares one message's tool calls as a set) ---------------------------

PARALLEL = [
    call("get_weather", start=0.0, end=5.0, city="Paris"),
    call("get_time", start=0.5, end=2.0, city="Paris"),
    call("book", start=6.0, end=7.0),
]


@pytest.mark.parametrize("mode", ["strict", "in_order"])
def test_parallel_calls_started_in_either_order_match(mode: str) -> None:
    expected = expect([{"tool": "get_time"}, {"tool": "get_weather"}, {"tool": "book"}], mode)
    match = match_trajectory(expected, PARALLEL)
    assert match.passed and match.score == 1.0, match.rationale(mode)


@pytest.mark.parametrize("mode", ["strict", "in_order"])
def test_calls_one_after_the_other_keep_their_order(mode: str) -> None:
    sequential = [
        call("get_weather", start=0.0, end=1.0),
        call("get_time", start=1.5, end=2.0),
        call("book", start=6.0, end=7.0),
    ]
    match = match_trajectory(
        expect([{"tool": "get_time"}, {"tool": "get_weather"}, {"tool": "book"}], mode), sequential
    )
    assert not match.passed and match.out_of_order, match.rationale(mode)


def test_overlapping_calls_under_different_parents_are_not_one_group() -> None:
    taken = [
        node("a", 0.0, 10.0),
        node("b", 0.1, 10.0),
        call("x", parent=1, start=1.0, end=3.0),
        call("y", parent=0, start=2.0, end=4.0),
    ]
    expected = expect([{"node": "a"}, {"node": "b"}, {"tool": "y"}, {"tool": "x"}], "strict")
    assert not match_trajectory(expected, taken).passed
    tools_only = expect(
        [{"tool": "y"}, {"tool": "x"}], "strict"
    )  # the nodes are not compared: both calls are at the top
    assert match_trajectory(tools_only, taken).passed


def test_a_parallel_group_does_not_let_an_expected_step_match_twice() -> None:
    expected = expect([{"tool": "get_weather"}, {"tool": "get_weather"}, {"tool": "book"}], "strict")
    match = match_trajectory(expected, PARALLEL)
    assert match.score == pytest.approx(2 / 3) and not match.passed


# --- failed and retried attempts count once (ADK, MLflow: a retried call is one tool call) ------------


def test_a_failed_attempt_that_was_retried_counts_once() -> None:
    taken = [call("run_sql", error=True, table="usage"), call("run_sql", table="usage")]
    assert match_trajectory(expect([{"tool": "run_sql"}], "strict"), taken).passed
    counted = match_trajectory(expect([{"tool": "run_sql"}], "strict", include_failed=True), taken)
    assert not counted.passed and counted.score == 0.5
    assert usage_of({"steps": []}, taken).tool_calls == 1


def test_a_failure_never_retried_still_counts() -> None:
    match = match_trajectory(expect([], "strict"), [call("run_sql", error=True, table="usage")])
    assert not match.passed and match.extra == ['tool run_sql(table="usage")']


# --- budgets (pydantic-evals MaxToolCalls / UsageLimits, ToolCallEfficiency) --------------------------


def test_a_route_over_its_budget_fails_whatever_its_steps() -> None:
    taken = [
        call("ChatOpenAI", "CHAT_MODEL"),
        call("search", q="cats"),
        call("search", q="cats"),
        call("ChatOpenAI", "CHAT_MODEL"),
    ]
    within = match_trajectory(
        expect([{"tool": "search"}], "superset", max_tool_calls=2, max_llm_calls=2, max_steps=4), taken
    )
    assert within.passed and within.score == 1.0
    over = match_trajectory(expect([{"tool": "search"}], "superset", max_tool_calls=1, max_redundant_calls=0), taken)
    assert not over.passed and over.score == 0.0
    assert over.over_budget == ["tool_calls 2 > 1", "redundant_calls 1 > 0"]
    assert "over budget: tool_calls 2 > 1, redundant_calls 1 > 0" in over.rationale("superset")


def test_a_budget_alone_is_an_expectation() -> None:
    budget = parse_expected_trajectory({"max_tool_calls": 1})
    assert match_trajectory(budget, [node("a"), call("search", q="a")]).passed
    assert not match_trajectory(budget, [call("search", q="a"), call("search", q="b")]).passed


def test_usage_counts_calls_as_the_expectation_counts_them() -> None:
    taken = [
        node("agent"),
        call("ChatOpenAI", "CHAT_MODEL"),
        call("search", q="a"),
        call("helper", "TOOL", parent=2),
        call("search", q="a"),
        call("search", q="b"),
    ]
    used = usage_of(None, taken)
    assert (used.tool_calls, used.llm_calls, used.steps, used.redundant_calls) == (3, 1, 5, 1)
    assert usage_of({"steps": [], "include_nested": True}, taken).tool_calls == 4
    assert usage_of(None, None) is None
