"""The evaluation run: params, metrics, the per-case table, the reports and the sealed record."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from harness.tracking import EXPERIMENT, GATE_TAG, LATE_LOG_TAG, RECORD_SHA_TAG, RECORD_TAG, REPORT_TAG

if TYPE_CHECKING:
    from harness.records.evaluation import Evaluation
    from harness.seal import GateRecord

KIND_TAG = "mlflow.experimentKind"  # the MLflow UI's choice of experiment page


def log_evaluation(evaluation: Evaluation, report_dir: Path, record: GateRecord, late: bool = False) -> str:
    """Log one MLflow run: params, metrics, the per-case table, the reports and the record. Returns the run id.

    The run starts when the session did (its duration is the evaluation's) and takes the evaluated
    logged model as its input, so the run page lists it and the model page shows the run's metrics.
    `late`: logged afterwards from a report folder by `harness log`, tagged so.
    """
    import mlflow

    from harness.secrets import mask

    experiment_id = _experiment_id()
    client = mlflow.MlflowClient()
    started_ms = int(evaluation.started_s * 1000) if evaluation.started_s and not late else None
    created = client.create_run(
        experiment_id, start_time=started_ms, tags=_source_tags(), run_name=run_name(evaluation)
    )
    with mlflow.start_run(run_id=created.info.run_id) as run:
        mlflow.log_params({key: mask(str(value)).text for key, value in _params(evaluation, record).items()})
        metrics = run_metrics(evaluation)
        candidate = {k: v for k, v in metrics.items() if "/" not in k}  # the evaluated model's own figures
        mlflow.log_metrics(candidate, model_id=record.model_id)
        mlflow.log_metrics({k: v for k, v in metrics.items() if k not in candidate})
        if evaluation.comparisons:  # the comparison reports are also among the `reports` artifacts
            first = evaluation.comparisons[0]
            mlflow.set_tags(
                {
                    "harness.compare.baseline": mask(first.baseline_reference).text,
                    "harness.compare.worse": ",".join(m.metric for m in first.regressions) or "none",
                }
            )
        mlflow.log_table(_redacted(_case_table(evaluation)), artifact_file="eval_results.json")
        from harness.tracking.assessments import log_case_traces

        log_case_traces(evaluation)  # each case a trace of this run, its scores and expectations assessments
        mlflow.log_artifacts(str(report_dir), artifact_path="reports")
        # Last, and in one call: a run with REPORT_TAG is completely logged (`harness log` relies on it).
        mlflow.set_tags(
            {
                GATE_TAG: "passed" if evaluation.gated.passed else "failed",
                "harness.report_dir": str(report_dir),
                REPORT_TAG: report_dir.name,
                RECORD_TAG: record.to_json(),
                RECORD_SHA_TAG: record.sha256,
                LATE_LOG_TAG: str(late).lower(),
            }
        )
        return run.info.run_id


def _experiment_id() -> str:
    import mlflow

    experiment = mlflow.set_experiment(EXPERIMENT)
    if KIND_TAG not in experiment.tags:
        # Without a kind the UI infers "GenAI" from the traces and opens on an empty traces overview;
        # these are evaluation runs with metrics and tables, shown best in its runs view.
        mlflow.MlflowClient().set_experiment_tag(experiment.experiment_id, KIND_TAG, "custom_model_development")
    return str(experiment.experiment_id)


def _source_tags() -> dict[str, str]:
    """What MLflow's own runs say of their source (user, git commit), with the command that ran rather
    than `__main__.py` (`python -m pytest`)."""
    from mlflow.tracking.context.registry import resolve_tags

    from harness.secrets import mask

    program = Path(sys.argv[0]).name if sys.argv else ""
    if program == "__main__.py":
        program = Path(sys.argv[0]).parent.name
    command = " ".join([program or "python", *sys.argv[1:]])
    return resolve_tags({"mlflow.source.name": mask(command).text[:500], "mlflow.source.type": "LOCAL"})


def _params(evaluation: Evaluation, record: GateRecord) -> dict[str, Any]:
    cfg = evaluation.config
    candidate = evaluation.candidate
    params: dict[str, Any] = {
        "agent": candidate.reference,
        "agent_kind": candidate.kind,
        "model_config": getattr(candidate.version, "model_config", None) or "",
        "versions": ",".join(v.reference for v in evaluation.versions),
        "n_cases": len(evaluation.cases),
        "concurrency": cfg.concurrency,
        "case_timeout_s": cfg.case_timeout_s,
        "judge_model": cfg.judge_model or "rule-based",
    }
    for label, sha in record.golden:
        name, _, version = label.partition("@")  # a dataset's `name@version`: no `@` in a param key
        params[f"golden.{name}.sha256"] = sha
        if version:
            params[f"golden.{name}.version"] = version
    for name, value in cfg.thresholds.items():
        params[f"threshold.{name}"] = value
    return params  # masked as logged: references may carry credentials


def run_metrics(evaluation: Evaluation) -> dict[str, float]:
    """The run's metrics, as shown (4 digits), NaN left out: the candidate's without a prefix, every other
    version's under its label, the comparisons under `compare/`."""
    candidate = evaluation.candidate
    metrics: dict[str, float] = {}
    for version in evaluation.versions:
        prefix = "" if version is candidate else f"{version.label}/"
        for name, est in version.metrics().items():
            metrics[f"{prefix}{name}"] = est.value
            if version is candidate:
                metrics[f"{name}_ci_low"], metrics[f"{name}_ci_high"] = est.low, est.high
    metrics["gate_passed"] = float(evaluation.gated.passed)
    metrics.update(comparison_metrics(evaluation))
    return {k: shown(v) for k, v in metrics.items() if v == v}


def run_name(evaluation: Evaluation) -> str:
    """What the run list shows: model, the candidate (and baseline) references, and the verdict.

    E.g. `my_agent: my_agent:answer vs models:/my_agent@production (version 3), gate passed`.
    """
    versions = evaluation.versions
    against = ""
    if len(versions) > 1:
        other = versions[1]
        pinned = other.version.registered if other.version is not None else None
        against = f" vs {other.reference}" + (
            f" (version {pinned[1]})" if pinned and f"/{pinned[1]}" not in other.reference else ""
        )
    verdict = "passed" if evaluation.gated.passed else "failed"
    return f"{evaluation.config.model_name}: {evaluation.candidate.reference}{against}, gate {verdict}"[:250]


def shown(value: float) -> float:
    """A metric as MLflow will show it: 4 significant digits (the reports and results.json keep every digit)."""
    return float(f"{value:.4g}")


def comparison_metrics(evaluation: Evaluation) -> dict[str, float]:
    """The A/B headline numbers as MLflow metrics: `compare/<metric>/delta`, `.../p_value`, and more.

    The first comparison (candidate vs the baseline) is under `compare/`; with --versions a,b,c the
    others are under `compare/<label>/`.
    """
    import math
    import re

    out: dict[str, float] = {}
    for i, c in enumerate(evaluation.comparisons):
        prefix = "compare/" if i == 0 else "compare/" + re.sub(r"[^A-Za-z0-9_\-. /]", "_", c.baseline_label) + "/"
        for m in c.metrics:
            for key, value in (
                ("delta", m.delta),
                ("ci_low", m.ci_low),
                ("ci_high", m.ci_high),
                ("p_value", m.p_value),
                ("p_adjusted", m.p_adjusted),
                ("p_worse_adjusted", m.p_worse_adjusted),
            ):
                out[f"{prefix}{m.metric}/{key}"] = value
        for r in c.latency:
            out[f"{prefix}latency_{r.percentile}/ratio"] = r.ratio
        out[f"{prefix}n_shared"] = float(c.n_shared)
        out[f"{prefix}worse"] = float(len(c.regressions))
    return {k: float(v) for k, v in out.items() if isinstance(v, (int, float)) and math.isfinite(v)}


def _case_table(evaluation: Evaluation) -> dict[str, list[Any]]:
    table: dict[str, list[Any]] = {
        "version": [],
        "case_id": [],
        "question": [],
        "answer": [],
        "error": [],
        "latency_ms": [],
    }
    scorer_names = evaluation.candidate.scorer_names
    for name in scorer_names:
        table[name] = []
        table[f"{name}_rationale"] = []
    for version in evaluation.versions:
        for result in version.results.values():
            table["version"].append(version.label)
            table["case_id"].append(result.case.id)
            table["question"].append(result.case.question)
            table["answer"].append(result.output.text[:20_000])
            table["error"].append(result.output.error or "")
            table["latency_ms"].append(None if result.output.latency_ms is None else round(result.output.latency_ms, 1))
            for name in scorer_names:
                score = result.scores.get(name)
                table[name].append(shown(score.value) if score and score.value is not None else None)
                table[f"{name}_rationale"].append(score.rationale if score else "")
    return table


def _redacted(table: dict[str, list[Any]]) -> dict[str, list[Any]]:
    """The per-case table with secrets masked; each row keeps the emails its own question named."""
    from harness.secrets import emails_in, mask_tree

    allowed = [emails_in([q]) for q in table["question"]]
    return {column: [mask_tree(v, allowed[i]).value for i, v in enumerate(values)] for column, values in table.items()}


def logged_run(report_dir: Path) -> str | None:
    """The id of the finished run already logged for this report folder, if any."""
    import mlflow

    runs = mlflow.search_runs(
        experiment_names=[EXPERIMENT],
        filter_string=f"tags.`{REPORT_TAG}` = '{report_dir.name}'",
        output_format="list",
    )
    # The report tag is set together with the gate tag as the last step of logging: a run that has
    # it is complete. A run cut off earlier has neither and is ignored (a fresh one is logged).
    complete = [r for r in runs if GATE_TAG in r.data.tags]
    return min(complete, key=lambda r: r.info.start_time).info.run_id if complete else None
