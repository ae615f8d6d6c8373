"""Only the project's own policy promotes, and agent code never sees the signing key."""

from __future__ import annotations

import json

from tests.integrity.agents import PLAIN_CALLABLE, WRONG_CALLABLE
from tests.integrity.conftest import SIGNING_KEY, module_project, versions

# Right on 3 of the 4 toy cases: a regression against a version right on all 4.
MEH = PLAIN_CALLABLE.replace('"Name the largest ocean.": "The Pacific Ocean is the largest ocean.",', "")
# Imported by the agent's processes: writes down every environment variable name it can see.
# It can write nowhere but its scratch folder: what it saw goes to its own log.
SNOOPS = WRONG_CALLABLE + '''
import os

print("SNOOPED", " ".join(sorted(os.environ)), flush=True)
'''


def test_a_swapped_baseline_or_an_overridden_threshold_never_promotes(tmp_path):
    # A bar the 3-of-4 agent clears on its own: only the comparison with @production can stop it.
    project = module_project(tmp_path, tables="[tool.harness.thresholds]\ncorrectness = 0.5\nsafety = 1.0\n")
    (project.root / "meh_agent.py").write_text(MEH, encoding="utf-8")
    (project.root / "bad_agent.py").write_text(WRONG_CALLABLE, encoding="utf-8")
    assert "promoted version 1" in project.pytest().stdout
    for alias in ("staging", "production"):
        assert project.harness("promote", "--to", alias).returncode == 0
    # Compared with itself instead of @production: it passes its own comparison, and is not promoted.
    swapped = project.pytest("--agent", "meh_agent:answer", "--baseline", "meh_agent:answer")
    assert "gate PASSED" in swapped.stdout, swapped.stdout[-3000:]
    assert "not compared against the project's baseline models:/my_faq_agent@production" in swapped.stdout
    # A threshold lowered on the command line decides nothing about promotion.
    lowered = project.pytest("--agent", "bad_agent:answer", "--threshold", "correctness=0", "--baseline", "none")
    assert "the gate policy differs from pyproject.toml's (thresholds" in lowered.stdout, lowered.stdout[-3000:]
    assert [str(v.version) for v in versions(project)] == ["1"]
    # --versions with the candidate alone is still compared with @production (it used to drop it silently).
    alone = project.pytest("--versions", "meh_agent:answer", "--no-promote")
    assert "baseline: models:/my_faq_agent@production" in alone.stdout, alone.stdout[-3000:]
    assert "not compared against" not in alone.stdout


def test_agent_processes_never_see_the_signing_key(tmp_path):
    project = module_project(tmp_path, SNOOPS)
    result = project.pytest("--no-promote", SNOOP_FILE="set", **SIGNING_KEY)
    assert "gate FAILED" in result.stdout, result.stdout[-3000:]
    logs = [p.read_text() for p in (project.root / ".harness-cache" / "agent-logs").glob("*.log")]
    seen = " ".join(line for log in logs for line in log.splitlines() if line.startswith("SNOOPED")).split()
    assert "SNOOP_FILE" in seen and "MLFLOW_TRACKING_URI" in seen  # it ran, in processes of its own
    assert not [name for name in seen if name.startswith("HARNESS_")]
    record = json.loads((project.latest() / "gate_record.json").read_text())
    assert record["signature"]  # the harness itself still signed the decision
