"""Golden data kept as an MLflow evaluation dataset: pushed and pulled as the loader validates a file,
evaluated case for case as the file is, and sealed so that a changed record stops a promotion."""

from __future__ import annotations

import json
from pathlib import Path

from harness.golden import cases_sha256, load_golden
from tests.fixtures.project import TOY_GOLDEN
from tests.mlflow_native.conftest import EXAMPLE

CONVERSATION = {
    "id": "conv-001",
    "history": "sent",
    "turns": [
        {"inputs": {"messages": [{"role": "user", "content": "Status of order A-1001?"}]}},
        {
            "inputs": {"messages": [{"role": "user", "content": "And when did it ship?"}]},
            "expectations": {"expected_facts": ["2026-01-15"], "expected_trajectory": {"steps": [{"tool": "lookup"}]}},
        },
    ],
    "tags": ["orders"],
    "params": {"user_id": "u1"},
}


def _per_case_scores(cases) -> dict[tuple[str, str], tuple[float, bool, str]]:
    from harness.pipeline import evaluate
    from harness.settings import HarnessConfig
    from harness.versions.resolve import resolve

    cfg = HarnessConfig(in_process=True)
    evaluation = evaluate(cfg, cases, [resolve("tests.fixtures.toy_agents:good")])
    return {
        (case_id, name): (score.value, score.passed, score.rationale)
        for case_id, result in evaluation.versions[0].results.items()
        for name, score in result.scores.items()
    }


def test_a_dataset_pushed_from_the_example_file_evaluates_to_the_same_per_case_scores_and_pulls_back_unchanged(
    store, tmp_path
):
    pushed = store.harness("dataset", "push", str(EXAMPLE), "--name", "example")
    assert pushed.returncode == 0 and "pushed 3 lines (3 cases)" in pushed.stdout, pushed.stdout + pushed.stderr
    again = store.harness("dataset", "push", str(EXAMPLE), "--name", "example")
    assert "already holds the 3 cases" in again.stdout and "nothing written" in again.stdout, again.stderr

    from_file = load_golden([EXAMPLE])
    from_store = load_golden([Path("mlflow-dataset:example")])
    assert [c.id for c in from_store] == [c.id for c in from_file]
    assert cases_sha256(from_store) == cases_sha256(from_file)
    assert from_store[0].source.startswith("mlflow-dataset:example record dr-")
    file_scores = _per_case_scores(from_file)
    assert file_scores and _per_case_scores(from_store) == file_scores

    out = tmp_path / "pulled.jsonl"
    pulled = store.harness("dataset", "pull", "example", "-o", str(out))
    assert pulled.returncode == 0, pulled.stderr
    original = [json.loads(line) for line in EXAMPLE.read_text().splitlines() if line.strip()]
    assert [json.loads(line) for line in out.read_text().splitlines()] == original


def test_conversations_and_trajectories_travel_as_in_jsonl_and_a_pinned_version_is_checked(store, tmp_path):
    source = tmp_path / "conv.jsonl"
    source.write_text(TOY_GOLDEN.read_text() + json.dumps(CONVERSATION) + "\n")
    pushed = store.harness("dataset", "push", str(source), "--name", "conv")
    assert pushed.returncode == 0, pushed.stderr
    version = pushed.stdout.strip().rsplit("@", 1)[1]
    cases = load_golden([Path(f"mlflow-dataset:conv@{version}")])
    assert cases_sha256(cases) == cases_sha256(load_golden([source]))
    turn = cases[-1]
    assert turn.id == "conv-001/turn-2" and turn.conversation and turn.conversation.history == "sent"
    assert turn.traced and turn.params == {"user_id": "u1"} and turn.tags == ["orders"]

    from harness import HarnessError

    try:
        load_golden([Path("mlflow-dataset:conv@000000000000")])
    except HarnessError as exc:
        assert f"at version {version} now, not 000000000000" in str(exc)
    else:
        raise AssertionError("a dataset pinned to another version loaded")


def test_push_validates_as_the_loader_does_and_touches_nothing_on_bad_input(store, tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text(TOY_GOLDEN.read_text() + '{"id": "x", "inputs": {"messages": []}}\n')
    result = store.harness("dataset", "push", str(bad), "--name", "bad")
    assert result.returncode == 1
    assert f"{bad}:5: inputs.messages must be a non-empty list (case x)" in result.stderr
    twice = tmp_path / "twice.jsonl"
    first = TOY_GOLDEN.read_text().splitlines()[0]
    twice.write_text(first + "\n" + first.replace("toy-001", "toy-009") + "\n")
    result = store.harness("dataset", "push", str(twice), "--name", "bad")
    assert result.returncode == 1 and "case 'toy-009' has the same inputs as the case at" in result.stderr
    assert store.client().search_datasets() == []
    missing = store.harness("dataset", "pull", "nothing", "-o", str(tmp_path / "x.jsonl"))
    assert missing.returncode == 1 and "mlflow-dataset:nothing: no evaluation dataset of this name" in missing.stderr


def test_a_session_on_a_dataset_seals_its_digest_and_a_changed_record_stops_the_promotion(project, tmp_path):
    assert project.harness("dataset", "push", str(TOY_GOLDEN), "--name", "toy").returncode == 0
    result = project.pytest()
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert "promoted version 1 of toy_agent to @development" in result.stdout, result.stdout[-2000:]
    record = json.loads(project.client().get_model_version("toy_agent", "1").tags["harness.gate_record"])
    [(label, sha)] = record["golden"]
    assert label.startswith("mlflow-dataset:toy@") and sha.startswith(label.rsplit("@", 1)[1])
    assert record["cases_in_golden"] == 4

    changed = tmp_path / "changed.jsonl"
    changed.write_text(TOY_GOLDEN.read_text().replace('"Paris"', '"Paris", "France"'))
    assert project.harness("dataset", "push", str(changed), "--name", "toy").returncode == 0
    refused = project.harness("promote", "--to", "staging")
    assert refused.returncode == 1, refused.stdout + refused.stderr
    assert f"the golden data changed since it was evaluated ({label})" in refused.stderr
    # The records as they were evaluated back in the dataset: the same version verifies again.
    assert project.harness("dataset", "push", str(TOY_GOLDEN), "--name", "toy").returncode == 0
    assert project.harness("promote", "--to", "staging").returncode == 0
