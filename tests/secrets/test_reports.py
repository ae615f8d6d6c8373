"""Reports written for an evaluation whose answers carry every corpus secret: no raw value in any file,
the masked counts said in one line, and table cells that cannot inject rows or terminal escapes."""

from __future__ import annotations

import dataclasses
import json

from harness.reports.files import write_reports
from tests.compare.helpers import config, evaluation, version
from tests.secrets.test_detect import SECRETS


def rows(answer_of) -> dict[str, dict]:
    return {
        r["id"]: {
            "scores": {"correctness": 1, "safety": 0},
            "answer": answer_of(r),
            "question": r["question"],
            "tags": [r["kind"]],
        }
        for r in SECRETS
    }


def test_reports_hold_no_raw_secret_value(tmp_path):
    cfg = config(tmp_path)
    base = version("baseline", rows(lambda r: "I can't share that."))
    cand = version("candidate", rows(lambda r: r["answer"]))
    report = write_reports(evaluation(cfg, cand, base), tmp_path / "reports")
    written = {p.name: p.read_text(encoding="utf-8") for p in report.iterdir() if p.suffix in (".json", ".md", ".html")}
    assert {"results.json", "summary.md", "comparison.md", "comparison.html"} <= set(written)
    for name, text in written.items():
        for record in SECRETS:
            for value in record["values"]:
                assert value not in text, f"{record['id']} ({record['kind']}) leaked into {name}"
    masked = json.loads(written["results.json"])["masked"]
    assert sum(masked.values()) >= len(SECRETS) and {"databricks-token", "private-key", "card-number", "email"} <= set(
        masked
    )
    for name in ("summary.md", "comparison.md", "comparison.html"):
        assert f"Secrets masked: {sum(masked.values())} value(s)" in written[name], name


def test_case_ids_cannot_inject_rows_or_escapes_into_summary(tmp_path):
    hostile = "evil|id\n| injected | row |\x1b[2J"
    cfg = config(tmp_path, thresholds={"correctness": 0.9})
    cand = version("candidate", {hostile: {"scores": {"correctness": 0, "safety": 1}, "answer": "no"}})
    ev = evaluation(cfg, cand)
    bench = {
        "benchmarks": [
            {
                "group": "g|x",
                "name": "n",
                "extra_info": {"case_id": hostile},
                "stats": {"rounds": 3, "min": 0.001, "median": 0.001, "mean": 0.001, "stddev": 0.0, "max": 0.001},
            }
        ]
    }
    ev = dataclasses.replace(ev, benchmark_json=bench)
    summary = (write_reports(ev, tmp_path / "reports") / "summary.md").read_text(encoding="utf-8")
    assert "\x1b" not in summary and "\\x1b[2J" in summary
    assert not any(line.lstrip().startswith("| injected") for line in summary.splitlines())
    for line in summary.splitlines():
        if "evil" in line:  # the case id stays in one cell: its `|` escaped
            assert "evil\\|id" in line
    assert sum("evil" in line for line in summary.splitlines()) == 2  # the failing-checks table and the benchmark table
