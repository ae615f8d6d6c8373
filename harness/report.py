"""Reports on disk: `reports/<timestamp>-<id>/` with summary.md and results.json; `reports/latest` -> newest."""

from __future__ import annotations

import json
import os
import uuid
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from harness.comparison_report import write_comparison_files
from harness.evaluation import Evaluation
from harness.latency import latency_document, latency_markdown, write_latency_files

SCHEMA_VERSION = 1


def new_report_dir(base: Path) -> Path:
    stamp = datetime.now(timezone.utc).strftime("%Y%m%d-%H%M%S")
    path = base / f"{stamp}-{uuid.uuid4().hex[:6]}"
    path.mkdir(parents=True, exist_ok=False)
    return path


def point_latest(report_dir: Path) -> None:
    """Make `<base>/latest` a relative symlink to the newest report, replaced atomically."""
    link = report_dir.parent / "latest"
    tmp = report_dir.parent / f".latest-{uuid.uuid4().hex[:6]}"
    os.symlink(report_dir.name, tmp)
    os.replace(tmp, link)


def results_document(evaluation: Evaluation) -> dict[str, Any]:
    """Everything about the evaluation, machine-readable (the README documents this schema)."""
    cfg = evaluation.config
    from harness.golden import file_digest

    return {
        "schema_version": SCHEMA_VERSION,
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "config": {
            "agent": cfg.agent,
            "versions": [v.reference for v in evaluation.versions],
            "golden": [{"path": p, "sha256": file_digest(cfg.resolve_path(p))} for p in cfg.golden],
            "model_name": cfg.model_name,
            "promote_to": cfg.promote_to,
            "thresholds": cfg.thresholds,
            "non_inferiority": cfg.non_inferiority,
            "weights": cfg.weights,
            "baseline": cfg.baseline,
            "judge_model": cfg.judge_model,
            "concurrency": cfg.concurrency,
            "case_timeout_s": cfg.case_timeout_s,
            "repeats": cfg.repeats,
        },
        "n_cases": len(evaluation.cases),
        "gate": evaluation.gate.to_dict() if evaluation.gate else None,
        # issue 4: the candidate against each other version (schema: harness.compare.COMPARISON_SCHEMA),
        # and one-line notes such as a baseline that could not be loaded.
        "comparisons": [c.to_dict() for c in evaluation.comparisons],
        "notes": list(evaluation.notes),
        "versions": [
            {
                "label": v.label,
                "reference": v.reference,
                "kind": v.kind,
                "load_s": v.load_s,
                "model_config": getattr(v.version, "model_config", None),
                "metrics": {name: est.to_dict() for name, est in v.metrics().items()},
                "cases": [r.to_dict() for r in v.results.values()],
            }
            for v in evaluation.versions
        ],
        "latency": latency_document(evaluation),  # issue 6: percentiles with CIs, cold start, nodes, benchmarks
    }


def summary_markdown(evaluation: Evaluation) -> str:
    from tabulate import tabulate

    candidate = evaluation.candidate
    lines = [
        f"# Evaluation of `{candidate.reference}`",
        "",
        f"{len(evaluation.cases)} cases, gate **{'PASSED' if evaluation.gate.passed else 'FAILED'}**.",
        "",
        "## Gate",
        "",
        evaluation.gate.table(),
        "",
    ]
    lines += [f"> {note}" for note in evaluation.notes] + ([""] if evaluation.notes else [])
    if evaluation.comparisons:  # issue 4: the headline; comparison.md has the tables
        lines += ["## A/B", "", *[f"    {line}" for c in evaluation.comparisons for line in c.headline_lines()], "",
                  "Details: comparison.md, comparison.html.", ""]
    for version in evaluation.versions:
        rows = [[name, f"{e.value:.3f}", f"[{e.low:.3f}, {e.high:.3f}]", e.n] for name, e in version.metrics().items()]
        lines += [f"## Metrics: {version.label} (`{version.reference}`)", "", tabulate(rows, headers=["metric", "value", "95% CI", "n"], tablefmt="github"), ""]
    failing = [
        [r.case.id, name, s.rationale[:160]]
        for r in candidate.results.values()
        for name, s in r.scores.items()
        if not s.passed
    ]
    if failing:
        lines += ["## Failing case checks", "", tabulate(failing, headers=["case", "scorer", "why"], tablefmt="github"), ""]
    lines.append(latency_markdown(evaluation))  # issue 6
    return "\n".join(lines)


def write_reports(evaluation: Evaluation, base: Path) -> Path:
    """Write the reports for an evaluation into a new folder and point `latest` at it."""
    from harness.redact import emails_in, redact, redact_results

    report_dir = new_report_dir(base)
    # Redacted on the way to disk (issue 9): a leaked secret in an answer must not leak again from the report.
    document = redact_results(json.loads(json.dumps(results_document(evaluation), default=str)))
    (report_dir / "results.json").write_text(json.dumps(document, indent=2), encoding="utf-8")
    asked = emails_in(m["content"] for case in evaluation.cases for m in case.messages)
    (report_dir / "summary.md").write_text(redact(summary_markdown(evaluation), asked), encoding="utf-8")
    write_latency_files(evaluation, report_dir)  # issue 6: benchmarks.json, logged to MLflow with the reports
    write_comparison_files(evaluation, report_dir)  # issue 4: comparison.md, comparison.html, PNG plots
    point_latest(report_dir)
    return report_dir
