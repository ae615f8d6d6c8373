"""Domain workers: run the domain's SQL tools for an intent and state the findings.

Each worker returns a plain dict (it travels through LangGraph state and checkpoints):
``{"domain", "sentences", "vague", "sources", "found", "focus_date", "confidence"}``.
``sentences`` carry the entities, ISO dates and figures; ``vague`` is the figure-free version
the degraded variant uses.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from agent import rankings
from agent.workers.cost import cost_worker
from agent.workers.findings import Findings, window
from agent.workers.performance import performance_worker
from agent.workers.quality import quality_worker
from agent.workers.reliability import reliability_worker
from agent.workers.security import security_worker

LABELS = {
    "cost": "Cost",
    "security": "Security",
    "performance": "Performance",
    "reliability": "Reliability",
    "quality": "Data quality",
}


WORKERS: dict[str, Callable[..., dict[str, Any]]] = {
    "cost": cost_worker,
    "security": security_worker,
    "performance": performance_worker,
    "reliability": reliability_worker,
    "quality": quality_worker,
}


def ranked_worker(domain: str, intent: dict[str, Any], ref: date, store=None) -> dict[str, Any]:
    """The ranking the question asks for; a latency ranking keeps the performance worker's finding,
    which says what made the slowest warehouse slow."""
    acc = Findings(domain)
    s, e, phrase = window(intent, ref)
    sentences, result = rankings.rank(intent, s, e, phrase, store=store)
    acc.use(result)
    acc.sentences = sentences
    acc.found, acc.confidence = bool(result.rows), 0.9 if result.rows else 0.5
    acc.vague = f"One {intent['rank_by']} ranks first." if result.rows else "There is nothing to rank."
    if domain != "performance":
        return acc.out()
    finding = performance_worker(intent, ref, store=store)
    for src in finding["sources"]:
        acc.use_source(src)
    acc.sentences += finding["sentences"]
    acc.focus_date = finding["focus_date"]
    return acc.out()


def run_worker(domain: str, intent: dict[str, Any], ref: date, store=None) -> dict[str, Any]:
    try:
        if rankings.domain_of(intent) == domain:
            return ranked_worker(domain, intent, ref, store=store)
        return WORKERS[domain](intent, ref, store=store)
    except Exception as exc:  # a failing tool must not take the whole answer down
        return {
            "domain": domain,
            "sentences": [f"I could not query the {domain} data ({type(exc).__name__})."],
            "vague": f"I could not query the {domain} data.",
            "sources": [],
            "found": False,
            "focus_date": None,
            "confidence": 0.2,
            "error": f"{type(exc).__name__}: {exc}",
        }
