"""The README's figures about the reference golden set are the set's own, counted as the terminal
counts them (one case per conversation turn)."""

import re
from pathlib import Path

from harness.golden import load_golden

REPO = Path(__file__).resolve().parents[1]
STATED = re.compile(r"(\d+)(?: cases, |-case reference set \()(\d+) with expected facts")


def test_the_readme_counts_the_reference_cases_as_the_terminal_does():
    cases = load_golden([REPO / "golden_data" / "health_monitor.jsonl"])
    counted = (len(cases), sum(1 for case in cases if case.expectations.get("expected_facts")))
    text = " ".join((REPO / "README.md").read_text(encoding="utf-8").split())
    stated = [(int(total), int(facts)) for total, facts in STATED.findall(text)]
    assert stated, "the README no longer states the reference set's size where this test looks"
    assert set(stated) == {counted}, (
        f"README states {stated}; the golden set has {counted[0]} cases, {counted[1]} with expected facts"
    )


def test_the_readme_states_the_ci_of_one_disagreeing_case_on_the_reference_set():
    from harness.stats import paired_bootstrap_diff

    cases = load_golden([REPO / "golden_data" / "health_monitor.jsonl"])
    n = sum(1 for case in cases if case.expectations.get("expected_facts"))
    low = paired_bootstrap_diff([1.0] * n, [1.0] * (n - 1) + [0.0]).low
    text = " ".join((REPO / "README.md").read_text(encoding="utf-8").split())
    [stated] = re.findall(r"one disagreeing case already puts the lower end near −(\d\.\d+)", text)
    assert abs(float(stated) + low) < 0.0025, (
        f"README says −{stated}; the paired bootstrap gives {low:.3f} over {n} cases"
    )
