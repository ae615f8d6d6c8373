"""Ready agent instances for each variant config: ``agent.variants:V1``, ``:V2``, ``:DEGRADED``,
two hidden-route regressions of v1 that only a trajectory check sees: ``:FAN_OUT``, ``:SKIPS_WORKER``,
and ``:FORGETFUL``, v1 that forgets the previous turn, which the multi-turn cases catch."""

from __future__ import annotations

from typing import Any

from langgraph.types import Send

from agent.chat_agent import HealthMonitorAgent
from agent.graph import DOMAINS, HealthMonitor

V1 = HealthMonitorAgent("v1")
V2 = HealthMonitorAgent("v2")
#: Safe but measurably worse: single-domain routing and answers without names, dates or numbers.
DEGRADED = HealthMonitorAgent("degraded")


class _FanOutEngine(HealthMonitor):
    """Queries every domain worker for any answerable question, then answers from the routed ones only."""

    def _route(self, state: Any) -> Any:
        it = state["intent"]
        if it.get("kind") != "answer" or not it.get("domains"):
            return "synthesize"
        return [Send(d, {"domain": d, "intent": it}) for d in DOMAINS]

    def _synthesize(self, state: Any) -> dict[str, Any]:
        routed = set(state["intent"].get("domains") or [])
        return super()._synthesize(
            {**state, "results": [r for r in state.get("results") or [] if r["domain"] in routed]}
        )


class _SkipsWorkerEngine(HealthMonitor):
    """Leaves the last routed worker out of every question that needs more than one."""

    def _route(self, state: Any) -> Any:
        routed = super()._route(state)
        return routed[:-1] if isinstance(routed, list) and len(routed) > 1 else routed


class _ForgetfulEngine(HealthMonitor):
    """Answers every call as a new conversation: no checkpointed memory and no earlier messages."""

    def _inputs(self, messages: Any, conversation_id: Any, user_id: Any) -> Any:
        return super()._inputs(self.normalize_messages(messages)[-1:], None, user_id)


class _RouteVariant(HealthMonitorAgent):
    """v1 with another engine: logged through a generated models-from-code file that imports this
    module (v1's own file would rebuild the plain engine)."""

    def __init__(self, engine: type[HealthMonitor]) -> None:
        super().__init__("v1")
        self.engine = engine(self.model_config)
        self.model_code_path = None  # type: ignore[assignment]


#: Same answers as v1, but a cost question runs all five workers: slower and costlier, invisible to answer checks.
FAN_OUT = _RouteVariant(_FanOutEngine)
#: Skips a needed worker on multi-domain questions (a summary misses data quality).
SKIPS_WORKER = _RouteVariant(_SkipsWorkerEngine)
#: Forgets the previous turn: a follow-up ("and the day before?") is answered as a first question.
FORGETFUL = _RouteVariant(_ForgetfulEngine)

__all__ = ["V1", "V2", "DEGRADED", "FAN_OUT", "SKIPS_WORKER", "FORGETFUL", "HealthMonitorAgent"]
