import statistics
import threading
import time

from harness.golden import Case, load_golden
from harness.runner import run_versions
from harness.versions.resolve import adapt, resolve
from tests.fixtures import FIXTURES


def cases():
    return load_golden([FIXTURES / "toy.jsonl"])


def test_errors_and_timeouts_are_recorded_per_case_and_session_goes_on():
    versions = [
        resolve(f"tests.fixtures.toy_agents:{name}", label=name) for name in ("good", "raises", "hangs", "returns_none")
    ]
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


class OneAtATime:
    """An agent that answers one call at a time (a saturated single-core or GIL-bound server): a
    call's latency is its wait in the queue plus `service_s`; it records the calls it had open."""

    count = threading.Lock()
    open_in_all = most_open_in_all = 0

    def __init__(self, service_s: float) -> None:
        self.service_s = service_s
        self.lock = threading.Lock()
        self.open = self.most_open = 0

    def __call__(self, messages):
        with OneAtATime.count:
            self.open += 1
            self.most_open = max(self.most_open, self.open)
            OneAtATime.open_in_all += 1
            OneAtATime.most_open_in_all = max(OneAtATime.most_open_in_all, OneAtATime.open_in_all)
        try:
            with self.lock:
                time.sleep(self.service_s)
            return "ok"
        finally:
            with OneAtATime.count:
                self.open -= 1
                OneAtATime.open_in_all -= 1


def saturated_run(fast_s: float, slow_s: float, concurrency: int = 8, n: int = 40):
    OneAtATime.most_open_in_all = 0
    agents = OneAtATime(fast_s), OneAtATime(slow_s)
    versions = [adapt(agent, f"agent-{i}") for i, agent in enumerate(agents)]
    questions = [Case(f"q{i:02d}", [{"role": "user", "content": f"question {i}"}]) for i in range(n)]
    runs = run_versions(versions, questions, concurrency=concurrency, timeout_s=10)
    p50 = [statistics.median(o[0].latency_ms for o in run.outputs.values()) for run in runs]
    return agents, p50


def test_versions_get_equal_callers_so_a_saturated_agent_s_latency_ratio_is_its_speed_ratio():
    # From one shared pool the slower agent's calls piled up (the faster one answered at the slower
    # one's pace, almost never queued): a 2x slower agent read as 14x slower.
    agents, (fast, slow) = saturated_run(0.005, 0.010)
    assert [a.most_open for a in agents] == [4, 4], "each version has concurrency / versions callers, never more"
    assert 1.6 < slow / fast < 2.5
    agents, (a, b) = saturated_run(0.005, 0.005)
    assert 0.8 < b / a < 1.25


def test_concurrency_below_the_number_of_versions_still_bounds_the_calls_in_flight():
    agents, _ = saturated_run(0.002, 0.002, concurrency=1, n=10)
    assert [a.most_open for a in agents] == [1, 1] and OneAtATime.most_open_in_all == 1
