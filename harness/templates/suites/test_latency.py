"""Latency: pytest-benchmark per version on one case per domain, then where the time goes.

`test_latency[candidate-cost-001]` benchmarks one version's `predict` on one representative case;
benchmarks are grouped by version, so pytest-benchmark prints one table per version and
`--benchmark-compare` / `--benchmark-histogram` work as usual. `--benchmark-disable` makes it a
smoke run (one call each). `test_node_breakdown[candidate]` answers the same cases under MLflow
tracing and puts the per-node table into the reports. The per-case percentiles that the gate reads
come from the evaluation run itself, not from here.
"""

import pytest


def test_latency(benchmark, harness_version, harness_bench_case):
    evaluated = harness_version.results.get(harness_bench_case.id)
    if evaluated is not None and evaluated.output.error is not None:
        pytest.fail(
            f"{harness_version.label} failed on {harness_bench_case.id} during the evaluation, not "
            ""
            f"benchmarked: {evaluated.output.error}"
        )
    benchmark.group = f"{harness_version.label}: {harness_version.reference}"
    benchmark.extra_info.update(
        case_id=harness_bench_case.id, version=harness_version.label, reference=harness_version.reference
    )
    # A fresh conversation per call (empty id): a shared one would grow the agent's memory each round.
    text, _ = benchmark(harness_version.version.predict, harness_bench_case.messages, harness_bench_case.params)
    assert text, f"{harness_version.label} gave an empty answer to {harness_bench_case.id}"


def test_node_breakdown(harness_version, harness_node_breakdown):
    breakdown = harness_node_breakdown
    assert not breakdown.errors, f"{harness_version.label} failed while traced: {'; '.join(breakdown.errors)}"
    assert breakdown.answers == breakdown.asked, (
        f"{breakdown.asked - breakdown.answers} traced answer(s) never reached the trace store"
    )
