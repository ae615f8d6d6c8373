"""What tracing an answer costs: the reference agent untraced, traced as the harness traces (LangChain
runs recorded; scoring keeps the trajectory and drops the trace), the same with the trace exported
(replayed into one MLflow trace, masked, written: what the latency suite's pass does), and with
MLflow's LangChain autolog (what the harness used before) for comparison.

    python benchmarks/trajectory_cost.py [--repeat 3] [--cases 12] [--profile]

Each answer is one golden question to v1 in this process (no LLM), into a throw-away SQLite store.
Prints ms per call (median and p95 over the cases), as the caller sees it and, for the harness's
path, as the answer's latency counts it (the agent's own time: tracing is left out). Target: the
harness's tracing and masking add at most 5 ms per answer (median). `--profile` prints the top
functions of the traced runs.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import os
import pstats
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def timed(calls: list[Callable[[], object]], repeat: int) -> list[float]:
    for call in calls:  # warm-up: imports, store, caches
        call()
    ms = []
    for _ in range(repeat):
        for call in calls:
            t0 = time.perf_counter()
            call()
            ms.append((time.perf_counter() - t0) * 1000)
    return ms


def p95(xs: list[float]) -> float:
    return sorted(xs)[min(len(xs) - 1, int(0.95 * len(xs)))]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeat", type=int, default=3, help="timed rounds over the cases (after one warm-up round)")
    ap.add_argument("--cases", type=int, default=12, help="golden questions per round, spread over the file")
    ap.add_argument("--profile", action="store_true", help="profile the masked runs and print the top functions")
    a = ap.parse_args()

    import mlflow

    from harness.runner import predict_traced
    from harness.tracking.tracing import traced_call, tracing
    from harness.versions.resolve import resolve

    rows = [
        json.loads(line)
        for line in (ROOT / "golden_data" / "health_monitor.jsonl").read_text(encoding="utf-8").splitlines()
        if line.strip()
    ]
    questions = [r["inputs"]["messages"] for r in rows if "inputs" in r]
    questions = questions[:: max(1, len(questions) // a.cases)][: a.cases]

    with tempfile.TemporaryDirectory() as d:
        mlflow.set_tracking_uri(f"sqlite:///{Path(d) / 'mlflow.db'}")
        mlflow.set_experiment("trajectory-cost")
        version = resolve("agent.variants:V1", ROOT, "v1")
        untraced = timed([lambda m=m: version.predict(m) for m in questions], a.repeat)

        counted: list[float] = []  # the answer's latency as the runner counts it: tracing left out

        def traced_answer(messages: list) -> None:
            t0 = time.perf_counter()
            trace_ms = predict_traced(version, messages)[3]
            counted.append((time.perf_counter() - t0) * 1000 - trace_ms)

        profiler = cProfile.Profile() if a.profile else None
        with tracing(in_process=True):
            if profiler:
                profiler.enable()
            traced = timed([lambda m=m: traced_answer(m) for m in questions], a.repeat)
            if profiler:
                profiler.disable()
            steps = predict_traced(version, questions[0])[2]
            counted = counted[len(questions) :]  # not the warm-up round
            exported = timed(
                [lambda m=m: traced_call(lambda: version.call(m, {}, "c"), {}, export=True) for m in questions],
                a.repeat,
            )
        t0 = time.perf_counter()
        mlflow.flush_trace_async_logging()  # what is still queued for the store after the exported calls
        backlog_s = time.perf_counter() - t0

        mlflow.langchain.autolog(silent=True)
        with tracing(in_process=True):
            autolog = timed([lambda m=m: predict_traced(version, m) for m in questions], a.repeat)
        mlflow.langchain.autolog(disable=True, silent=True)
        mlflow.flush_trace_async_logging()  # the store is deleted with the folder

    print(
        f"{len(questions)} questions x {a.repeat} rounds, reference agent v1 in process; trajectory of the first: "
        f"{[s['name'] for s in steps or []]}"
    )
    for name, ms in (
        ("untraced", untraced),
        ("traced + masked", traced),
        ("  latency counted", counted),
        ("  + trace exported", exported),
        ("LangChain autolog", autolog),
    ):
        print(f"  {name:<18} median {statistics.median(ms):7.1f} ms   p95 {p95(ms):7.1f} ms per call")
    print(
        f"  tracing + masking add {statistics.median(traced) - statistics.median(untraced):.1f} ms per answer "
        f"(median; target <= 5), autolog added {statistics.median(autolog) - statistics.median(untraced):.1f} ms"
    )
    print(f"  traces still queued for the store after the exported calls: {backlog_s:.2f} s to flush")
    if profiler:
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(30)


if __name__ == "__main__":
    main()
