"""Compare-and-set moves and the registry lock, in one process against a real SQLite store."""

from __future__ import annotations

import time

import pytest

from harness import HarnessError
from harness.config import load_config
from harness.tracking import aliases, lock, policy


def test_a_move_is_refused_when_the_alias_changed_after_the_decision(reg):
    v1, v2, v3 = reg.add(), reg.add(), reg.add()
    reg.cli("promote", "--to", "development", "--version", v1)
    reg.cli("promote", "--to", "staging")
    plan = policy.plan_promotion(reg.name, "production", None, load_config(reg.project))
    assert (plan.version, plan.current) == (v1, None)
    # Meanwhile another job moves production.
    aliases.move_alias(reg.name, "production", v3, None, reason="other job", run_id="", forced=True, action="promote")
    before = reg.snapshot()
    with pytest.raises(aliases.AliasConflict) as refused:
        plan.execute()
    message = str(refused.value)
    assert f"@production of '{reg.name}' changed after this decision: it was unset, now version {v3}" in message
    assert "other job" in message and "nothing moved" in message
    assert reg.snapshot() == before
    # So is one whose version lost the stage it is promoted from.
    reg.cli("promote", "--to", "development", "--version", v2)
    plan = policy.plan_promotion(reg.name, "staging", None, load_config(reg.project))
    assert (plan.version, plan.current, plan.requires_alias) == (v2, v1, "development")
    reg.cli("promote", "--to", "development", "--version", v3)
    before = reg.snapshot()
    with pytest.raises(aliases.AliasConflict, match=f"version {v2} of '{reg.name}' no longer holds @development"):
        plan.execute()
    assert reg.snapshot() == before


def test_a_move_waits_for_the_lock_and_gives_up_with_who_holds_it(reg):
    v1 = reg.add()
    before = reg.snapshot()
    with lock.registry_lock(reg.name, "someone else's promotion"):
        start = time.monotonic()
        with pytest.raises(HarnessError) as refused:
            aliases.move_alias(reg.name, "development", v1, None, reason="r", run_id="", lock_timeout_s=0.5)
        assert time.monotonic() - start >= 0.5
    assert "the registry lock of" in str(refused.value) and "someone else's promotion" in str(refused.value)
    assert "nothing moved" in str(refused.value)
    assert reg.snapshot() == before
    # Released: the move goes through, and `harness status` shows no lock.
    aliases.move_alias(reg.name, "development", v1, None, reason="r", run_id="")
    assert lock.lock_holder(reg.name) is None


def test_a_lock_left_by_a_dead_process_expires(reg):
    v1 = reg.add()
    dead = {
        "harness.lock.owner": "dead-token",
        "harness.lock.by": "ci@gone",
        "harness.lock.pid": "1",
        "harness.lock.purpose": "promote @staging",
        "harness.lock.since": "2020-01-01T00:00:00+00:00",
        "harness.lock.expires": f"{time.time() + 60:.3f}",
    }
    reg.client.create_registered_model(reg.name + lock.LOCK_SUFFIX, tags=dead)
    code, out, _ = reg.cli("status")
    assert "registry lock held by ci@gone (pid 1, promote @staging)" in out
    with pytest.raises(HarnessError, match="held by ci@gone"):
        aliases.move_alias(reg.name, "development", v1, None, reason="r", run_id="", lock_timeout_s=0.3)
    reg.client.set_registered_model_tag(reg.name + lock.LOCK_SUFFIX, "harness.lock.expires", f"{time.time() - 1:.3f}")
    entry = aliases.move_alias(reg.name, "development", v1, None, reason="r", run_id="", lock_timeout_s=0.3)
    assert entry["to"] == v1 and reg.aliases() == {"development": v1}
    assert lock.lock_holder(reg.name) is None


def test_a_holder_that_lost_its_lock_writes_nothing(reg):
    reg.add()
    before = reg.snapshot()
    with pytest.raises(HarnessError, match="lost the registry lock"):
        with lock.registry_lock(reg.name, "slow promotion", ttl_s=0.0) as lease:
            # It expired; another process takes it over before this one writes.
            with lock.registry_lock(reg.name, "next promotion", timeout_s=2):
                lease.check()
    assert reg.snapshot() == before
    assert lock.lock_holder(reg.name) is None


def test_the_history_tag_keeps_within_mlflow_limits():
    entry = {
        "at": "2026-01-01T00:00:00.000+00:00",
        "alias": "production",
        "from": "1",
        "to": "2",
        "action": "promote",
        "by": "ci@runner",
        "reason": "x" * 200,
        "run_id": "0" * 32,
        "forced": False,
    }
    text = aliases._history_json([dict(entry, to=str(i)) for i in range(2000)])
    assert len(text) <= aliases.MAX_TAG_VALUE
    assert '"to":"1999"' in text  # the newest moves are kept
