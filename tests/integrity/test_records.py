"""A promotion rests on a sealed record that verifies, never on an editable file or a tag."""

from __future__ import annotations

import json
import shutil

from tests.integrity.agents import SNOOPS, WRONG_CALLABLE
from tests.integrity.conftest import SIGNING_KEY, module_project, versions


def _edit_to_passing(report):
    results = report / "results.json"
    document = json.loads(results.read_text())
    for version in document["versions"]:
        for case in version["cases"]:
            case["scores"] = {name: {**score, "value": 1.0, "passed": True} for name, score in case["scores"].items()}
    document["gate"]["passed"] = True
    results.write_text(json.dumps(document))


def test_an_edited_report_is_logged_late_and_never_promoted(tmp_path):
    project = module_project(tmp_path, WRONG_CALLABLE)
    failed = project.pytest()
    assert "gate FAILED" in failed.stdout, failed.stdout[-3000:]
    report = project.latest()
    _edit_to_passing(report)
    for env in ({}, SIGNING_KEY):
        done = project.harness("log", str(report), **env)
        assert "not promoted" in done.stdout, done.stdout + done.stderr
    assert versions(project) == []
    assert project.harness("promote", "--to", "staging").returncode == 1

    # The record itself edited to say the gate passed: its signature no longer verifies.
    signed = module_project(tmp_path / "signed", WRONG_CALLABLE)
    signed.pytest(**SIGNING_KEY)
    report = signed.latest()
    record = json.loads((report / "gate_record.json").read_text())
    (report / "gate_record.json").write_text(json.dumps({**record, "gate_passed": True, "blockers": []}))
    _edit_to_passing(report)
    done = signed.harness("log", str(report), **SIGNING_KEY)
    assert "not promoted" in done.stdout and "signature does not verify" in done.stdout, done.stdout + done.stderr
    assert versions(signed) == []


def test_harness_log_promotes_only_on_a_signed_record_and_needs_session_json_and_agents_never_see_the_key(tmp_path):
    project = module_project(tmp_path, SNOOPS)
    first = project.pytest("--no-promote", SNOOP_FILE="set", **SIGNING_KEY)
    assert "promotion disabled (--no-promote)" in first.stdout, first.stdout[-3000:]
    # Agent processes never see the signing key, yet the harness itself signed the decision.
    logs = [p.read_text() for p in (project.root / ".harness-cache" / "agent-logs").glob("*.log")]
    seen = " ".join(line for log in logs for line in log.splitlines() if line.startswith("SNOOPED")).split()
    assert "SNOOP_FILE" in seen and "MLFLOW_TRACKING_URI" in seen  # it ran, in processes of its own
    assert not [name for name in seen if name.startswith("HARNESS_")]
    report = project.latest()
    assert json.loads((report / "gate_record.json").read_text())["signature"]
    # A copy of a passing report without session.json: the session's own view is unknown, so it blocks.
    copy = report.parent / "copied-report"
    shutil.copytree(report, copy)
    (copy / "session.json").unlink()
    done = project.harness("log", str(copy), **SIGNING_KEY)
    assert "not promoted" in done.stdout and "session.json is missing or unreadable" in done.stdout, (
        done.stdout + done.stderr
    )
    # The --no-promote session's own report: logged, never promoted later, even with session.json
    # edited to say it may promote (the intent is sealed in the signed record).
    session = json.loads((report / "session.json").read_text())
    (report / "session.json").write_text(json.dumps({**session, "promote": True}))
    done = project.harness("log", str(report), **SIGNING_KEY)
    assert "promotion disabled (--no-promote)" in done.stdout, done.stdout + done.stderr
    assert json.loads((report / "gate_record.json").read_text())["promote"] is False
    assert versions(project) == []


def test_a_version_shows_only_the_figures_its_session_sealed(tmp_path):
    project = module_project(tmp_path)
    first = project.pytest(**SIGNING_KEY)
    assert "promoted version 1 of my_faq_agent to @development" in first.stdout, first.stdout[-3000:]
    client = project.client()
    sealed = client.get_model_version("my_faq_agent", "1")
    record = json.loads(sealed.tags["harness.gate_record"])
    # The figures are the sealed record's (the version's tags stay short: no per-metric tags).
    assert record["metrics"] and not any(k.startswith("harness.metric.") for k in sealed.tags)
    # Other figures (still passing) written into the report's results.json, with its own signed record beside them.
    report = project.latest()
    document = json.loads((report / "results.json").read_text())
    for version in document["versions"]:
        for case in version["cases"]:
            case["scores"] = {
                name: {**score, "value": 0.987654, "passed": True} for name, score in case["scores"].items()
            }
    (report / "results.json").write_text(json.dumps(document))
    done = project.harness("log", str(report), **SIGNING_KEY)
    assert "results.json its session sealed" in done.stdout, done.stdout + done.stderr
    after = client.get_model_version("my_faq_agent", "1")
    assert after.description == sealed.description and "0.988" not in after.description
    assert after.tags == sealed.tags
    status = project.harness("status")
    assert status.returncode == 0 and "0.988" not in status.stdout, status.stdout
