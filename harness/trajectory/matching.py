"""Matching a route against an expectation: one-to-one assignment, ordered modes with parallel groups, budgets."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from harness.trajectory.expectation import DEFAULT_EXPECTATION, ExpectedTrajectory, Usage, parse_expected_trajectory
from harness.trajectory.spans import Step


def usage_of(expected_trajectory: Any, steps: Sequence[Step] | None) -> Usage | None:
    """What a route used, counted as its case's expectation counts steps (the defaults without one);
    None when the answer was not traced."""
    if steps is None:
        return None
    expected = parse_expected_trajectory(expected_trajectory) if expected_trajectory else DEFAULT_EXPECTATION
    counted, kinds = _counted(expected, steps)
    return _usage(steps, counted, kinds)


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
