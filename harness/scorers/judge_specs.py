"""`[tool.harness.judges]`: which library judge each LLM judge name runs, and its settings, validated.

Pure parsing, no judge library imported: configuration loading validates the table with it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from harness import HarnessError

# Every LLM judge name, the library judge it runs by default, and the kinds it may be switched to.
DEFAULT_KINDS: dict[str, str] = {
    "llm_correctness": "deepeval.geval",
    "llm_relevance": "mlflow.relevance_to_query",
    "llm_safety": "mlflow.safety",
    "llm_guidelines": "mlflow.guidelines",
    "llm_faithfulness": "deepeval.faithfulness",
    "llm_trajectory": "mlflow.trajectory",
}
# Judges that run only where `[tool.harness.judges]` names them: each costs a judge call per answer.
OPTIONAL_JUDGES = frozenset({"llm_trajectory"})
# The library judges a name may run (their classes: harness/scorers/judges.py).
KINDS: frozenset[str] = frozenset(
    {
        "deepeval.geval",
        "deepeval.answer_relevancy",
        "deepeval.faithfulness",
        "mlflow.correctness",
        "mlflow.relevance_to_query",
        "mlflow.safety",
        "mlflow.guidelines",
        "mlflow.make_judge",
        "mlflow.trajectory",
    }
)
SPEC_KEYS = {"kind", "threshold", "criteria", "evaluation_steps", "instructions", "guidelines"}


@dataclass
class JudgeSpec:
    """One `[tool.harness.judges.<name>]` table, validated."""

    kind: str
    threshold: float = 0.5
    criteria: str = ""
    evaluation_steps: list[str] = field(default_factory=list)
    instructions: str = ""
    guidelines: list[str] = field(default_factory=list)


def parse_judges_table(table: Any, where: str) -> dict[str, dict[str, Any]]:
    """Validate `[tool.harness.judges]`; one-line errors naming the key. Returns the table unchanged."""
    if not isinstance(table, dict):
        raise HarnessError(f"{where}: must be a table of judge name = table")
    for name, spec in table.items():
        if name not in DEFAULT_KINDS:
            raise HarnessError(f"{where}: unknown judge '{name}'; known: {', '.join(DEFAULT_KINDS)}")
        judge_spec(name, spec, f"{where}.{name}")
    return table


def judge_spec(name: str, raw: Any, where: str) -> JudgeSpec:
    if not isinstance(raw, dict):
        raise HarnessError(
            f"{where}: must be a table (kind, threshold, criteria, evaluation_steps, instructions, guidelines)"
        )
    unknown = set(raw) - SPEC_KEYS
    if unknown:
        raise HarnessError(f"{where}: unknown key '{sorted(unknown)[0]}'; known keys: {', '.join(sorted(SPEC_KEYS))}")
    spec = JudgeSpec(kind=raw.get("kind", DEFAULT_KINDS[name]))
    if spec.kind not in KINDS:
        raise HarnessError(f"{where}: kind '{spec.kind}' is not one of {', '.join(sorted(KINDS))}")
    threshold = raw.get("threshold", spec.threshold)
    if isinstance(threshold, bool) or not isinstance(threshold, (int, float)) or not 0 <= threshold <= 1:
        raise HarnessError(f"{where}: 'threshold' must be a number between 0 and 1, got {threshold!r}")
    spec.threshold = float(threshold)
    for key in ("criteria", "instructions"):
        if not isinstance(raw.get(key, ""), str):
            raise HarnessError(f"{where}: '{key}' must be a string")
        setattr(spec, key, raw.get(key, ""))
    for key in ("evaluation_steps", "guidelines"):
        value = raw.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
            raise HarnessError(f"{where}: '{key}' must be a list of non-empty strings")
        setattr(spec, key, list(value))
    if spec.kind == "mlflow.make_judge" or (spec.kind == "mlflow.trajectory" and spec.instructions):
        if not spec.instructions:
            raise HarnessError(
                f"{where}: kind 'mlflow.make_judge' needs 'instructions' with {{{{ inputs }}}} and/or {{{{ outputs }}}}"
            )
        if not re.search(r"\{\{\s*(inputs|outputs|expectations)\s*\}\}", spec.instructions):
            raise HarnessError(
                f"{where}: 'instructions' must use {{{{ inputs }}}}, {{{{ outputs }}}} or {{{{ expectations }}}}"
            )
    return spec
