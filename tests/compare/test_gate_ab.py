"""Non-inferiority and latency-ratio checks in the gate, with and without a baseline."""

import pytest

from harness.plan import planned_checks
from harness.records.gate import BASELINE_UNAVAILABLE
from harness.reports.terminal import gate_table
from tests.compare.helpers import config, evaluation, version


def rows(values, latency=10.0):
    return {
        f"c{i:02d}": {"scores": {"correctness": v, "safety": 1}, "latency": latency * (1 + i / 100)}
        for i, v in enumerate(values)
    }


def test_planned_checks_name_non_inferiority_tests(tmp_path):
    cfg = config(
        tmp_path,
        non_inferiority={"correctness": 0.02, "safety": 0.0},
        thresholds={"correctness": 0.8, "latency_ratio_max": 1.2},
    )
    ids = [c.id for c in planned_checks(cfg)]
    assert ids == [
        "correctness>=0.8",
        "latency_ratio_max<=1.2",
        "agent_error_rate<=0",
        "safety_failing_cases<=0",
        "tagged_critical_failing_cases<=0",
        "correctness_vs_baseline>=-0.02",
        "safety_vs_baseline>=0",
        "baseline_loaded",
    ]
    assert [c.kind for c in planned_checks(cfg)][-3:] == ["non_inferiority", "non_inferiority", "baseline"]


def test_significantly_worse_beyond_margin_fails_even_above_threshold(tmp_path):
    cfg = config(tmp_path, non_inferiority={"correctness": 0.02}, thresholds={"correctness": 0.5})
    base = version("baseline", rows([1] * 24))
    cand = version("candidate", rows([1, 0, 1] * 8))  # 0.667 meets the absolute 0.5, but 8 of 24 cases regressed
    gate = evaluation(cfg, cand, base).gate
    assert gate.check("correctness>=0.5").passed
    check = gate.check("correctness_vs_baseline>=-0.02")
    assert check.kind == "non_inferiority" and not check.passed and not check.skipped
    assert check.value == pytest.approx(-1 / 3) and check.high < -0.02
    assert "worse" in check.detail and "vs baseline" in check.detail
    assert not gate.passed and gate.failures == [check]
    table = gate_table(gate)
    assert "correctness Δ vs baseline" in table and "-0.333" in table and ">= -0.02" in table and "FAIL" in table


def test_within_margin_or_not_significant_passes(tmp_path):
    cfg = config(tmp_path, non_inferiority={"correctness": 0.5})
    base = version("baseline", rows([1] * 24))
    cand = version("candidate", rows([1, 0, 1] * 8))  # significantly worse, but by less than the 0.5 margin
    assert evaluation(cfg, cand, base).gate.check("correctness_vs_baseline>=-0.5").passed
    cfg = config(tmp_path, non_inferiority={"correctness": 0.02})
    small = version("baseline", rows([1] * 4))
    assert (
        evaluation(cfg, version("candidate", rows([0] * 4)), small).gate.check("correctness_vs_baseline>=-0.02").passed
    )  # n=4: not significant


def test_no_baseline_skips_relative_checks_and_says_why(tmp_path):
    cfg = config(
        tmp_path, non_inferiority={"correctness": 0.02}, thresholds={"correctness": 0.9, "latency_ratio_max": 1.2}
    )
    note = f"{BASELINE_UNAVAILABLE}'models:/m@production' could not be loaded (no alias); the gate fails on it"
    gate = evaluation(cfg, version("candidate", rows([1] * 10)), notes=[note]).gate
    for check_id in ("correctness_vs_baseline>=-0.02", "latency_ratio_max<=1.2"):
        check = gate.check(check_id)
        assert (
            check.skipped
            and check.detail.startswith("skipped: no baseline ran")
            and "could not be loaded" in check.detail
        )
    # A baseline that should have run and did not fails the gate on its own row, never as a SKIP.
    assert [c.id for c in gate.failures] == ["baseline_loaded"] and not gate.passed
    assert "SKIP" in gate_table(gate)
    # The first version of a model (no baseline anywhere) is promotable: the relative checks are skipped.
    first = evaluation(cfg, version("candidate", rows([1] * 10))).gate
    assert first.passed and first.check("correctness_vs_baseline>=-0.02").skipped


def test_absolute_threshold_still_fails_without_baseline(tmp_path):
    cfg = config(tmp_path, thresholds={"correctness": 0.9, "latency_ratio_max": 1.2})
    gate = evaluation(cfg, version("candidate", rows([0] * 10))).gate
    assert not gate.passed and [c.id for c in gate.failures] == ["correctness>=0.9"]


def test_latency_ratio_max_bounds_the_per_case_ratio(tmp_path):
    cfg = config(tmp_path, thresholds={"latency_ratio_max": 1.2})
    base = version("baseline", rows([1] * 30, latency=10.0))
    slow = version("candidate", rows([1] * 30, latency=15.0))
    check = evaluation(cfg, slow, base).gate.check("latency_ratio_max<=1.2")
    assert (
        not check.passed
        and check.value == pytest.approx(1.5)
        and "geometric mean of the per-case ratios" in check.detail
    )
    same = version("candidate", rows([1] * 30, latency=10.0))
    check = evaluation(cfg, same, base).gate.check("latency_ratio_max<=1.2")
    assert check.passed and check.value == pytest.approx(1.0)
    assert "1.00x" in gate_table(evaluation(cfg, same, base).gate)
