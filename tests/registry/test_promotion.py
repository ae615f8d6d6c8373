"""The promotion rules of `harness promote`, against a real SQLite store."""

from __future__ import annotations

import json

import pytest

from tests.registry.conftest import one_error_line


def test_promotes_along_the_chain_and_records_every_move(reg):
    v1 = reg.add()
    assert reg.cli("promote", "--to", "development", "--version", v1)[0] == 0
    code, out, err = reg.cli("promote", "--to", "staging")
    assert code == 0, err
    assert out.strip() == f"promoted version {v1} of '{reg.name}' to @staging (was unset)"
    assert reg.cli("promote", "--to", "production", "--reason", "weekly release")[0] == 0
    assert reg.aliases() == {"development": v1, "staging": v1, "production": v1}

    history = reg.history()
    assert [(e["alias"], e["from"], e["to"], e["action"]) for e in history] == [
        ("development", None, v1, "promote"),
        ("staging", None, v1, "promote"),
        ("production", None, v1, "promote"),
    ]
    last = history[-1]
    assert last["reason"] == "weekly release" and last["run_id"] == reg.run_id(v1) and last["forced"] is False
    assert "@" in last["by"] and last["at"].endswith("+00:00") and {e["state"] for e in history} == {"done"}
    # The version carries its own record of each move.
    tags = reg.client.get_model_version(reg.name, v1).tags
    assert json.loads(tags["harness.alias.production"]) == {k: v for k, v in last.items() if k != "state"}

    v2 = reg.add()
    reg.cli("promote", "--to", "development", "--version", v2)
    reg.cli("promote", "--to", "staging")
    code, out, _ = reg.cli("promote", "--to", "production")
    assert code == 0 and f"(was version {v1})" in out
    left = json.loads(reg.client.get_model_version(reg.name, v1).tags["harness.alias.production.left"])
    assert left["to"] == v2 and left["action"] == "promote"
    # No lock is left behind.
    assert reg.client.search_registered_models(f"name = '{reg.name}.harness-lock'") == []


def test_a_promotion_may_not_skip_a_stage(reg):
    v1 = reg.add()
    reg.cli("promote", "--to", "development", "--version", v1)
    before = reg.snapshot()
    code, _, err = reg.cli("promote", "--to", "production", "--version", v1)
    assert code == 1
    line = one_error_line(err, "promote")
    assert f"version {v1} does not hold @staging" in line and "may not skip @staging" in line
    assert reg.snapshot() == before
    # Without --version the candidate is whatever holds the previous alias: here nothing.
    code, _, err = reg.cli("promote", "--to", "production")
    assert code == 1 and "@staging of" in err and "holds no version" in err
    assert reg.snapshot() == before


@pytest.mark.parametrize(
    "gate, message",
    [(None, "has no sealed gate record (tag harness.gate_record)"), ("failed", "its gate did not pass")],
)
def test_only_a_version_whose_gate_passed_is_promoted(reg, gate, message):
    version = reg.add(gate=gate)
    reg.client.set_registered_model_alias(reg.name, "development", version)  # e.g. set by hand in the MLflow UI
    before = reg.snapshot()
    code, _, err = reg.cli("promote", "--to", "staging")
    assert code == 1 and message in one_error_line(err, "promote")
    assert reg.snapshot() == before
    other = reg.add(gate=gate)
    code, _, err = reg.cli("promote", "--to", "development", "--version", other)
    assert code == 1 and message in err
    assert reg.snapshot()[:2] == before[:2]


def test_force_needs_a_reason_and_records_what_it_overrode(reg):
    v1 = reg.add(gate=None)
    before = reg.snapshot()
    code, _, err = reg.cli("promote", "--to", "production", "--version", v1, "--force")
    assert code == 1 and "--force needs --reason" in one_error_line(err, "promote")
    assert reg.snapshot() == before
    code, out, err = reg.cli(
        "promote", "--to", "production", "--version", v1, "--force", "--reason", "incident 42: hotfix"
    )
    assert code == 0, err
    assert "forced: incident 42: hotfix" in out
    entry = reg.history()[-1]
    assert entry["forced"] is True and entry["reason"] == "incident 42: hotfix"
    assert any("no sealed gate record" in o for o in entry["overrode"]) and any(
        "may not skip @staging" in o for o in entry["overrode"]
    )
    code, out, _ = reg.cli("history")
    assert "promote (forced)" in out and "incident 42: hotfix" in out


def test_promoting_a_version_that_already_holds_the_alias_moves_nothing(reg):
    v1 = reg.add()
    reg.cli("promote", "--to", "development", "--version", v1)
    before = reg.snapshot()
    code, out, _ = reg.cli("promote", "--to", "development", "--version", v1)
    assert code == 0 and "already holds @development; nothing moved" in out
    assert reg.snapshot() == before


def test_a_custom_chain_from_the_config(reg):
    reg.configure('chain = ["dev", "canary", "prod"]', harness='promote_to = "dev"')
    v1 = reg.add()
    assert reg.cli("promote", "--to", "dev", "--version", v1)[0] == 0
    assert reg.cli("promote", "--to", "canary")[0] == 0
    code, _, err = reg.cli("promote", "--to", "staging")
    assert code == 1 and "unknown alias 'staging': the promotion chain is dev -> canary -> prod" in err
    assert reg.aliases() == {"dev": v1, "canary": v1}


class TestFreshEvaluationForProduction:
    """`require_fresh_eval_hours`: the version's eval run is recent and compared it against the current production."""

    def setup_production(self, reg):
        reg.configure("require_fresh_eval_hours = 24")
        prod = reg.add()
        reg.cli("promote", "--to", "staging", "--version", prod, "--force", "--reason", "setup")
        assert reg.cli("promote", "--to", "production")[0] == 0  # first production: nothing to compare against
        return prod

    def stage(self, reg, **kwargs):
        version = reg.add(**kwargs)
        reg.cli("promote", "--to", "staging", "--version", version, "--force", "--reason", "setup")
        return version

    def test_a_stale_evaluation_is_refused(self, reg):
        prod = self.setup_production(reg)
        self.stage(reg, age_h=30, compared=[f"models:/{reg.name}/{prod}"])
        before = reg.snapshot()
        code, _, err = reg.cli("promote", "--to", "production")
        line = one_error_line(err, "promote")
        assert code == 1 and "from the last 24 h" in line and "started 30.0 h ago" in line
        assert f"--baseline models:/{reg.name}@production" in line  # says how to get a fresh one
        assert reg.snapshot() == before

    def test_an_evaluation_against_something_else_is_refused(self, reg):
        prod = self.setup_production(reg)
        self.stage(reg, compared=[])
        code, _, err = reg.cli("promote", "--to", "production")
        assert (
            code == 1
            and f"needs an evaluation against its current holder, version {prod}" in err
            and "no baseline" in err
        )
        assert reg.aliases()["production"] == prod

    def test_an_evaluation_against_the_pinned_production_version_counts(self, reg):
        prod = self.setup_production(reg)
        candidate = self.stage(reg, compared=[f"models:/{reg.name}/{prod}"])
        code, _, err = reg.cli("promote", "--to", "production")
        assert code == 0, err
        assert reg.aliases()["production"] == candidate

    def test_the_alias_reference_counts_only_if_production_has_not_moved_since(self, reg):
        prod = self.setup_production(reg)
        stale = self.stage(reg, age_h=1, compared=[f"models:/{reg.name}@production"])  # ran before production moved
        code, _, err = reg.cli("promote", "--to", "production")
        assert code == 1 and f"compared against @production before it moved to version {prod}" in err
        reg.client.delete_registered_model_alias(reg.name, "staging")
        fresh = self.stage(reg, compared=[f"models:/{reg.name}@production"])
        code, _, err = reg.cli("promote", "--to", "production")
        assert code == 0, err
        assert reg.aliases()["production"] == fresh != stale

    def test_the_eval_run_must_have_passed_and_exist(self, reg):
        self.setup_production(reg)
        self.stage(reg, run_gate="failed")
        code, _, err = reg.cli("promote", "--to", "production")
        assert code == 1 and "did not pass its gate" in err

    def test_staging_is_not_subject_to_it(self, reg):
        reg.configure("require_fresh_eval_hours = 24")
        old = reg.add(age_h=100)
        reg.cli("promote", "--to", "development", "--version", old)
        assert reg.cli("promote", "--to", "staging")[0] == 0
