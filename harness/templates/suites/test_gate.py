"""One test per gate check: `test_gate[correctness>=0.85]`. Runs after the per-case tests."""

import pytest

from harness.plugin import explain_check


def test_gate(harness_gate_check):
    if not harness_gate_check.passed:
        pytest.fail(explain_check(harness_gate_check), pytrace=False)
