"""The trajectory golden format, its validation and the match modes (pure logic, no agent)."""

from __future__ import annotations

import pytest

from harness import HarnessError
from harness.golden import parse_case
from harness.scorers import load_scorer
from harness.trajectory import match_trajectory, parse_expected_trajectory
from harness.versions.version import AgentOutput


def node(name: str) -> dict:
    return {"kind": "node", "name": name}


def call(name: str, **args: object) -> dict:
    return {"kind": "call", "name": name, "type": "TOOL", "args": args}


COST = [node("classify"), node("cost"), node("synthesize")]
FAN_OUT = [node("classify"), node("cost"), node("security"), node("performance"), node("synthesize")]


def expect(steps: list, mode: str, **extra: object):
    return parse_expected_trajectory({"steps": steps, "mode": mode, **extra})


def nodes(*names: str) -> list[dict]:
    return [{"node": n} for n in names]


@pytest.mark.parametrize(
    ("mode", "actual", "score", "passed"),
    [
        ("strict", COST, 1.0, True),
        ("strict", FAN_OUT, 3 / 5, False),
        ("strict", [node("cost"), node("classify"), node("synthesize")], 2 / 3, False),
        ("in_order", FAN_OUT, 1.0, True),
        ("in_order", [node("cost"), node("classify"), node("synthesize")], 2 / 3, False),
        ("any_order", [node("synthesize"), node("cost"), node("classify")], 1.0, True),
        ("any_order", FAN_OUT, 3 / 5, False),
        ("subset", [node("classify"), node("synthesize")], 1.0, True),
        ("subset", FAN_OUT, 3 / 5, False),
        ("subset", [], 0.0, False),  # skipping every step is not a subset that passes
        ("superset", list(reversed(FAN_OUT)), 1.0, True),
        ("superset", [node("classify"), node("synthesize")], 2 / 3, False),
    ],
)
def test_modes(mode: str, actual: list, score: float, passed: bool) -> None:
    match = match_trajectory(expect(nodes("classify", "cost", "synthesize"), mode), actual)
    assert match.score == pytest.approx(score)
    assert match.passed is passed


def test_rationale_names_missing_extra_and_out_of_order_steps() -> None:
    expected = expect(nodes("classify", "cost", "security", "synthesize"), "strict")
    match = match_trajectory(
        expected, [node("classify"), node("security"), node("cost"), node("quality"), node("synthesize")]
    )
    why = match.rationale("strict")
    assert not match.passed
    assert "extra: node quality" in why and "out of order: node" in why
    assert "missing" not in why
    assert "missing: node security" in match_trajectory(expected, COST).rationale("strict")


def test_only_the_kinds_named_are_compared() -> None:
    tools = expect([{"tool": "run_sql", "args": {"table": "billing"}}], "strict")
    assert match_trajectory(tools, [node("classify"), call("run_sql", table="billing"), node("synthesize")]).passed


def test_argument_rules() -> None:
    step = {
        "tool": "run_sql",
        "args": {"table": "system.billing.usage", "range": ["2026-11-19", "2026-11-19"], "limit": 10},
        "compare": {"table": "same_table", "range": "same_range"},
    }
    expected = expect([step], "in_order")
    good = call("run_sql", table="`USAGE`", range="2026-11-19", limit=10)
    assert match_trajectory(expected, [good]).passed
    wrong_range = call("run_sql", table="usage", range={"start": "2026-11-18", "end": "2026-11-19"}, limit=10)
    wrong_limit = call("run_sql", table="usage", range="2026-11-19..2026-11-19", limit=11)
    for actual in (wrong_range, wrong_limit, call("run_sql", table="usage")):
        match = match_trajectory(expected, [actual])
        assert not match.passed and match.missing == [expected.steps[0].label()]


def test_threshold_lets_a_partial_match_pass() -> None:
    assert match_trajectory(
        expect(nodes("classify", "cost", "synthesize"), "superset", threshold=0.6), [node("classify"), node("cost")]
    ).passed


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ({"steps": [{"node": "cost"}], "mode": "fuzzy"}, "expected_trajectory.mode must be one of strict, in_order"),
        (
            {"mode": "strict"},
            "expected_trajectory.steps must be a list of steps (empty: calls nothing), unless a budget",
        ),
        ({"steps": {"node": "a"}}, "expected_trajectory.steps must be a list of steps"),
        (
            {"steps": [{"node": "a", "tool": "b"}]},
            "expected_trajectory.steps[0] must be an object with exactly one of 'node', 'tool' or 'llm'",
        ),
        (
            {"steps": [{"tool": "t", "args": {"d": 1}, "compare": {"d": "close"}}]},
            "expected_trajectory.steps[0].compare.d must be one of exact",
        ),
        (
            {"steps": [{"tool": "t", "args": {"d": 1}, "compare": {"d": "no_such_module_x:close"}}]},
            "steps[0].compare.d names comparator 'no_such_module_x:close', which cannot be imported here "
            "(ModuleNotFoundError",
        ),
        (
            {"steps": [{"tool": "t", "args_mode": "loose"}]},
            "steps[0].args_mode must be one of subset, exact, ignore, got 'loose'",
        ),
        ({"steps": [], "args_mode": "all"}, "expected_trajectory.args_mode must be one of subset, exact, ignore"),
        (
            {"steps": [{"node": "n"}], "kinds": ["tool"]},
            "expected_trajectory.steps[0] is a node step, a kind missing from 'kinds'",
        ),
        ({"steps": [], "kinds": ["agent"]}, "expected_trajectory.kinds must be one of node, tool, llm, got 'agent'"),
        ({"steps": [], "tool_types": "TOOL"}, "expected_trajectory.tool_types must be a non-empty list of strings"),
        ({"steps": [], "include_failed": "yes"}, "expected_trajectory.include_failed must be true or false"),
        ({"max_tool_calls": -1}, "expected_trajectory.max_tool_calls must be a whole number of at least 0, got -1"),
        ({"max_steps": 2.5}, "expected_trajectory.max_steps must be a whole number of at least 0, got 2.5"),
        (
            {"steps": [{"tool": "t", "compare": {"d": "any"}}]},
            "steps[0].compare.d names an argument missing from 'args'",
        ),
        ({"steps": [{"node": "n", "args": {}}]}, "steps[0].args is not allowed here"),
        ({"steps": [{"node": "n"}], "order": "x"}, "expected_trajectory.order is not a known field"),
        (
            {"steps": [{"node": "n"}], "threshold": 2},
            "expected_trajectory.threshold must be a number above 0 and at most 1",
        ),
        (
            {"steps": [{"node": "n"}], "threshold": 0},
            "expected_trajectory.threshold must be a number above 0 and at most 1",
        ),
    ],
)
def test_bad_golden_trajectory_is_one_line_naming_file_line_and_field(value: dict, message: str) -> None:
    record = {
        "id": "c1",
        "inputs": {"messages": [{"role": "user", "content": "q"}]},
        "expectations": {"expected_trajectory": value},
    }
    with pytest.raises(HarnessError) as info:
        parse_case(record, "golden_data/x.jsonl:7")
    text = str(info.value)
    assert text.startswith("golden_data/x.jsonl:7: expectations.") and message in text and text.endswith("(case c1)")
    assert "\n" not in text


def test_scorer_fails_an_untraced_answer_and_skips_cases_without_expectation() -> None:
    scorer = load_scorer("trajectory")
    case = parse_case(
        {
            "id": "c",
            "inputs": {"messages": [{"role": "user", "content": "q"}]},
            "expectations": {"expected_trajectory": {"steps": [{"node": "cost"}]}},
        },
        "x:1",
    )
    untraced = scorer.score(case, AgentOutput("an answer"))
    assert not untraced.passed and untraced.value == 0.0 and untraced.rationale.startswith("not traced")
    traced = scorer.score(case, AgentOutput("an answer", trajectory=[node("classify"), node("cost")]))
    assert traced.passed and traced.value == 1.0
    plain = parse_case({"id": "p", "inputs": {"messages": [{"role": "user", "content": "q"}]}}, "x:2")
    assert not scorer.applies(plain) and scorer.applies(case)


def test_every_unmatched_expected_step_is_named_once_even_when_two_share_a_label() -> None:
    expected = expect([{"tool": name} for name in "abbcc"], "strict")
    match = match_trajectory(expected, [call(name) for name in "cbbba"])
    assert match.score == pytest.approx(2 / 5)
    assert len(match.missing) + len(match.out_of_order) == 3, match.rationale("strict")
