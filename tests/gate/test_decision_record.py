"""The decision as a record: decided once from the evaluation, the session's facts, the project's
policy and the registry view; publishing acts on it; one codec with a version field; records frozen."""

from __future__ import annotations

import dataclasses
from dataclasses import replace

import pytest

from harness import HarnessError
from harness.decision import NOT_LOGGED, SessionFacts, decide
from harness.records.answers import AgentOutput, Score
from harness.records.codec import SCHEMA_VERSION, checked, encode_evaluation, encode_session
from harness.records.decision import Evaluated, RegistryView
from harness.versions.resolve import adapt
from tests.compare.helpers import config, evaluation, version

COMPLETE = SessionFacts(cases_in_golden=2, cases_evaluated=2, gate_tests_expected=1, gate_tests_run=1)
EVALUATED = Evaluated("models:/m1", "m-1", "abc")


def _passing(tmp_path, **kw):
    cfg = config(tmp_path, thresholds={"correctness": 0.5}, baseline="none", **kw)
    return evaluation(
        cfg, version("candidate", {"a": {"scores": {"correctness": 1}}, "b": {"scores": {"correctness": 1}}})
    )


def test_a_complete_passing_session_under_the_projects_policy_may_promote_and_its_record_says_so(tmp_path):
    ev = _passing(tmp_path)
    decision = decide(ev, COMPLETE, ev.config, RegistryView(frozenset()), EVALUATED, promote=True)
    assert decision.may_promote and not decision.failed and decision.blockers == ()
    assert decision.record.promotable and decision.record.model_id == "m-1" and decision.record.promote
    bound = decision.bound("20261208T000000Z-abcdef", "sha", key="k")
    assert bound.record.report_id == "20261208T000000Z-abcdef" and bound.record.signature
    assert bound.blockers == decision.blockers  # binding seals, it decides nothing


def test_blockers_are_computed_once_and_say_why(tmp_path):
    ev = _passing(tmp_path)
    project = replace(ev.config, thresholds={"correctness": 0.9})
    decision = decide(ev, replace(COMPLETE, selection=("-k x",)), project, RegistryView(None), None, promote=False)
    assert decision.record.blockers == decision.blockers
    assert any("only part of the suite" in b for b in decision.blockers)
    assert NOT_LOGGED in decision.blockers
    assert any("gate policy differs" in b and "thresholds" in b for b in decision.blockers)
    assert "promotion disabled (--no-promote)" in decision.refusals and not decision.may_promote
    unreadable = decide(ev, COMPLETE, "pyproject.toml: bad", RegistryView(None), EVALUATED, promote=True)
    assert unreadable.blockers == ("the project's own configuration cannot be read (pyproject.toml: bad)",)


def test_the_default_production_baseline_counts_only_where_the_registry_has_it(tmp_path):
    cfg = config(tmp_path, thresholds={"correctness": 0.5}, model_name="m")
    ev = evaluation(cfg, version("candidate", {"a": {"scores": {"correctness": 1}}}))
    facts = replace(COMPLETE, cases_in_golden=1, cases_evaluated=1)
    absent = decide(ev, facts, cfg, RegistryView(frozenset()), EVALUATED, promote=True)
    present = decide(ev, facts, cfg, RegistryView(frozenset({"production"})), EVALUATED, promote=True)
    unknown = decide(ev, facts, cfg, RegistryView(None), EVALUATED, promote=True)
    skipped = "not compared against the project's baseline models:/m@production"
    assert skipped not in absent.blockers and skipped in present.blockers and skipped in unknown.blockers


def test_the_codec_writes_its_version_and_refuses_another(tmp_path):
    ev = _passing(tmp_path)
    document = encode_evaluation(ev, blockers=[])
    assert document["schema_version"] == SCHEMA_VERSION and checked(document, "r.json") is document
    with pytest.raises(HarnessError, match=r"r.json: schema_version 99; this harness reads 1"):
        checked({**document, "schema_version": 99}, "r.json")
    with pytest.raises(HarnessError, match="no 'versions' list"):
        checked({"schema_version": 1}, "r.json")
    decision = decide(ev, COMPLETE, ev.config, RegistryView(frozenset()), EVALUATED, promote=False)
    assert encode_session(decision) == {
        "schema_version": SCHEMA_VERSION,
        "promote": False,
        "blockers": [],
        "refusals": ["promotion disabled (--no-promote)"],
    }


def test_records_are_frozen_from_birth():
    version_ = adapt(lambda messages: "hi", "tests:agent")
    for record, field in ((Score("s", 1.0, True, "ok"), "value"), (AgentOutput("a"), "text"), (version_, "label")):
        with pytest.raises(dataclasses.FrozenInstanceError):
            setattr(record, field, None)
