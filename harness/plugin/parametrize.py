"""Test ids from the golden cases, the scorers, the versions and the planned gate checks.

A test asks for its parametrization by the fixtures it uses: `harness_case`/`harness_result` (one
test per case, or per case and scorer with `harness_scorer`), `harness_version_label` (per version,
and per representative case with `harness_bench_case_id`), `harness_ab_metric` (per metric and
baseline), `harness_gate_check` (per planned check). Each golden tag becomes a pytest marker.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from harness import HarnessError

if TYPE_CHECKING:
    from harness.golden import Case
    from harness.plugin.session import HarnessSession

CASE_FIXTURES = ("harness_case", "harness_result")


def parametrize(state: HarnessSession, metafunc: pytest.Metafunc) -> None:
    names = metafunc.fixturenames
    if any(f in names for f in CASE_FIXTURES):
        _by_case(state, metafunc)
    if "harness_version_label" in names:
        _by_version(state, metafunc)
    if "harness_ab_metric" in names:
        _by_metric(state, metafunc)
    if "harness_gate_check" in names:
        from harness.plan import planned_checks

        checks = planned_checks(state.config)
        metafunc.parametrize("harness_gate_check_id", [pytest.param(c.id, id=c.id) for c in checks])


def case_test_id(case_id: str) -> str:
    """A case id as it goes into test ids (`-v`, JUnit XML, --lf): secrets masked, without brackets,
    which would end pytest's parameter part."""
    from harness.secrets import MASK, mask

    return mask(case_id).text.replace(MASK, "REDACTED")


def _marks(case: Case) -> list[pytest.MarkDecorator]:
    return [getattr(pytest.mark, t) for t in case.tags]


def _by_case(state: HarnessSession, metafunc: pytest.Metafunc) -> None:
    """test_x[<case>], or test_x[<case>-<scorer>] for each scorer that applies to the case."""
    if not state.controller and not metafunc.config.option.collectonly:
        state.start_ahead()
    try:
        cases = state.cases
    except HarnessError as exc:
        state.load_error = str(exc)  # raised as a usage error once collection is done
        cases = []
    for tag in sorted({t for c in cases for t in c.tags} - state.registered_tags):
        metafunc.config.addinivalue_line("markers", f"{tag}: golden cases tagged '{tag}'")
        state.registered_tags.add(tag)
    if "harness_scorer" in metafunc.fixturenames:
        from harness.scorers import applicable_scorer_names

        applicable = applicable_scorer_names(state.config, cases)
        params = [
            pytest.param(case.id, scorer, id=f"{case_test_id(case.id)}-{scorer}", marks=_marks(case))
            for case in cases
            for scorer in applicable[case.id]
        ]
        metafunc.parametrize(("harness_case_id", "harness_scorer"), params)
    else:
        metafunc.parametrize(
            "harness_case_id", [pytest.param(c.id, id=case_test_id(c.id), marks=_marks(c)) for c in cases]
        )


def _by_version(state: HarnessSession, metafunc: pytest.Metafunc) -> None:
    """The latency suite: test_x[<version>], or test_x[<version>-<case>] on the representative cases."""
    from harness.versions.baseline import version_labels

    labels = version_labels(state.config.all_versions)
    if "harness_bench_case_id" in metafunc.fixturenames:
        from harness.latency import representative_cases

        try:
            bench_cases = representative_cases(state.cases)
        except HarnessError as exc:
            state.load_error, bench_cases = str(exc), []
        params = [
            pytest.param(label, c.id, id=f"{label}-{case_test_id(c.id)}") for label in labels for c in bench_cases
        ]
        metafunc.parametrize(("harness_version_label", "harness_bench_case_id"), params)
    else:
        metafunc.parametrize("harness_version_label", labels)


def _by_metric(state: HarnessSession, metafunc: pytest.Metafunc) -> None:
    """A/B: test_ab[<metric>], or test_ab[<metric>-vs-<ref>] for 3+ versions."""
    from harness.scorers import scorer_names

    metrics = [*scorer_names(state.config), "overall"]
    others = state.config.all_versions[1:]
    if len(others) > 1:
        params = [pytest.param(m, ref, id=f"{m}-vs-{ref}") for ref in others for m in metrics]
    else:  # the one baseline: configured, or the default models:/<name>@production found at run time
        params = [pytest.param(m, None, id=m) for m in metrics]
    metafunc.parametrize(("harness_ab_metric", "harness_ab_baseline"), params)
