"""How far the p50 latency ratio the gate reads strays when nothing changed, and when one version is slower.

    python benchmarks/latency_ratio.py [--rounds 3] [--concurrency 8] [--slower 1.5]

Two copies of the reference agent (v1), each in its own worker process as in a promotable run,
answer the golden set side by side (`runner.run_versions`); the candidate/baseline p50 ratio of
an A/A run should read 1.0. Then the candidate does more work per answer (v1 plus a fixed amount
of pure-Python arithmetic, `--slower - 1` times one answer's time, sized on one question), and the
ratio should read what it reads with one call at a time (`--concurrency 1`, no queue to distort it).
"""

from __future__ import annotations

import argparse
import functools
import os
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def busy(n: int) -> int:
    x = 0
    for i in range(n):
        x += i * i
    return x


@functools.cache  # the reference is looked up twice on import (hasattr, then getattr): size it once
def slower_v1(factor: float) -> object:
    """v1 that does (factor - 1) x its median answer time of extra work, as a fixed iteration count."""
    from agent.chat_agent import HealthMonitorAgent

    agent = HealthMonitorAgent("v1")
    question = [{"role": "user", "content": "What did we spend yesterday?"}]
    agent.predict(question)
    started = time.perf_counter()
    for _ in range(20):
        agent.predict(question)
    answer_s = (time.perf_counter() - started) / 20
    started = time.perf_counter()
    busy(200_000)
    per_iteration = (time.perf_counter() - started) / 200_000
    extra = int((factor - 1) * answer_s / per_iteration)

    class Slower(HealthMonitorAgent):
        def predict(self, *args, **kwargs):
            out = super().predict(*args, **kwargs)
            busy(extra)
            return out

    return Slower("v1")


def ratio(candidate: str, rounds: int, concurrency: int) -> list[float]:
    from harness.golden import load_golden
    from harness.runner import run_versions
    from harness.versions.process.client import LoggedAgent, isolated_version

    cases = load_golden([ROOT / "golden_data" / "health_monitor.jsonl"])
    versions = [
        isolated_version(LoggedAgent(ref, "", None), ROOT, label)
        for ref, label in ((candidate, "candidate"), ("agent.variants:V1", "baseline"))
    ]
    try:
        ratios = []
        for _ in range(rounds):
            runs = run_versions(versions, cases, concurrency=concurrency, timeout_s=60, trace=False)
            p50 = [statistics.median(outputs[0].latency_ms for outputs in run.outputs.values()) for run in runs]
            ratios.append(p50[0] / p50[1])
        return ratios
    finally:
        for version in versions:
            version.isolated.close()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--concurrency", type=int, default=8)
    ap.add_argument("--slower", type=float, default=1.5)
    args = ap.parse_args()
    os.environ["BENCH_SLOWER"] = str(args.slower)  # read by the worker that imports this module
    for name, ref in (
        ("A/A (v1 vs v1)", "agent.variants:V1"),
        (f"A/B (v1 x{args.slower:g} work vs v1)", "benchmarks.latency_ratio:SLOWER"),
    ):
        figures = ", ".join(f"{r:.2f}x" for r in ratio(ref, args.rounds, args.concurrency))
        print(f"{name:<28} concurrency {args.concurrency}: candidate/baseline p50 {figures}")


def __getattr__(name: str) -> object:
    # The slower agent is built in the worker process that imports it, sized on that process's speed.
    if name == "SLOWER":
        return slower_v1(float(os.environ.get("BENCH_SLOWER", "1.5")))
    raise AttributeError(name)


if __name__ == "__main__":
    main()
