"""An agent that is not LangGraph (a plain callable whose tools are `@mlflow.trace(span_type="TOOL")`
functions, and a plain `@mlflow.trace` one counted as a tool through `tool_types`), evaluated end to
end in a real `pytest suites/` session and scored by its trajectory."""

from __future__ import annotations

import json
from pathlib import Path

from tests.fixtures.project import make_project

AGENT = """
import mlflow


@mlflow.trace(span_type="TOOL")
def run_sql(table, date_range):
    return 3


@mlflow.trace
def explain(rows):
    return f"{rows} jobs"


def answer(messages):
    question = messages[-1]["content"]
    if "yesterday" in question:
        rows = run_sql("system.billing.usage", ["2026-11-19", "2026-11-19"])
    else:  # "last week" should be 2026-11-13..2026-11-19: this agent queries the wrong range
        rows = run_sql("system.billing.usage", ["2026-11-12", "2026-11-19"])
    return "Cost drivers: " + explain(rows)
"""


def case(case_id: str, question: str, date_range: str) -> dict:
    step = {
        "tool": "run_sql",
        "args": {"table": "usage", "date_range": date_range},
        "compare": {"table": "same_table", "date_range": "same_range"},
    }
    return {
        "id": case_id,
        "inputs": {"messages": [{"role": "user", "content": question}]},
        "expectations": {
            "expected_facts": ["3 jobs"],
            "expected_trajectory": {
                "steps": [step, {"tool": "explain"}],
                "mode": "strict",
                "tool_types": ["TOOL", "UNKNOWN"],
            },
        },
    }


def test_plain_callable_with_traced_tools_is_scored_by_its_trajectory(tmp_path: Path) -> None:
    golden = tmp_path / "golden.jsonl"
    golden.write_text(
        "\n".join(
            json.dumps(c)
            for c in (
                case("yesterday", "What did yesterday cost?", "2026-11-19"),
                case("last-week", "What did last week cost?", "2026-11-13..2026-11-19"),
            )
        )
        + "\n",
        encoding="utf-8",
    )
    project = make_project(
        tmp_path,
        agent="tools_agent:answer",
        golden=golden,
        model_name="tools_agent",
        keys='scorers = ["correctness", "trajectory"]\ncase_timeout_s = 20\nbaseline = "none"\n',
        tables="[tool.harness.thresholds]\ncorrectness = 0.5\ntrajectory = 0.9\n",
    )
    (project.root / "tools_agent.py").write_text(AGENT, encoding="utf-8")

    result = project.pytest("-q", "--no-promote", "--ignore=suites/test_latency.py", timeout=240)

    assert result.returncode == 1, result.stdout[-3000:]
    document = json.loads((project.latest() / "results.json").read_text(encoding="utf-8"))
    rows = {row["id"]: row for row in document["versions"][0]["cases"]}
    assert [s["name"] for s in rows["yesterday"]["trajectory"]] == ["run_sql", "explain"]
    assert rows["yesterday"]["trajectory"][0]["args"] == {
        "table": "system.billing.usage",
        "date_range": ["2026-11-19", "2026-11-19"],
    }
    assert rows["yesterday"]["scores"]["trajectory"]["passed"] and rows["yesterday"]["scores"]["correctness"]["passed"]
    wrong = rows["last-week"]["scores"]["trajectory"]
    assert (
        not wrong["passed"]
        and "missing: tool run_sql" in wrong["rationale"]
        and "extra: tool run_sql" in wrong["rationale"]
    )
    assert rows["last-week"]["scores"]["correctness"]["passed"]  # the answer alone looks right
    gate = {c["metric"]: c for c in document["gate"]["checks"]}
    assert not gate["trajectory"]["passed"] and not document["gate"]["passed"]
    assert "FAILED suites/test_quality.py::test_quality[last-week-trajectory]" in result.stdout
