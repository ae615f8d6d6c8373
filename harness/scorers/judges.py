"""The configured LLM judges: which class each library judge kind runs, built for a session.

The classes live above `LLMJudge` (deepeval's in deepeval_judges.py, MLflow's in harness/tracking/judges.py), so
they are named here and imported only when a session uses them.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import TYPE_CHECKING

from harness.scorers.judge_specs import DEFAULT_KINDS, OPTIONAL_JUDGES, judge_spec
from harness.scorers.llm import LLMJudge, check_llm_extras
from harness.scorers.relay import JudgeRelay, resolve_upstream

if TYPE_CHECKING:
    from harness.settings import HarnessConfig

CLASSES: dict[str, tuple[str, str]] = {
    "deepeval.geval": ("harness.scorers.deepeval_judges", "GEvalJudge"),
    "deepeval.answer_relevancy": ("harness.scorers.deepeval_judges", "AnswerRelevancyJudge"),
    "deepeval.faithfulness": ("harness.scorers.deepeval_judges", "FaithfulnessJudge"),
    "mlflow.correctness": ("harness.tracking.judges", "CorrectnessJudge"),
    "mlflow.relevance_to_query": ("harness.tracking.judges", "RelevanceJudge"),
    "mlflow.safety": ("harness.tracking.judges", "SafetyJudge"),
    "mlflow.guidelines": ("harness.tracking.judges", "GuidelinesJudge"),
    "mlflow.make_judge": ("harness.tracking.judges", "InstructionsJudge"),
    "mlflow.trajectory": ("harness.tracking.judges", "TrajectoryJudge"),
}


def judge_class(kind: str) -> Callable[..., LLMJudge]:
    """The class that runs library judge `kind` (a key of `judge_specs.KINDS`)."""
    module_name, class_name = CLASSES[kind]
    return getattr(importlib.import_module(module_name), class_name)


def build_llm_judges(cfg: HarnessConfig, relay: JudgeRelay | None = None) -> list[LLMJudge]:
    """One scorer per LLM judge name, all sharing one relay to `cfg.judge_model`."""
    check_llm_extras()
    if relay is None:
        from harness.judge_cache import JudgeCache

        cache = JudgeCache(cfg.resolve_path(".harness-cache") / "judge") if cfg.judge_cache else None
        relay = JudgeRelay(resolve_upstream(cfg.judge_model), cache, cfg.judge_timeout_s, cfg.judge_retries)
    judges: list[LLMJudge] = []
    for name in DEFAULT_KINDS:
        if name in OPTIONAL_JUDGES and name not in cfg.judges:
            continue
        spec = judge_spec(name, cfg.judges.get(name, {}), f"[tool.harness.judges.{name}]")
        judges.append(judge_class(spec.kind)(name, spec, relay, cfg.judge_repeats))
    return judges
