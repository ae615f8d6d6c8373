"""Paired A/B statistics against known cases: exact p-values worked by hand, scipy, and simulation."""

import math

import numpy as np
import pytest
from scipy import stats as sps

from harness import plan, stats
from harness.stats import McNemarTable


def exact_mcnemar_by_hand(b: int, c: int) -> float:
    """Two-sided exact McNemar: 2 * P(X <= min(b, c)), X ~ Binomial(b + c, 1/2), capped at 1."""
    n = b + c
    tail = sum(math.comb(n, k) for k in range(min(b, c) + 1)) / 2**n
    return min(1.0, 2 * tail)


class TestMcNemar:
    def test_known_table(self):
        # 1 case passed only on the baseline, 9 only on the candidate: p = 2 * 11/1024 = 0.021484375.
        assert stats.mcnemar_exact(McNemarTable(baseline_only=1, candidate_only=9)) == pytest.approx(
            0.021484375, abs=1e-12
        )
        assert stats.mcnemar_exact(McNemarTable(baseline_only=9, candidate_only=1)) == pytest.approx(
            0.021484375, abs=1e-12
        )

    @pytest.mark.parametrize("b,c", [(0, 6), (5, 15), (3, 3), (0, 1), (12, 0), (7, 20)])
    def test_matches_binomial_by_hand(self, b, c):
        assert stats.mcnemar_exact(McNemarTable(b, c)) == pytest.approx(exact_mcnemar_by_hand(b, c), rel=1e-9)

    def test_no_discordant_pairs_is_no_evidence(self):
        assert stats.mcnemar_exact(McNemarTable(0, 0, both=10, neither=3)) == 1.0

    def test_table_from_pass_fail_pairs(self):
        baseline = [1, 1, 1, 0, 0, 1, 0]
        candidate = [1, 0, 0, 1, 0, 1, 1]
        table = stats.mcnemar_table(baseline, candidate)
        assert (table.baseline_only, table.candidate_only, table.both, table.neither) == (2, 2, 2, 1)
        with pytest.raises(ValueError):
            stats.mcnemar_table([1, 0], [1])


class TestWilcoxon:
    def test_exact_known_value(self):
        # Six positive differences of distinct sizes: the exact two-sided p is 2 / 2**6.
        assert stats.wilcoxon_signed_rank([0] * 6, [1, 2, 3, 4, 5, 6]) == pytest.approx(0.03125)

    def test_against_scipy_on_a_fixed_sample(self):
        rng = np.random.default_rng(7)
        baseline = rng.uniform(0, 1, 30).round(2)
        candidate = np.clip(baseline + rng.normal(0.08, 0.15, 30), 0, 1).round(2)
        candidate[:3] = baseline[:3]  # zero differences are dropped (Wilcoxon's method)
        expected = sps.wilcoxon(candidate - baseline, zero_method="wilcox").pvalue
        assert stats.wilcoxon_signed_rank(baseline, candidate) == pytest.approx(expected, rel=1e-12)
        assert stats.wilcoxon_signed_rank(baseline, candidate) < 0.05

    def test_identical_versions(self):
        assert stats.wilcoxon_signed_rank([0.2, 0.5, 1.0], [0.2, 0.5, 1.0]) == 1.0


class TestHolm:
    def test_known_adjustment(self):
        # sorted: 0.005*4=0.02, 0.01*3=0.03, 0.03*2=0.06, 0.04*1=0.04 -> kept monotone at 0.06
        assert stats.holm([0.01, 0.04, 0.03, 0.005]) == pytest.approx([0.03, 0.06, 0.06, 0.02])

    def test_caps_at_one_and_skips_nan(self):
        adjusted = stats.holm([0.5, float("nan"), 0.4])
        assert adjusted[0] == pytest.approx(0.8) and adjusted[2] == pytest.approx(0.8)
        assert math.isnan(adjusted[1])
        assert stats.holm([0.9, 0.8]) == [1.0, 1.0]
        assert stats.holm([]) == []

    def test_never_below_raw_and_monotone_in_rank(self):
        rng = np.random.default_rng(3)
        raw = list(rng.uniform(0, 0.2, 8))
        adjusted = stats.holm(raw)
        assert all(a >= p for a, p in zip(adjusted, raw))
        order = np.argsort(raw)
        assert all(adjusted[order[i]] <= adjusted[order[i + 1]] for i in range(len(raw) - 1))


class TestPairedBootstrap:
    def test_identical_values_give_a_point(self):
        estimate = stats.paired_bootstrap_diff([0.5, 1.0, 0.0], [0.5, 1.0, 0.0])
        assert (estimate.value, estimate.low, estimate.high, estimate.n) == (0.0, 0.0, 0.0, 3)

    def test_seeded_and_edge_cases(self):
        a, b = [0, 1, 1, 0, 1, 0, 0, 1], [1, 1, 1, 1, 0, 1, 0, 1]
        assert stats.paired_bootstrap_diff(a, b) == stats.paired_bootstrap_diff(a, b)
        assert stats.paired_bootstrap_diff([], []).n == 0
        assert stats.paired_bootstrap_diff([0.2], [0.7]).value == pytest.approx(0.5)
        with pytest.raises(ValueError):
            stats.paired_bootstrap_diff([1, 2], [1])

    def test_ci_covers_the_true_difference(self):
        # A per-case difficulty shared by both versions, and a true improvement of 0.1: the paired CI
        # must cover 0.1 in about 95% of repeated experiments (and exclude 0 most of the time).
        true_delta, covered, excluded_zero, trials = 0.1, 0, 0, 200
        for seed in range(trials):
            rng = np.random.default_rng(seed)
            difficulty = rng.uniform(0.2, 0.8, 60)
            baseline = difficulty + rng.normal(0, 0.1, 60)
            candidate = difficulty + true_delta + rng.normal(0, 0.1, 60)
            estimate = stats.paired_bootstrap_diff(baseline, candidate)
            covered += estimate.low <= true_delta <= estimate.high
            excluded_zero += estimate.low > 0
        assert 0.88 <= covered / trials <= 0.99
        assert excluded_zero / trials > 0.95


class TestLatencyRatio:
    def test_exact_ratio(self):
        baseline = [10.0, 20.0, 30.0, 40.0, 50.0]
        ratio = stats.paired_percentile_ratio(baseline, [1.5 * v for v in baseline], 50)
        assert (
            ratio.value == pytest.approx(1.5) and ratio.low == pytest.approx(1.5) and ratio.high == pytest.approx(1.5)
        )

    def test_ci_covers_true_ratio_under_noise(self):
        rng = np.random.default_rng(11)
        base_ms = rng.lognormal(4, 0.6, 80)
        cand_ms = base_ms * 1.2 * rng.lognormal(0, 0.05, 80)
        ratio = stats.paired_percentile_ratio(base_ms, cand_ms, 50)
        assert ratio.low <= 1.2 <= ratio.high
        assert stats.ratio_verdict(ratio) == "worse"

    def test_zero_baseline_is_not_a_ratio(self):
        assert math.isnan(stats.paired_percentile_ratio([0.0, 0.0], [1.0, 2.0], 50).value)


class TestPowerAndVerdicts:
    def test_min_cases(self):
        assert plan.min_cases_for_significance(0.05, 1) == 6  # 2/2**5 = 0.0625, 2/2**6 = 0.031
        assert plan.min_cases_for_significance(0.05, 5) == 8  # must beat 0.01: 2/2**8 = 0.0078

    def test_min_cases_one_sided(self):
        assert plan.min_cases_for_significance(0.05, 1, one_sided=True) == 5  # 1/2**5 = 0.031
        assert plan.min_cases_for_significance(0.05, 2, one_sided=True) == 6  # must beat 0.025

    def test_detectable_drop(self):
        z = sps.norm.ppf(0.95) + sps.norm.ppf(0.8)
        # Observed spread: the normal approximation, unless the exact test's floor (5 cases of n) is larger.
        assert plan.detectable_drop(400, sd=0.5) == pytest.approx(z * 0.5 / 20)
        assert plan.detectable_drop(82, sd=0.0) == pytest.approx(5 / 82)  # identical versions: no invented sd
        # Assumed: whole cases go wrong, sd² = d(1 − d), so d = z²/(n + z²).
        assert plan.detectable_drop(82) == pytest.approx(max(5 / 82, z * z / (82 + z * z)))
        assert plan.detectable_drop(0) == float("inf")
        n = plan.cases_to_detect(0.05)
        assert plan.detectable_drop(n) <= 0.05 < plan.detectable_drop(n - 1)
        assert plan.cases_to_detect(0.0) is None

    def test_non_inferiority_cases(self):
        z = sps.norm.ppf(0.975) + sps.norm.ppf(0.8)
        assert plan.non_inferiority_cases(0.05, 0.3) == math.ceil((z * 0.3 / 0.05) ** 2)
        assert plan.non_inferiority_cases(0.02, 0.0) == 0  # identical per-case scores: nothing to show
        assert plan.non_inferiority_cases(0.0, 0.3) is None
        assert plan.non_inferiority_margin(plan.non_inferiority_cases(0.05, 0.3), 0.3) <= 0.05

    def test_one_sided_p_values(self):
        table = McNemarTable(baseline_only=5, candidate_only=0)
        assert stats.mcnemar_exact(table, "less") == pytest.approx(0.5**5)
        assert stats.mcnemar_exact(McNemarTable(0, 5), "less") == 1.0  # better, not worse
        test = stats.paired_test([1] * 10, [0] * 5 + [1] * 5)
        assert (test.test, test.p_worse, test.p_value) == ("mcnemar", pytest.approx(0.5**5), pytest.approx(2 * 0.5**5))
        scores = stats.paired_test([0.5] * 6, [0.4, 0.3, 0.2, 0.1, 0.45, 0.35])
        assert scores.test == "wilcoxon" and scores.p_worse == pytest.approx(1 / 64)

    def test_latency_band(self):
        assert stats.ratio_verdict(stats.Estimate(1.003, 1.0001, 1.006, 80)) == "same"
        assert stats.ratio_verdict(stats.Estimate(1.03, 1.01, 1.06, 80)) == "no significant difference"
        assert stats.ratio_verdict(stats.Estimate(1.2, 1.1, 1.3, 80)) == "worse"
        assert stats.ratio_verdict(stats.Estimate(0.8, 0.7, 0.9, 80)) == "better"
        assert stats.ratio_verdict(stats.Estimate(1.2, 1.1, 1.3, 80), band=0.5) == "same"

    def test_bootstrap_is_scipy_bca_with_the_recorded_settings(self):
        rng = np.random.default_rng(5)
        values = rng.uniform(0, 1, 40)
        expected = sps.bootstrap(
            (values,),
            np.mean,
            n_resamples=stats.BOOTSTRAP.resamples,
            method="BCa",
            random_state=np.random.default_rng(stats.BOOTSTRAP.seed),
        ).confidence_interval
        estimate = stats.mean_ci(values)
        assert (estimate.low, estimate.high) == pytest.approx((expected.low, expected.high))
        assert stats.BOOTSTRAP.to_dict() == {
            "resamples": 2000,
            "seed": 20261120,
            "level": 0.95,
            "means": "BCa",
            "percentiles": "percentile",
            "library": "scipy.stats.bootstrap",
            "paired": "cases resampled as pairs",
        }

    def test_verdicts(self):
        assert stats.verdict(-0.2, 0.001) == "worse"
        assert stats.verdict(0.2, 0.001) == "better"
        assert stats.verdict(-0.2, 0.2) == "no significant difference"
        assert stats.verdict(0.0, 0.001) == "no significant difference"
        assert stats.verdict(-0.2, float("nan")) == "no significant difference"
        assert stats.verdict(-0.2, 0.001, higher_is_better=False) == "better"


def test_per_case_latency_ratio_cancels_case_difficulty():
    from harness.stats import cases_to_decide, paired_log_ratio

    base = [10.0, 100.0, 1000.0, 30.0]  # cases of very different difficulty, each exactly 2x slower
    exact = paired_log_ratio(base, [2 * v for v in base])
    assert (exact.value, exact.low, exact.high) == pytest.approx((2.0, 2.0, 2.0))
    noisy = paired_log_ratio(base, [2.2 * base[0], 1.8 * base[1], 2.1 * base[2], 1.9 * base[3]])
    assert 1.5 < noisy.low < 2 < noisy.high < 2.6  # Student's t on 4 log ratios: wide, but it holds
    one = paired_log_ratio([10.0], [20.0])
    assert (
        one.value == pytest.approx(2.0)
        and one.high == float("inf")
        and cases_to_decide(one.value, one.low, one.high, 1.5, 1) is None
    )
    assert cases_to_decide(1.2, 0.6, 2.4, 1.5, 7) > 7 and cases_to_decide(1.5, 1.0, 2.0, 1.5, 7) is None


def test_no_detectable_drop_beyond_the_scale():
    from harness.plan import detectable_drop

    assert detectable_drop(2) == float("inf") and 0 < detectable_drop(145) < 1
