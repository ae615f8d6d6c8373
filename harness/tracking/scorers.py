"""Our scorers as MLflow `@scorer`s, so the same judge runs inside `mlflow.genai.evaluate`.

    import mlflow
    from harness.tracking.scorers import mlflow_scorers
    mlflow.genai.evaluate(data=records, predict_fn=..., scorers=mlflow_scorers())

`records` may be the golden file's lines unchanged (`inputs` / `expectations`).
"""

from __future__ import annotations

from typing import Any

from harness.golden import parse_case
from harness.scorers import Scorer, load_scorer, safe_score
from harness.versions.version import AgentOutput, normalize_output


def as_mlflow_scorer(scorer: Scorer) -> Any:
    """Wrap one harness scorer as an MLflow scorer returning a Feedback (value, rationale)."""
    from mlflow.entities import Feedback
    from mlflow.genai.scorers import scorer as mlflow_scorer

    def score(inputs: dict[str, Any], outputs: Any, expectations: dict[str, Any] | None = None) -> Feedback:
        case = parse_case(
            {"id": "mlflow", "inputs": inputs, "expectations": expectations or {}}, "mlflow.genai.evaluate"
        )
        try:
            text, metadata = normalize_output(outputs)
            output = AgentOutput(text, metadata)
        except Exception as exc:  # an unusable output is that case's failure, never a pass
            output = AgentOutput("", {}, error=str(exc))
        result = safe_score(scorer, case, output) if output.error is None else None
        if result is None:
            return Feedback(value=0.0, rationale=f"agent error: {output.error}")
        return Feedback(value=result.value, rationale=result.rationale)

    return mlflow_scorer(score, name=scorer.name)


def mlflow_scorers(names: tuple[str, ...] = ("correctness", "relevance", "safety", "guidelines")) -> list[Any]:
    return [as_mlflow_scorer(load_scorer(name)) for name in names]
