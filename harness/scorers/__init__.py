"""Scorer selection: built-in rule-based judges, entry points (`harness.scorers`) and import paths."""

from __future__ import annotations

import importlib
import inspect
from importlib.metadata import entry_points
from typing import TYPE_CHECKING, Any

from harness import HarnessError
from harness.scorers.base import Score, Scorer
from harness.scorers.judge_specs import DEFAULT_KINDS, OPTIONAL_JUDGES

if TYPE_CHECKING:
    from harness.settings import HarnessConfig

ENTRY_POINT_GROUP = "harness.scorers"


def _builtin() -> dict[str, Any]:
    from harness.scorers.rules import Correctness, Guidelines, Relevance, Safety
    from harness.scorers.trajectory import Trajectory

    return {
        "correctness": Correctness,
        "relevance": Relevance,
        "safety": Safety,
        "guidelines": Guidelines,
        "trajectory": Trajectory,
    }


def _instantiate(obj: Any, spec: str) -> Scorer:
    if inspect.isclass(obj):
        obj = obj()
    if not isinstance(obj, Scorer):
        raise HarnessError(
            f"scorer {spec!r} is a {type(obj).__name__}, not a Scorer (needs 'name', 'judge' and score(case, output))"
        )
    return obj


def load_scorer(spec: str) -> Scorer:
    """A scorer by built-in name, entry-point name, or `module:attr` import path."""
    builtin = _builtin()
    if spec in builtin:
        return builtin[spec]()
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        if ep.name == spec:
            return _instantiate(ep.load(), spec)
    if ":" in spec:
        module_name, attr = spec.split(":", 1)
        try:
            obj = getattr(importlib.import_module(module_name), attr)
        except (ImportError, AttributeError) as exc:
            raise HarnessError(f"scorer {spec!r} does not import: {exc}") from None
        return _instantiate(obj, spec)
    known = sorted(builtin) + sorted(ep.name for ep in entry_points(group=ENTRY_POINT_GROUP))
    raise HarnessError(f"[tool.harness] scorers: unknown scorer {spec!r}; known: {', '.join(known)}, or 'module:attr'")


def build_scorers(cfg: HarnessConfig) -> list[Scorer]:
    """The configured rule-based (and custom) scorers, plus the LLM judges when a judge model is set."""
    scorers = [load_scorer(spec) for spec in cfg.scorers]
    if cfg.judge_model:
        from harness.scorers.judges import build_llm_judges

        scorers.extend(build_llm_judges(cfg))
    return scorers


def scorer_names(cfg: HarnessConfig) -> list[str]:
    names = [spec if ":" not in spec else load_scorer(spec).name for spec in cfg.scorers]
    if cfg.judge_model:
        names += [n for n in DEFAULT_KINDS if n not in OPTIONAL_JUDGES or n in cfg.judges]
    return names


def applicable_scorer_names(cfg: HarnessConfig, cases: list[Any]) -> dict[str, list[str]]:
    """Per case id, the scorers with something to check in it: one per-case test is collected for each.

    A scorer may define `applies(case) -> bool`; without it (LLM judges included) it always applies.
    """
    scorers = [load_scorer(spec) for spec in cfg.scorers]
    llm_names = scorer_names(cfg)[len(cfg.scorers) :]
    return {
        case.id: [s.name for s in scorers if not hasattr(s, "applies") or s.applies(case)] + llm_names for case in cases
    }


def safe_score(scorer: Scorer, case: Any, output: Any) -> Score:
    """Run one scorer; a scorer that raises is that scorer's error for this case, never a pass."""
    from harness.scorers.base import failed

    try:
        result = scorer.score(case, output)
    except Exception as exc:
        return failed(scorer.name, getattr(scorer, "judge", "rule"), f"scorer error: {type(exc).__name__}: {exc}")
    if not isinstance(result, Score):
        return failed(
            scorer.name, getattr(scorer, "judge", "rule"), f"scorer returned {type(result).__name__}, not a Score"
        )
    if not 0.0 <= result.value <= 1.0:
        return failed(scorer.name, result.judge, f"scorer returned value {result.value} outside 0..1")
    return result


__all__ = ["Score", "Scorer", "build_scorers", "load_scorer", "safe_score", "scorer_names"]
