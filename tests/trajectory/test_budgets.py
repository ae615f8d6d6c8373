"""Route budgets as version metrics a threshold caps (`tool_calls`, `llm_calls`, `steps`,
`redundant_calls`: means per traced answer), and the plan line for routes no scorer checks."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness import HarnessError
from harness.config import known_metrics, load_config
from harness.gate import evaluate_gate
from harness.golden import parse_case
from harness.pipeline import version_result
from harness.records.results import CaseResult, VersionResult
from harness.scorers import load_scorer
from harness.scorers.trajectory import unscored_routes_line
from harness.versions.version import AgentOutput


def tool(name: str, **args: object) -> dict:
    return {"kind": "call", "name": name, "type": "TOOL", "args": args}


LLM = {"kind": "call", "name": "ChatOpenAI", "type": "CHAT_MODEL", "args": {}}
ROUTE = {"steps": [{"tool": "search"}], "mode": "superset"}


def case(case_id: str, route: dict | None = ROUTE):
    expectations = {"expected_trajectory": route} if route else {}
    return parse_case(
        {"id": case_id, "inputs": {"messages": [{"role": "user", "content": "q"}]}, "expectations": expectations}, "x:1"
    )


def version(label: str, routes: dict[str, list[dict] | None]) -> VersionResult:
    scorer = load_scorer("trajectory")
    results = {}
    for case_id, steps in routes.items():
        c = case(case_id, ROUTE if steps is not None else None)
        output = AgentOutput("an answer", trajectory=steps)
        results[case_id] = CaseResult(c, output, {"trajectory": scorer.score(c, output)})
    return version_result(label, label, "callable", 0.0, results)


LEAN = version("lean", {"a": [LLM, tool("search", q="a"), LLM], "b": [LLM, tool("search", q="b")], "plain": None})
CHATTY = version(
    "chatty",
    {
        "a": [LLM, tool("search", q="a"), tool("search", q="a"), LLM, tool("search", q="a"), LLM],
        "b": [LLM, tool("search", q="b"), tool("search", q="c"), LLM],
        "plain": None,
    },
)


def test_usage_metrics_are_means_over_the_traced_answers() -> None:
    metrics = LEAN.metrics()
    assert metrics["tool_calls"].value == 1.0 and metrics["llm_calls"].value == 1.5 and metrics["steps"].value == 2.5
    assert metrics["redundant_calls"].value == 0.0 and metrics["tool_calls"].n == 2  # the untraced case is left out
    assert CHATTY.metric_estimate("tool_calls").value == 2.5 and CHATTY.metric_estimate("redundant_calls").value == 1.0
    assert all(
        s.passed for r in CHATTY.results.values() for s in r.scores.values() if s.applicable
    )  # every route is right


def test_thresholds_on_usage_are_upper_bounds_that_block_the_chatty_version(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(
        '[tool.harness]\nscorers = ["trajectory"]\nbaseline = "none"\n'
        "[tool.harness.thresholds]\ntrajectory = 1.0\ntool_calls = 2\nredundant_calls = 0.5\n",
        encoding="utf-8",
    )
    cfg = load_config(tmp_path, environ={})
    assert {"tool_calls", "llm_calls", "steps", "redundant_calls"} <= known_metrics(cfg)
    lean, chatty = ({c.metric: c for c in evaluate_gate(cfg, v).checks} for v in (LEAN, CHATTY))
    assert lean["tool_calls"].op == "<=" and lean["tool_calls"].passed and lean["redundant_calls"].passed
    assert not chatty["tool_calls"].passed and chatty["tool_calls"].value == 2.5
    assert not chatty["redundant_calls"].passed and chatty["trajectory"].passed


@pytest.mark.parametrize(
    ("tables", "message"),
    [
        ("[tool.harness.thresholds]\nmax_tool_calls = 2\n", "thresholds: unknown key 'max_tool_calls'"),
        ("[tool.harness.thresholds]\ntool_calls = -1\n", "thresholds: 'tool_calls' must be at least 0, got -1"),
        (
            "[tool.harness.non_inferiority]\nsteps = 0.1\n",
            "non_inferiority: 'steps' counts calls (fewer is better): cap it in thresholds",
        ),
    ],
)
def test_bad_usage_settings_are_one_line(tmp_path: Path, tables: str, message: str) -> None:
    (tmp_path / "pyproject.toml").write_text('[tool.harness]\nscorers = ["trajectory"]\n' + tables, encoding="utf-8")
    with pytest.raises(HarnessError) as info:
        load_config(tmp_path, environ={})
    assert message in str(info.value) and "\n" not in str(info.value)


def test_a_plan_line_names_cases_whose_route_no_scorer_checks() -> None:
    cases = [case(f"r{i}") for i in range(5)] + [case("plain", None)]
    line = unscored_routes_line(["correctness"], cases)
    assert line == (
        "5 case(s) have an expected_trajectory (r0, r1, r2 and 2 more) but 'trajectory' is not in scorers: "
        "their routes are not checked"
    )
    assert unscored_routes_line(["correctness", "trajectory"], cases) is None
    assert unscored_routes_line(["correctness"], [case("plain", None)]) is None
