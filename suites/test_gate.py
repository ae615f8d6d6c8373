"""One test per gate check: `test_gate[correctness>=0.85]`. Runs after the per-case tests."""

from harness.plugin import explain_check


def test_gate(harness_gate_check):
    assert harness_gate_check.passed, explain_check(harness_gate_check)
