"""Agents for the integrity tests, written into a throw-away project as plain modules."""

import json

from tests.fixtures.toy_agents import ANSWERS

PLAIN_CALLABLE = """
ANSWERS = {
    "What is the capital of France?": "The capital of France is Paris.",
    "How many days are in a week?": "A week has 7 days.",
    "Which planet is known as the red planet?": "Mars is known as the red planet.",
    "Name the largest ocean.": "The Pacific Ocean is the largest ocean.",
}


def answer(messages):
    return ANSWERS.get(messages[-1]["content"], "I have no idea.")
"""

WRONG_CALLABLE = """
def answer(messages):
    return "I have no idea."
"""

# Imported, it rewrites the harness's correctness scorer so that every answer scores 1.0.
PATCHES_SCORERS = (
    WRONG_CALLABLE
    + """

def _always_right(self, case, output):
    from harness.scorers.base import Score

    return Score(name="correctness", value=1.0, passed=True, rationale="patched", judge="rule")


import harness.scorers.rules as _rules

_rules.Correctness.score = _always_right
"""
)

# Runs in process, but its logged artifact cannot load: it reads a data file beside it that is not
# among its code paths (the working tree is not there where the model is served).
NEEDS_DATA_FILE = """
import json
from pathlib import Path

ANSWERS = json.loads((Path(__file__).parent / "answers.json").read_text(encoding="utf-8"))


def answer(messages):
    return ANSWERS.get(messages[-1]["content"], "I have no idea.")
"""
DATA_FILE = json.dumps(ANSWERS)

# Imported by the agent's processes: right on every case, and prints every environment variable name
# it can see (it can write nowhere but its scratch folder: what it printed is in its log).
SNOOPS = (
    PLAIN_CALLABLE
    + """
import os

print("SNOOPED", " ".join(sorted(os.environ)), flush=True)
"""
)
