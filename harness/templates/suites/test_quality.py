"""One test per golden case and scorer: `test_quality[cost-001-correctness]`. A failure is one line
(case, scorer, why); `-v` adds the question, the expectation and the answer."""

import pytest

from harness.plugin import explain_score


def test_quality(harness_result, harness_scorer, request):
    score = harness_result.scores[harness_scorer]
    if not score.applicable:
        pytest.skip(score.rationale)
    if not score.passed:
        pytest.fail(
            explain_score(harness_result, harness_scorer, verbose=request.config.get_verbosity() > 0), pytrace=False
        )
