"""load_versions: a baseline that cannot be loaded is one note (the gate fails on it) unless require_baseline;
the default baseline."""

import pytest

from harness import HarnessError
from harness.settings import HarnessConfig
from harness.versions.baseline import load_versions


def cfg(tmp_path, **kw):
    return HarnessConfig(root=tmp_path, agent="tests.compare.ab_agents:good", **kw)


def test_unloadable_baseline_is_one_note(tmp_path):
    notes = []
    versions = load_versions(cfg(tmp_path, baseline="tests.compare.ab_agents:missing"), notes=notes)
    assert [v.label for v in versions] == ["candidate"]
    assert len(notes) == 1 and "\n" not in notes[0]
    # The session goes on, and the gate's baseline_loaded check fails on this note.
    assert notes[0].startswith("baseline unavailable: 'tests.compare.ab_agents:missing' could not be loaded")
    assert notes[0].endswith('the gate fails on it (baseline = "none" evaluates without a baseline)')


def test_require_baseline_makes_it_an_error(tmp_path):
    with pytest.raises(HarnessError, match="cannot be loaded and require_baseline is set"):
        load_versions(cfg(tmp_path, baseline="tests.compare.ab_agents:missing", require_baseline=True))
    with pytest.raises(HarnessError, match="require_baseline is set but no baseline is configured"):
        load_versions(cfg(tmp_path, require_baseline=True), notes=[])


def test_candidate_must_load(tmp_path):
    with pytest.raises(HarnessError, match="has no attribute 'missing'"):
        load_versions(
            HarnessConfig(
                root=tmp_path, agent="tests.compare.ab_agents:missing", baseline="tests.compare.ab_agents:good"
            )
        )


def test_versions_list_drops_only_the_one_that_fails(tmp_path):
    notes = []
    refs = ["tests.compare.ab_agents:good", "tests.compare.ab_agents:nope", "tests.compare.ab_agents:wrong"]
    versions = load_versions(cfg(tmp_path, versions=refs), notes=notes)
    assert [v.reference for v in versions] == [refs[0], refs[2]]
    assert notes[0].startswith("baseline unavailable: 'tests.compare.ab_agents:nope'")


def test_no_default_baseline_without_a_store_and_none_creates_no_store(tmp_path, monkeypatch):
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    notes = []
    versions = load_versions(cfg(tmp_path), notes=notes)
    assert len(versions) == 1 and notes == []
    assert not (tmp_path / "mlflow.db").exists()
    assert len(load_versions(cfg(tmp_path, baseline="none"), notes=[])) == 1
