"""`harness compare A B`: from two references (re-run) or two stored results.json files (no re-run)."""

import json
from pathlib import Path

import pytest

from harness.cli import main
from harness.reports.files import write_reports
from tests.compare.ab_agents import GOLDEN
from tests.compare.helpers import config, evaluation, version


@pytest.fixture
def project(tmp_path, monkeypatch) -> Path:
    (tmp_path / "pyproject.toml").write_text(
        '[tool.harness]\nagent = "tests.compare.ab_agents:good"\n'
        f'golden = ["{GOLDEN}"]\nscorers = ["correctness", "safety"]\nmodel_name = "ab_cli"\n'
        "[tool.harness.non_inferiority]\ncorrectness = 0.05\n",
        encoding="utf-8",
    )
    monkeypatch.chdir(tmp_path)
    return tmp_path


def stored(tmp_path: Path, name: str, ids: range, correct) -> Path:
    rows = {
        f"ab-{i:03d}": {
            "scores": {"correctness": 1 if correct(i) else 0, "safety": 1},
            "latency": 5.0 + i % 3,
            "tags": ["even" if i % 2 == 0 else "odd"],
        }
        for i in ids
    }
    ev = evaluation(config(tmp_path), version("candidate", rows, reference=f"agent:{name}"))
    return write_reports(ev, tmp_path / name) / "results.json"


def test_two_results_files_compare_shared_cases_without_rerun(project, capsys):
    baseline = stored(project, "run_a", range(0, 30), lambda i: True)
    candidate = stored(project, "run_b", range(4, 34), lambda i: i % 3 != 0)  # another golden set, and a regression
    code = main(["compare", str(baseline), str(candidate.parent), "--report-dir", str(project / "out")])
    out = capsys.readouterr().out
    assert code == 1  # a metric is significantly worse
    assert "dropped 4 only in the candidate and 4 only in the baseline" in out
    assert "note: compared stored results without re-running" in out
    assert "note: the two runs used different golden files" not in out  # same config golden here
    assert "A/B: candidate agent:run_b vs baseline agent:run_a on 26 shared case(s)" in out
    assert "correctness: 1.000 -> " in out and ": worse" in out
    report = (project / "out" / "latest").resolve()
    document = json.loads((report / "results.json").read_text())
    assert document["n_cases"] == 26 and document["comparisons"][0]["dropped"]["only_baseline"] == [
        "ab-000",
        "ab-001",
        "ab-002",
        "ab-003",
    ]
    assert (
        json.loads((report / "session.json").read_text())["promote"] is False
    )  # `harness log` never promotes a comparison
    assert (report / "comparison.html").is_file() and (report / "comparison.md").is_file()
    assert main(["compare", str(baseline), str(candidate), "--report-dir", str(project / "out"), "--exit-zero"]) == 0


def test_two_references_are_run_interleaved(project, capsys):
    code = main(
        [
            "compare",
            "tests.compare.ab_agents:good",
            "tests.compare.ab_agents:degraded",
            "--report-dir",
            str(project / "out"),
        ]
    )
    out = capsys.readouterr().out
    assert code == 1
    assert (
        "A/B: candidate tests.compare.ab_agents:degraded vs baseline tests.compare.ab_agents:good on 24 "
        "shared case(s): 2 worse" in out
    )
    assert "correctness: 1.000 -> 0.500, Δ -0.500" in out
    assert "| correctness | 1.000      | 0.500       | -0.500 |" in out
    document = json.loads(((project / "out" / "latest") / "results.json").read_text())
    assert [v["label"] for v in document["versions"]] == ["candidate", "baseline"]
    same = main(
        [
            "compare",
            "tests.compare.ab_agents:good",
            "tests.compare.ab_agents:good",
            "--report-dir",
            str(project / "out"),
        ]
    )
    assert same == 0 and "0 worse, 0 better" in capsys.readouterr().out


def test_bad_inputs(project, capsys):
    baseline = stored(project, "run_a", range(0, 5), lambda i: True)
    assert main(["compare", str(baseline), "tests.compare.ab_agents:good"]) == 1
    assert "give two agent references or two results.json files" in capsys.readouterr().err
    assert main(["compare", str(baseline), str(project / "missing.json")]) == 1
    assert "missing.json: results file not found" in capsys.readouterr().err
    (project / "bad.json").write_text("{not json", encoding="utf-8")
    assert main(["compare", str(baseline), str(project / "bad.json")]) == 1
    assert "not a results.json document" in capsys.readouterr().err
    other = stored(project, "run_c", range(100, 103), lambda i: True)
    assert main(["compare", str(baseline), str(other)]) == 1
    assert "no case ids in common" in capsys.readouterr().err
    assert main(["compare", "tests.compare.ab_agents:good", "tests.compare.ab_agents:nope"]) == 1
    assert "has no attribute 'nope'" in capsys.readouterr().err
