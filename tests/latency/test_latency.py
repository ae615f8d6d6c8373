"""Latency maths and measurements: percentiles on known samples, cold start, per-node breakdown from real
MLflow traces."""

import argparse
from dataclasses import replace

import pytest

from harness.golden import Case
from harness.latency import representative_cases, trace_breakdown
from harness.plugin.benchmark import apply_benchmark_defaults
from harness.runner import run_versions
from harness.stats import latency_summary
from harness.versions.resolve import adapt
from tests.latency import agents


def case(case_id, *tags):
    return Case(case_id, [{"role": "user", "content": f"question {case_id}"}], tags=list(tags))


def test_percentiles_of_a_known_sample():
    summary = latency_summary([float(v) for v in range(1, 101)])  # 1..100 ms
    # numpy's linear interpolation: p = 1 + (n - 1) * q / 100
    expected = {"p50": 50.5, "p90": 90.1, "p95": 95.05, "p99": 99.01, "max": 100.0}
    assert {k: round(e.value, 6) for k, e in summary.items()} == expected
    for name, estimate in summary.items():
        assert estimate.n == 100
        assert estimate.low <= estimate.value <= estimate.high, name
    # The bootstrap CI of a high percentile reaches the top of the sample but never beyond it.
    assert summary["p95"].high <= 100.0 and summary["p95"].low >= 85.0
    assert summary["p50"].low >= 40.0 and summary["p50"].high <= 61.0


def test_percentiles_of_degenerate_samples():
    constant = latency_summary([42.0] * 10)
    assert all((e.value, e.low, e.high) == (42.0, 42.0, 42.0) for e in constant.values())
    single = latency_summary([7.0])
    assert all((e.value, e.low, e.high, e.n) == (7.0, 7.0, 7.0, 1) for e in single.values())


def test_wider_spread_gives_a_wider_p95_interval_and_is_seeded():
    tight = latency_summary([100.0 + i * 0.1 for i in range(50)])["p95"]
    noisy = latency_summary([100.0 + i * 10.0 for i in range(50)])["p95"]
    assert (noisy.high - noisy.low) == pytest.approx(100 * (tight.high - tight.low))  # the CI scales with the spread
    assert noisy.high > noisy.value > noisy.low
    assert latency_summary([100.0 + i * 10.0 for i in range(50)])["p95"] == noisy  # same seed, same figures


def test_representative_cases_take_the_first_case_per_domain_in_domain_order():
    cases = [
        case("q-1", "quality"),
        case("c-1", "cost", "smoke"),
        case("c-2", "cost"),
        case("s-1", "security"),
        case("x-1", "other"),
    ]
    assert [c.id for c in representative_cases(cases)] == ["c-1", "s-1", "q-1"]
    # A case tagged with two domains is benchmarked once.
    assert [c.id for c in representative_cases([case("cs", "cost", "security")])] == ["cs"]


def test_representative_cases_of_a_generic_golden_set_are_the_first_ones():
    cases = [case(f"t-{i}", "geography") for i in range(5)]
    assert [c.id for c in representative_cases(cases)] == ["t-0", "t-1", "t-2"]
    assert [c.id for c in representative_cases(cases, generic=1)] == ["t-0"]


def test_cold_start_first_answer_is_timed_alone_and_kept_out_of_warm_latency():
    version = adapt(agents.Lazy(), "tests.latency.agents:Lazy")
    (run,) = run_versions([version], [case("a"), case("b"), case("c")], concurrency=2, timeout_s=5)
    assert run.first_answer.error is None
    assert run.first_answer.latency_ms >= agents.LAZY_FIRST_S * 1000
    warm = [outputs[0].latency_ms for outputs in run.outputs.values()]
    assert len(warm) == 3 and max(warm) < 20


def test_benchmark_defaults_apply_only_to_options_left_at_pytest_benchmarks_defaults(tmp_path):
    from pytest_benchmark.utils import parse_seconds

    untouched = argparse.Namespace(
        benchmark_storage="file://./.benchmarks",
        benchmark_autosave=None,
        benchmark_max_time=parse_seconds("1.0"),
        benchmark_warmup=False,
        benchmark_warmup_iterations=100000,
    )
    apply_benchmark_defaults(untouched, tmp_path / "reports")
    assert untouched.benchmark_storage == f"file://{tmp_path / 'reports' / 'benchmarks'}"
    assert untouched.harness_autosave and float(untouched.benchmark_max_time) == 0.5
    assert untouched.benchmark_warmup is True and untouched.benchmark_warmup_iterations == 3
    chosen = argparse.Namespace(
        benchmark_storage="file:///elsewhere",
        benchmark_autosave=None,
        benchmark_max_time=parse_seconds("2"),
        benchmark_warmup=False,
        benchmark_warmup_iterations=10,
    )
    apply_benchmark_defaults(chosen, tmp_path / "reports")
    assert (chosen.benchmark_storage, float(chosen.benchmark_max_time), chosen.benchmark_warmup) == (
        "file:///elsewhere",
        2.0,
        False,
    )
    assert not hasattr(chosen, "harness_autosave"), "a storage the user chose is saved to only when they ask"


@pytest.fixture
def tracking_store(tmp_path, monkeypatch):
    import mlflow

    previous = mlflow.get_tracking_uri()
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path / 'mlflow.db'}")
    yield tmp_path
    mlflow.set_tracking_uri(previous)


def test_node_breakdown_attributes_time_to_langgraph_nodes_from_mlflow_traces(tracking_store):
    import mlflow

    version = replace(adapt(agents.two_node_graph(), "tests.latency.agents:two_node_graph"), label="candidate")
    cases = [case("a"), case("b")]
    breakdown = trace_breakdown(version, cases, timeout_s=10, root=tracking_store)

    assert breakdown.errors == [] and breakdown.answers == 2
    by_name = {n.name: n for n in breakdown.nodes}
    assert list(by_name) == ["worker", "intent"], "slowest node first; the graph span and plumbing are left out"
    assert {n.kind for n in breakdown.nodes} == {"node"}
    assert by_name["worker"].calls == 2 and by_name["intent"].calls == 2
    # Sleeps set the floor; the ceiling is loose because a loaded CI machine adds scheduling delay.
    assert agents.WORKER_S * 1000 <= by_name["worker"].mean_ms < agents.WORKER_S * 1000 + 100
    assert agents.INTENT_S * 1000 <= by_name["intent"].mean_ms < agents.INTENT_S * 1000 + 100
    assert 0.4 < by_name["worker"].share < 1.0
    assert breakdown.answer_ms >= 2 * (agents.WORKER_S + agents.INTENT_S) * 1000
    # The traces are real: they are in the tracking store, in their own experiment.
    stored = mlflow.get_trace(breakdown.trace_ids[0])
    assert stored.data.spans[0].name == "harness.predict"
    assert mlflow.get_experiment(stored.info.experiment_id).name == "harness-latency-traces"
    # Autolog was switched on for the traced pass only.
    from mlflow.utils.autologging_utils import autologging_is_disabled

    assert autologging_is_disabled("langchain")
