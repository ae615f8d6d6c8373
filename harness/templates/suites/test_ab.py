"""One test per metric, candidate against baseline: `test_ab[correctness]`. Fails on a significant regression.

Skipped when no baseline ran. The verdict is the paired test's, Holm-corrected across the gated metrics;
comparison.md / comparison.html in the report show every figure behind it.
"""


def test_ab(harness_ab):
    assert harness_ab.verdict != "worse", harness_ab.explain()
