"""The golden form: `expectations.expected_trajectory` parsed into records, errors naming file, line and field."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from harness import HarnessError
from harness.settings import USAGE_METRICS
from harness.trajectory.rules import arg_rule
from harness.trajectory.spans import Step

MODES = ("strict", "in_order", "any_order", "subset", "superset")
KINDS = ("node", "tool", "llm")
ARGS_MODES = ("subset", "exact", "ignore")
DEFAULT_TOOL_TYPES = frozenset({"TOOL"})
DEFAULT_LLM_TYPES = frozenset({"LLM", "CHAT_MODEL"})


@dataclass(frozen=True)
class ExpectedStep:
    kind: str  # node, tool or llm
    name: str
    args: dict[str, Any] = field(default_factory=dict)
    compare: dict[str, str] = field(default_factory=dict)
    args_mode: str = "subset"

    def label(self) -> str:
        if self.kind == "node":
            return f"node {self.name}"
        shown = ", ".join(f"{k}={json.dumps(v, default=str)}" for k, v in self.args.items())
        return f"{self.kind} {self.name}({shown})"

    def matches(self, kind: str | None, step: Step) -> bool:
        """Whether a taken step of `kind` (as its expectation classifies it) is this step."""
        if kind != self.kind or step.get("name") != self.name:
            return False
        if self.args_mode == "ignore":
            return True
        args = step.get("args")
        actual: dict[str, Any] = args if isinstance(args, dict) else {}
        if self.args_mode == "exact" and set(actual) != set(self.args):
            return False
        return all(
            key in actual and bool(arg_rule(self.compare.get(key, "exact"))(value, actual[key]))
            for key, value in self.args.items()
        )


@dataclass(frozen=True)
class Usage:
    """What one answer's route used (the version metrics of the same names, USAGE_METRICS, are their means)."""

    tool_calls: int
    llm_calls: int
    steps: int  # counted nodes, tool calls and model calls
    redundant_calls: int  # tool calls that repeat an earlier call with the same arguments


BUDGETS = {f"max_{name}": name for name in USAGE_METRICS}


@dataclass(frozen=True)
class ExpectedTrajectory:
    steps: tuple[ExpectedStep, ...] | None  # None: only the budgets are checked
    mode: str = "in_order"
    threshold: float = 1.0
    kinds: frozenset[str] = frozenset({"tool"})  # the kinds of taken step compared with `steps`
    tool_types: frozenset[str] = DEFAULT_TOOL_TYPES
    llm_types: frozenset[str] = DEFAULT_LLM_TYPES
    include_nested: bool = False
    include_failed: bool = False
    budgets: dict[str, int] = field(default_factory=dict)  # usage name -> most allowed

    def classify(self, step: Step) -> str | None:
        """The kind a taken step counts as here: node, tool, llm, or None (a span of another type)."""
        if step.get("kind") == "node":
            return "node"
        kind = str(step.get("type"))
        return "tool" if kind in self.tool_types else "llm" if kind in self.llm_types else None


DEFAULT_EXPECTATION = ExpectedTrajectory(None)
OPTIONS = (
    "steps",
    "mode",
    "threshold",
    "kinds",
    "args_mode",
    "tool_types",
    "llm_types",
    "include_nested",
    "include_failed",
    *BUDGETS,
)
STEP_FIELDS = ("node", "tool", "llm", "args", "compare", "args_mode")


Bad = Callable[[str, str], HarnessError]  # (field path, why) -> the one-line error


def _choice(bad: Bad, path: str, got: Any, allowed: Sequence[str]) -> str:
    if got not in allowed:
        raise bad(path, f"must be one of {', '.join(allowed)}, got {got!r}")
    return got


def _names(bad: Bad, value: dict, key: str, default: frozenset[str], allowed: Sequence[str] = ()) -> frozenset[str]:
    got = value.get(key)
    if got is None:
        return default
    if not isinstance(got, list) or not got or not all(isinstance(n, str) and n for n in got):
        raise bad(f".{key}", "must be a non-empty list of strings")
    for n in got:
        if allowed:
            _choice(bad, f".{key}", n, allowed)
    return frozenset(got)


def _budgets(bad: Bad, value: dict) -> dict[str, int]:
    budgets = {}
    for key, usage in BUDGETS.items():
        if key in value:
            limit = value[key]
            if isinstance(limit, bool) or not isinstance(limit, int) or limit < 0:
                raise bad(f".{key}", f"must be a whole number of at least 0, got {limit!r}")
            budgets[usage] = limit
    return budgets


def parse_expected_trajectory(value: Any, where: str = "", case_id: str = "") -> ExpectedTrajectory:
    """Validate `expectations.expected_trajectory`; errors are one line naming `where` (file:line), the field
    and the case."""

    def bad(path: str, why: str) -> HarnessError:
        prefix = f"{where}: " if where else ""
        return HarnessError(
            f"{prefix}expectations.expected_trajectory{path} {why}" + (f" (case {case_id})" if case_id else "")
        )

    if not isinstance(value, dict):
        raise bad("", "must be an object with 'steps' and 'mode'")
    unknown = sorted(set(value) - set(OPTIONS))
    if unknown:
        raise bad(f".{unknown[0]}", f"is not a known field ({', '.join(OPTIONS)})")
    mode = _choice(bad, ".mode", value.get("mode", "in_order"), MODES)
    args_mode = _choice(bad, ".args_mode", value.get("args_mode", "subset"), ARGS_MODES)
    threshold = value.get("threshold", 1.0)
    if isinstance(threshold, bool) or not isinstance(threshold, (int, float)) or not 0 < threshold <= 1:
        raise bad(".threshold", f"must be a number above 0 and at most 1, got {threshold!r}")
    for key in ("include_nested", "include_failed"):
        if not isinstance(value.get(key, False), bool):
            raise bad(f".{key}", f"must be true or false, got {value[key]!r}")
    budgets = _budgets(bad, value)
    raw_steps = value.get("steps")
    if raw_steps is None and not budgets:
        raise bad(
            ".steps", "must be a list of steps (empty: calls nothing), unless a budget (max_tool_calls, ...) is given"
        )
    if raw_steps is not None and not isinstance(raw_steps, list):
        raise bad(".steps", "must be a list of steps (empty: calls nothing)")
    steps = (
        None
        if raw_steps is None
        else tuple(_parse_step(step, f".steps[{i}]", args_mode, bad) for i, step in enumerate(raw_steps))
    )
    kinds = _names(bad, value, "kinds", frozenset(s.kind for s in steps or ()) or frozenset({"tool"}), KINDS)
    for i, step in enumerate(steps or ()):
        if step.kind not in kinds:
            raise bad(f".steps[{i}]", f"is a {step.kind} step, a kind missing from 'kinds'")
    return ExpectedTrajectory(
        steps,
        mode,
        float(threshold),
        kinds,
        _names(bad, value, "tool_types", DEFAULT_TOOL_TYPES),
        _names(bad, value, "llm_types", DEFAULT_LLM_TYPES),
        value.get("include_nested", False),
        value.get("include_failed", False),
        budgets,
    )


def _parse_step(step: Any, path: str, args_mode: str, bad: Bad) -> ExpectedStep:
    named = [k for k in KINDS if isinstance(step, dict) and k in step]
    if len(named) != 1:
        raise bad(path, "must be an object with exactly one of 'node', 'tool' or 'llm'")
    kind = named[0]
    name = step[kind]
    if not isinstance(name, str) or not name:
        raise bad(f"{path}.{kind}", "must be a non-empty string")
    extra = sorted(set(step) - set(STEP_FIELDS))
    if extra:
        raise bad(f"{path}.{extra[0]}", f"is not a known field ({', '.join(STEP_FIELDS)})")
    if kind == "node" and {"args", "compare", "args_mode"} & set(step):
        raise bad(
            f"{path}.{sorted({'args', 'compare', 'args_mode'} & set(step))[0]}",
            "is not allowed here (a node takes no arguments)",
        )
    args = step.get("args", {})
    if not isinstance(args, dict):
        raise bad(f"{path}.args", "must be an object")
    step_mode = step.get("args_mode", args_mode)
    if step_mode not in ARGS_MODES:
        raise bad(f"{path}.args_mode", f"must be one of {', '.join(ARGS_MODES)}, got {step_mode!r}")
    compare = step.get("compare", {})
    if not isinstance(compare, dict):
        raise bad(f"{path}.compare", "must be an object of argument -> rule")
    for arg, rule in compare.items():
        try:
            arg_rule(str(rule))
        except ValueError as exc:
            raise bad(f"{path}.compare.{arg}", str(exc)) from None
        if arg not in args:
            raise bad(f"{path}.compare.{arg}", "names an argument missing from 'args'")
    return ExpectedStep(kind, name, dict(args), {k: str(v) for k, v in compare.items()}, step_mode)
