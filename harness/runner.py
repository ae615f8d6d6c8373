"""Run versions over cases: bounded concurrency, per-case timeout, latency, errors as data.

Every agent call runs on its own daemon thread, so an agent that hangs is abandoned after
`case_timeout_s` (recorded as that case's error) and can never keep the session from ending.
Versions are interleaved case by case, so machine drift during the run hits each alike.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from harness import first_line
from harness.golden import Case
from harness.versions import AgentCallError, AgentOutput, Version

MAX_ANSWER_CHARS = 1_000_000  # answers beyond this are cut before scoring and reporting


@dataclass
class VersionRun:
    version: Version
    outputs: dict[str, list[AgentOutput]] = field(default_factory=dict)  # case id -> one output per repeat
    wall_s: float = 0.0
    first_answer: AgentOutput | None = None  # cold start: the version's first call, timed alone, not in `outputs`

    def output(self, case_id: str) -> AgentOutput:
        return self.outputs[case_id][0]


def call_with_timeout(version: Version, case: Case, timeout_s: float, repeat: int = 0, trace: bool = False) -> AgentOutput:
    """One agent call on a daemon thread; any exception, bad return or timeout becomes `error`.

    `trace`: answer under MLflow tracing and keep the answer's trajectory."""
    box: dict[str, AgentOutput] = {}

    def target() -> None:
        started = time.perf_counter()
        try:
            trajectory = None
            if trace:
                text, metadata, trajectory = version.predict_traced(case.messages, case.params, f"{case.id}-{repeat}")
            else:
                text, metadata = version.predict(case.messages, case.params, f"{case.id}-{repeat}")
            elapsed = (time.perf_counter() - started) * 1000
            if len(text) > MAX_ANSWER_CHARS:
                metadata = {**metadata, "truncated_from_chars": len(text)}
                text = text[:MAX_ANSWER_CHARS]
            box["out"] = AgentOutput(text, metadata, elapsed, trajectory=trajectory)
        except BaseException as exc:  # SystemExit and friends from a hostile agent are case errors too
            elapsed = (time.perf_counter() - started) * 1000
            message = first_line(exc, default="")
            if isinstance(exc, AgentCallError):
                error = message
            else:
                error = f"{type(exc).__name__}: {message}" if message else type(exc).__name__
            box["out"] = AgentOutput("", {}, elapsed, error)

    thread = threading.Thread(target=target, name=f"agent-{case.id}", daemon=True)
    thread.start()
    thread.join(timeout_s)
    if thread.is_alive() or "out" not in box:
        reason = f"timed out after {timeout_s:g} s" if thread.is_alive() else "agent thread ended without an answer"
        return AgentOutput("", {}, timeout_s * 1000 if thread.is_alive() else 0.0, reason)
    return box["out"]


Progress = Callable[[int, int, int], None]  # (answers done, answers in all, errors so far)


def run_versions(
    versions: Sequence[Version],
    cases: Sequence[Case],
    concurrency: int = 8,
    timeout_s: float = 30.0,
    repeats: int = 1,
    progress: Progress | None = None,
) -> list[VersionRun]:
    """Run every version over every case `repeats` times; returns one VersionRun per version, in order.

    `progress` is told after every answer, from the pool's threads. Only the calls for cases that
    expect a trajectory are traced (every version's alike): tracing costs time."""
    if not any(case.traced for case in cases):
        return _run(versions, cases, concurrency, timeout_s, repeats, progress)
    from harness.trajectory import tracing

    with tracing(in_process=any(v.isolated is None for v in versions)):
        return _run(versions, cases, concurrency, timeout_s, repeats, progress)


def _run(versions: Sequence[Version], cases: Sequence[Case], concurrency: int, timeout_s: float, repeats: int,
         progress: Progress | None) -> list[VersionRun]:
    runs = [VersionRun(v, {c.id: [None] * repeats for c in cases}) for v in versions]  # type: ignore[misc]
    # The version order flips from case to case: an agent's caches (or a shared store's) warmed by
    # whichever version answers a case first would otherwise favour the same version every time.
    jobs = [(run, case, r) for r in range(repeats) for i, case in enumerate(cases) for run in (runs if i % 2 == 0 else runs[::-1])]
    if cases:
        # Cold start: one answer per version, alone and before the pool, so lazy
        # initialisation is reported as the first answer and stays out of the warm percentiles.
        for run in runs:
            run.first_answer = call_with_timeout(run.version, cases[0], timeout_s, repeat=-1, trace=cases[0].traced)
    started = time.perf_counter()
    tally = {"done": 0, "errors": 0}
    lock = threading.Lock()

    def do(job: tuple[VersionRun, Case, int]) -> None:
        run, case, r = job
        output = call_with_timeout(run.version, case, timeout_s, r, case.traced)
        run.outputs[case.id][r] = output
        if progress is not None:
            with lock:
                tally["done"] += 1
                tally["errors"] += output.error is not None
                progress(tally["done"], len(jobs), tally["errors"])

    with ThreadPoolExecutor(max_workers=max(1, concurrency), thread_name_prefix="harness-runner") as pool:
        list(pool.map(do, jobs))
    wall = time.perf_counter() - started
    for run in runs:
        run.wall_s = wall
    return runs
