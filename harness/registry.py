"""MLflow logging, registration and aliases for evaluated agent versions.

The tracking store is MLflow's own `MLFLOW_TRACKING_URI`; by default SQLite `mlflow.db` in the
project root. A version is registered with its gate record as tags in the same call that
creates it, and only then aliased, so no alias can point to a version without a gate record.
"""

from __future__ import annotations

import getpass
import json
import os
import tomllib
import urllib.error
import urllib.request
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

from harness import HarnessError

if TYPE_CHECKING:
    from harness.config import HarnessConfig
    from harness.evaluation import Evaluation

GATE_TAG = "harness.gate"
RUN_TAG = "harness.eval_run_id"
METRIC_TAG_PREFIX = "harness.metric."
REPORT_TAG = "harness.report_id"  # the report folder's name: `harness log` finds the run it already logged
EXPERIMENT = "harness-evaluations"


@dataclass
class Promotion:
    model_name: str
    version: str
    alias: str
    run_id: str


def tracking_uri(root: Path) -> str:
    return os.environ.get("MLFLOW_TRACKING_URI") or f"sqlite:///{(root / 'mlflow.db').resolve()}"


def connect(root: Path) -> str:
    """Point MLflow at the tracking store and fail fast, in one line, when it cannot be reached."""
    uri = tracking_uri(root)
    if uri.startswith(("http://", "https://")):
        try:
            with urllib.request.urlopen(uri.rstrip("/") + "/health", timeout=5) as response:
                response.read()
        except (urllib.error.URLError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            raise HarnessError(f"tracking server {uri} is unreachable ({reason})") from None
    elif uri.startswith("sqlite:///"):
        directory = Path(uri[len("sqlite:///"):]).parent
        if not directory.is_dir():
            raise HarnessError(f"tracking store {uri}: folder {directory} does not exist")
    import mlflow

    mlflow.set_tracking_uri(uri)
    mlflow.set_registry_uri(uri)
    return uri


def _pip_requirements(root: Path) -> list[str]:
    """The project's own dependencies, passed explicitly so log_model never infers them by running predict."""
    pyproject = root / "pyproject.toml"
    if pyproject.is_file():
        with pyproject.open("rb") as fh:
            deps = tomllib.load(fh).get("project", {}).get("dependencies", [])
        if deps:
            return [d for d in deps if not d.startswith(("pytest",))]
    return ["mlflow"]


def log_evaluation(evaluation: Evaluation, report_dir: Path) -> str:
    """Log one MLflow run: params, metrics, the per-case table and the reports. Returns the run id."""
    import mlflow

    cfg = evaluation.config
    candidate = evaluation.candidate
    mlflow.set_experiment(EXPERIMENT)
    with mlflow.start_run(run_name=f"eval {candidate.reference}") as run:
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
        document = json.loads((report_dir / "results.json").read_text(encoding="utf-8"))
        for golden in document["config"]["golden"]:
            params[f"golden.{Path(golden['path']).name}.sha256"] = golden["sha256"]
        for name, value in cfg.thresholds.items():
            params[f"threshold.{name}"] = value
        mlflow.log_params(params)
        metrics: dict[str, float] = {}
        for version in evaluation.versions:
            prefix = "" if version is candidate else f"{version.label}/"
            for name, est in version.metrics().items():
                metrics[f"{prefix}{name}"] = est.value
                if version is candidate:
                    metrics[f"{name}_ci_low"], metrics[f"{name}_ci_high"] = est.low, est.high
        metrics["gate_passed"] = float(evaluation.gate.passed)
        metrics.update(comparison_metrics(evaluation))  # issue 4: compare/<metric>/delta, .../p_value
        mlflow.log_metrics({k: v for k, v in metrics.items() if v == v})  # drop NaN
        if evaluation.comparisons:  # the comparison reports are also among the `reports` artifacts
            first = evaluation.comparisons[0]
            mlflow.set_tags({"harness.compare.baseline": first.baseline_reference,
                             "harness.compare.worse": ",".join(m.metric for m in first.regressions) or "none"})
        mlflow.log_table(_redacted(_case_table(evaluation)), artifact_file="eval_results.json")
        mlflow.log_artifacts(str(report_dir), artifact_path="reports")
        # Last, and in one call: a run with REPORT_TAG is completely logged (`harness log` relies on it).
        mlflow.set_tags({GATE_TAG: "passed" if evaluation.gate.passed else "failed", "harness.report_dir": str(report_dir), REPORT_TAG: report_dir.name})
        return run.info.run_id


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
            for key, value in (("delta", m.delta), ("ci_low", m.ci_low), ("ci_high", m.ci_high),
                               ("p_value", m.p_value), ("p_adjusted", m.p_adjusted)):
                out[f"{prefix}{m.metric}/{key}"] = value
        for r in c.latency:
            out[f"{prefix}latency_{r.percentile}/ratio"] = r.ratio
        out[f"{prefix}n_shared"] = float(c.n_shared)
        out[f"{prefix}worse"] = float(len(c.regressions))
    return {k: float(v) for k, v in out.items() if isinstance(v, (int, float)) and math.isfinite(v)}


def _case_table(evaluation: Evaluation) -> dict[str, list[Any]]:
    table: dict[str, list[Any]] = {"version": [], "case_id": [], "question": [], "answer": [], "error": [], "latency_ms": []}
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
            table["latency_ms"].append(result.output.latency_ms)
            for name in scorer_names:
                score = result.scores.get(name)
                table[name].append(score.value if score else None)
                table[f"{name}_rationale"].append(score.rationale if score else "")
    return table


def _redacted(table: dict[str, list[Any]]) -> dict[str, list[Any]]:
    """The per-case table with secrets masked (issue 9); each row keeps the emails its own question named."""
    from harness.redact import emails_in, redact_tree

    allowed = [emails_in([q]) for q in table["question"]]
    return {column: [redact_tree(v, allowed[i]) for i, v in enumerate(values)] for column, values in table.items()}


def promote_evaluated(evaluation: Evaluation, run_id: str) -> Promotion:
    """Register the candidate (with its gate record) and point `promote_to` at it. Gate must have passed."""
    import mlflow

    cfg = evaluation.config
    if not evaluation.gate.passed:
        raise HarnessError("refusing to promote: the gate did not pass")
    candidate = evaluation.candidate
    version = candidate.version
    client = mlflow.MlflowClient()
    tags = {GATE_TAG: "passed", RUN_TAG: run_id, "harness.agent": candidate.reference}
    tags.update({f"{METRIC_TAG_PREFIX}{name}": f"{est.value:.4f}" for name, est in candidate.metrics().items() if est.value == est.value})
    if version.registered:
        name, number = version.registered
        for key, value in tags.items():
            client.set_model_version_tag(name, number, key, value)
    else:
        if not version.model_code_path:
            raise HarnessError(
                f"cannot log {candidate.reference!r} as a model from code: its module does not call "
                "mlflow.models.set_model(...) and the object has no 'model_code_path'"
            )
        first = evaluation.cases[0]
        with mlflow.start_run(run_id=run_id):
            info = mlflow.pyfunc.log_model(
                name="agent",
                python_model=version.model_code_path,
                model_config=version.model_config,
                code_paths=version.code_paths or None,
                pip_requirements=_pip_requirements(cfg.root),
                input_example={"messages": [{"role": "user", "content": first.question}]},
            )
        mv = mlflow.register_model(info.model_uri, cfg.model_name, tags=tags)
        name, number = mv.name, str(mv.version)
    set_alias(name, cfg.promote_to, number, reason="gate passed", run_id=run_id)
    return Promotion(name, number, cfg.promote_to, run_id)


def set_alias(model_name: str, alias: str, version: str, reason: str, run_id: str = "") -> None:
    """Point an alias at a version and record the move on the version."""
    import mlflow

    client = mlflow.MlflowClient()
    client.set_registered_model_alias(model_name, alias, version)
    now = datetime.now(timezone.utc).isoformat(timespec="seconds")
    client.set_model_version_tag(model_name, version, f"harness.alias.{alias}", json.dumps({"by": getpass.getuser(), "at": now, "reason": reason, "run_id": run_id}))
