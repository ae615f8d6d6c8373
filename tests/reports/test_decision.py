"""The gate decision opens summary.md, comparison.md and comparison.html; the promotion outcome is filled in afterwards;
the terminal's gate table fits 120 columns."""

from __future__ import annotations

import json
import re
from pathlib import Path

from harness.records.gate import GateCheck, GateResult
from harness.reports.decision import PROMOTION_PENDING, append_outcome
from harness.reports.files import write_reports
from harness.reports.terminal import gate_table
from tests.compare.helpers import config, evaluation, version

TOKEN = "dapi0123456789abcdef0123"
BLOCKERS = ["only part of the suite was selected (-k cost)", "3 of 24 golden case(s) evaluated"]


def rows(values, latency=10.0):
    return {
        f"c{i:02d}": {"scores": {"correctness": v, "safety": 1}, "latency": latency + i % 3}
        for i, v in enumerate(values)
    }


def regression(tmp_path: Path, **cfg) -> Path:
    """A candidate wrong on every other case, gated on a threshold it meets and a non-inferiority margin it does not."""
    cfg = config(tmp_path, thresholds={"correctness": 0.4}, non_inferiority={"correctness": 0.02, "overall": 0}, **cfg)
    ev = evaluation(
        cfg,
        version("candidate", rows([0, 1] * 12), "agent.v2:CAND"),
        version("baseline", rows([1] * 24), "agent.v1:BASE"),
    )
    return write_reports(ev, tmp_path / "reports", blockers=BLOCKERS)


def gate_section(markdown: str) -> str:
    return markdown.split("Gate: FAIL", 1)[1].split("\n#", 1)[0]


def test_every_report_opens_with_the_decision_its_checks_and_blockers(tmp_path):
    report = regression(tmp_path)
    summary, comparison = (report / "summary.md").read_text(), (report / "comparison.md").read_text()
    assert comparison.startswith("# Gate: FAIL\n")
    assert summary.split("\n## ")[1].startswith("Gate: FAIL")  # the first section after the title
    for md in (summary, comparison):
        gate = gate_section(md)
        assert (
            "**2 of 7 check(s) failed: correctness Δ vs agent.v1:BASE −0.50 (allowed ≥ −0.02); overall Δ vs "
            "agent.v1:BASE" in gate
        )
        assert "&gt;" not in gate and "&lt;" not in gate and "None" not in gate  # plain text for a terminal
        assert f"**Promotion:** {PROMOTION_PENDING}" in gate
        assert "only part of the suite was selected (-k cost); 3 of 24 golden case(s) evaluated" in gate
        table = {
            line.split("|")[2].strip(): [c.strip() for c in line.strip("|").split("|")]
            for line in gate.splitlines()
            if line.startswith("| ") and not line.startswith("| result")
        }
        assert table["correctness ≥ 0.4"][:3] == ["PASS", "correctness ≥ 0.4", "0.500"]
        ni = table["correctness Δ vs baseline ≥ -0.02"]
        assert ni[0] == "FAIL" and ni[2] == "-0.500" and ni[4].startswith("margin 0.02, no significant regression")
        assert table["overall Δ vs baseline ≥ 0"][4].startswith("margin 0,")  # a zero margin is 0, never -0
        assert "safety (zero tolerance): failing cases ≤ 0" in table and "baseline loaded" in table
        assert "margin -0" not in md and "≥ -0 " not in md
    page = (report / "comparison.html").read_text()
    assert page.index('id="gate"') < page.index('id="comparison-0"')
    assert '<h2>Gate: <span class="r-FAIL">FAIL</span></h2>' in page
    assert "<td>correctness Δ vs baseline ≥ -0.02</td>" in page and '<td class="r-FAIL">FAIL</td>' in page
    assert "3 of 24 golden case(s) evaluated" in page and f"{PROMOTION_PENDING.split(' (')[0]}" in page
    document = json.loads((report / "results.json").read_text())
    assert document["blockers"] == BLOCKERS and document["gate"]["passed"] is False


def test_a_passing_gate_says_pass_and_a_writer_without_blockers_says_none(tmp_path):
    cfg = config(tmp_path, thresholds={"correctness": 0.5})
    ev = evaluation(cfg, version("candidate", rows([1] * 10)), version("baseline", rows([1] * 10)))
    report = write_reports(ev, tmp_path / "reports")
    comparison = (report / "comparison.md").read_text()
    assert comparison.startswith("# Gate: PASS\n") and "**All 5 check(s) held.**" in comparison
    assert "Blockers" not in comparison  # not known to this writer: not claimed either way
    assert '<section class="gate pass" id="gate">' in (report / "comparison.html").read_text()
    assert (
        write_reports(ev, tmp_path / "again", blockers=[]).joinpath("summary.md").read_text().count("Blockers: none")
        == 1
    )


def test_append_outcome_replaces_the_placeholder_masked_and_escaped(tmp_path):
    report = regression(tmp_path)
    append_outcome(report, f"not promoted: gate failed <b>now</b> | token {TOKEN}")
    for name in ("summary.md", "comparison.md"):
        text = (report / name).read_text()
        assert PROMOTION_PENDING not in text and TOKEN not in text
        (line,) = [row for row in text.splitlines() if row.startswith("**Promotion:**")]
        assert line == "**Promotion:** not promoted: gate failed &lt;b&gt;now&lt;/b&gt; \\| token [REDACTED]"
        assert text.index(line) < text.index("| result")  # in the gate section, above the table
    page = (report / "comparison.html").read_text()
    assert (
        '<p id="promotion"><b>Promotion: </b>not promoted: gate failed &lt;b&gt;now&lt;/b&gt; | token [REDACTED]</p>'
        in page
    )
    assert "<b>now</b>" not in page and PROMOTION_PENDING not in page


def test_append_outcome_appends_where_a_report_has_no_placeholder(tmp_path):
    (tmp_path / "summary.md").write_text("# An older summary\n", encoding="utf-8")
    append_outcome(tmp_path, "promoted version 2 of toy to @production")
    assert (
        tmp_path / "summary.md"
    ).read_text() == "# An older summary\n\n**Promotion:** promoted version 2 of toy to @production\n"
    assert not (tmp_path / "comparison.md").exists()  # only the files that were written


def test_latency_ratio_reads_as_a_ratio_then_its_meaning(tmp_path):
    cfg = config(tmp_path)
    ev = evaluation(
        cfg, version("candidate", rows([1] * 12, latency=20.0)), version("baseline", rows([1] * 12, latency=10.0))
    )
    report = write_reports(ev, tmp_path / "reports")
    md, page = (report / "comparison.md").read_text(), (report / "comparison.html").read_text()
    p50 = next(row for row in md.splitlines() if row.startswith("| p50"))
    assert re.search(r"\| 1\.\d\dx \(slower\) +\|", p50), p50
    assert not re.search(r"\dx (slower|faster)", md + page)


def test_gate_table_fits_120_columns_and_keeps_failing_case_ids():
    long = "no significant regression, candidate − baseline vs models:/a_long_model_name@production: " + "detail " * 60
    gate = GateResult(
        [
            GateCheck("correctness", ">=", -0.02, -0.5, -0.7, -0.3, False, long, kind="non_inferiority"),
            GateCheck(
                "tagged critical",
                "<=",
                0,
                2.0,
                passed=False,
                detail="0 failing cases allowed, 2 found: c07, c11 (...)",
                kind="critical",
                cases=["c07", "c11"],
            ),
            GateCheck("overall", ">=", 0.0, 0.0, -0.1, 0.1, True, "multi\nline", kind="non_inferiority"),
        ]
    )
    lines = gate_table(gate).splitlines()
    assert 110 <= max(map(len, lines)) <= 120
    assert "2 found: c07, c11" in lines[3] and lines[2].rstrip(" |").endswith(
        "no significant regression,…"
    )  # cut between words
    assert ">= 0 " in lines[4] and "-0 " not in lines[4] and "multi line" in lines[4]
