"""A promotion rests on a sealed record that verifies, never on an editable file or a tag."""

from __future__ import annotations

import json
import shutil

from tests.integrity.agents import WRONG_CALLABLE
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


def test_harness_log_promotes_only_on_a_signed_record_and_needs_session_json(tmp_path):
    project = module_project(tmp_path)
    first = project.pytest("--no-promote", **SIGNING_KEY)
    assert "promotion disabled (--no-promote)" in first.stdout, first.stdout[-3000:]
    report = project.latest()
    # A copy of a passing report without session.json: the session's own view is unknown, so it blocks.
    copy = report.parent / "copied-report"
    shutil.copytree(report, copy)
    (copy / "session.json").unlink()
    done = project.harness("log", str(copy), **SIGNING_KEY)
    assert "not promoted" in done.stdout and "session.json is missing or unreadable" in done.stdout, done.stdout + done.stderr
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
    figures = {k: v for k, v in sealed.tags.items() if k.startswith("harness.metric.")}
    assert figures and figures == {f"harness.metric.{name}": f"{value:.4g}" for name, value in record["metrics"]}
    # Other figures (still passing) written into the report's results.json, with its own signed record beside them.
    report = project.latest()
    document = json.loads((report / "results.json").read_text())
    for version in document["versions"]:
        for case in version["cases"]:
            case["scores"] = {name: {**score, "value": 0.987654, "passed": True} for name, score in case["scores"].items()}
    (report / "results.json").write_text(json.dumps(document))
    done = project.harness("log", str(report), **SIGNING_KEY)
    assert "results.json its session sealed" in done.stdout, done.stdout + done.stderr
    after = client.get_model_version("my_faq_agent", "1")
    assert after.description == sealed.description and "0.988" not in after.description
    assert {k: v for k, v in after.tags.items() if k.startswith("harness.metric.")} == figures
    status = project.harness("status")
    assert status.returncode == 0 and "0.988" not in status.stdout, status.stdout


def test_a_hand_set_gate_tag_or_a_copied_record_never_promotes(project):
    import mlflow

    assert "promoted version 1" in project.pytest().stdout
    client = project.client()
    mlflow.set_tracking_uri(project.tracking_uri)
    mlflow.set_registry_uri(project.tracking_uri)
    real = client.get_model_version("my_faq_agent", "1")

    class Echo(mlflow.pyfunc.PythonModel):
        def predict(self, context, model_input):
            return "I have no idea."

    mlflow.set_experiment("elsewhere")
    info = mlflow.pyfunc.log_model(name="agent", python_model=Echo(), pip_requirements=["mlflow"])
    tagged = mlflow.register_model(info.model_uri, "my_faq_agent", tags={"harness.gate": "passed"}).version
    code = project.harness("promote", "--to", "development", "--version", str(tagged))
    assert code.returncode == 1 and "has no sealed gate record" in code.stderr, code.stdout + code.stderr
    # A record and run id copied from the real version onto another model: not the artifact that was evaluated.
    copied = mlflow.register_model(info.model_uri, "my_faq_agent", tags={k: v for k, v in real.tags.items() if not k.startswith("harness.alias")}).version
    code = project.harness("promote", "--to", "development", "--version", str(copied))
    assert code.returncode == 1 and "not the logged model" in code.stderr, code.stdout + code.stderr
    assert str(client.get_model_version_by_alias("my_faq_agent", "development").version) == "1"
    # The real version goes on along the chain.
    assert project.harness("promote", "--to", "staging").returncode == 0
