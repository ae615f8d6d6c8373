"""The fixtures suite files use: the session, the configuration, the evaluation and its parts.

`harness_result` (one case's scored answer), `harness_gate_check` (one planned gate check),
`harness_ab` (one metric compared with a baseline), and for the latency suite `harness_version`,
`harness_bench_case` and `harness_node_breakdown`. Each is parametrized by `parametrize.py`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from harness import HarnessError
from harness.plugin.session import HarnessSession, state_of

if TYPE_CHECKING:
    from harness.golden import Case
    from harness.records.comparison import MetricComparison
    from harness.records.evaluation import Evaluation
    from harness.records.gate import GateCheck
    from harness.records.latency import NodeBreakdown
    from harness.records.results import CaseResult, VersionResult
    from harness.settings import HarnessConfig


class AgentCaseError(Exception):
    """The agent failed on this case (raised, timed out, returned no answer): a test error, not a failure."""

    __module__ = "harness.plugin"  # the name a test error prints, importable there


@pytest.fixture(scope="session")
def harness_session(request: pytest.FixtureRequest) -> HarnessSession:
    state = state_of(request.config)
    assert state is not None
    return state


@pytest.fixture(scope="session")
def harness_config(harness_session: HarnessSession) -> HarnessConfig:
    return harness_session.config


@pytest.fixture(scope="session")
def harness_evaluation(harness_session: HarnessSession) -> Evaluation:
    """The whole evaluation, run once per session on first use."""
    return harness_session.run()


@pytest.fixture
def harness_case(harness_session: HarnessSession, harness_case_id: str) -> Case:
    return next(c for c in harness_session.cases if c.id == harness_case_id)


@pytest.fixture
def harness_result(harness_session: HarnessSession, harness_case_id: str) -> CaseResult:
    """The candidate's scored answer for one case; an agent error makes the test error in setup."""
    result = harness_session.case_result(harness_case_id)
    if result.output.error is not None:
        from harness.reports.terminal import explain_agent_error

        raise AgentCaseError(explain_agent_error(result, harness_session.config.agent))
    return result


@pytest.fixture
def harness_gate_check(harness_evaluation: Evaluation, harness_gate_check_id: str) -> GateCheck:
    check = harness_evaluation.gated.check(harness_gate_check_id)
    if check.skipped:  # a check against the baseline when none ran
        pytest.skip(check.detail)
    return check


@pytest.fixture
def harness_ab(
    harness_evaluation: Evaluation, harness_ab_metric: str, harness_ab_baseline: str | None
) -> MetricComparison:
    """The candidate-vs-baseline comparison of one metric; skips when that baseline did not run."""
    comparisons = harness_evaluation.comparisons
    if harness_ab_baseline is not None:
        comparisons = [c for c in comparisons if c.baseline_reference == harness_ab_baseline]
    if not comparisons:
        why = "; ".join(harness_evaluation.notes) or "no baseline configured (set baseline, --baseline or --versions)"
        pytest.skip(f"no baseline ran: {why}")
    metric = comparisons[0].metric(harness_ab_metric)
    if metric is None or metric.n == 0:
        pytest.skip(f"{harness_ab_metric}: no case has a value for both versions")
    return metric


@pytest.fixture
def harness_version(harness_evaluation: Evaluation, harness_version_label: str) -> VersionResult:
    """One evaluated version of the latency suite, by its report label."""
    version = next((v for v in harness_evaluation.versions if v.label == harness_version_label), None)
    if version is None or version.version is None:
        pytest.skip(f"version {harness_version_label!r} was not loaded in this session")
    return version


@pytest.fixture
def harness_bench_case(harness_session: HarnessSession, harness_bench_case_id: str) -> Case:
    return next(c for c in harness_session.cases if c.id == harness_bench_case_id)


@pytest.fixture
def harness_node_breakdown(harness_session: HarnessSession, harness_version: VersionResult) -> NodeBreakdown:
    """One version's representative cases answered once more under MLflow tracing, summed per node;
    it goes into the reports. A store the traces cannot reach fails the test in one line."""
    from harness.latency import representative_cases, trace_breakdown
    from harness.secrets import safe

    cfg = harness_session.config
    if harness_version.version is None:  # a result read back from results.json: nothing to call
        pytest.fail(safe(f"{harness_version.label}: no per-node breakdown: the version is not loaded"), pytrace=False)
    try:
        breakdown = trace_breakdown(
            harness_version.version, representative_cases(harness_session.run().cases), cfg.case_timeout_s, cfg.root
        )
    except HarnessError as exc:
        pytest.fail(safe(f"{harness_version.label}: no per-node breakdown: {exc}"), pytrace=False)
    harness_session.node_breakdowns[harness_version.label] = breakdown
    return breakdown
