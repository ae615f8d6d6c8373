"""Every secret the detector finds in a span (inputs, outputs, attributes, dictionary keys) is masked
before the trace reaches the store, the first time a text is seen, when it is seen again (the
masker reuses its masked copy) and when it is too long to be kept; an email the question named stays.

Real `@mlflow.trace` spans, traced in process under `tracking.tracing.tracing`, into a real SQLite store.
"""

from __future__ import annotations

import json
from pathlib import Path

import mlflow
import pytest

from harness.secrets import mask_tree
from harness.secrets.detect import CACHED_CHARS
from harness.tracking.tracing import traced_call, tracing

REPO = Path(__file__).resolve().parents[2]
CORPUS = [
    json.loads(line)
    for line in (REPO / "golden_data" / "secrets_corpus.jsonl").read_text(encoding="utf-8").splitlines()
    if line.strip()
]
SECRETS = [r for r in CORPUS if r["values"]]
PADDING = "All quiet. " * (CACHED_CHARS // 10)  # makes a text longer than the detector's cache keeps


@mlflow.trace(span_type="TOOL")
def lookup(note: str, notes: dict) -> dict:
    mlflow.get_current_active_span().set_attribute("harness.note", note)
    return {note: len(note), "notes": notes}


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory):
    root = tmp_path_factory.mktemp("spans")
    # Set in the process, not only in the environment: an earlier test may have pointed MLflow (and
    # its active experiment) at another store.
    previous = mlflow.get_tracking_uri()
    mlflow.set_tracking_uri(f"sqlite:///{root / 'mlflow.db'}")
    mlflow.set_experiment("span-masking")
    yield root
    mlflow.set_tracking_uri(previous)


def stored(trace_id: str) -> str:
    mlflow.flush_trace_async_logging()
    return mlflow.get_trace(trace_id).to_json()


def test_every_secret_in_a_span_is_masked_before_the_store(store: Path) -> None:
    def answer() -> None:
        for _round in range(2):  # the second round reuses the masked copies
            for i, r in enumerate(SECRETS):
                lookup(r["answer"], {"answer": r["answer"], "long": PADDING + r["answer"] if i < 3 else ""})

    with tracing(in_process=True):
        traced = traced_call(answer, {"harness.version": "leaky"})
    trace_id, steps = traced.trace_id, traced.trajectory
    written = stored(trace_id)

    leaked = sorted({r["id"] for r in SECRETS for value in r["values"] if value in written})
    assert not leaked, leaked
    assert len(steps) == 2 * len(SECRETS) and "[REDACTED]" in written
    first = mlflow.get_trace(trace_id).data.spans[1]  # the first lookup: exactly what masking its inputs gives
    expected = mask_tree(
        {
            "note": SECRETS[0]["answer"],
            "notes": {"answer": SECRETS[0]["answer"], "long": PADDING + SECRETS[0]["answer"]},
        }
    ).value
    assert first.inputs == expected and SECRETS[0]["answer"] not in json.dumps(first.outputs)


def test_an_email_the_question_named_is_kept_and_any_other_masked(store: Path) -> None:
    with tracing(in_process=True, allowed_emails=frozenset({"alice.smith@example.com"})):
        trace_id = traced_call(
            lambda: lookup("alice.smith@example.com wrote to bob.jones@example.com", {}), {}
        ).trace_id
    written = stored(trace_id)

    assert "alice.smith@example.com" in written
    assert "bob.jones@example.com" not in written and "b***@example.com" in written
