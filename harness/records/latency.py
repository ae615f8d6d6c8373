"""Per-node latency records: where one version's answer time goes, from its traced answers."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class NodeStat:
    """Time spent in one node (or LLM / tool call) of an agent, summed over the traced answers."""

    name: str
    kind: str  # "node" for a LangGraph node, else the MLflow span type (CHAT_MODEL, TOOL, ...)
    calls: int
    total_ms: float
    share: float  # total_ms / the answers' total time; parallel nodes can sum past 1

    @property
    def mean_ms(self) -> float:
        return self.total_ms / self.calls if self.calls else 0.0

    def to_dict(self) -> dict[str, Any]:
        return {**dataclasses.asdict(self), "mean_ms": self.mean_ms}


@dataclass(frozen=True)
class NodeBreakdown:
    """Where one version's answer time goes, from the traces of its representative cases."""

    label: str
    reference: str
    answers: int  # traced answers read back from the store
    answer_ms: float  # sum of the root spans' durations
    nodes: list[NodeStat] = field(default_factory=list)
    trace_ids: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    asked: int = 0  # cases answered under tracing

    def to_dict(self) -> dict[str, Any]:
        return {
            "label": self.label,
            "reference": self.reference,
            "answers": self.answers,
            "answer_ms": self.answer_ms,
            "nodes": [n.to_dict() for n in self.nodes],
            "trace_ids": self.trace_ids,
            "errors": self.errors,
            "asked": self.asked,
        }
