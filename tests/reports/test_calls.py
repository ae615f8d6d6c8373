"""What each version's latency measured, endpoint retries and service latency, and the in-process label, in
every report."""

from __future__ import annotations

import json
import re
from dataclasses import replace

from harness.golden import load_golden
from harness.pipeline import evaluate
from harness.reports.calls import ENDPOINT, IN_PROCESS, ISOLATED, MEASURED, measured_kind
from harness.reports.decision import IN_PROCESS_LABEL
from harness.reports.files import write_reports
from harness.versions.resolve import resolve
from harness.versions.version import Version
from tests.compare.helpers import config, evaluation, version
from tests.endpoints.standin import StandIn
from tests.fixtures.project import REPO, TOY_GOLDEN
from tests.fixtures.toy_agents import ANSWERS


def test_an_endpoint_candidate_reports_its_retries_and_its_service_latency(tmp_path):
    """A real stand-in server rate-limits each conversation once; the baseline answers in process."""
    cfg = config(tmp_path, golden=[str(TOY_GOLDEN)], thresholds={"correctness": 0.5})
    with StandIn(answers=ANSWERS, retry_after_s=0.1) as server:
        url = server.url("/429x1/invocations")
        versions = [resolve(url, REPO, "candidate"), resolve("tests.fixtures.toy_agents:good", REPO, "baseline")]
        try:
            ev = evaluate(cfg, load_golden(cfg.golden_paths), versions)
        finally:
            versions[0].call.close()
    report = write_reports(ev, tmp_path / "reports")
    document = json.loads((report / "results.json").read_text())
    cases = document["versions"][0]["cases"]
    stats = [c["metadata"]["endpoint"] for c in cases]
    retries, wait = sum(s["retries"] for s in stats), sum(s["retry_wait_ms"] for s in stats)
    retried = sum(1 for s in stats if s["retries"])
    assert retried >= len(cases) - 1 and wait >= 100 * retries > 0  # each wait honours Retry-After: 0.1 s

    candidate, baseline = document["latency"]["versions"]
    assert candidate["measured"] == {"kind": ENDPOINT, "text": MEASURED[ENDPOINT]}
    assert baseline["measured"] == {"kind": IN_PROCESS, "text": MEASURED[IN_PROCESS]} and baseline["endpoint"] is None
    endpoint = candidate["endpoint"]
    assert {k: endpoint[k] for k in ("cases", "cases_retried", "retries", "retried_on")} == {
        "cases": len(cases),
        "cases_retried": retried,
        "retries": retries,
        "retried_on": {"429": retries},
    }
    assert endpoint["retry_wait_ms"] == round(wait, 1)
    service, e2e = endpoint["service_percentiles_ms"]["p50"]["value"], candidate["percentiles_ms"]["p50"]["value"]
    assert e2e - service >= 90  # the retry wait is out of the service latency, and only it
    assert sorted(c["latency_ms"] - s["retry_wait_ms"] for c, s in zip(cases, stats))[0] >= 0

    summary = (report / "summary.md").read_text()
    assert re.search(
        rf"\| candidate +\| {retried} of {len(cases)} +\| {retries} +\| {wait:.1f} +\| 429: {retries} +\|", summary
    ), summary
    assert re.search(r"\| candidate: service latency, retry waits excluded +\| \d", summary)
    assert f"- candidate: {MEASURED[ENDPOINT]}" in summary and f"- baseline: {MEASURED[IN_PROCESS]}" in summary
    comparison, page = (report / "comparison.md").read_text(), (report / "comparison.html").read_text()
    assert f"- candidate ({url}): {MEASURED[ENDPOINT]}" in comparison
    assert f"- baseline (tests.fixtures.toy_agents:good): {MEASURED[IN_PROCESS]}" in comparison
    assert f"| 429: {retries} " in comparison and f">429: {retries}</td>" in page
    assert f"<li>candidate ({url}): {MEASURED[ENDPOINT]}</li>" in page


def test_what_a_version_measured_follows_how_it_was_loaded():
    def loaded(isolated):
        v = version("v", {"c1": {"scores": {"correctness": 1}}})
        return replace(v, version=Version("ref", "callable", lambda *a: "x", 0.0, isolated=isolated))

    assert measured_kind(loaded(None), in_process=False) == IN_PROCESS  # `harness compare` and the like: a bare call
    assert measured_kind(loaded(object()), in_process=True) == ISOLATED
    read_back = version("v", {"c1": {"scores": {"correctness": 1}}})  # from results.json or xdist workers: no Version
    assert (
        measured_kind(read_back, in_process=False) == ISOLATED
        and measured_kind(read_back, in_process=True) == IN_PROCESS
    )
    assert measured_kind(replace(read_back, kind="endpoint:chat_completions"), in_process=True) == ENDPOINT


def test_a_run_in_process_is_labelled_so_in_every_report(tmp_path):
    rows = {f"c{i}": {"scores": {"correctness": 1, "safety": 1}} for i in range(6)}
    for in_process in (True, False):
        cfg = config(tmp_path, in_process=in_process)
        report = write_reports(
            evaluation(cfg, version("candidate", rows), version("baseline", rows)), tmp_path / f"reports-{in_process}"
        )
        texts = {name: (report / name).read_text() for name in ("summary.md", "comparison.md", "comparison.html")}
        document = json.loads((report / "results.json").read_text())
        assert document["config"]["in_process"] is in_process
        assert document["run_label"] == (IN_PROCESS_LABEL if in_process else None)
        for name, text in texts.items():
            assert (IN_PROCESS_LABEL.capitalize() in text) is in_process, name
        measured = MEASURED[IN_PROCESS if in_process else ISOLATED]
        assert (
            f"- candidate: {measured}" in texts["summary.md"]
            and f"- baseline (baseline): {measured}" in texts["comparison.md"]
        )
