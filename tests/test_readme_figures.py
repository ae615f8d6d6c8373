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
    assert len(stated) >= 2, "the README no longer states the reference set's size where this test looks"
    assert set(stated) == {counted}, f"README states {stated}; the golden set has {counted[0]} cases, {counted[1]} with expected facts"
