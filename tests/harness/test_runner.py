import time

from harness.golden import load_golden
from harness.runner import run_versions
from harness.versions import resolve

from tests.fixtures import FIXTURES


def cases():
    return load_golden([FIXTURES / "toy.jsonl"])


def test_errors_and_timeouts_are_recorded_per_case_and_session_goes_on():
    versions = [resolve(f"tests.fixtures.toy_agents:{name}", label=name) for name in ("good", "raises", "hangs", "returns_none")]
    started = time.perf_counter()
    runs = run_versions(versions, cases(), concurrency=4, timeout_s=0.3)
    elapsed = time.perf_counter() - started
    good, raises, hangs, none = runs
    assert all(o[0].error is None for o in good.outputs.values())
    assert {o[0].error for o in raises.outputs.values()} == {"RuntimeError: database connection refused"}
    assert {o[0].error for o in hangs.outputs.values()} == {"timed out after 0.3 s"}
    assert {o[0].error for o in none.outputs.values()} == {"AgentOutputError: agent returned None"}
    assert elapsed < 5, "hanging calls must be abandoned at the timeout"


def test_concurrency_overlaps_calls_and_latency_is_measured():
    slow = resolve("tests.fixtures.toy_agents:slow")
    started = time.perf_counter()
    (run,) = run_versions([slow], cases(), concurrency=4, timeout_s=5)
    wall_ms = (time.perf_counter() - started) * 1000
    latencies = [o[0].latency_ms for o in run.outputs.values()]
    assert all(latency >= 45 for latency in latencies)
    assert wall_ms < sum(latencies)  # the four 50 ms calls overlapped


def test_repeats_keep_one_output_per_repeat():
    (run,) = run_versions([resolve("tests.fixtures.toy_agents:good")], cases(), repeats=3)
    assert all(len(outputs) == 3 for outputs in run.outputs.values())
