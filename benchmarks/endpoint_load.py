"""Load test of endpoint versions: many cases, a slow agent behind HTTP, a bounded number in flight.

    python benchmarks/endpoint_load.py [--cases 2000] [--think-ms 200] [--concurrency 64] [--p429 0.05] [--p5xx 0.05]

A stand-in agent server (tests/endpoints/standin.py, in its own process so its CPU is not counted
as the harness's) answers the MLflow scoring protocol after `--think-ms`. The harness's runner
calls it as an endpoint version with `--concurrency` threads and as many requests in flight. Two
runs: a clean one, which must finish within 1.2x of cases x think time / concurrency, and one
where the server answers a share of requests with 429 (Retry-After) or 503, where every case
must end answered or as an agent error, none lost. Printed: wall time against the bound, the
harness's own CPU time per case (this process: runner threads, event loop, HTTP client), latency
percentiles, and the retries and time spent waiting on them.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")

from harness.golden import Case  # noqa: E402
from harness.runner import run_versions  # noqa: E402
from harness.versions.endpoints import resolve_endpoint  # noqa: E402
from harness.versions.endpoints.client import ClientSettings  # noqa: E402

BOUND = 1.2


def serve(think_ms: float, p429: float, p5xx: float, retry_after_ms: float) -> None:
    """The stand-in server process: prints its port, then serves until stdin closes."""
    from tests.endpoints.standin import StandIn

    with StandIn(
        think_s=think_ms / 1000, p429=p429, p5xx=p5xx, retry_after_s=retry_after_ms / 1000, record=False
    ) as server:
        print(server.port, flush=True)
        sys.stdin.read()


def start_server(think_ms: float, p429: float, p5xx: float, retry_after_ms: float) -> tuple[subprocess.Popen, int]:
    command = [
        sys.executable,
        __file__,
        "--serve",
        "--think-ms",
        str(think_ms),
        "--p429",
        str(p429),
        "--p5xx",
        str(p5xx),
        "--retry-after-ms",
        str(retry_after_ms),
    ]
    process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    return process, int(process.stdout.readline())


def run(label: str, args: argparse.Namespace, p429: float, p5xx: float) -> bool:
    process, port = start_server(args.think_ms, p429, p5xx, args.retry_after_ms)
    mode = "random" if p429 or p5xx else "ok"
    settings = ClientSettings(max_in_flight=args.concurrency, retries=args.retries)
    version = resolve_endpoint(f"http://127.0.0.1:{port}/{mode}/invocations", environ={}, settings=settings)
    version = replace(version, label=label)
    cases = [Case(f"case-{i:05d}", [{"role": "user", "content": f"question number {i}"}]) for i in range(args.cases)]
    try:
        cpu = time.process_time()
        started = time.perf_counter()
        (result,) = run_versions([version], cases, concurrency=args.concurrency, timeout_s=args.case_timeout_s)
        wall = time.perf_counter() - started
        cpu = time.process_time() - cpu
    finally:
        version.call.close()
        process.stdin.close()
        process.wait(timeout=30)
    outputs = [o for per_case in result.outputs.values() for o in per_case]
    answered = [o for o in outputs if o.error is None and o.text]
    errors = [o for o in outputs if o.error is not None]
    stats = [o.metadata["endpoint"] for o in answered]
    ideal = args.cases * args.think_ms / 1000 / args.concurrency
    latencies = sorted(o.latency_ms for o in answered)
    request_ms = sorted(s["request_ms"] for s in stats)
    retried = [s for s in stats if s["retries"]]
    accounted = len(answered) + len(errors) == args.cases and all(o.error is None or not o.text for o in outputs)
    print(
        f"\n== {label}: {args.cases} cases, think {args.think_ms:g} ms, {args.concurrency} in flight"
        + (
            f", injected 429 {p429:.0%} (Retry-After {args.retry_after_ms:g} ms) and 503 {p5xx:.0%}"
            if mode == "random"
            else ""
        )
    )
    print(f"wall {wall:.2f} s; cases x think / concurrency = {ideal:.2f} s; ratio {wall / ideal:.2f}x (bound {BOUND}x)")
    print(f"harness CPU {cpu:.2f} s = {cpu * 1000 / args.cases:.2f} ms per case ({cpu / wall:.0%} of one core)")
    if latencies:
        print(
            f"latency end to end p50 {_pct(latencies, 50):.0f} ms, p95 {_pct(latencies, 95):.0f} ms, p99 "
            f"{_pct(latencies, 99):.0f} ms; "
            f"answering attempt alone p50 {_pct(request_ms, 50):.0f} ms, p95 {_pct(request_ms, 95):.0f} ms"
        )
    print(
        f"answered {len(answered)}, agent errors {len(errors)}, lost {args.cases - len(answered) - len(errors)}; "
        f"cases retried {len(retried)}, retries {sum(s['retries'] for s in stats)}, "
        f"waiting on retries {sum(s['retry_wait_ms'] for s in stats) / 1000:.1f} s in all"
        + (f" (mean {statistics.mean(s['retry_wait_ms'] for s in retried):.0f} ms per retried case)" if retried else "")
    )
    for reason in sorted({e.error for e in errors})[:3]:
        print(f"  error: {reason}")
    within = wall <= BOUND * ideal
    if mode == "ok":
        print(f"{'PASS' if within and accounted and not errors else 'FAIL'}: within {BOUND}x and every case answered")
        return within and accounted and not errors
    print(f"{'PASS' if accounted else 'FAIL'}: every case answered or reported as an agent error")
    return accounted


def _pct(values: list[float], q: float) -> float:
    return values[min(len(values) - 1, int(round(q / 100 * (len(values) - 1))))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=2000)
    parser.add_argument("--think-ms", type=float, default=200.0)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--p429", type=float, default=0.05, help="share of requests answered 429 in the fault run")
    parser.add_argument("--p5xx", type=float, default=0.05, help="share of requests answered 503 in the fault run")
    parser.add_argument("--retry-after-ms", type=float, default=200.0)
    parser.add_argument("--retries", type=int, default=4)
    parser.add_argument("--case-timeout-s", type=float, default=30.0)
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        return serve(args.think_ms, args.p429, args.p5xx, args.retry_after_ms)
    clean = run("clean", args, 0.0, 0.0)
    faulty = run("faults", args, args.p429, args.p5xx)
    sys.exit(0 if clean and faulty else 1)


if __name__ == "__main__":
    main()
