"""The session-finish sequence: reports, one MLflow run, and promotion only when everything held."""

from __future__ import annotations

from harness.evaluation import Evaluation


def finish_session(evaluation: Evaluation, promote: bool, blockers: list[str]) -> tuple[list[str], bool]:
    """Write reports, log the run, promote if allowed. Returns (terminal lines, whether the session failed).

    Reports are written first, so nothing is lost when the tracking store is down.
    """
    from harness.registry import connect, log_evaluation, promote_evaluated
    from harness.report import write_reports

    cfg = evaluation.config
    gate = evaluation.gate
    failed = not gate.passed
    lines = [gate.table(), ""]
    n_cases = len(evaluation.cases)
    lines.append(f"{n_cases} case(s) evaluated for {len(evaluation.versions)} version(s); gate {'PASSED' if gate.passed else 'FAILED'}")
    try:
        report_dir = write_reports(evaluation, cfg.report_path)
    except OSError as exc:
        lines.append(f"could not write reports to {cfg.report_path}: {exc}; nothing logged or promoted")
        return lines, True
    lines.append(f"reports: {report_dir}")
    try:
        uri = connect(cfg.root)
        run_id = log_evaluation(evaluation, report_dir)
    except Exception as exc:  # any tracking failure: keep the reports, say how to finish later
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        lines.append(f"could not log to the tracking store: {first}; nothing promoted. The reports are in {report_dir}; "
                     f"run `harness log {report_dir}` once the store is reachable")
        return lines, True
    lines.append(f"logged MLflow run {run_id} to {uri}")
    reasons = [f"gate failed: {', '.join(f'{c.metric} {c.value if c.value is None else round(c.value, 4)} (needs {c.op} {c.threshold:g})' for c in gate.failures)}"] if not gate.passed else []
    reasons += blockers
    if not promote:
        reasons.append("promotion disabled (--no-promote)")
    elif not cfg.promote_to:
        reasons.append("promote_to is empty")
    if reasons:
        lines.append("not promoted: " + "; ".join(reasons))
        return lines, failed
    try:
        promotion = promote_evaluated(evaluation, run_id)
    except Exception as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        lines.append(f"promotion failed: {first}; run {run_id} is logged, no alias moved")
        return lines, True
    lines.append(f"promoted version {promotion.version} of {promotion.model_name} to @{promotion.alias}")
    return lines, failed
