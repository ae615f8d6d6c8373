"""One test per golden case and scorer: `test_quality[cost-001-correctness]`."""

import pytest

from harness.plugin import explain_score


def test_quality(harness_result, harness_scorer):
    score = harness_result.scores[harness_scorer]
    if not score.applicable:
        pytest.skip(score.rationale)
    assert score.passed, explain_score(harness_result, harness_scorer)
