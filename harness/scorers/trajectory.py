"""The `trajectory` scorer: the steps an answer took (from its MLflow trace) against `expected_trajectory`.

Rule-based and offline; the matching, its modes and the route budgets are in harness/trajectory/.
An answer whose trajectory could not be read (the agent left no spans below the harness's root span,
or answered from somewhere tracing cannot reach, like an endpoint) fails as "not traced", never
passes, even where the expectation is "calls nothing" (`steps: []`): no span is no evidence.
"""

from __future__ import annotations

from collections.abc import Sequence

from harness.golden import Case
from harness.scorers.base import Score, failed, not_applicable
from harness.versions.version import AgentOutput


class Trajectory:
    name = "trajectory"
    judge = "rule"
    reads_trajectory = True  # the runner traces the answers this scorer judges

    def applies(self, case: Case) -> bool:
        return bool(case.expectations.get("expected_trajectory"))

    def score(self, case: Case, output: AgentOutput) -> Score:
        from harness.trajectory import match_trajectory, parse_expected_trajectory

        raw = case.expectations.get("expected_trajectory")
        if not raw:
            return not_applicable(self.name, self.judge, "no expected_trajectory to check")
        expected = parse_expected_trajectory(raw, case.source, case.id)
        if output.trajectory is None:
            return failed(
                self.name,
                self.judge,
                "not traced: no spans below the answer's root span (no LangGraph nodes, "
                "no @mlflow.trace functions, or a version tracing cannot reach)",
                error=False,
            )
        match = match_trajectory(expected, output.trajectory)
        return Score(self.name, match.score, match.passed, match.rationale(expected.mode), self.judge)


def unscored_routes_line(scorer_names: Sequence[str], cases: Sequence[Case]) -> str | None:
    """A plan line when golden cases expect a route that no scorer checks (None when none do)."""
    expecting = [c.id for c in cases if c.traced]
    if not expecting or Trajectory.name in scorer_names:
        return None
    shown = ", ".join(expecting[:3]) + (f" and {len(expecting) - 3} more" if len(expecting) > 3 else "")
    return (
        f"{len(expecting)} case(s) have an expected_trajectory ({shown}) but 'trajectory' is not in scorers: "
        "their routes are not checked"
    )
