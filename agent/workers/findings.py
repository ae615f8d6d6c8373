"""What a worker accumulates while it queries: sentences, sources, the day it focused on; and the
time window a question's intent covers."""

from __future__ import annotations

from datetime import date
from typing import Any

from agent.data import anomalies as A
from agent.tools import ToolResult


class Findings:
    """One worker's findings, returned as the plain dict that travels through the graph's state."""

    def __init__(self, domain: str):
        self.domain = domain
        self.sentences: list[str] = []
        self.sources: list[dict[str, str]] = []
        self.found = False
        self.focus_date: str | None = None
        self.confidence = 0.8
        self.vague = "I found nothing unusual."

    def use(self, res: ToolResult) -> ToolResult:
        for s in res.sources():
            self.use_source(s)
        return res

    def use_source(self, source: dict[str, str]) -> None:
        if source not in self.sources:
            self.sources.append(source)

    def out(self) -> dict[str, Any]:
        return {
            "domain": self.domain,
            "sentences": self.sentences,
            "vague": self.vague,
            "sources": self.sources,
            "found": self.found,
            "focus_date": self.focus_date,
            "confidence": self.confidence,
        }


def window(intent: dict[str, Any], ref: date, min_start: date | None = None) -> tuple[date, date, str]:
    """(start, end, phrase) for the intent's time scope; default: the whole period."""
    if intent.get("date"):
        d = date.fromisoformat(intent["date"])
        return d, d, f"on {d.isoformat()}"
    s = date.fromisoformat(intent["start"]) if intent.get("start") else A.START_DATE
    e = date.fromisoformat(intent["end"]) if intent.get("end") else ref
    if min_start and s < min_start:
        s = min_start
    return s, e, f"between {s.isoformat()} and {e.isoformat()}"
