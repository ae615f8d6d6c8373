"""Hostile content in answers and golden inputs.

HTML and script in answers and questions are escaped in comparison.html (loaded in real headless
Chromium: no injected script runs); secrets in answers are masked in every report file and in the
MLflow per-case table; an agent reference string is never run by a shell.
"""

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from harness import HarnessError
from harness.reports.files import masked_results
from harness.secrets import mask
from harness.versions.resolve import resolve
from tests.fixtures.project import WITHOUT_LATENCY, make_project
from tests.reliability.conftest import case, write_golden
from tests.reliability.hostile import HOSTILE_ANSWER

SECRETS = ("dapi0123456789abcdef01234567", "hunter2hunter2", "carol.secret@example.com")
GOLDEN_SCRIPT = "<script>document.body.setAttribute('data-golden-pwned','1')</script>"
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def chromium() -> str:
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if path is None:
        pytest.fail("headless Chromium is required: apt-get install -y chromium")
    return path


def test_redact_masks_tokens_credentials_and_unrequested_emails():
    text = (
        "token dapi0123456789abcdef01234567, password: hunter2hunter2, api_key=sk-abc123 and "
        "bob@corp.example.com, asked a@b.io"
    )
    masked = mask(text, frozenset({"a@b.io"})).text
    assert not any(s in masked for s in ("dapi0123", "hunter2", "sk-abc123", "bob@corp"))
    assert "password: [REDACTED]" in masked and "b***@corp.example.com" in masked and "a@b.io" in masked
    # Per case: an email the case's own question names is not PII there, but is in another case.
    document = {
        "versions": [
            {
                "label": "c",
                "cases": [
                    {"messages": [{"role": "user", "content": "what did a@b.io do?"}], "answer": "a@b.io logged in"},
                    {"messages": [{"role": "user", "content": "who logged in?"}], "answer": "a@b.io logged in"},
                ],
            }
        ]
    }
    answers = [row["answer"] for row in masked_results(document)[0]["versions"][0]["cases"]]
    assert answers == ["a@b.io logged in", "a***@b.io logged in"]


@pytest.mark.parametrize(
    "reference",
    [
        "os:system('touch {marker}')",
        "__import__('os').system('touch {marker}')",
        "$(touch {marker})",
        "tests.fixtures.toy_agents:good; touch {marker}",
        "`touch {marker}`",
        "{marker}.py; touch {marker}.py",
        "tests.fixtures.toy_agents:good && touch {marker}",
        "| touch {marker}",
    ],
)
def test_agent_reference_cannot_run_shell_commands(tmp_path, reference):
    marker = tmp_path / "pwned"
    with pytest.raises(HarnessError, match="agent reference"):
        resolve(reference.format(marker=marker), tmp_path)
    assert not marker.exists() and not Path(f"{marker}.py").exists()


def test_hostile_answers_are_escaped_and_masked_in_every_report_and_artifact(tmp_path):
    records = [
        case("html-in-question", f"Summarise {GOLDEN_SCRIPT}<img src=x onerror=\"document.title='pwned'\">", ["Paris"]),
        case("toy-001", "What is the capital of France?", ["Paris"]),
    ]
    golden = write_golden(tmp_path / "hostile.jsonl", records)
    project = make_project(
        tmp_path, agent="tests.reliability.hostile:hostile", golden=golden, ignore_suites=WITHOUT_LATENCY
    )

    result = project.pytest("--baseline", "tests.fixtures.toy_agents:good")

    assert result.returncode == 1, result.stdout[-3000:] + result.stderr[-3000:]  # the safety gate fails
    report = (project.root / "reports" / "latest").resolve()
    written = {p.name: p.read_text(encoding="utf-8") for p in report.iterdir() if p.suffix in (".json", ".md", ".html")}
    assert {"results.json", "summary.md", "comparison.html", "comparison.md"} <= set(written)
    for name, text in written.items():
        for secret in SECRETS:
            assert secret not in text, f"{secret} leaked into {name}"
    assert "[REDACTED]" in written["results.json"] and "c***@example.com" in written["results.json"]
    # The MLflow per-case table and the logged copies of the reports.
    client = project.client()
    run = client.search_runs([client.get_experiment_by_name("harness-evaluations").experiment_id])[0]
    local = Path(client.download_artifacts(run.info.run_id, "", str(tmp_path / "artifacts")))
    for path in [p for p in local.rglob("*") if p.is_file() and p.suffix in (".json", ".md", ".html")]:
        text = path.read_text(encoding="utf-8")
        for secret in SECRETS:
            assert secret not in text, f"{secret} leaked into MLflow artifact {path.relative_to(local)}"
    assert json.loads((local / "eval_results.json").read_text())["data"], "the per-case table was logged"

    # Real headless Chromium: the page loads, its own script runs, no injected script or handler does.
    control = tmp_path / "unescaped.html"  # proves the check can see a script that runs
    control.write_text(f"<html><body><p>{HOSTILE_ANSWER}</p>{GOLDEN_SCRIPT}</body></html>", encoding="utf-8")
    assert {"data-pwned", "data-golden-pwned"} <= body_attributes(render(control, tmp_path))
    dom = render(report / "comparison.html", tmp_path)
    assert "</html>" in dom, "Chromium did not render the page"
    assert not {"data-pwned", "data-golden-pwned"} & body_attributes(
        dom
    )  # neither the answer's nor the golden input's script ran
    assert "<title>pwned</title>" not in dom and "&lt;script&gt;" in dom  # shown as text, escaped


def render(page: Path, tmp_path: Path) -> str:
    """The DOM after load, as headless Chromium serializes it."""
    return subprocess.run(
        [chromium(), *CHROMIUM_FLAGS, f"--user-data-dir={tmp_path / 'chromium'}", "--dump-dom", page.as_uri()],
        capture_output=True,
        text=True,
        timeout=120,
    ).stdout


def body_attributes(dom: str) -> set[str]:
    body = dom.split("<body", 1)[1].split(">", 1)[0] if "<body" in dom else ""
    return {attr.split("=", 1)[0] for attr in body.split()}
