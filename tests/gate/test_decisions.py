"""The gate's decisions on hand-built results: zero tolerance, the two relative tests, the Holm
family, gate_on, repeats, the latency band, vacuous policies and an unloadable baseline."""

import math
from dataclasses import replace

import pytest

from harness.compare import compare_versions
from harness.pipeline import combine_scores, version_result
from harness.plan import plan_lines, planned_checks, power_plan
from harness.records.gate import BASELINE_UNAVAILABLE
from harness.records.results import CaseResult
from harness.reports.terminal import gate_table
from harness.scorers.base import Score
from harness.versions.version import AgentOutput
from tests.compare.helpers import case, config, evaluation, version


def rows(correctness, safety=None, tags=None, latency=10.0):
    safety = safety or [1] * len(correctness)
    return {
        f"c{i:02d}": {
            "scores": {"correctness": c, "safety": s},
            "latency": latency * (1 + i / 100),
            "tags": (tags or {}).get(i, ("t",)),
        }
        for i, (c, s) in enumerate(zip(correctness, safety))
    }


# --- zero tolerance ---------------------------------------------------------------------------------------


def test_one_leak_blocks_with_and_without_a_baseline(tmp_path):
    cfg = config(tmp_path, thresholds={"correctness": 0.8, "safety": 0.95})
    safety = [1] * 80
    safety[17] = 0
    leaky = version("candidate", rows([1] * 80, safety))
    for ev in (evaluation(cfg, leaky), evaluation(cfg, leaky, version("baseline", rows([1] * 80)))):
        gate = ev.gate
        assert gate.check("safety>=0.95").passed  # 0.9875 meets the mean threshold ...
        check = gate.check("safety_failing_cases<=0")  # ... and the zero-tolerance row blocks
        assert not check.passed and check.kind == "critical" and check.cases == ["c17"]
        assert check.detail.startswith("0 failing cases allowed, 1 found: c17")
        assert not gate.passed
        assert "safety (zero tolerance)" in gate_table(gate) and "1 found: c17" in gate_table(gate)


def test_failing_case_with_a_critical_tag_blocks(tmp_path):
    cfg = config(tmp_path, thresholds={"correctness": 0.5}, critical_tags=["critical"])
    correctness = [1] * 20
    correctness[3] = 0  # tagged critical
    correctness[5] = 0  # not tagged: the mean threshold tolerates it
    gate = evaluation(cfg, version("candidate", rows(correctness, tags={3: ("critical",), 4: ("critical",)}))).gate
    check = gate.check("tagged_critical_failing_cases<=0")
    assert not check.passed and check.cases == ["c03"] and not gate.passed
    assert gate.check("safety_failing_cases<=0").passed


def test_critical_scorers_can_be_configured_off(tmp_path):
    cfg = config(tmp_path, thresholds={"correctness": 0.5}, critical_scorers=[], critical_tags=[])
    assert [c.kind for c in planned_checks(cfg)].count("critical") == 0


# --- the relative tests -----------------------------------------------------------------------------------


def test_no_regression_blocks_six_of_82_wrong_that_the_old_rule_passed(tmp_path):
    """The issue's case: 6 of 82 cases wrong, CI wholly below −0.02, passed with Holm p 0.156."""
    cfg = config(tmp_path, thresholds={"correctness": 0.5}, non_inferiority={"correctness": 0.02})
    base = version("baseline", rows([1] * 82))
    cand = version("candidate", rows([0] * 6 + [1] * 76))
    ev = evaluation(cfg, cand, base)
    compared = ev.comparisons[0].metric("correctness")
    assert compared.gated and compared.p_worse == pytest.approx(0.5**6)  # one-sided exact McNemar
    assert compared.p_worse_adjusted == pytest.approx(0.5**6)  # family of one: the only gated metric
    check = ev.gate.check("correctness_vs_baseline>=-0.02")
    assert not check.passed and "no significant regression" in check.detail


def test_no_regression_passes_equivalent_noise(tmp_path):
    cfg = config(tmp_path, thresholds={"correctness": 0.5}, non_inferiority={"correctness": 0.02})
    base = version("baseline", rows([1, 0] + [1] * 80))
    cand = version("candidate", rows([0, 1] + [1] * 80))  # one case lost, one gained
    assert evaluation(cfg, cand, base).gate.check("correctness_vs_baseline>=-0.02").passed


def test_non_inferiority_puts_the_burden_of_proof_on_the_candidate(tmp_path):
    cfg = config(
        tmp_path,
        thresholds={"correctness": 0.5},
        non_inferiority={"correctness": 0.05},
        relative_test={"correctness": "non_inferiority"},
    )
    base = version("baseline", rows([1] * 24))
    # 2 of 24 wrong: far from significant (one-sided p 0.25), but the CI's lower end is below −0.05.
    cand = version("candidate", rows([0, 0] + [1] * 22))
    ev = evaluation(cfg, cand, base)
    check = ev.gate.check("correctness_vs_baseline>=-0.05")
    compared = ev.comparisons[0].metric("correctness")
    assert compared.relative_test == "non_inferiority" and compared.ci_low < -0.05
    assert not check.passed and "lower end" in check.detail
    assert compared.cases_needed is not None and compared.cases_needed > 24
    # Identical answers: the CI is [0, 0] and non-inferiority is shown.
    assert (
        evaluation(cfg, version("candidate", rows([1] * 24)), base).gate.check("correctness_vs_baseline>=-0.05").passed
    )
    # The same 2 of 24 under no_regression pass (not significant): the two tests answer different questions.
    cfg = replace(cfg, relative_test={})
    assert evaluation(cfg, cand, base).gate.check("correctness_vs_baseline>=-0.05").passed


def test_holm_family_is_the_gated_metrics_only(tmp_path):
    cfg = config(tmp_path, thresholds={"correctness": 0.5}, non_inferiority={"correctness": 0.0})
    base = version("baseline", rows([1] * 30))
    cand = version("candidate", rows([0] * 5 + [1] * 25, safety=[0] * 5 + [1] * 25))
    comparison = evaluation(cfg, cand, base).comparisons[0]
    correctness, safety, overall = (comparison.metric(m) for m in ("correctness", "safety", "overall"))
    assert correctness.gated and not safety.gated and not overall.gated
    assert correctness.p_adjusted == pytest.approx(correctness.p_value)  # Holm over one metric: unchanged
    assert math.isnan(safety.p_adjusted) and math.isnan(safety.p_worse_adjusted)  # reported, not in the family
    assert comparison.to_dict()["family"] == ["correctness"]
    # 5 losses: one-sided p = 1/32 < 0.05 with a family of one; with 5 metrics in the family it would not be.
    assert correctness.p_worse_adjusted < 0.05


def test_identical_versions_make_no_bogus_power_claim(tmp_path):
    cfg = config(tmp_path, thresholds={"correctness": 0.5}, non_inferiority={"correctness": 0.02})
    same = rows([1] * 82)
    comparison = evaluation(cfg, version("candidate", same), version("baseline", same)).comparisons[0]
    correctness = comparison.metric("correctness")
    assert correctness.sd == 0.0 and correctness.mdd == pytest.approx(5 / 82)  # at least 5 cases must go wrong
    warning = next(w for w in comparison.warnings if w.startswith("too few cases for correctness"))
    assert "observed per-case sd 0.000" in warning and "7,300" not in warning and "about 250 cases" in warning


def test_too_few_cases_warning_fires_on_a_small_set(tmp_path):
    cfg = config(tmp_path, thresholds={"correctness": 0.5}, non_inferiority={"correctness": 0.02})
    comparison = evaluation(cfg, version("candidate", rows([1] * 4)), version("baseline", rows([1] * 4))).comparisons[0]
    assert any(
        w.startswith("too few cases: with 4 paired case(s) and Holm over the 1 gated metric(s)")
        for w in comparison.warnings
    )


def test_power_plan_before_the_run_says_assumed_and_warns(tmp_path):
    cfg = config(tmp_path, thresholds={"correctness": 0.5}, non_inferiority={"correctness": 0.02})
    cases = [case(f"c{i}") for i in range(82)]
    for c in cases:
        c.expectations["expected_facts"] = ["x"]
    [plan] = power_plan(cfg, cases)
    assert (plan.metric, plan.n, plan.sd_source, plan.test) == ("correctness", 82, "assumed", "no_regression")
    assert plan.detectable == pytest.approx(0.07, abs=0.005) and plan.warning
    assert plan.cases_needed > 82
    lines = plan_lines(cfg, cases)
    assert any(line.strip().startswith("warning: correctness: 82 cases, assumed per-case sd") for line in lines)
    assert (
        "zero tolerance (one case blocks promotion): any case failing safety, any failing case tagged 'critical'"
        in lines
    )


# --- absolute thresholds: gate_on -------------------------------------------------------------------------


def test_gate_on_ci_low_blocks_a_mean_that_only_luck_puts_above(tmp_path):
    values = [1] * 49 + [0] * 6  # mean 0.891, CI's lower end about 0.80
    cfg = config(tmp_path, thresholds={"correctness": 0.85})
    assert evaluation(cfg, version("candidate", rows(values))).gate.check("correctness>=0.85").passed
    cfg = config(tmp_path, thresholds={"correctness": 0.85}, gate_on={"correctness": "ci_low"})
    check = evaluation(cfg, version("candidate", rows(values))).gate.check("correctness>=0.85")
    assert not check.passed and check.low < 0.85 < check.value and check.detail == "gated on the CI's lower end"


def test_latency_gate_on_point_ci_high_or_the_ci(tmp_path):
    cfg = config(
        tmp_path, thresholds={"correctness": 0.5, "latency_p95_ms": 11.85}, gate_on={"latency_p95_ms": "point"}
    )
    check = evaluation(cfg, version("candidate", rows([1] * 20))).gate.check("latency_p95_ms<=11.85")
    assert check.passed and check.high > 11.85 >= check.value
    cfg = replace(cfg, gate_on={"latency_p95_ms": "ci_high"})
    assert not evaluation(cfg, version("candidate", rows([1] * 20))).gate.check("latency_p95_ms<=11.85").passed
    # The default: the CI lies across the bound, so the data cannot tell; undecided does not block.
    cfg = replace(cfg, gate_on={})
    check = evaluation(cfg, version("candidate", rows([1] * 20))).gate.check("latency_p95_ms<=11.85")
    assert (
        check.passed
        and check.undecided
        and check.cases_needed > 20
        and "undecided: 20 case(s) cannot tell" in check.detail
    )
    cfg = replace(cfg, latency_undecided="block")
    assert not evaluation(cfg, version("candidate", rows([1] * 20))).gate.check("latency_p95_ms<=11.85").passed
    # Firm when it can tell: the whole CI above the bound blocks whatever latency_undecided says.
    cfg = replace(cfg, latency_undecided="pass")
    check = evaluation(cfg, version("candidate", rows([1] * 20, latency=20.0))).gate.check("latency_p95_ms<=11.85")
    assert not check.passed and not check.undecided and check.checked == check.low > 11.85


# --- latency band -----------------------------------------------------------------------------------------


def test_latency_within_the_band_is_same_and_ratio_max_blocks_2x(tmp_path):
    cfg = config(tmp_path, thresholds={"correctness": 0.5, "latency_ratio_max": 1.5})
    base = version("baseline", rows([1] * 40, latency=100.0))
    close = version("candidate", rows([1] * 40, latency=100.3))
    comparison = evaluation(cfg, close, base).comparisons[0]
    assert comparison.latency_ratio("p50").verdict == "same"
    slow = evaluation(cfg, version("candidate", rows([1] * 40, latency=200.0)), base)
    assert slow.comparisons[0].latency_ratio("p50").verdict == "worse"
    assert not slow.gate.check("latency_ratio_max<=1.5").passed


# --- repeats ----------------------------------------------------------------------------------------------


def answer_scores(passes):
    return [{"correctness": Score("correctness", float(p), bool(p), "ok" if p else "missing fact")} for p in passes]


def test_every_repeat_is_scored_and_combined():
    combined = combine_scores(answer_scores([1, 0, 1]))["correctness"]
    assert (
        combined.passed
        and combined.value == pytest.approx(2 / 3)
        and combined.rationale.startswith("2 of 3 answers passed")
    )
    assert not combine_scores(answer_scores([1, 0]))["correctness"].passed  # a tie is not a pass
    outputs = [AgentOutput("a", {}, 1.0), AgentOutput("b", {}, 1.0), AgentOutput("a", {}, 1.0)]
    result = CaseResult(
        case("x"), outputs[0], combine_scores(answer_scores([1, 0, 1])), outputs[1:], answer_scores([1, 0, 1])
    )
    assert result.pass_rate("correctness") == pytest.approx(2 / 3) and not result.pass_k and result.unstable
    assert result.to_dict()["pass_rates"] == {"correctness": pytest.approx(2 / 3)}


def test_pass_k_and_flip_rate_are_gateable(tmp_path):
    cfg = config(tmp_path, thresholds={"correctness": 0.5, "pass_k": 0.9, "flip_rate": 0.1})
    results = {}
    for i in range(10):
        passes = [1, 1, 1] if i < 7 else [1, 0, 1]  # 3 cases right in 2 of 3 calls
        outputs = [AgentOutput("right" if p else "wrong", {}, 1.0) for p in passes]
        scores = answer_scores(passes)
        results[f"c{i}"] = CaseResult(case(f"c{i}"), outputs[0], combine_scores(scores), outputs[1:], scores)
    candidate = version_result("candidate", "candidate", "callable", 0.0, results)
    gate = evaluation(cfg, candidate).gate
    assert gate.check("pass_k>=0.9").value == pytest.approx(0.7) and not gate.check("pass_k>=0.9").passed
    assert gate.check("flip_rate<=0.1").value == pytest.approx(0.3) and not gate.check("flip_rate<=0.1").passed
    assert candidate.unstable_cases() == ["c7", "c8", "c9"]


def test_a_leak_in_any_repeat_is_critical(tmp_path):
    cfg = config(tmp_path, thresholds={"correctness": 0.5})
    results = {}
    for i in range(5):
        answers = [
            {"correctness": Score("correctness", 1.0, True, "ok"), "safety": Score("safety", 1.0, True, "ok")}
            for _ in range(3)
        ]
        if i == 2:
            answers[1]["safety"] = Score("safety", 0.0, False, "leaks a token")
        outputs = [AgentOutput("a", {}, 1.0)] * 3
        results[f"c{i}"] = CaseResult(case(f"c{i}"), outputs[0], combine_scores(answers), outputs[1:], answers)
    gate = evaluation(cfg, version_result("candidate", "candidate", "callable", 0.0, results)).gate
    assert results["c2"].scores["safety"].passed  # the majority was safe ...
    assert gate.check("safety_failing_cases<=0").cases == ["c2"]  # ... one leaking answer still blocks


# --- vacuous policies and the baseline --------------------------------------------------------------------


@pytest.mark.parametrize(
    "scorers,kw,reason",
    [
        ([], {"thresholds": {"latency_p95_ms": 100}}, "'scorers' is empty"),
        (
            ["correctness", "safety"],
            {"thresholds": {"latency_p95_ms": 100}},
            "no threshold on a scorer, overall or pass_k",
        ),
        (
            ["correctness", "safety"],
            {"thresholds": {"correctness": 0.5}, "max_agent_error_rate": 1.0},
            "max_agent_error_rate = 1",
        ),
    ],
)
def test_vacuous_policy_fails_the_gate(tmp_path, scorers, kw, reason):
    cfg = config(tmp_path, **kw)
    cfg = replace(cfg, scorers=scorers)
    gate = evaluation(cfg, version("candidate", rows([1] * 5))).gate
    check = gate.check("policy_checks_quality")
    assert not check.passed and reason in check.detail and not gate.passed


def test_threshold_on_a_scorer_with_no_data_fails(tmp_path):
    cfg = config(tmp_path, thresholds={"correctness": 0.5})
    none_applicable = {f"c{i}": {"scores": {"correctness": None, "safety": 1}} for i in range(5)}
    check = evaluation(cfg, version("candidate", none_applicable)).gate.check("correctness>=0.5")
    assert not check.passed and check.detail == "no data for this metric"


def test_unloadable_baseline_fails_its_own_check(tmp_path):
    cfg = config(
        tmp_path,
        thresholds={"correctness": 0.5},
        non_inferiority={"correctness": 0.02},
        baseline="models:/m@production",
    )
    note = f"{BASELINE_UNAVAILABLE}'models:/m@production' could not be loaded (unreachable)"
    gate = evaluation(cfg, version("candidate", rows([1] * 10)), notes=[note]).gate
    check = gate.check("baseline_loaded")
    assert check.kind == "baseline" and not check.passed and not check.skipped and "unreachable" in check.detail
    assert gate.check("correctness_vs_baseline>=-0.02").skipped  # the comparison itself did not happen
    assert not gate.passed
    # No baseline anywhere (a first version): the baseline check passes and says so.
    first = evaluation(config(tmp_path, thresholds={"correctness": 0.5}), version("candidate", rows([1] * 10))).gate
    assert first.check("baseline_loaded").passed and "does not exist" in first.check("baseline_loaded").detail
    # baseline = "none" opts out: no such check at all.
    assert "baseline_loaded" not in [c.id for c in planned_checks(config(tmp_path, baseline="none"))]


def test_compare_versions_keeps_its_positional_signature():
    base = version("baseline", rows([1] * 6))
    assert (
        compare_versions(version("candidate", rows([1] * 6)), base, {"correctness": 0.02}).metric("correctness").gated
    )
