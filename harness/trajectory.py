"""Agent trajectories: the steps an answer took, read from its MLflow trace, and how they match a golden one.

A trajectory is a JSON list of steps in start order: `{"kind": "node", "name": ...}` for a LangGraph
node (as LangChain autolog records it) and `{"kind": "call", "name": ..., "type": ..., "args": {...}}`
for any other span below the harness's root span (`type` is its MLflow span type: TOOL, LLM,
CHAT_MODEL, UNKNOWN for a plain `@mlflow.trace` function...). Each step also says where it ran:
`parent` (index of the nearest enclosing step; absent at the top), `start_ms`/`end_ms` (from the
trace's first span) and `error: true` when its span failed. It is built where the agent runs (its
worker process or, in process, the harness) from the live trace, before the root span closes, so
nothing waits on the tracking store and nothing pickled crosses processes.

A golden `expectations.expected_trajectory` is `{"steps": [...], "mode": ...}` plus options; each
step names a graph node (`{"node": "cost"}`), a tool call (`{"tool": "run_sql", "args": {...},
"compare": {arg: rule}, "args_mode": ...}`) or a model call (`{"llm": "ChatOpenAI"}`). Which taken
steps count: `node` steps; `tool` calls are spans whose type is in `tool_types` (default TOOL); `llm`
calls are spans whose type is in `llm_types` (default LLM, CHAT_MODEL). A call inside a tool or
model call (a helper it traces) does not count unless `include_nested`; a failed call followed by
another call of the same name under the same parent (its retry) does not count unless
`include_failed`. Only the kinds the expectation names are compared (`kinds`, default those of its
steps; `tool` for empty steps): a list of nodes ignores the calls made inside them. Modes (score in
0..1, passed at `threshold`, default 1):

- `strict`: the same steps in the same order, nothing else. Score: longest common subsequence
  over the longer of the two lists.
- `in_order`: every expected step, in the expected order; other steps may come between. Score:
  longest common subsequence over the expected steps.
- `any_order`: the same steps in any order, nothing else. Score: matched steps over the longer list.
- `subset`: only expected steps (some may be left out, not all), in any order. Score: matched over
  taken; taking no step at all scores 0.
- `superset`: every expected step, in any order; others may come too. Score: matched over expected.

The unordered modes pair expected and taken steps one to one by a maximum bipartite matching. In
the ordered modes, calls that ran in parallel (siblings that overlap in time) may match in any
order among themselves. Empty `steps` means "calls nothing of those kinds", whatever the mode.

Arguments (`args_mode`, per expectation and per step): `subset` (each expected argument present and
matching; the default), `exact` (the same argument names, each matching) or `ignore`. An argument
matches by JSON equality unless `compare` names another rule: `same_range` (the same date range,
written as `[start, end]`, `{"start", "end"}`, `"start..end"` or one date), `same_table` (the same
table, ignoring case, quoting and catalog/schema prefixes), `contains` (the actual text contains the
expected one, ignoring case), `any` (present, whatever its value), or `module:function`, a
comparator `(expected, actual) -> bool`.

Budgets: `max_tool_calls`, `max_llm_calls`, `max_steps` (every counted node, tool and model call) and
`max_redundant_calls` (tool calls repeating an earlier one with the same arguments); a route over
budget scores 0. The same counts, per answer, are the version metrics `tool_calls`, `llm_calls`,
`steps` and `redundant_calls`.
"""

from __future__ import annotations

import functools
import importlib
import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from harness import HarnessError
from harness.settings import USAGE_METRICS

MODES = ("strict", "in_order", "any_order", "subset", "superset")
KINDS = ("node", "tool", "llm")
ARGS_MODES = ("subset", "exact", "ignore")
DEFAULT_TOOL_TYPES = frozenset({"TOOL"})
DEFAULT_LLM_TYPES = frozenset({"LLM", "CHAT_MODEL"})
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
    """The steps below the root span, in start order (an enclosing span first); None when there are
    none (the agent is not traced)."""
    by_id = {span.span_id: span for span in spans}

    def depth(span: Any) -> int:
        n, parent = 0, by_id.get(span.parent_id)
        while parent is not None and n < len(by_id):
            n, parent = n + 1, by_id.get(parent.parent_id)
        return n

    origin = min((span.start_time_ns or 0 for span in spans), default=0)
    index: dict[Any, int] = {}  # span id -> its step's index
    steps: list[Step] = []
    for span in sorted(spans, key=lambda s: (s.start_time_ns or 0, depth(s))):
        key = node_key(span)
        if key is None:
            continue
        name, kind = key
        step: Step = (
            {"kind": "node", "name": name}
            if kind == "node"
            else {"kind": "call", "name": name, "type": kind, "args": _args(span.inputs, allowed_emails)}
        )
        enclosing = by_id.get(span.parent_id)
        while enclosing is not None and enclosing.span_id not in index:
            enclosing = by_id.get(enclosing.parent_id)
        if enclosing is not None:
            step["parent"] = index[enclosing.span_id]
        step["start_ms"] = round(((span.start_time_ns or origin) - origin) / 1e6, 3)
        if span.end_time_ns:
            step["end_ms"] = round((span.end_time_ns - origin) / 1e6, 3)
        if str(getattr(span.status, "status_code", "")).endswith("ERROR"):
            step["error"] = True
        index[span.span_id] = len(steps)
        steps.append(step)
        if len(steps) == MAX_STEPS:
            break
    return steps or None


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
    "exact": lambda expected, actual: (
        json.dumps(expected, sort_keys=True) == json.dumps(actual, sort_keys=True, default=str) or expected == actual
    ),
    "same_range": lambda expected, actual: _range(expected) is not None and _range(expected) == _range(actual),
    "same_table": lambda expected, actual: _table(expected) == _table(actual),
    "contains": lambda expected, actual: str(expected).lower() in str(actual).lower(),
    "any": lambda expected, actual: True,
}


@functools.cache
def arg_rule(name: str) -> Callable[[Any, Any], bool]:
    """A built-in rule by name, or a comparator `(expected, actual) -> bool` named `module:attr`."""
    if name in ARG_RULES:
        return ARG_RULES[name]
    module, _, attr = name.partition(":")
    if not module or not attr:
        raise ValueError(f"must be one of {', '.join(ARG_RULES)} or a comparator 'module:function', got {name!r}")
    try:
        rule = getattr(importlib.import_module(module), attr)
    except (ImportError, AttributeError) as exc:
        raise ValueError(
            f"names comparator {name!r}, which cannot be imported here ({type(exc).__name__}: {exc})"
        ) from None
    if not callable(rule):
        raise ValueError(f"names {name!r}, which is not callable")
    return rule


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
        actual = step.get("args") if isinstance(step.get("args"), dict) else {}
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


def parse_expected_trajectory(value: Any, where: str = "", case_id: str = "") -> ExpectedTrajectory:
    """Validate `expectations.expected_trajectory`; errors are one line naming `where` (file:line), the field
    and the case."""

    def bad(path: str, why: str) -> HarnessError:
        prefix = f"{where}: " if where else ""
        return HarnessError(
            f"{prefix}expectations.expected_trajectory{path} {why}" + (f" (case {case_id})" if case_id else "")
        )

    def choice(path: str, got: Any, allowed: Sequence[str]) -> str:
        if got not in allowed:
            raise bad(path, f"must be one of {', '.join(allowed)}, got {got!r}")
        return got

    def names(key: str, default: frozenset[str], allowed: Sequence[str] = ()) -> frozenset[str]:
        got = value.get(key)
        if got is None:
            return default
        if not isinstance(got, list) or not got or not all(isinstance(n, str) and n for n in got):
            raise bad(f".{key}", "must be a non-empty list of strings")
        for n in got:
            if allowed:
                choice(f".{key}", n, allowed)
        return frozenset(got)

    if not isinstance(value, dict):
        raise bad("", "must be an object with 'steps' and 'mode'")
    unknown = sorted(set(value) - set(OPTIONS))
    if unknown:
        raise bad(f".{unknown[0]}", f"is not a known field ({', '.join(OPTIONS)})")
    mode = choice(".mode", value.get("mode", "in_order"), MODES)
    args_mode = choice(".args_mode", value.get("args_mode", "subset"), ARGS_MODES)
    threshold = value.get("threshold", 1.0)
    if isinstance(threshold, bool) or not isinstance(threshold, (int, float)) or not 0 < threshold <= 1:
        raise bad(".threshold", f"must be a number above 0 and at most 1, got {threshold!r}")
    for key in ("include_nested", "include_failed"):
        if not isinstance(value.get(key, False), bool):
            raise bad(f".{key}", f"must be true or false, got {value[key]!r}")
    budgets = {}
    for key, usage in BUDGETS.items():
        if key in value:
            limit = value[key]
            if isinstance(limit, bool) or not isinstance(limit, int) or limit < 0:
                raise bad(f".{key}", f"must be a whole number of at least 0, got {limit!r}")
            budgets[usage] = limit
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
    kinds = names("kinds", frozenset(s.kind for s in steps or ()) or frozenset({"tool"}), KINDS)
    for i, step in enumerate(steps or ()):
        if step.kind not in kinds:
            raise bad(f".steps[{i}]", f"is a {step.kind} step, a kind missing from 'kinds'")
    return ExpectedTrajectory(
        steps,
        mode,
        float(threshold),
        kinds,
        names("tool_types", DEFAULT_TOOL_TYPES),
        names("llm_types", DEFAULT_LLM_TYPES),
        value.get("include_nested", False),
        value.get("include_failed", False),
        budgets,
    )


def _parse_step(step: Any, path: str, args_mode: str, bad: Callable[[str, str], HarnessError]) -> ExpectedStep:
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


def usage_of(expected_trajectory: Any, steps: Sequence[Step] | None) -> Usage | None:
    """What a route used, counted as its case's expectation counts steps (the defaults without one);
    None when the answer was not traced."""
    if steps is None:
        return None
    expected = parse_expected_trajectory(expected_trajectory) if expected_trajectory else DEFAULT_EXPECTATION
    counted, kinds = _counted(expected, steps)
    return _usage(steps, counted, kinds)


# --- matching -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class TrajectoryMatch:
    score: float
    passed: bool
    missing: list[str]
    extra: list[str]
    out_of_order: list[str]
    taken: list[str]  # the compared steps the agent took, as labels
    over_budget: list[str] = field(default_factory=list)

    def rationale(self, mode: str) -> str:
        extra = "extra" if mode in ("strict", "any_order", "subset") else "extra (allowed)"
        problems = [
            f"{what}: {', '.join(items)}"
            for what, items in (
                ("missing", self.missing),
                (extra, self.extra),
                ("out of order", self.out_of_order),
                ("over budget", self.over_budget),
            )
            if items
        ]
        verdict = "; ".join(problems) or "matches"
        return f"{mode} {self.score:.2f}: {verdict} (took: {', '.join(self.taken) or 'nothing'})"


def step_label(step: Step, kind: str | None = None) -> str:
    """`node n`, `tool t(args)`, `llm m(args)`, or `call f(args)` for a span of another type;
    `kind` as an expectation classifies the step (by default, by the default span types)."""
    kind = kind or DEFAULT_EXPECTATION.classify(step) or "call"
    if kind == "node":
        return f"node {step.get('name')}"
    args = step.get("args")
    shown = (
        ", ".join(f"{k}={json.dumps(v, default=str)[:40]}" for k, v in args.items()) if isinstance(args, dict) else ""
    )
    return f"{kind} {step.get('name')}({shown})"


def _counted(expected: ExpectedTrajectory, actual: Sequence[Step]) -> tuple[list[int], list[str | None]]:
    """Indices of the taken steps that count under `expected`, and every step's kind there."""
    kinds = [expected.classify(s) for s in actual]

    def parent(i: int) -> int | None:
        p = actual[i].get("parent")
        return p if isinstance(p, int) and not isinstance(p, bool) and 0 <= p < i else None  # a parent starts first

    def nested(i: int) -> bool:  # inside a tool or model call: the call's own business
        p = parent(i)
        while p is not None:
            if kinds[p] in ("tool", "llm"):
                return True
            p = parent(p)
        return False

    def retried(i: int) -> bool:  # a failed attempt that another call of the same name under the same parent followed
        return any(
            kinds[j] == kinds[i] and actual[j].get("name") == actual[i].get("name") and parent(j) == parent(i)
            for j in range(i + 1, len(actual))
        )

    counted = [
        i
        for i, step in enumerate(actual)
        if kinds[i] is not None
        and (expected.include_nested or not nested(i))
        and (expected.include_failed or not (step.get("error") is True and retried(i)))
    ]
    return counted, kinds


def _usage(actual: Sequence[Step], counted: Sequence[int], kinds: Sequence[str | None]) -> Usage:
    tools = [i for i in counted if kinds[i] == "tool"]
    seen = {(actual[i].get("name"), json.dumps(actual[i].get("args"), sort_keys=True, default=str)) for i in tools}
    return Usage(len(tools), sum(1 for i in counted if kinds[i] == "llm"), len(counted), len(tools) - len(seen))


def _assign(rows: Sequence[int], cols: Sequence[int], match: Callable[[int, int], bool]) -> list[tuple[int, int]]:
    """A maximum one-to-one matching of `rows` to `cols` (pairs of their values) where `match` holds."""
    edges = [(r, c) for r, row in enumerate(rows) for c, col in enumerate(cols) if match(row, col)]
    if len(cols) == 1 or len(rows) == 1:  # one side of one: any edge is a maximum matching
        return [(rows[edges[0][0]], cols[edges[0][1]])] if edges else []
    if not edges:
        return []
    import numpy as np
    from scipy.sparse import csr_matrix
    from scipy.sparse.csgraph import maximum_bipartite_matching

    r, c = zip(*edges)
    graph = csr_matrix((np.ones(len(edges)), (r, c)), shape=(len(rows), len(cols)))
    matched = maximum_bipartite_matching(graph, perm_type="column")
    return [(rows[i], cols[j]) for i, j in enumerate(matched) if j >= 0]


def _parallel_groups(
    expected: ExpectedTrajectory, actual: Sequence[Step], taken: Sequence[int], kinds: Sequence[str | None]
) -> list[list[int]]:
    """`taken` (positions) cut into runs in start order; a run holds siblings (the same nearest enclosing
    step of a compared kind) that overlap in time, so their order among themselves is the scheduler's."""

    def scope(i: int) -> int | None:
        p = actual[i].get("parent")
        while isinstance(p, int) and not isinstance(p, bool) and 0 <= p < i:
            if kinds[p] in expected.kinds:
                return p
            i, p = p, actual[p].get("parent")
        return None

    def time(i: int, key: str) -> float | None:
        value = actual[i].get(key)
        return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None

    groups: list[list[int]] = []
    ends: list[float] = []
    for k, i in enumerate(taken):
        start, end = time(i, "start_ms"), time(i, "end_ms")
        last = groups[-1] if groups else None
        if last and start is not None and start < ends[-1] and scope(taken[last[0]]) == scope(i):
            last.append(k)
            ends[-1] = max(ends[-1], end if end is not None else start)
        else:
            groups.append([k])
            ends.append(end if end is not None else float("-inf"))
    return groups


def _ordered(n: int, groups: Sequence[Sequence[int]], match: Callable[[int, int], bool]) -> list[tuple[int, int]]:
    """Matched (expected, taken) pairs of a longest common subsequence of the expected steps and the
    taken ones, where the steps of one parallel group may match in any order among themselves."""
    best = [0] * (n + 1)  # best[end]: most pairs of expected[:end] with the groups so far
    backs = []
    for group in groups:
        row = list(best)
        # back[end]: (where the earlier groups' share of expected[:end] ends, this group's pairs); None: as for end - 1
        back: list[tuple[int, list[tuple[int, int]]] | None] = [(end, []) for end in range(n + 1)]
        useful = [i for i in range(n) if any(match(i, k) for k in group)]  # expected steps this group can match
        assigned: dict[tuple[int, ...], list[tuple[int, int]]] = {}
        for end in range(1, n + 1):
            if row[end - 1] > row[end]:
                row[end], back[end] = row[end - 1], None
            for start in range(end):
                rows = tuple(i for i in useful if start <= i < end)
                if best[start] + min(len(rows), len(group)) <= row[end]:
                    continue  # cannot do better than what this end has
                if rows not in assigned:
                    assigned[rows] = _assign(rows, group, match)
                pairs = assigned[rows]
                if best[start] + len(pairs) > row[end]:
                    row[end], back[end] = best[start] + len(pairs), (start, pairs)
        best = row
        backs.append(back)
    found: list[tuple[int, int]] = []
    end = n
    for back in reversed(backs):
        while back[end] is None:
            end -= 1
        end, share = back[end]  # type: ignore[misc]
        found += share
    return sorted(found)


def match_trajectory(expected: ExpectedTrajectory, actual: Sequence[Step]) -> TrajectoryMatch:
    """Compare the steps the agent took with the expected ones under the expectation's mode and budgets."""
    counted, kinds = _counted(expected, actual)
    usage = _usage(actual, counted, kinds)
    over = [
        f"{name} {getattr(usage, name)} > {limit}"
        for name, limit in expected.budgets.items()
        if getattr(usage, name) > limit
    ]
    taken = [i for i in counted if kinds[i] in expected.kinds]
    labels = [step_label(actual[i], kinds[i]) for i in taken]
    wanted = expected.steps or ()
    table = [[step.matches(kinds[i], actual[i]) for i in taken] for step in wanted]

    def match(i: int, k: int) -> bool:
        return table[i][k]

    ordered = expected.mode in ("strict", "in_order")
    if ordered:
        pairs = _ordered(len(wanted), _parallel_groups(expected, actual, taken, kinds), match)
    else:
        pairs = _assign(range(len(wanted)), range(len(taken)), match)
    matched_expected = {i for i, _ in pairs}
    matched_actual = {k for _, k in pairs}
    out_of_order: set[int] = set()
    if ordered:  # an expected step that was taken, but not where the order allows
        rest = [k for k in range(len(taken)) if k not in matched_actual]
        for i in range(len(wanted)):
            k = next((k for k in rest if i not in matched_expected and match(i, k)), None)
            if k is not None:
                rest.remove(k)
                matched_actual.add(k)
                out_of_order.add(i)
    missing = [s.label() for i, s in enumerate(wanted) if i not in matched_expected | out_of_order]
    extra = [labels[k] for k in range(len(taken)) if k not in matched_actual] if expected.steps is not None else []
    n, e, t = len(pairs), len(wanted), len(taken)
    if expected.steps is None:  # budgets only
        score = 1.0
    elif not e:  # calls nothing of these kinds
        score = 0.0 if t else 1.0
    elif expected.mode in ("strict", "any_order"):
        score = n / max(e, t)
    elif expected.mode == "subset":
        score = n / t if t else 0.0  # doing nothing is not doing only what was expected
    else:  # in_order, superset
        score = n / e
    if over:
        score = 0.0
    # Each score is 1 exactly when the mode's condition holds, so the threshold (default 1) is the verdict.
    return TrajectoryMatch(
        score,
        score >= expected.threshold - 1e-9,
        missing,
        extra,
        [wanted[i].label() for i in sorted(out_of_order)],
        labels,
        over,
    )
