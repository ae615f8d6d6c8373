"""comparison.html shows both versions' trajectories side by side for each case, escaped like every
other value, and says "not traced" for a version whose answer left no steps.

Two plain callables with `@mlflow.trace` tools, evaluated in process into a real SQLite store.
"""

from __future__ import annotations

import re
from dataclasses import replace

import mlflow
import pytest

from harness.config import load_config
from harness.golden import parse_case
from harness.pipeline import evaluate
from harness.reports.comparison_html import comparison_html
from harness.versions.resolve import adapt

HOSTILE = "<script>alert(1)</script>"


@mlflow.trace(span_type="TOOL")
def run_sql(table: str) -> int:
    return 3


@mlflow.trace(span_type="TOOL")
def page(text: str) -> str:
    return text


def baseline(messages: list[dict]) -> str:
    return f"{run_sql('usage')} jobs"


def candidate(messages: list[dict]) -> str:
    if "untraced" in messages[-1]["content"]:
        return "3 jobs"
    page(HOSTILE)
    return f"{run_sql('usage')} jobs"


def case(case_id: str, question: str):
    return parse_case(
        {
            "id": case_id,
            "inputs": {"messages": [{"role": "user", "content": question}]},
            "expectations": {
                "expected_facts": ["3 jobs"],
                "expected_trajectory": {"steps": [{"tool": "run_sql"}], "mode": "strict"},
            },
        },
        "test",
    )


@pytest.fixture(scope="module")
def html(tmp_path_factory: pytest.TempPathFactory) -> str:
    root = tmp_path_factory.mktemp("view")
    (root / "pyproject.toml").write_text(
        '[tool.harness]\nscorers = ["correctness", "trajectory"]\nbaseline = "none"\n'
        "[tool.harness.thresholds]\ntrajectory = 1.0\n",
        encoding="utf-8",
    )
    cfg = load_config(root, environ={})
    mp = pytest.MonkeyPatch()
    mp.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{root / 'mlflow.db'}")
    mp.chdir(root)
    versions = [
        replace(adapt(candidate, "candidate_agent"), label="candidate"),
        replace(adapt(baseline, "baseline_agent"), label="baseline"),
    ]
    evaluation = evaluate(
        cfg, [case("routed", "What did it cost?"), case("silent", "untraced: what did it cost?")], versions
    )
    mlflow.flush_trace_async_logging()
    mp.undo()
    return comparison_html(evaluation, {})


def detail(html: str, case_id: str) -> str:
    return re.search(rf'<tr class="summary[^"]*"><td>{case_id}</td>.*?</details>', html, re.S).group(0)


def test_both_trajectories_side_by_side_escaped(html: str) -> None:
    routed = detail(html, "routed")
    sides = re.findall(r'<div class="side">.*?</div>', routed, re.S)
    assert len(sides) == 2 and "baseline" in sides[0] and "candidate" in sides[1]
    steps = [re.findall(r"<li>(.*?)</li>", side) for side in sides]
    assert steps[0] == ["tool run_sql(table=&quot;usage&quot;)"]
    assert steps[1] == [
        "tool page(text=&quot;&lt;script&gt;alert(1)&lt;/script&gt;&quot;)",
        "tool run_sql(table=&quot;usage&quot;)",
    ]
    assert HOSTILE not in html


def test_an_untraced_answer_says_so(html: str) -> None:
    sides = re.findall(r'<div class="side">.*?</div>', detail(html, "silent"), re.S)
    assert "<li>tool run_sql" in sides[0] and "trajectory: not traced" in sides[1]
