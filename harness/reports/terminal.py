"""Everything the terminal shows, rendered in one place: failure messages (one short line by default, the detail
with -v), the live progress line, and the lines that end a session and `harness log`'s output (the gate table, the
verdict, flip rates, the A/B headlines, then what publishing did), from the records.

Failure messages are masked here (no secret from an answer reaches a terminal, a CI log or JUnit XML) and made
terminal-safe (control characters shown as `\\x1b`); the session's closing lines are masked where they are written
(`harness.secrets.safe`).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path
from textwrap import shorten
from typing import TYPE_CHECKING

from harness.records.gate import RATIO_METRIC, detectable_text
from harness.secrets import emails_in, safe

if TYPE_CHECKING:
    from harness.records.decision import Publication
    from harness.records.evaluation import Evaluation
    from harness.records.gate import GateCheck, GateResult
    from harness.records.results import CaseResult

GATE_TABLE_HEADERS = ["metric", "value", "95% CI", "threshold", "result", "note"]


def session_lines(evaluation: Evaluation, publication: Publication) -> list[str]:
    """The end of a `pytest suites/` session: the headline, where the reports are, the run, the outcome."""
    return headline(evaluation) + publication_lines(publication)


def read_back_lines(evaluation: Evaluation, publication: Publication, results: Path) -> list[str]:
    """`harness log`'s output: the report read back, then what logging it did."""
    gate = "PASSED" if evaluation.gated.passed else "FAILED"
    told = f"{len(evaluation.cases)} case(s) read from {results}; gate {gate}"
    return headline(evaluation, told) + publication_lines(publication, reports=False)


def headline(evaluation: Evaluation, told: str | None = None) -> list[str]:
    """The gate table, the verdict line (or `told`), flip rates and the A/B headlines."""
    from harness.reports.decision import decision

    gate = evaluation.gated
    verdict = (
        f"{len(evaluation.cases)} case(s) evaluated for {len(evaluation.versions)} version(s); gate "
        f"{'PASSED' if gate.passed else 'FAILED'}: {decision(evaluation).verdict}"
    )
    lines = [gate_table(gate), "", told or verdict, *flip_lines(evaluation)]
    lines += [f"note: {note}" for note in evaluation.notes]
    for comparison in evaluation.comparisons:
        lines += comparison.headline_lines()
    return lines


def publication_lines(publication: Publication, reports: bool = True) -> list[str]:
    """Where the reports are, the run logged (or found logged), and the outcome, last."""
    lines = [f"reports: {publication.report_dir}"] if publication.report_dir and reports else []
    if publication.run_reused:
        lines.append(f"report already logged as MLflow run {publication.run_id} in {publication.tracking_uri}")
    elif publication.run_id:
        late = " (a late log from the report folder)" if publication.late else ""
        lines.append(f"logged MLflow run {publication.run_id} to {publication.tracking_uri}{late}")
    return [*lines, publication.outcome]


def flip_lines(evaluation: Evaluation) -> list[str]:
    """One line per version run with --repeats: how often its answer changed between runs of a case."""
    lines = []
    for version in evaluation.versions:
        estimate = version.metric_estimate("flip_rate")
        if estimate is not None:
            flipped = sum(1 for r in version.results.values() if r.flipped)
            runs = 1 + max(len(r.repeats) for r in version.results.values())
            lines.append(
                f"flip rate {version.label}: {estimate.value:.3f} ({flipped} of {estimate.n} case(s) answered "
                f"differently across {runs} runs)"
            )
    return lines


def gate_table(gate: GateResult, width: int = 120) -> str:
    """The terminal's gate table, at most `width` columns: the note is cut to fit (the reports hold it whole)."""
    from tabulate import tabulate

    rows = [_row(c) for c in gate.checks]
    table = tabulate(rows, headers=GATE_TABLE_HEADERS, tablefmt="github", disable_numparse=True)
    excess = max(map(len, table.splitlines())) - width
    if excess <= 0:
        return table
    room = max(len(GATE_TABLE_HEADERS[-1]), max(len(r[-1]) for r in rows) - excess)
    for row in rows:
        row[-1] = shorten(row[-1], room, placeholder="…")  # between words, never mid-word
    return tabulate(rows, headers=GATE_TABLE_HEADERS, tablefmt="github", disable_numparse=True)


def _row(c: GateCheck) -> list[str]:
    fmt = _fmt_delta if c.kind == "non_inferiority" else _fmt
    if c.kind == "power":
        value, ci = ("n/a" if c.value is None else detectable_text(c.value).split(" ")[0]), ""
    elif c.kind in ("critical", "baseline", "policy"):
        value, ci = ("n/a" if c.value is None else f"{c.value:g}"), ""
    else:
        value = "n/a" if c.value is None else fmt(c.metric, c.value)
        ci = "" if c.low is None or c.high is None else f"[{fmt(c.metric, c.low)}, {fmt(c.metric, c.high)}]"
    result = "SKIP" if c.skipped else "PASS" if c.passed else "FAIL"
    # A critical row's note leads with the failing case ids, the part worth the room.
    note = (
        f"{len(c.cases)} found: {', '.join(c.cases)}"
        if c.kind == "critical" and c.cases
        else " ".join(c.detail.split())
    )
    result = "PASS (undecided)" if c.undecided and c.passed else result
    return [c.label, value, ci, f"{c.op} {c.threshold + 0.0:g}", result, note]


def _fmt(metric: str, value: float) -> str:
    if metric == RATIO_METRIC:
        return f"{value:.2f}x"
    return f"{value:.1f}" if metric.endswith("_ms") else f"{value:.3f}"


def _fmt_delta(metric: str, value: float) -> str:
    return f"{value:+.3f}"


ANSWER_CHARS = 1200  # of an answer, in the detailed message; the reports hold all of it


def explain_score(result: CaseResult, scorer: str, verbose: bool = False) -> str:
    """A failed per-case check: case, scorer and why; with `verbose`, the question, expectation and answer too."""
    score = result.scores[scorer]
    asked = emails_in(m["content"] for m in result.case.messages)
    line = f"{result.case.id} {scorer}: {score.rationale}{_history_hint(result)}"
    if not verbose:
        return safe(line.splitlines()[0] if line else line, asked)
    text = result.output.text
    answer = text if len(text) <= ANSWER_CHARS else text[:ANSWER_CHARS] + f"… ({len(text)} chars)"
    expected = {k: v for k, v in result.case.expectations.items() if k != "expected_response"}
    return safe(
        f"{scorer} failed for case {result.case.id} ({result.case.source}) [judge: {score.judge}]\n"
        f"  why:      {score.rationale}{_history_hint(result)}\n"
        f"  question: {result.case.question}\n"
        f"  expected: {expected}\n"
        f"  answer:   {answer}",
        asked,
    )


def _history_hint(result: CaseResult) -> str:
    """A follow-up turn sent alone: the usual cause of its failure is an agent that keeps no memory."""
    conversation = result.case.conversation
    if conversation is None or conversation.turn == 1 or conversation.history != "agent":
        return ""
    return (
        f' (turn {conversation.turn} got no earlier turns under "history": "agent"; a stateless agent '
        'needs "history": "sent")'
    )


def explain_agent_error(result: CaseResult, reference: str) -> str:
    asked = emails_in(m["content"] for m in result.case.messages)
    return safe(
        f"agent {reference!r} failed on case {result.case.id} ({result.case.source}): {result.output.error}", asked
    )


def explain_check(check: GateCheck) -> str:
    """`gate check correctness>=0.85 failed: correctness mean 0.712 (threshold ≥ 0.85). <detail>`: the value
    actually checked and its bound, in the words of the decision line."""
    return safe(f"gate check {check.id} failed: {check.sentence()}. {check.detail}".strip())


class ProgressLine:
    """The session's live progress, from its first second: each step (logging, loading, scoring,
    publishing) and, after every answer, `answered n/total` with errors and an ETA.

    Writes through `write(text, replace)`: on a terminal one line rewritten in place (`replace`; at most
    every `every_s` seconds), in a log (CI) a plain line per step and every `every_s_log` seconds; an
    empty `text` ends the line."""

    def __init__(
        self, write: Callable[[str, bool], None], tty: bool, every_s: float = 0.2, every_s_log: float = 10.0
    ) -> None:
        self.write, self.tty = write, tty
        self.every_s = every_s if tty else every_s_log
        self.started = time.monotonic()
        self.answering = self.started
        self.last = float("-inf")
        self.lock = threading.Lock()
        self.open = False  # a line on the terminal waits to be ended

    def phase(self, step: str) -> None:
        """A step of the session begins: always shown (`step` reads like "logging my_agent:answer")."""
        with self.lock:
            self.last = time.monotonic()
            if step.startswith("answering"):
                self.answering = self.last
            self._show(f"harness: {step} ... ({self.last - self.started:.0f} s)")

    def __call__(self, done: int, total: int, errors: int) -> None:
        now = time.monotonic()
        final = done >= total
        with self.lock:
            if not final and now - self.last < self.every_s:
                return
            self.last = now
            elapsed = now - self.answering
            eta = f", about {elapsed / done * (total - done):.0f} s left" if done and not final else ""
            then = "; scoring ..." if final else ""  # what the session does next
            self._show(f"harness: answered {done}/{total}, {errors} error(s), {now - self.started:.0f} s{eta}{then}")

    def end(self) -> None:
        """The progress is over (the results follow): end the line left open on a terminal."""
        with self.lock:
            if self.open:
                self.write("", False)
                self.open = False

    def _show(self, text: str) -> None:
        self.write(text, self.open)
        self.open = self.tty
