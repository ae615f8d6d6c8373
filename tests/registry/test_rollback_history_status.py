"""`harness rollback`, `harness history`, `harness status` and bad input, against a real SQLite store."""

from __future__ import annotations

import socket

import pytest

from harness.tracking.policy import holders_before
from tests.registry.conftest import one_error_line


def release(reg, version):
    """Move a version through the whole chain with the harness."""
    for alias in ("development", "staging", "production"):
        code, _, err = reg.cli("promote", "--to", alias, "--version", version)
        assert code == 0, err


def test_rollback_returns_to_the_previous_version_then_refuses(reg):
    v1, v2, v3 = reg.add(), reg.add(), reg.add()
    for v in (v1, v2, v3):
        release(reg, v)
    code, out, err = reg.cli("rollback", "production", "--reason", "latency regression")
    assert code == 0, err
    assert out.strip() == f"rolled @production of '{reg.name}' back to version {v2} (was version {v3})"
    assert reg.cli("rollback", "production")[0] == 0
    assert reg.aliases()["production"] == v1
    before = reg.snapshot()
    code, _, err = reg.cli("rollback", "production")
    assert code == 1 and "nothing to return to" in one_error_line(err, "rollback")
    assert reg.snapshot() == before
    # --to: any version that once held the alias, including one rolled back from.
    assert reg.cli("rollback", "production", "--to", v3)[0] == 0
    assert reg.aliases()["production"] == v3
    entries = [e for e in reg.history() if e["alias"] == "production"]
    assert [(e["action"], e["from"], e["to"]) for e in entries] == [
        ("promote", None, v1),
        ("promote", v1, v2),
        ("promote", v2, v3),
        ("rollback", v3, v2),
        ("rollback", v2, v1),
        ("rollback", v1, v3),
    ]
    assert entries[3]["reason"] == "latency regression" and entries[3]["run_id"] == reg.run_id(v2)
    # After returning to v3 by hand, a plain rollback goes to where it came from.
    assert reg.cli("rollback", "production")[0] == 0 and reg.aliases()["production"] == v1


def test_rollback_refuses_what_never_held_the_alias(reg):
    v1, v2 = reg.add(), reg.add()
    release(reg, v1)
    reg.cli("promote", "--to", "development", "--version", v2)
    before = reg.snapshot()
    for argv, message in [
        (("rollback", "production"), "nothing to return to"),
        (("rollback", "production", "--to", v2), f"version {v2} never held @production"),
        (("rollback", "production", "--to", v1), f"version {v1} already holds @production"),
        (("rollback", "production", "--to", "99"), "has no version 99"),
        (("rollback", "prod"), "unknown alias 'prod'"),
    ]:
        code, _, err = reg.cli(*argv)
        assert code == 1 and message in one_error_line(err, "rollback"), (argv, err)
    assert reg.snapshot() == before


def test_rollback_returns_only_to_a_version_whose_own_record_verifies(reg):
    """The alias tags and the history are plain registry tags: setting one by hand on a version
    that was never evaluated, or that failed, does not make it a rollback target."""
    good = reg.add()
    release(reg, good)
    unsealed, failed = reg.add(gate=None), reg.add(gate="failed")
    for version in (unsealed, failed):
        reg.client.set_model_version_tag(reg.name, version, "harness.alias.production", "{}")
    before = reg.snapshot()
    for version, why in [(unsealed, "has no sealed gate record"), (failed, "its gate did not pass")]:
        code, _, err = reg.cli("rollback", "production", "--to", version)
        line = one_error_line(err, "rollback")
        assert code == 1 and f"back to version {version}" in line and why in line, err
    assert reg.snapshot() == before


def test_rollback_does_not_hold_an_old_version_to_todays_policy(reg):
    v1, v2 = reg.add(), reg.add()
    release(reg, v1)
    release(reg, v2)
    reg.configure(harness="thresholds = {correctness = 0.99}")  # a stricter policy since
    code, _, err = reg.cli("promote", "--to", "development", "--version", v1)
    assert code == 1 and "the gate policy changed" in one_error_line(err, "promote"), err
    code, _, err = reg.cli("rollback", "production")
    assert code == 0, err
    assert reg.aliases()["production"] == v1


def test_holders_before_is_a_stack_of_promotions_unwound_by_rollbacks():
    def move(to, source=None, action="promote"):
        return {"alias": "production", "from": source, "to": to, "action": action}

    history = [
        move("1"),
        move("2", "1"),
        {"alias": "staging", "from": None, "to": "9", "action": "promote"},
        move("3", "2"),
    ]
    assert holders_before(history, "production") == ["1", "2", "3"]
    assert holders_before(history + [move("2", "3", "rollback")], "production") == ["1", "2"]
    assert holders_before(history + [move("1", "3", "rollback"), move("3", "1", "rollback")], "production") == [
        "1",
        "3",
    ]
    # A holder the harness never recorded (set by hand) is still returned to.
    assert holders_before([move("5", "4")], "production") == ["4", "5"]


def test_history_prints_the_timeline(reg):
    v1, v2 = reg.add(), reg.add()
    release(reg, v1)
    reg.cli("promote", "--to", "development", "--version", v2)
    reg.cli("promote", "--to", "staging")
    reg.cli("promote", "--to", "production")
    reg.cli("rollback", "production", "--reason", "bad answers")
    code, out, _ = reg.cli("history", "--alias", "production")
    assert code == 0
    lines = out.splitlines()
    assert lines[0] == f"alias history of '{reg.name}', oldest first"
    assert lines[1].split() == ["when", "(UTC)", "alias", "from", "to", "action", "by", "eval", "run", "reason"]
    rows = [line.split() for line in lines[3:]]
    assert [(r[2], r[3], r[4], r[5]) for r in rows] == [
        ("@production", "-", v1, "promote"),
        ("@production", v1, v2, "promote"),
        ("@production", v2, v1, "rollback"),
    ]
    assert rows[-1][7] == reg.run_id(v1)[:8] and lines[-1].rstrip().endswith("bad answers")
    assert max(len(line) for line in lines) <= 100
    code, out, _ = reg.cli("history")
    assert len(out.splitlines()) == 3 + 7
    code, out, _ = reg.cli("history", "--limit", "1")
    assert len(out.splitlines()) == 3 + 1 and "rollback" in out


def test_status_shows_each_alias_version_scores_and_age(reg):
    v1 = reg.add(metrics={"correctness": 0.9, "safety": 1.0, "latency_p95_ms": 812.5})
    release(reg, v1)
    v2 = reg.add(metrics={"correctness": 0.97, "safety": 1.0})
    reg.cli("promote", "--to", "development", "--version", v2)
    reg.client.set_registered_model_alias(reg.name, "shadow", v1)  # an alias outside the chain is shown too
    code, out, err = reg.cli("status")
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0].startswith(f"'{reg.name}' in sqlite:///")
    assert max(len(line) for line in lines[1:]) <= 100  # the tables; the first line names the store
    assert lines[1].split() == ["alias", "version", "record", "age", "eval", "run", "moved", "by"]
    rows = {line.split()[0]: line.split() for line in lines[3:7]}
    assert list(rows) == ["@development", "@staging", "@production", "@shadow"]
    assert rows["@development"][:3] == ["@development", v2, "sealed"]
    assert rows["@production"][:3] == ["@production", v1, "sealed"] and rows["@production"][3].endswith(
        "s"
    )  # moved seconds ago
    assert rows["@production"][4] == reg.run_id(v1)[:8] and "@" in rows["@production"][5]
    # An alias set by hand is marked, and `status` without --check still exits 0.
    assert rows["@shadow"][2:6] == ["moved", "outside", "the", "harness"] and rows["@shadow"][-2:] == [
        reg.run_id(v1)[:8],
        "-",
    ]
    # The gate metrics each aliased version was registered with: a row per metric, a column per version.
    assert lines[7] == "" and lines[8].split() == [
        "metric",
        f"v{v2}",
        "@development",
        f"v{v1}",
        "@staging",
        "@production",
        "@shadow",
    ]
    metrics = {line.split()[0]: line.split()[1:] for line in lines[10:]}
    assert metrics == {"correctness": ["0.970", "0.900"], "latency_p95_ms": ["-", "812"], "safety": ["1.000", "1.000"]}


def test_status_of_a_model_without_aliases(reg):
    reg.add()
    code, out, _ = reg.cli("status")
    assert code == 0 and [line.split()[:3] for line in out.splitlines()[3:]] == [
        ["@development", "-", "-"],
        ["@staging", "-", "-"],
        ["@production", "-", "-"],
    ]
    for argv in (["history"], ["history", "--alias", "production"]):
        code, out, _ = reg.cli(*argv)
        assert code == 0 and out.strip() == f"no alias moves recorded for '{reg.name}'"


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.parametrize(
    "argv, message",
    [
        (("promote", "--to", "staging", "--model", "no_such_model"), "unknown model 'no_such_model'"),
        (("status", "--model", "no_such_model"), "unknown model 'no_such_model'"),
        (("history", "--model", "no_such_model"), "unknown model 'no_such_model'"),
        (("rollback", "production", "--model", "no_such_model"), "unknown model 'no_such_model'"),
        (("promote", "--to", "staging", "--version", "42"), "has no version 42 (its versions are 1)"),
        (("promote", "--to", "staging", "--version", "two"), "version must be a positive whole number, got 'two'"),
        (
            ("promote", "--to", "prod"),
            "unknown alias 'prod': the promotion chain is development -> staging -> production",
        ),
        (("promote", "--to", "production"), "@staging of"),
        (("history", "--alias", "prod"), "unknown alias 'prod'"),
    ],
)
def test_bad_input_is_one_line_and_moves_nothing(reg, argv, message):
    v1 = reg.add()
    reg.cli("promote", "--to", "development", "--version", v1)
    before = reg.snapshot()
    code, out, err = reg.cli(*argv)
    assert code == 1 and out == ""
    assert message in one_error_line(err, argv[0])
    assert reg.snapshot() == before


def test_an_unreachable_store_is_one_line(reg, monkeypatch, tmp_path):
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"http://127.0.0.1:{_closed_port()}")
    code, _, err = reg.cli("promote", "--to", "staging")
    assert code == 1 and "is unreachable" in one_error_line(err, "promote")
    missing = tmp_path / "nowhere" / "mlflow.db"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{missing}")
    code, _, err = reg.cli("status")
    assert code == 1 and "no tracking store at" in one_error_line(err, "status")
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path / 'mlflow.db'}")
    code, _, err = reg.cli("history")
    assert code == 1 and "no tracking store at" in one_error_line(err, "history")
    assert not (tmp_path / "mlflow.db").exists()  # looking did not create an empty store
