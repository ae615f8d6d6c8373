"""The lines that end a session in the terminal and `harness log`'s output, rendered from the
records: the gate table, the verdict, flip rates, the A/B headlines, then what publishing did.
Masking is the caller's, where the lines are written (`harness.secrets.safe`)."""

from __future__ import annotations

from pathlib import Path
from textwrap import shorten
from typing import TYPE_CHECKING

from harness.records.gate import RATIO_METRIC, detectable_text

if TYPE_CHECKING:
    from harness.records.decision import Publication
    from harness.records.evaluation import Evaluation
    from harness.records.gate import GateCheck, GateResult

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
