"""`harness calibrate` on the human labels: the rule-based judges' agreement, and the report."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from harness import HarnessError
from harness.cli import main
from harness.commands.calibrate import agreement, calibrate, load_labels
from harness.config import load_config

ROOT = Path(__file__).resolve().parents[2]
LABELS = ROOT / "golden_data" / "human_labels.jsonl"


@pytest.fixture(scope="module")
def rule_results():
    cfg = load_config(ROOT, {"judge_model": ""}, environ={})
    return {r.judge: r for r in calibrate(cfg, load_labels(LABELS))}


def test_label_file_has_good_and_bad_answers():
    answers = load_labels(LABELS)
    assert len(answers) >= 40
    for metric in ("correctness", "relevance", "safety", "guidelines", "faithfulness"):
        verdicts = [a.labels[metric] for a in answers if metric in a.labels]
        assert True in verdicts and False in verdicts, metric
    assert all(a.note for a in answers)


@pytest.mark.parametrize(
    "judge",
    [
        "correctness",
        "relevance",
        "safety",
        "guidelines",
        "trajectory",
    ],
)
def test_rule_judges_rarely_pass_what_humans_failed(rule_results, judge):
    result = rule_results[judge]
    assert result.human_fails >= 5
    assert result.false_pass.value <= 0.05, "\n".join(result.disagreements)


def test_agreement_statistics():
    perfect = agreement("x", "rule", [(True, True), (False, False)] * 5, 0, [], None)
    assert (perfect.accuracy.value, perfect.kappa.value, perfect.false_pass.value) == (1.0, 1.0, 0.0)
    # a judge that passes everything: accuracy = share of human passes, kappa 0, false-pass 1
    lenient = agreement("x", "rule", [(True, True)] * 6 + [(False, True)] * 4, 0, [], None)
    assert (
        lenient.accuracy.value == pytest.approx(0.6)
        and lenient.kappa.value == pytest.approx(0.0)
        and lenient.false_pass.value == 1.0
    )
    assert lenient.false_pass.low <= lenient.false_pass.value <= lenient.false_pass.high


def test_calibrate_command_prints_and_writes_the_table(tmp_path, capsys):
    assert main(["calibrate", "--report-dir", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "false-pass [95% CI]" in out and "| correctness" in out
    report = next(tmp_path.glob("calibration-*/calibration.json"))
    judges = {j["judge"] for j in json.loads(report.read_text())["judges"]}
    assert judges == {"correctness", "relevance", "safety", "guidelines", "trajectory"}


def test_the_trajectory_scorer_is_calibrated_on_labelled_routes(rule_results):
    result = rule_results["trajectory"]
    assert result.n >= 9 and result.human_fails >= 5 and result.false_pass.value == 0.0
    # A retried worker is still the right route for a person; strict matching fails it: a false fail, shown.
    assert any(d.startswith("hl-t04: human pass, judge fail") for d in result.disagreements), result.disagreements


def test_a_label_with_a_malformed_trajectory_is_one_line_naming_the_line(tmp_path):
    record = json.loads(LABELS.read_text(encoding="utf-8").splitlines()[-1])
    bad = tmp_path / "labels.jsonl"
    bad.write_text(json.dumps({**record, "trajectory": "classify, cost"}) + "\n", encoding="utf-8")
    with pytest.raises(HarnessError, match=r"labels\.jsonl:1: 'trajectory' must be a non-empty list of step objects"):
        load_labels(bad)
