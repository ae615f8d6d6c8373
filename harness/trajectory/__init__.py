"""Agent trajectories: the steps an answer took, read from its MLflow trace, and how they match a golden one.

A trajectory is a JSON list of steps in start order: `{"kind": "node", "name": ...}` for a LangGraph
node (as LangGraph names it in its run metadata) and `{"kind": "call", "name": ..., "type": ..., "args": {...}}`
for any other span below the harness's root span (`type` is its MLflow span type: TOOL, LLM,
CHAT_MODEL, UNKNOWN for a plain `@mlflow.trace` function...). Each step also says where it ran:
`parent` (index of the nearest enclosing step; absent at the top), `start_ms`/`end_ms` (from the
trace's first span) and `error: true` when its span failed. It is built where the agent runs (its
worker process or, in process, the harness) from the LangChain runs the route recorder saw
(`recorder.py`) and the live trace's own spans, before the root span closes, so nothing waits on
the tracking store and nothing pickled crosses processes.

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

from harness.settings import USAGE_METRICS
from harness.trajectory.expectation import (
    MODES,
    ExpectedStep,
    ExpectedTrajectory,
    Usage,
    parse_expected_trajectory,
)
from harness.trajectory.matching import TrajectoryMatch, match_trajectory, step_label, usage_of
from harness.trajectory.spans import ROOT_SPAN, Step, node_key, received_trajectory, trajectory_from_spans

__all__ = [
    "MODES",
    "ROOT_SPAN",
    "USAGE_METRICS",
    "ExpectedStep",
    "ExpectedTrajectory",
    "Step",
    "TrajectoryMatch",
    "Usage",
    "match_trajectory",
    "node_key",
    "parse_expected_trajectory",
    "received_trajectory",
    "step_label",
    "trajectory_from_spans",
    "usage_of",
]
