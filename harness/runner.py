"""Run versions over cases: bounded concurrency, per-case timeout, latency, errors as data.

Every agent call runs on its own daemon thread, so an agent that hangs is abandoned after
`case_timeout_s` (recorded as that case's error) and can never keep the session from ending.
Every version has the same number of callers, working through the cases side by side, so machine
drift during the run hits each alike and no version's latency is inflated by a longer queue.

The turns of a conversation (cases sharing a `Conversation`) are played in order, one after the
other, as one job: every call carries the same conversation id, fresh for each version, repeat and
run. Turns before the first one asked for are replayed from the record and not kept, so a turn
selected alone is still asked in its context. A turn is played even when an earlier one failed (that
failure is the earlier turn's error). With `history = "agent"` a call sends only its turn's messages
(the agent must remember by the conversation id); with `"sent"` it sends the earlier turns' messages
and this version's answers to them first, as a stateless chat client would.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from typing import Any

from harness import first_line
from harness.golden import Case
from harness.versions.version import AgentCallError, AgentOutput, Version, normalize_output

MAX_ANSWER_CHARS = 1_000_000  # answers beyond this are cut before scoring and reporting


@dataclass
class VersionRun:
    version: Version
    outputs: dict[str, list[AgentOutput]] = field(default_factory=dict)  # case id -> one output per repeat
    wall_s: float = 0.0
    first_answer: AgentOutput | None = None  # cold start: the version's first call, timed alone, not in `outputs`

    def output(self, case_id: str) -> AgentOutput:
        return self.outputs[case_id][0]


def call_with_timeout(
    version: Version, case: Case, timeout_s: float, repeat: int = 0, trace: bool = False, conversation_id: str = ""
) -> AgentOutput:
    """One agent call on a daemon thread; any exception, bad return or timeout becomes `error`.

    `trace`: answer under MLflow tracing and keep the answer's trajectory."""
    box: dict[str, AgentOutput] = {}
    cid = conversation_id or f"{case.id}-{repeat}"

    def target() -> None:
        started = time.perf_counter()
        try:
            trajectory, trace_ms = None, 0.0
            if trace:
                text, metadata, trajectory, trace_ms = predict_traced(version, case.messages, case.params, cid)
            else:
                text, metadata = version.predict(case.messages, case.params, cid)
            elapsed = (time.perf_counter() - started) * 1000 - trace_ms  # latency apart from tracing
            if len(text) > MAX_ANSWER_CHARS:
                metadata = {**metadata, "truncated_from_chars": len(text)}
                text = text[:MAX_ANSWER_CHARS]
            box["out"] = AgentOutput(text, metadata, elapsed, trajectory=trajectory, traced=trace)
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


def predict_traced(
    version: Version, messages: list[dict[str, str]], params: dict[str, Any] | None = None, conversation_id: str = ""
) -> tuple[str, dict[str, Any], list[dict[str, Any]] | None, float]:
    """`version.predict` under MLflow tracing, with the answer's trajectory (None: no spans below the root)
    and what tracing cost (ms beyond the agent's own call). The trace itself is not exported: the
    trajectory is what scoring keeps, and exporting every answer's trace costs more than the rest of
    tracing together (the latency suite's pass exports its traces).

    A version answering from its own process is traced there and sends the trajectory back as JSON;
    any other is traced here (its spans masked: see `tracking.tracing.tracing`)."""
    from harness.trajectory import received_trajectory

    cid = conversation_id or uuid.uuid4().hex
    if version.isolated is not None:
        reply = version.isolated.call(
            messages, params or {}, cid, trace=True, flush=False, export=False
        )  # the trajectory comes in the reply
        text, metadata = normalize_output({"content": reply["text"], "custom_outputs": reply.get("metadata") or {}})
        trace_ms = reply.get("trace_ms")
        trace_ms = float(trace_ms) if isinstance(trace_ms, (int, float)) and trace_ms > 0 else 0.0
        return text, metadata, received_trajectory(reply.get("trajectory")), trace_ms
    from harness.tracking.tracing import traced_call

    attributes = {"harness.version": version.label, "harness.conversation_id": cid}
    answer = traced_call(lambda: version.call(messages, params or {}, cid), attributes, export=False)
    text, metadata = normalize_output(answer.result)
    return text, metadata, answer.trajectory, answer.trace_ms


Progress = Callable[[int, int, int], None]  # (answers done, answers in all, errors so far)


def conversations(cases: Sequence[Case]) -> list[list[Case]]:
    """The cases grouped into what is played together, in first-seen order: a conversation's turns
    (sorted by turn) form one group, any other case is a group of its own."""
    groups: dict[str, list[Case]] = {}
    for case in cases:
        key = f"conversation:{case.conversation.id}" if case.conversation else f"case:{case.id}"
        groups.setdefault(key, []).append(case)
    return [sorted(g, key=_turn) if g[0].conversation else g for g in groups.values()]


def _turn(case: Case) -> int:
    return case.conversation.turn if case.conversation else 0


def play(
    version: Version,
    group: Sequence[Case],
    timeout_s: float,
    repeat: int,
    conversation_id: str,
    on_answer: Callable[[Case, AgentOutput], None],
    trace: bool = True,
) -> None:
    """Play one group (see `conversations`) in order; `on_answer` gets each asked case's output.
    With `trace`, the cases that expect a trajectory are answered under tracing."""
    last = group[-1]
    conversation = last.conversation
    if conversation is None:
        on_answer(
            last,
            call_with_timeout(version, last, timeout_s, repeat, trace and last.traced, conversation_id=conversation_id),
        )
        return
    asked = {_turn(c): c for c in group}
    # The id also goes in the custom inputs: a ChatAgent loaded back as a pyfunc model (a promotable
    # run's path) is handed the custom inputs but not the adapter's conversation id.
    params = {**last.params, "conversation_id": conversation_id}
    history: list[dict[str, str]] = []
    for turn, messages in enumerate([*conversation.earlier, tuple(last.messages)], start=1):
        case = asked.get(turn) or Case(conversation.turn_id(turn), list(messages), source=last.source)
        sent = history + list(messages) if conversation.history == "sent" else list(messages)
        output = call_with_timeout(
            version,
            replace(case, messages=sent, params=params),
            timeout_s,
            repeat,
            trace and case.traced,
            conversation_id,
        )
        if turn in asked:
            on_answer(case, output)
        history += list(messages) + ([{"role": "assistant", "content": output.text}] if output.error is None else [])


def run_versions(
    versions: Sequence[Version],
    cases: Sequence[Case],
    concurrency: int = 8,
    timeout_s: float = 30.0,
    repeats: int = 1,
    progress: Progress | None = None,
    trace: bool = True,
) -> list[VersionRun]:
    """Run every version over every case `repeats` times; returns one VersionRun per version, in order.

    `progress` is told after every answer, from the pool's threads. With `trace` (the default; the
    pipeline asks for it only when a scorer reads trajectories), the calls for cases that expect a
    trajectory are traced, every version's alike: tracing costs time."""
    if not trace or not any(case.traced for case in cases):
        return _run(versions, cases, concurrency, timeout_s, repeats, progress, trace=False)
    from harness.tracking.tracing import tracing

    with tracing(in_process=any(v.isolated is None for v in versions)):
        return _run(versions, cases, concurrency, timeout_s, repeats, progress, trace=True)


def _cold_start(runs: Sequence[VersionRun], case: Case, timeout_s: float, trace: bool) -> None:
    """One answer per version, alone and before the pool, so lazy initialisation is reported as the first
    answer and stays out of the warm percentiles."""
    for run in runs:
        run.first_answer = call_with_timeout(run.version, case, timeout_s, repeat=-1, trace=trace and case.traced)


def _run(
    versions: Sequence[Version],
    cases: Sequence[Case],
    concurrency: int,
    timeout_s: float,
    repeats: int,
    progress: Progress | None,
    trace: bool,
) -> list[VersionRun]:
    runs = [VersionRun(v, {c.id: [None] * repeats for c in cases}) for v in versions]  # type: ignore[list-item]
    groups = conversations(cases)
    answers = len(cases) * repeats * len(runs)
    # Conversation ids are fresh per version, repeat and run: an agent's memory never carries one
    # answer into another (a single case is a conversation of one turn).
    run_token = uuid.uuid4().hex[:12]
    if cases:
        _cold_start(runs, cases[0], timeout_s, trace)
    started = time.perf_counter()
    tally = {"done": 0, "errors": 0}
    lock = threading.Lock()
    # Every version has callers of its own, as many as each other one, all working through the same cases at the
    # same time (machine drift hits each alike). From one shared pool a saturated agent's queue split between
    # versions at random: a 2x slower agent read as 14x. `concurrency` still bounds the calls in flight in all.
    callers = max(1, concurrency // max(1, len(runs)))
    in_flight = threading.BoundedSemaphore(max(1, concurrency))

    def do(index: int, run: VersionRun, group: list[Case], r: int) -> None:
        def on_answer(case: Case, output: AgentOutput) -> None:
            run.outputs[case.id][r] = output
            if progress is not None:
                with lock:
                    tally["done"] += 1
                    tally["errors"] += output.error is not None
                    progress(tally["done"], answers, tally["errors"])

        conversation = group[0].conversation
        cid = f"{conversation.id if conversation else group[0].id}-{run_token}-v{index}-r{r}"
        with in_flight:
            play(run.version, group, timeout_s, r, cid, on_answer, trace)

    pools = [
        ThreadPoolExecutor(max_workers=callers, thread_name_prefix=f"harness-runner-v{i}") for i in range(len(runs))
    ]
    try:
        futures = [
            pool.submit(do, i, run, group, r)
            for r in range(repeats)
            for group in groups
            for i, (run, pool) in enumerate(zip(runs, pools))
        ]
        for future in futures:
            future.result()
    finally:
        for pool in pools:
            pool.shutdown(wait=True)
    wall = time.perf_counter() - started
    for run in runs:
        run.wall_s = wall
    return runs
