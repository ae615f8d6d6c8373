"""The session-finish sequence: reports, one MLflow run, and promotion only when everything held."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from harness import HarnessError, first_line
from harness.evaluation import Evaluation


SESSION_FILE = "session.json"  # what the session knew beyond results.json: whether it may promote, and why not


def finish_session(evaluation: Evaluation, promote: bool, blockers: list[str]) -> tuple[list[str], bool]:
    """Write reports, log the run, promote if allowed. Returns (terminal lines, whether the session failed).

    Reports are written first, so nothing is lost when the tracking store is down.
    """
    from harness.report import write_reports

    cfg = evaluation.config
    gate = evaluation.gate
    lines = [gate.table(), ""]
    n_cases = len(evaluation.cases)
    lines.append(f"{n_cases} case(s) evaluated for {len(evaluation.versions)} version(s); gate {'PASSED' if gate.passed else 'FAILED'}")
    lines += flip_lines(evaluation)
    lines += comparison_lines(evaluation)
    try:
        report_dir = write_reports(evaluation, cfg.report_path)
        (report_dir / SESSION_FILE).write_text(json.dumps({"promote": promote, "blockers": blockers}, indent=2), encoding="utf-8")
    except OSError as exc:
        lines.append(f"could not write reports to {cfg.report_path}: {exc}; nothing logged or promoted")
        return lines, True
    lines.append(f"reports: {report_dir}")
    return log_and_promote(evaluation, report_dir, promote, blockers, lines)


def comparison_lines(evaluation: Evaluation) -> list[str]:
    """Notes (a baseline that could not be loaded) and the A/B headline of each comparison (issue 4)."""
    lines = [f"note: {note}" for note in evaluation.notes]
    for comparison in evaluation.comparisons:
        lines += comparison.headline_lines()
    return lines


def flip_lines(evaluation: Evaluation) -> list[str]:
    """One line per version run with --repeats: how often its answer changed between runs of a case."""
    lines = []
    for version in evaluation.versions:
        estimate = version.metric_estimate("flip_rate")
        if estimate is not None:
            flipped = sum(1 for r in version.results.values() if r.flipped)
            runs = 1 + max(len(r.repeats) for r in version.results.values())
            lines.append(f"flip rate {version.label}: {estimate.value:.3f} ({flipped} of {estimate.n} case(s) answered differently across {runs} runs)")
    return lines




def log_and_promote(evaluation: Evaluation, report_dir: Path, promote: bool, blockers: list[str], lines: list[str]) -> tuple[list[str], bool]:
    """Log the report's run and promote its candidate, each at most once per report folder.

    Safe to repeat after a tracking failure at any point: a run already logged for this report
    (tag `harness.report_id`) and a version already registered for that run (tag
    `harness.eval_run_id`, written in the same call that creates the version) are reused, never
    created twice; an alias is only ever set on such a version, so it always has its gate record.
    """
    from harness.registry import connect, log_evaluation, promote_evaluated, set_alias

    cfg = evaluation.config
    gate = evaluation.gate
    failed = not gate.passed
    retry = f"run `harness log {report_dir}` once the store is reachable"
    try:
        uri = connect(cfg.root)
        run_id = _logged_run(report_dir)
        if run_id:
            lines.append(f"report already logged as MLflow run {run_id} in {uri}")
        else:
            run_id = log_evaluation(evaluation, report_dir)
            lines.append(f"logged MLflow run {run_id} to {uri}")
    except Exception as exc:  # any tracking failure: keep the reports, say how to finish later
        lines.append(f"could not log to the tracking store: {first_line(exc)}; nothing promoted. The reports are in {report_dir}; {retry}")
        return lines, True
    reasons = [f"gate failed: {', '.join(f'{c.metric} {c.value if c.value is None else round(c.value, 4)} (needs {c.op} {c.threshold:g})' for c in gate.failures)}"] if not gate.passed else []
    # A rule scorer that raised has no threshold of its own to fail, so it blocks promotion here
    # (judge errors have max_judge_error_rate): a check that could not be made is never a pass.
    scorer_errors = sorted({name for r in evaluation.candidate.results.values() if r.output.error is None
                            for name, s in r.scores.items() if s.error and s.judge == "rule"})
    if scorer_errors:
        failed = True
        reasons.append(f"scorer error(s) in {', '.join(scorer_errors)}")
    reasons += blockers
    if not promote:
        reasons.append("promotion disabled (--no-promote)")
    elif not cfg.promote_to:
        reasons.append("promote_to is empty")
    if reasons:
        lines.append("not promoted: " + "; ".join(reasons))
        return lines, failed
    try:
        existing = _registered_version(cfg.model_name, run_id)
        if existing is None:
            if evaluation.candidate.version is None:  # rebuilt from results.json: load the agent to log it as a model
                from harness.versions import resolve

                evaluation.candidate.version = resolve(evaluation.candidate.reference, cfg.root, evaluation.candidate.label)
            promotion = promote_evaluated(evaluation, run_id)
            lines.append(f"promoted version {promotion.version} of {promotion.model_name} to @{promotion.alias}")
        elif f"harness.alias.{cfg.promote_to}" in existing.tags:
            lines.append(f"version {existing.version} of {cfg.model_name} was already promoted to @{cfg.promote_to} for run {run_id}; nothing to do")
        else:
            set_alias(cfg.model_name, cfg.promote_to, str(existing.version), reason="gate passed", run_id=run_id)
            lines.append(f"promoted version {existing.version} of {cfg.model_name} (registered earlier for run {run_id}) to @{cfg.promote_to}")
    except Exception as exc:
        lines.append(f"promotion failed: {first_line(exc)}; run {run_id} is logged, no alias moved; {retry}")
        return lines, True
    return lines, failed


def _logged_run(report_dir: Path) -> str | None:
    """The id of the finished run already logged for this report folder, if any."""
    import mlflow

    from harness.registry import EXPERIMENT, GATE_TAG, REPORT_TAG

    runs = mlflow.search_runs(
        experiment_names=[EXPERIMENT], filter_string=f"tags.`{REPORT_TAG}` = '{report_dir.name}'", output_format="list",
    )
    # The report tag is set together with the gate tag as the last step of logging: a run that has
    # it is complete. A run cut off earlier has neither and is ignored (a fresh one is logged).
    complete = [r for r in runs if GATE_TAG in r.data.tags]
    return min(complete, key=lambda r: r.info.start_time).info.run_id if complete else None


def _registered_version(model_name: str, run_id: str) -> Any:
    """The model version registered for an evaluation run, if any (its gate tags came with it)."""
    import mlflow
    from mlflow.exceptions import MlflowException

    from harness.registry import RUN_TAG

    try:
        found = mlflow.MlflowClient().search_model_versions(f"name = '{model_name}' and tags.`{RUN_TAG}` = '{run_id}'")
    except MlflowException as exc:
        if exc.error_code == "RESOURCE_DOES_NOT_EXIST":
            return None
        raise
    return min(found, key=lambda v: int(v.version)) if found else None


def configure_log(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("report_dir", type=Path, help="a report folder written by `pytest suites/`, e.g. reports/latest")
    parser.add_argument("--no-promote", dest="no_promote", action="store_true", help="log the run but move no alias")


def run_log(args: argparse.Namespace) -> int:
    """Finish what a session could not: log its report and promote it, exactly once per report."""
    lines, failed = log_report(args.report_dir, promote=not args.no_promote)
    print("\n".join(lines))
    return 1 if failed else 0


def log_report(report_dir: Path, promote: bool = True, root: Path | None = None) -> tuple[list[str], bool]:
    """Rebuild the evaluation from `report_dir`/results.json (no re-run), then log and promote it."""
    from harness.config import load_config
    from harness.evaluation import evaluation_from_results

    report_dir = report_dir.resolve()  # reports/latest -> the folder itself, whose name identifies the report
    results = report_dir / "results.json"
    if not results.is_file():
        raise HarnessError(f"{report_dir}: no results.json here; pass a report folder written by `pytest suites/`")
    try:
        document = json.loads(results.read_text(encoding="utf-8"))
        session_file = report_dir / SESSION_FILE
        session = json.loads(session_file.read_text(encoding="utf-8")) if session_file.is_file() else {}
        recorded = document["config"]
    except (json.JSONDecodeError, KeyError, TypeError) as exc:
        raise HarnessError(f"{results}: not a harness results document ({type(exc).__name__}: {exc})") from None
    overrides = {key: recorded.get(key) for key in ("versions", "model_name", "promote_to", "thresholds", "non_inferiority", "judge_model", "repeats")}
    overrides["agent"] = recorded.get("agent")
    overrides["golden"] = [g["path"] for g in recorded.get("golden", [])] or None
    cfg = load_config(root or Path.cwd(), overrides)
    evaluation = evaluation_from_results(document, cfg)
    lines = [evaluation.gate.table(), "", f"{len(evaluation.cases)} case(s) read from {results}; gate {'PASSED' if evaluation.gate.passed else 'FAILED'}"]
    lines += flip_lines(evaluation)
    return log_and_promote(evaluation, report_dir, promote and session.get("promote", True), list(session.get("blockers", [])), lines)
