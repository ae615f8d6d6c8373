"""Reports on disk: `reports/<timestamp>-<id>/` with summary.md and results.json; `reports/latest` -> newest.

Every report opens with the gate decision (`harness.reports.decision`); the promotion outcome, known
only once the reports are logged, is filled in afterwards by `harness.reports.decision.append_outcome`.
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from textwrap import shorten
from typing import Any

from harness.records.codec import encode_evaluation
from harness.records.evaluation import Evaluation
from harness.reports.comparison import Redact, comparison_markdown
from harness.reports.comparison_html import comparison_html
from harness.reports.decision import IN_PROCESS_LABEL, decision_markdown
from harness.reports.latency import latency_document, latency_markdown, write_latency_files


def report_stamp(now: datetime) -> str:
    """`now` in ISO 8601's basic form (`20261201T060518Z`): its digit runs are too short to be
    taken for a card number when a line naming the folder is masked before printing."""
    return now.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def new_report_dir(base: Path, prefix: str = "") -> Path:
    """A fresh folder under `base` named by the UTC time."""
    path = base / f"{prefix}{report_stamp(datetime.now(UTC))}-{uuid.uuid4().hex[:6]}"
    path.mkdir(parents=True, exist_ok=False)
    return path


def point_latest(report_dir: Path) -> None:
    """Make `<base>/latest` a relative symlink to the newest report, replaced atomically."""
    link = report_dir.parent / "latest"
    tmp = report_dir.parent / f".latest-{uuid.uuid4().hex[:6]}"
    os.symlink(report_dir.name, tmp)
    os.replace(tmp, link)


def results_document(evaluation: Evaluation, blockers: Sequence[str] | None = None) -> dict[str, Any]:
    """Everything about the evaluation, machine-readable (the README documents this schema): the
    codec's document, with when, the golden files' digests and the latency section.

    `blockers`: the session's reasons not to promote, whatever the gate says (None: not known here).
    """
    from harness.golden import source_digest

    cfg = evaluation.config
    document = encode_evaluation(evaluation, blockers)
    golden = [
        {"path": p, "sha256": source_digest(path)[1]} for p, path in zip(cfg.golden, cfg.golden_paths, strict=True)
    ]
    return {
        **document,
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "config": {**document["config"], "golden": golden},
        "run_label": IN_PROCESS_LABEL if cfg.in_process else None,
        # percentiles with CIs, what they measured, endpoint retries, cold start, nodes
        "latency": latency_document(evaluation),
    }


def summary_markdown(
    evaluation: Evaluation, masked: Mapping[str, int] | None = None, blockers: Sequence[str] | None = None
) -> str:
    """summary.md, opening with the gate decision; `masked`: values masked per kind in this report's
    files, said in one line; `blockers`: the session's reasons not to promote (None: not known)."""
    from tabulate import tabulate

    from harness.secrets import masked_line, md_cell

    candidate = evaluation.candidate
    lines = [
        f"# Evaluation of `{md_cell(candidate.reference)}`",
        "",
        f"{len(evaluation.cases)} case(s), {len(evaluation.versions)} version(s).",
        "",
        decision_markdown(evaluation, blockers),
        *([masked_line(masked), ""] if masked is not None else []),
    ]
    lines += [f"> {md_cell(note)}" for note in evaluation.notes] + ([""] if evaluation.notes else [])
    if evaluation.comparisons:  # the headline; comparison.md has the tables
        lines += [
            "## A/B",
            "",
            *[f"    {line}" for c in evaluation.comparisons for line in c.headline_lines()],
            "",
            "Details: comparison.md, comparison.html.",
            "",
        ]
    for version in evaluation.versions:
        rows = [
            [md_cell(name), f"{e.value:.3f}", f"[{e.low:.3f}, {e.high:.3f}]", e.n]
            for name, e in version.metrics().items()
        ]
        lines += [
            f"## Metrics: {md_cell(version.label)} (`{md_cell(version.reference)}`)",
            "",
            tabulate(rows, headers=["metric", "value", "95% CI", "n"], tablefmt="github", disable_numparse=True),
            "",
            f"Latency timed on {md_cell(version.latency_source)}.",
            "",
        ]
    failing = [
        [md_cell(r.case.id), md_cell(name), md_cell(shorten(s.rationale, 160, placeholder="…"))]
        for r in candidate.results.values()
        for name, s in r.scores.items()
        if not s.passed
    ]
    if failing:
        lines += [
            "## Failing case checks",
            "",
            tabulate(failing, headers=["case", "scorer", "why"], tablefmt="github", disable_numparse=True),
            "",
        ]
    lines.append(latency_markdown(evaluation))
    return "\n".join(lines)


def masked_results(document: dict[str, Any]) -> tuple[dict[str, Any], dict[str, int]]:
    """A results.json document with each case masked against the emails its own messages name; and the counts per kind.

    Cases whose questions name the same emails (most name none) share one masker: each distinct
    string is masked once.
    """
    from harness.secrets import add_counts, emails_in
    from harness.secrets.mask import TreeMasker

    maskers: dict[frozenset[str], TreeMasker] = {}

    def masker(allowed: frozenset[str]) -> TreeMasker:
        if allowed not in maskers:
            maskers[allowed] = TreeMasker(allowed)
        return maskers[allowed]

    head = masker(frozenset())({key: value for key, value in document.items() if key != "versions"})
    out = {**head.value, "versions": []}
    counts = [head.counts]
    for version in document.get("versions", []):
        rest = masker(frozenset())({k: v for k, v in version.items() if k != "cases"})
        cases = [
            masker(emails_in(m.get("content", "") for m in row.get("messages") or []))(row)
            for row in version.get("cases", [])
        ]
        out["versions"].append({**rest.value, "cases": [c.value for c in cases]})
        counts += [rest.counts, *(c.counts for c in cases)]
    return out, add_counts(*counts)


def write_reports(evaluation: Evaluation, base: Path, blockers: Sequence[str] | None = None) -> Path:
    """Write the reports for an evaluation into a new folder and point `latest` at it.

    `blockers`: the session's reasons not to promote whatever the gate says (the sealed record's),
    said under the gate decision in every report; None where the writer does not know them.
    """
    from harness.secrets import emails_in, mask

    report_dir = new_report_dir(base)
    # Masked on the way to disk: a leaked secret in an answer must not leak again from the report.
    document, masked = masked_results(json.loads(json.dumps(results_document(evaluation, blockers), default=str)))
    document["masked"] = masked
    (report_dir / "results.json").write_text(json.dumps(document, indent=2), encoding="utf-8")
    asked = emails_in(m["content"] for case in evaluation.cases for m in case.messages)
    (report_dir / "summary.md").write_text(
        mask(summary_markdown(evaluation, masked, blockers), asked).text, encoding="utf-8"
    )
    write_latency_files(evaluation, report_dir)  # benchmarks.json, logged to MLflow with the reports
    write_comparison_files(evaluation, report_dir, masked, blockers)  # comparison.md, comparison.html, PNG plots
    point_latest(report_dir)
    return report_dir


def write_comparison_files(
    evaluation: Evaluation,
    report_dir: Path,
    masked: Mapping[str, int] | None = None,
    blockers: Sequence[str] | None = None,
) -> list[Path]:
    """comparison.md, comparison.html and the PNG plots, when the evaluation compared versions.

    `masked`: values masked per kind in the evaluation's results, said in one line in both files;
    `blockers`: the session's reasons not to promote, said under the gate decision (None: not known).
    """
    if not evaluation.comparisons:
        return []
    from harness.reports.plots import write_plots
    from harness.secrets import emails_in, mask

    by_case = {case.id: emails_in(m["content"] for m in case.messages) for case in evaluation.cases}
    asked = frozenset().union(*by_case.values()) if by_case else frozenset()

    def redact_for(case_id: str) -> Redact:
        allowed = by_case.get(case_id, frozenset())
        return lambda text: mask(str(text or ""), allowed).text

    plots = write_plots(evaluation, report_dir)
    (report_dir / "comparison.md").write_text(
        mask(comparison_markdown(evaluation, masked, blockers), asked).text, encoding="utf-8"
    )
    (report_dir / "comparison.html").write_text(
        comparison_html(evaluation, plots, redact_for, masked, blockers), encoding="utf-8"
    )
    return [report_dir / "comparison.md", report_dir / "comparison.html", *(report_dir / n for n in plots)]
