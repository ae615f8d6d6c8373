"""comparison.md, comparison.html (self-contained, escaped, filterable, rendered by Chromium), plots, results.json."""

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from harness.reports.files import write_reports
from tests.compare.ab_agents import HOSTILE_MARKUP
from tests.compare.helpers import config, evaluation, version

TOKEN = "dapi0123456789abcdef0123"


def rows(values, answer_prefix="", hostile_question=False):
    out = {}
    for i, v in enumerate(values):
        out[f"ab-{i:03d}"] = {
            "scores": {"correctness": v, "safety": 1},
            "latency": 10.0 + i,
            "answer": f"{answer_prefix}answer {i}",
            "tags": ["even" if i % 2 == 0 else "odd", "arithmetic"],
            "question": f"{HOSTILE_MARKUP} What is {i} plus 10?"
            if hostile_question and i == 0
            else f"What is {i} plus 10?",
        }
    return out


@pytest.fixture(scope="module")
def report(tmp_path_factory) -> Path:
    """A regression (wrong on every even case), with hostile markup and a token in the candidate's answers;
    written once, read by every test here."""
    tmp_path = tmp_path_factory.mktemp("report")
    cfg = config(tmp_path, non_inferiority={"correctness": 0.02}, thresholds={"correctness": 0.4})
    base = version("baseline", rows([1] * 24, hostile_question=True), reference="agent.v1:<BASE>")
    cand = version(
        "candidate",
        rows([0, 1] * 12, answer_prefix=f"{HOSTILE_MARKUP} token {TOKEN} ", hostile_question=True),
        reference="agent.v2:CAND",
    )
    ev = evaluation(cfg, cand, base, notes=["baseline: a note with <i>markup</i>"])
    return write_reports(ev, tmp_path / "reports")


def test_files_and_results_json(report):
    names = {p.name for p in report.iterdir()}
    assert {
        "summary.md",
        "results.json",
        "comparison.md",
        "comparison.html",
        "comparison_metrics.png",
        "comparison_latency.png",
    } <= names
    for png in ("comparison_metrics.png", "comparison_latency.png"):
        assert (report / png).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    document = json.loads((report / "results.json").read_text())
    (comparison,) = document["comparisons"]
    assert comparison["baseline"]["reference"] == "agent.v1:<BASE>" and comparison["n_shared"] == 24
    correctness = next(m for m in comparison["metrics"] if m["metric"] == "correctness")
    assert correctness["verdict"] == "worse" and correctness["test"] == "mcnemar"
    assert document["notes"] == ["baseline: a note with <i>markup</i>"]
    assert document["gate"]["passed"] is False  # correctness meets 0.4 but fails non-inferiority
    assert "## A/B" in (report / "summary.md").read_text()


def test_comparison_markdown(report):
    md = (report / "comparison.md").read_text()
    assert "# A/B comparison" in md and "## Metrics" in md and "## Latency" in md
    line = next(row for row in md.splitlines() if row.startswith("| correctness"))
    cells = [c.strip() for c in line.strip("|").split("|")]
    assert cells[:4] == ["correctness", "1.000", "0.500", "-0.500"] and cells[-1] == "worse"
    assert "0 win(s), 12 loss(es), 12 tie(s)" in md


def test_html_is_self_contained_and_escaped(report):
    page = (report / "comparison.html").read_text()
    # One script, ours, allowed by hash; nothing loads from the network.
    assert page.count("<script") == 1 and "script-src 'sha256-" in page
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:|//)""", page)
    assert "<img src=x" not in page and '<b id="injected">' not in page and "<script>document.title" not in page
    assert "&lt;script&gt;document.title=&#x27;PWNED&#x27;&lt;/script&gt;" in page  # shown as text
    assert "agent.v1:&lt;BASE&gt;" in page and "&lt;i&gt;markup&lt;/i&gt;" in page
    assert TOKEN not in page and "[REDACTED]" in page  # a leaked token is masked in the report too
    assert page.count('<tbody class="case"') == 24
    assert 'data-outcome="loss"' in page and 'data-tags="even arithmetic"' in page
    assert page.count("data:image/png;base64,") == 2


def test_no_baseline_writes_no_comparison(tmp_path):
    cfg = config(tmp_path)
    report = write_reports(evaluation(cfg, version("candidate", rows([1] * 3))), tmp_path / "reports")
    names = {p.name for p in report.iterdir()}
    assert "comparison.html" not in names and "comparison.md" not in names
    assert json.loads((report / "results.json").read_text())["comparisons"] == []


# --- Chromium ----------------------------------------------------------------------------------------

CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-extensions",
    "--mute-audio",
]


@pytest.fixture(scope="module")
def chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
    if not found:
        if os.environ.get("CI"):
            pytest.fail("chromium is not installed: .ci/run must `apt-get install -y chromium`")
        pytest.skip("chromium is not installed (apt-get install -y chromium)")
    return found


def run_chromium(chromium: str, tmp_path: Path, url: str, *args: str) -> subprocess.CompletedProcess:
    profile = tmp_path / f"profile-{len(list(tmp_path.glob('profile-*')))}"
    return subprocess.run(
        [chromium, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *args, url],
        capture_output=True,
        text=True,
        timeout=90,
    )


def test_chromium_renders_tables_and_runs_only_our_script(report, chromium, tmp_path):
    url = (report / "comparison.html").resolve().as_uri()
    dom = run_chromium(chromium, tmp_path, url, "--dump-dom").stdout
    assert 'data-ready="1"' in dom  # our inline script ran under the page's Content-Security-Policy
    body = re.search(r"<body[^>]*>", dom).group(0)
    assert "data-pwned" not in body and "<title>PWNED" not in dom and '<b id="injected">' not in dom
    metrics = re.search(r'<table class="metrics">(.*?)</table>', dom, re.S).group(1)
    assert metrics.count("<tr>") == 4  # header + correctness, safety, overall
    assert '<td class="v-worse">worse</td>' in metrics
    assert "24 of 24 cases shown" in dom

    filtered = run_chromium(chromium, tmp_path, url + "#outcome=loss&tag=even", "--dump-dom").stdout
    assert "12 of 24 cases shown" in filtered
    assert filtered.count('<tbody class="case" data-outcome="loss" data-tags="even arithmetic">') == 12
    assert len(re.findall(r'<tbody class="case"[^>]*hidden', filtered)) == 12
    assert "0 of 24 cases shown" in run_chromium(chromium, tmp_path, url + "#outcome=win", "--dump-dom").stdout

    shot = tmp_path / "comparison.png"
    run_chromium(chromium, tmp_path, url, f"--screenshot={shot}", "--window-size=1280,2000", "--hide-scrollbars")
    from matplotlib.image import imread

    pixels = imread(shot)
    assert pixels.shape[:2] == (2000, 1280)
    assert pixels[:1000].std() > 0.05  # not a blank page: text, tables and plots were drawn
