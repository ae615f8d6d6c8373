"""An agent that raises, hangs, returns None, 10 MB, non-text, runs out of memory or
kills its own thread fails that case with the reason; the session finishes, reports are written,
nothing is promoted. Also item 4's promise that every case in the file is run and counted."""

import json

from tests.fixtures.project import WITHOUT_LATENCY, make_project
from tests.reliability.conftest import case, write_golden
from tests.reliability.hostile import FAULTS, HUGE_CHARS

REASONS = {
    "raise": "RuntimeError: database connection refused",
    "hang": "timed out after 1 s",
    "none": "AgentOutputError: agent returned None",
    "nontext": "AgentOutputError: agent answer content is int, expected text",
    "leak": "MemoryError",
    "exit": "SystemExit",
}


def test_agent_faults_fail_their_cases_and_block_promotion(tmp_path):
    records = [case("ok-paris", "What is the capital of France?", ["Paris"])]
    records += [case(f"fault-{name}", question, ["Paris"]) for name, question in FAULTS.items()]
    # BOM and CRLF, as a file saved on Windows: still every line is a case (item 4).
    golden = write_golden(tmp_path / "faults.jsonl", records, bom=True, newline="\r\n")
    project = make_project(
        tmp_path, agent="tests.reliability.hostile:faulty", golden=golden, ignore_suites=WITHOUT_LATENCY
    )

    result = project.pytest("--case-timeout", "1", timeout=240)

    out = result.stdout
    assert result.returncode == 1, out[-3000:] + result.stderr[-3000:]
    assert f"{len(records)} case(s) evaluated" in out  # the count printed matches the file
    assert "not promoted: gate failed" in out and "promoted version" not in out
    assert (
        "agent 'tests.reliability.hostile:faulty' failed on case fault-raise" in out
    )  # errors in setup, with the reason
    document = json.loads((project.root / "reports" / "latest" / "results.json").read_text())
    rows = {row["id"]: row for row in document["versions"][0]["cases"]}
    assert len(rows) == len(records)
    for name, reason in REASONS.items():
        assert reason in (rows[f"fault-{name}"]["error"] or ""), (name, rows[f"fault-{name}"]["error"])
        assert all(not s["passed"] and s["error"] for s in rows[f"fault-{name}"]["scores"].values())
    huge = rows["fault-huge"]
    assert huge["metadata"]["truncated_from_chars"] == HUGE_CHARS and len(huge["answer"]) == 1_000_000
    assert not huge["scores"]["correctness"]["passed"]
    assert rows["ok-paris"]["error"] is None and rows["ok-paris"]["scores"]["correctness"]["passed"]
    assert document["gate"]["passed"] is False
    assert (project.root / "reports" / "latest" / "summary.md").is_file()
    assert project.client().search_registered_models() == []
