"""`harness compare A B`: B (the candidate) against A (the baseline), like `diff A B`: either two
agent references, both re-run over the golden set in one interleaved run, each from a process of its
own, or two earlier results.json files (or report folders), compared without re-running anything."""

from __future__ import annotations

import argparse
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from harness import HarnessError

if TYPE_CHECKING:
    from harness.records.evaluation import Evaluation
    from harness.settings import HarnessConfig


def results_path(arg: str) -> Path | None:
    """The results.json that `arg` names (the file, or a report folder holding one), else None."""
    path = Path(arg)
    if path.is_dir() and (path / "results.json").is_file():
        return path / "results.json"
    if path.suffix == ".json" and path.is_file():
        return path
    if path.suffix == ".json":
        raise HarnessError(f"{arg}: results file not found")
    return None


def load_results(path: Path) -> dict[str, Any]:
    import json

    from harness.records.codec import checked

    try:
        document = checked(json.loads(path.read_text(encoding="utf-8")), str(path))
    except OSError as exc:
        raise HarnessError(f"{path}: cannot read: {exc.strerror}") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise HarnessError(f"{path}: not a results.json document: {exc}") from None
    document.setdefault("report_dir", str(path.parent))
    return document


def evaluation_from_files(baseline_path: Path, candidate_path: Path, cfg: HarnessConfig) -> Evaluation:
    """Compare the candidate of one stored run against the candidate of another, on the cases they share."""
    from harness.compare import compare_versions
    from harness.pipeline import evaluation_from_results, gate_evaluation
    from harness.records.evaluation import Evaluation

    try:
        base_doc, cand_doc = load_results(baseline_path), load_results(candidate_path)
        baseline = evaluation_from_results({**base_doc, "versions": base_doc["versions"][:1]}, cfg).candidate
        candidate = evaluation_from_results({**cand_doc, "versions": cand_doc["versions"][:1]}, cfg).candidate
    except (KeyError, TypeError, ValueError) as exc:
        raise HarnessError(
            f"{baseline_path} / {candidate_path}: a case record is incomplete: {type(exc).__name__}: {exc}"
        ) from None
    baseline, candidate = replace(baseline, label="baseline"), replace(candidate, label="candidate")
    comparison = compare_versions(
        candidate, baseline, cfg.non_inferiority, relative_tests=cfg.relative_test, latency_band=cfg.latency_equivalence
    )
    if not comparison.n_shared:
        raise HarnessError(f"{candidate_path} and {baseline_path} have no case ids in common: nothing to compare")
    notes = [f"compared stored results without re-running: candidate {candidate_path}, baseline {baseline_path}"]
    digests = [[g.get("sha256") for g in doc.get("config", {}).get("golden", [])] for doc in (base_doc, cand_doc)]
    if digests[0] != digests[1]:
        notes.append("the two runs used different golden files; only the cases they share by id are compared")
    shared = comparison.shared_ids
    versions = [replace(v, results={cid: v.results[cid] for cid in shared}) for v in (candidate, baseline)]
    evaluation = Evaluation(cfg, [candidate.results[cid].case for cid in shared], versions, notes=notes)
    return gate_evaluation(evaluation, comparisons=[replace(comparison, candidate=versions[0], baseline=versions[1])])


def configure_compare(parser: argparse.ArgumentParser) -> None:
    parser.description = (
        "Compare version B (the candidate) against version A (the baseline) with paired statistics. "
        "A and B are agent references (both are run over the golden set, interleaved, each from a process "
        "of its own) or two earlier results.json files / report folders (compared without re-running). "
        "Writes comparison.md, comparison.html, results.json and plots to a new report folder. Exit status "
        "1 when a metric is significantly worse or a version failed on a case, unless --exit-zero."
    )
    parser.add_argument("baseline", metavar="A", help="baseline: agent reference, results.json, or report folder")
    parser.add_argument("candidate", metavar="B", help="candidate: agent reference, results.json, or report folder")
    parser.add_argument(
        "--golden", action="append", help="golden JSONL file for re-runs (repeatable; replaces [tool.harness] golden)"
    )
    parser.add_argument(
        "--report-dir", dest="report_dir", help="where the report folder is written (default [tool.harness] report_dir)"
    )
    parser.add_argument("--concurrency", type=int, help="agent calls in flight at once (re-runs)")
    parser.add_argument(
        "--case-timeout", dest="case_timeout_s", type=float, help="seconds before a case is abandoned (re-runs)"
    )
    parser.add_argument(
        "--exit-zero", action="store_true", help="exit 0 even when a metric is significantly worse or a version errored"
    )


def run_compare(args: argparse.Namespace) -> int:
    from harness.config import load_config
    from harness.reports.comparison import comparison_markdown
    from harness.reports.files import write_reports
    from harness.secrets import safe

    overrides = {
        "golden": args.golden,
        "report_dir": args.report_dir,
        "concurrency": args.concurrency,
        "case_timeout_s": args.case_timeout_s,
    }
    cfg = load_config(Path.cwd(), overrides)
    baseline, candidate = results_path(args.baseline), results_path(args.candidate)
    if baseline is not None and candidate is not None:
        evaluation = evaluation_from_files(baseline, candidate, cfg)
    elif baseline is not None or candidate is not None:
        raise HarnessError(
            "give two agent references or two results.json files (a stored run cannot be paired with a fresh one)"
        )
    else:
        evaluation = _rerun(cfg, args.candidate, args.baseline)
    report_dir = write_reports(evaluation, cfg.report_path)
    # A comparison is not a gated session: `harness log` must never promote from this folder.
    (report_dir / "session.json").write_text(
        '{"promote": false, "blockers": ["written by harness compare: a comparison, not a gated pytest session"]}\n',
        encoding="utf-8",
    )
    comparison = evaluation.comparisons[0]
    print(safe(comparison_markdown(evaluation)))
    for line in evaluation.notes:
        print(f"note: {line}")
    for line in comparison.headline_lines():
        print(line)
    errored = [f"{v.label} failed on {len(v.agent_errors)} case(s)" for v in evaluation.versions if v.agent_errors]
    for line in errored:
        print(f"error: {line}: an answer that failed is never compared as a pass")
    print(f"reports: {report_dir}")
    return 1 if (comparison.regressions or errored) and not args.exit_zero else 0


def _rerun(cfg: HarnessConfig, candidate: str, baseline: str) -> Evaluation:
    """Both versions answer from processes of their own, the same way, whatever their kind: a registry
    version loaded with pyfunc is not measured against an import in the harness's process."""
    from harness.golden import load_golden
    from harness.pipeline import evaluate
    from harness.versions.process.client import LoggedAgent, isolated_version

    cases = load_golden(cfg.golden_paths)
    env: dict[str, str] = {}
    if any(r.startswith(("models:/", "runs:/")) for r in (candidate, baseline)):
        from harness.tracking.connection import connect

        uri = connect(cfg.root)
        env = {"MLFLOW_TRACKING_URI": uri, "MLFLOW_REGISTRY_URI": uri}
    versions = []
    try:
        for reference, label in ((candidate, "candidate"), (baseline, "baseline")):
            stored = reference.startswith(("models:/", "runs:/"))
            versions.append(
                isolated_version(LoggedAgent(reference, reference if stored else "", None), cfg.root, label, env=env)
            )
        return evaluate(cfg, cases, versions)
    finally:
        for version in versions:
            version.isolated.close()
