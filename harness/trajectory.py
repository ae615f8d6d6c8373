"""Agent trajectories: the steps an answer took, read from its MLflow trace, and how they match a golden one.

A trajectory is a JSON list of steps in start order: `{"kind": "node", "name": ...}` for a LangGraph
node (as LangChain autolog records it) and `{"kind": "call", "name": ..., "type": ..., "args": {...}}`
for any other span below the harness's root span (a `@mlflow.trace` function, a TOOL span, an LLM
call). It is built where the agent runs (its worker process or, in process, the harness) from the
live trace, before the root span closes, so nothing waits on the tracking store and nothing pickled
crosses processes.

A golden `expectations.expected_trajectory` is `{"steps": [...], "mode": ...}`; each step names a
node (`{"node": "cost"}`) or a call (`{"tool": "run_sql", "args": {...}, "compare": {arg: rule}}`).
Only the kinds of step the expectation names are compared: a list of nodes ignores the calls made
inside them, a list of tools ignores the graph's nodes. Modes (score in 0..1, passed at `threshold`,
default 1):

- `strict`: the same steps in the same order, nothing else. Score: longest common subsequence
  over the longer of the two lists.
- `in_order`: every expected step, in the expected order; other steps may come between. Score:
  longest common subsequence over the expected steps.
- `any_order`: the same steps in any order, nothing else. Score: matched steps over the longer list.
- `subset`: only expected steps (some may be left out, not all), in any order. Score: matched over
  taken; taking no step at all scores 0.
- `superset`: every expected step, in any order; others may come too. Score: matched over expected.

Arguments: each expected argument must be present and equal (JSON equality); `compare` names another
rule per argument: `same_range` (the same date range, written as `[start, end]`,
`{"start", "end"}`, `"start..end"` or one date), `same_table` (the same table, ignoring case,
quoting and catalog/schema prefixes), `contains` (the actual text contains the expected one,
ignoring case), `any` (present, whatever its value).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from harness import HarnessError

MODES = ("strict", "in_order", "any_order", "subset", "superset")
MAX_ARGS_CHARS = 4000  # a step's arguments are cut to this many characters of JSON
MAX_STEPS = 500  # steps kept per answer: enough for any real route, and results.json stays small
ROOT_SPAN = "harness.predict"  # the root span every traced answer opens
PLUMBING_PREFIXES = ("__", "ChannelWrite", "ChannelRead", "Branch<")  # LangGraph's own edges and channels

Step = dict[str, Any]


# --- reading a trajectory from spans ------------------------------------------------------------

def node_key(span: Any) -> tuple[str, str] | None:
    """(name, kind) a span stands for: kind "node" for a LangGraph node, else its MLflow span type;
    None for the root span, LangGraph plumbing, the graph itself and helper runnables inside a node."""
    if span.parent_id is None or span.name.startswith(PLUMBING_PREFIXES):
        return None
    metadata = span.attributes.get("metadata") or {}
    metadata = metadata if isinstance(metadata, dict) else {}
    node = metadata.get("langgraph_node")
    if node and node == span.name:
        return node, "node"
    if str(span.span_type) == "CHAIN" and (node or metadata.get("ls_integration") == "langgraph"):
        return None
    return span.name, str(span.span_type)


def trajectory_from_spans(spans: Sequence[Any], allowed_emails: frozenset[str] = frozenset()) -> list[Step] | None:
    """The steps below the root span, in start order; None when there are none (the agent is not traced)."""
    steps: list[Step] = []
    for span in sorted(spans, key=lambda s: (s.start_time_ns or 0)):
        key = node_key(span)
        if key is None:
            continue
        name, kind = key
        if kind == "node":
            steps.append({"kind": "node", "name": name})
        else:
            steps.append({"kind": "call", "name": name, "type": kind, "args": _args(span.inputs, allowed_emails)})
    return steps[:MAX_STEPS] or None


def received_trajectory(value: Any) -> list[Step] | None:
    """A trajectory as an agent's process sent it: a list of step objects, cut to MAX_STEPS; anything
    else counts as not traced (so it can only fail). The agent reports it, like its answer: it is
    evidence of the route the agent says it took, not proof."""
    if not isinstance(value, list) or not value or not all(isinstance(step, dict) for step in value):
        return None
    return value[:MAX_STEPS]


def _args(inputs: Any, allowed_emails: frozenset[str]) -> Any:
    """A call's inputs as JSON, secrets masked first, then cut to MAX_ARGS_CHARS."""
    from harness.secrets import mask_tree

    value = mask_tree(json.loads(json.dumps(inputs, default=str)), allowed_emails).value
    text = json.dumps(value, default=str)
    return value if len(text) <= MAX_ARGS_CHARS else {"truncated": text[:MAX_ARGS_CHARS]}


# --- the golden form ----------------------------------------------------------------------------

def _range(value: Any) -> tuple[date, date] | None:
    def day(v: Any) -> date | None:
        match = re.match(r"^\s*(\d{4}-\d{2}-\d{2})", str(v)) if v is not None else None
        try:
            return date.fromisoformat(match.group(1)) if match else None
        except ValueError:
            return None

    if isinstance(value, dict):
        start, end = value.get("start", value.get("from")), value.get("end", value.get("to"))
    elif isinstance(value, (list, tuple)) and len(value) == 2:
        start, end = value
    elif isinstance(value, str) and ".." in value:
        start, end = value.split("..", 1)
    else:
        start = end = value
    first, last = day(start), day(end)
    return (first, last) if first and last else None


def _table(value: Any) -> str:
    return str(value).replace("`", "").replace('"', "").strip().lower().rsplit(".", 1)[-1]


ARG_RULES: dict[str, Callable[[Any, Any], bool]] = {
    "exact": lambda expected, actual: json.dumps(expected, sort_keys=True) == json.dumps(actual, sort_keys=True, default=str)
    or expected == actual,
    "same_range": lambda expected, actual: _range(expected) is not None and _range(expected) == _range(actual),
    "same_table": lambda expected, actual: _table(expected) == _table(actual),
    "contains": lambda expected, actual: str(expected).lower() in str(actual).lower(),
    "any": lambda expected, actual: True,
}


@dataclass(frozen=True)
class ExpectedStep:
    kind: str  # "node" or "call"
    name: str
    args: dict[str, Any] = field(default_factory=dict)
    compare: dict[str, str] = field(default_factory=dict)

    def label(self) -> str:
        if self.kind == "node":
            return f"node {self.name}"
        shown = ", ".join(f"{k}={json.dumps(v, default=str)}" for k, v in self.args.items())
        return f"tool {self.name}({shown})"

    def matches(self, step: Step) -> bool:
        if step.get("kind") != self.kind or step.get("name") != self.name:
            return False
        actual = step.get("args") if isinstance(step.get("args"), dict) else {}
        return all(key in actual and ARG_RULES[self.compare.get(key, "exact")](value, actual[key]) for key, value in self.args.items())


@dataclass(frozen=True)
class ExpectedTrajectory:
    steps: tuple[ExpectedStep, ...]
    mode: str = "in_order"
    threshold: float = 1.0

    @property
    def kinds(self) -> set[str]:
        return {s.kind for s in self.steps}


def parse_expected_trajectory(value: Any, where: str = "", case_id: str = "") -> ExpectedTrajectory:
    """Validate `expectations.expected_trajectory`; errors are one line naming `where` (file:line), the field and the case."""

    def bad(path: str, why: str) -> HarnessError:
        prefix = f"{where}: " if where else ""
        return HarnessError(f"{prefix}expectations.expected_trajectory{path} {why}" + (f" (case {case_id})" if case_id else ""))

    if not isinstance(value, dict):
        raise bad("", "must be an object with 'steps' and 'mode'")
    unknown = sorted(set(value) - {"steps", "mode", "threshold"})
    if unknown:
        raise bad(f".{unknown[0]}", "is not a known field (steps, mode, threshold)")
    mode = value.get("mode", "in_order")
    if mode not in MODES:
        raise bad(".mode", f"must be one of {', '.join(MODES)}, got {mode!r}")
    threshold = value.get("threshold", 1.0)
    if isinstance(threshold, bool) or not isinstance(threshold, (int, float)) or not 0 < threshold <= 1:
        raise bad(".threshold", f"must be a number above 0 and at most 1, got {threshold!r}")
    steps = value.get("steps")
    if not isinstance(steps, list) or not steps:
        raise bad(".steps", "must be a non-empty list of steps")
    parsed = []
    for i, step in enumerate(steps):
        path = f".steps[{i}]"
        if isinstance(step, dict) and ("node" in step) != ("tool" in step):
            kind, name = ("node", step["node"]) if "node" in step else ("call", step["tool"])
        else:
            raise bad(path, "must be an object with exactly one of 'node' or 'tool'")
        if not isinstance(name, str) or not name:
            raise bad(f"{path}.{'node' if kind == 'node' else 'tool'}", "must be a non-empty string")
        extra = sorted(set(step) - {"node", "tool", "args", "compare"})
        if extra or (kind == "node" and ({"args", "compare"} & set(step))):
            raise bad(f"{path}.{(extra or sorted({'args', 'compare'} & set(step)))[0]}", "is not allowed here (a node takes no arguments)"
                      if not extra else "is not a known field (node, tool, args, compare)")
        args = step.get("args", {})
        if not isinstance(args, dict):
            raise bad(f"{path}.args", "must be an object")
        compare = step.get("compare", {})
        if not isinstance(compare, dict):
            raise bad(f"{path}.compare", "must be an object of argument -> rule")
        for arg, rule in compare.items():
            if rule not in ARG_RULES:
                raise bad(f"{path}.compare.{arg}", f"must be one of {', '.join(ARG_RULES)}, got {rule!r}")
            if arg not in args:
                raise bad(f"{path}.compare.{arg}", "names an argument missing from 'args'")
        parsed.append(ExpectedStep(kind, name, dict(args), dict(compare)))
    return ExpectedTrajectory(tuple(parsed), mode, float(threshold))


# --- matching -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class TrajectoryMatch:
    score: float
    passed: bool
    missing: list[str]
    extra: list[str]
    out_of_order: list[str]
    taken: list[str]  # the compared steps the agent took, as labels

    def rationale(self, mode: str) -> str:
        extra = "extra" if mode in ("strict", "any_order", "subset") else "extra (allowed)"
        problems = [f"{what}: {', '.join(items)}" for what, items in
                    (("missing", self.missing), (extra, self.extra), ("out of order", self.out_of_order)) if items]
        verdict = "; ".join(problems) or "matches"
        return f"{mode} {self.score:.2f}: {verdict} (took: {', '.join(self.taken) or 'nothing'})"


def step_label(step: Step) -> str:
    if step.get("kind") == "node":
        return f"node {step.get('name')}"
    args = step.get("args")
    shown = ", ".join(f"{k}={json.dumps(v, default=str)[:40]}" for k, v in args.items()) if isinstance(args, dict) else ""
    return f"tool {step.get('name')}({shown})"


def _lcs(expected: Sequence[ExpectedStep], actual: Sequence[Step]) -> list[tuple[int, int]]:
    """Matched (expected index, actual index) pairs of a longest common subsequence."""
    n, m = len(expected), len(actual)
    table = [[0] * (m + 1) for _ in range(n + 1)]
    for i in range(n - 1, -1, -1):
        for j in range(m - 1, -1, -1):
            table[i][j] = table[i + 1][j + 1] + 1 if expected[i].matches(actual[j]) else max(table[i + 1][j], table[i][j + 1])
    pairs, i, j = [], 0, 0
    while i < n and j < m:
        if expected[i].matches(actual[j]) and table[i][j] == table[i + 1][j + 1] + 1:
            pairs.append((i, j))
            i, j = i + 1, j + 1
        elif table[i + 1][j] >= table[i][j + 1]:
            i += 1
        else:
            j += 1
    return pairs


def _unordered(expected: Sequence[ExpectedStep], actual: Sequence[Step]) -> list[tuple[int, int]]:
    """A matching of expected to actual steps regardless of order; steps with more argument checks first."""
    used: set[int] = set()
    pairs = []
    for i in sorted(range(len(expected)), key=lambda k: -len(expected[k].args)):
        j = next((j for j, step in enumerate(actual) if j not in used and expected[i].matches(step)), None)
        if j is not None:
            used.add(j)
            pairs.append((i, j))
    return sorted(pairs)


def match_trajectory(expected: ExpectedTrajectory, actual: Sequence[Step]) -> TrajectoryMatch:
    """Compare the steps the agent took with the expected ones under the expectation's mode."""
    taken = [s for s in actual if s.get("kind") in expected.kinds]
    ordered = expected.mode in ("strict", "in_order")
    pairs = _lcs(expected.steps, taken) if ordered else _unordered(expected.steps, taken)
    matched_expected = {i for i, _ in pairs}
    matched_actual = {j for _, j in pairs}
    out_of_order: list[str] = []
    if ordered:  # an expected step that was taken, but not where the order allows
        rest = [k for k in range(len(taken)) if k not in matched_actual]
        for i, step in enumerate(expected.steps):
            if i in matched_expected:
                continue
            j = next((k for k in rest if step.matches(taken[k])), None)
            if j is not None:
                rest.remove(j)
                matched_actual.add(j)
                out_of_order.append(step.label())
    missing = [s.label() for i, s in enumerate(expected.steps) if i not in matched_expected and s.label() not in out_of_order]
    extra = [step_label(s) for k, s in enumerate(taken) if k not in matched_actual]
    n, e, t = len(pairs), len(expected.steps), len(taken)
    if expected.mode in ("strict", "any_order"):
        score = n / max(e, t)
    elif expected.mode == "subset":
        score = n / t if t else 0.0  # doing nothing is not doing only what was expected
    else:  # in_order, superset
        score = n / e
    # Each score is 1 exactly when the mode's condition holds, so the threshold (default 1) is the verdict.
    return TrajectoryMatch(score, score >= expected.threshold - 1e-9, missing, extra, out_of_order, [step_label(s) for s in taken])
