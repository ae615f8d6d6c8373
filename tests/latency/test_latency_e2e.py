"""`pytest suites/` end to end with the latency suite: real pytest-benchmark, real MLflow traces and store."""

import json
import re
from concurrent.futures import ThreadPoolExecutor

from tests.fixtures.project import TOY_KEYS, make_project

BUDGET = "[tool.harness.thresholds]\ncorrectness = 0.9\nlatency_p95_ms = 35\n"


def run_both(tmp_path):
    """The 50 ms agent against the fast one (one run); the fast one alone as a smoke run; in parallel to save
    wall time."""
    slow = make_project(
        tmp_path / "slow",
        "tests.fixtures.toy_agents:slow",
        keys=TOY_KEYS + 'baseline = "tests.fixtures.toy_agents:good"\n',
        tables=BUDGET,
    )
    fast = make_project(tmp_path / "fast", "tests.fixtures.toy_agents:GRAPH", tables=BUDGET)
    with ThreadPoolExecutor(2) as pool:
        results = list(
            pool.map(
                lambda args: args[0].pytest("--no-promote", *args[1:]), [(slow, "-v"), (fast, "--benchmark-disable")]
            )
        )
    return (slow, results[0]), (fast, results[1])


def test_slow_agent_fails_a_35ms_budget_fast_one_passes_reports_show_benchmarks_percentiles_and_nodes(tmp_path):
    (slow, slow_run), (fast, fast_run) = run_both(tmp_path)
    out = slow_run.stdout

    # The 50 ms agent: the latency gate fails on its p95, and only that check fails.
    assert slow_run.returncode == 1, out[-3000:] + slow_run.stderr[-2000:]
    assert "FAILED suites/test_gate.py::test_gate[latency_p95_ms<=35]" in out
    assert " 1 failed," in out, out[-3000:]
    # pytest-benchmark's table (shown under -v), one group per version.
    assert "benchmark 'candidate: tests.fixtures.toy_agents:slow': 3 tests" in out
    assert "benchmark 'baseline: tests.fixtures.toy_agents:good': 3 tests" in out

    report = slow.root / "reports" / "latest"
    latency = json.loads((report / "results.json").read_text())["latency"]
    candidate, baseline = latency["versions"]
    slower_ms = candidate["percentiles_ms"]["p50"]["value"] - baseline["percentiles_ms"]["p50"]["value"]
    assert 45 <= slower_ms <= 80, f"the 50 ms agent was reported {slower_ms:.1f} ms slower"
    p95 = candidate["percentiles_ms"]["p95"]
    assert p95["low"] <= p95["value"] <= p95["high"] and p95["n"] == 4
    assert candidate["cold_start"]["first_answer_ms"] >= 50 and candidate["cold_start"]["load_s"] >= 0
    bench_medians = {b["group"].split(":")[0]: b["median_ms"] for b in latency["benchmarks"]}
    assert bench_medians["candidate"] >= 50 > bench_medians["baseline"]
    summary = (report / "summary.md").read_text()
    assert "## Latency" in summary and "### pytest-benchmark" in summary
    assert re.search(r"\| candidate \| 5\d\.\d \[", summary), summary
    # The benchmark JSON is saved under reports/benchmarks and logged with the reports to the MLflow run.
    assert list((slow.root / "reports" / "benchmarks").glob("*/0001_*.json"))
    assert json.loads((report / "benchmarks.json").read_text())["benchmarks"]
    client = slow.client()
    run = client.search_runs([client.get_experiment_by_name("harness-evaluations").experiment_id])[0]
    assert "reports/benchmarks.json" in {a.path for a in client.list_artifacts(run.info.run_id, "reports")}

    # The fast LangGraph agent passes the same 35 ms budget (the agent runs in its own process, so each call
    # pays a round trip), and its report names its node.
    assert fast_run.returncode == 0, fast_run.stdout[-3000:] + fast_run.stderr[-2000:]
    # --benchmark-disable: a smoke run, each benchmark calls its agent once; no table, nothing saved.
    assert "benchmark '" not in fast_run.stdout
    assert not list((fast.root / "reports").glob("benchmarks/*/*.json"))
    # The next session's worker imports ahead what this one's loaded graph imported from the installation
    # (LangGraph), never the project's own code: that comes from the artifact alone.
    hint = json.loads((fast.root / ".harness-cache" / "agent-imports.json").read_text())[
        "tests.fixtures.toy_agents:GRAPH"
    ]
    assert any(m.startswith("langgraph") for m in hint), hint
    assert not [m for m in hint if m.split(".")[0] in ("tests", "harness", "agent")], hint
    fast_report = fast.root / "reports" / "latest"
    nodes = json.loads((fast_report / "results.json").read_text())["latency"]["versions"][0]["nodes"]
    assert [n["name"] for n in nodes["nodes"]] == ["respond"] and nodes["answers"] == 3
    assert "### Where the time goes: candidate" in (fast_report / "summary.md").read_text()
