"""`python -m agent` from the shell."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def run(*args, input=None):
    return subprocess.run(
        [sys.executable, "-m", "agent", *args], capture_output=True, text=True, cwd=ROOT, input=input, timeout=60
    )


def test_plain_and_json():
    p = run("Why did costs spike yesterday?")
    assert p.returncode == 0 and "nightly_customer_etl" in p.stdout and "Sources:" in p.stdout
    p = run("--json", "--config", "v1", "Which tables are stale?")
    data = json.loads(p.stdout)
    assert data["custom_outputs"]["domains"] == ["quality"] and "main.sales.orders" in data["messages"][0]["content"]


def test_stream_and_config():
    p = run("--stream", "--json", "Give me a health summary")
    lines = [json.loads(x) for x in p.stdout.splitlines()]
    assert len(lines) == 7 and lines[-1]["custom_outputs"]["domains"] == [
        "cost",
        "security",
        "performance",
        "reliability",
        "quality",
    ]
    p = run("--stream", "--config", "degraded", "Give me a health summary")
    assert p.returncode == 0 and "nightly_customer_etl" not in p.stdout and "Cost:" in p.stdout
    p = run("--config", "nope", "hi")
    assert p.returncode == 2 and "unknown agent config" in p.stderr
    p = run(input="Which jobs failed yesterday?\n")
    assert "hourly_orders_sync" in p.stdout
