"""Ready agent instances for each variant config: ``agent.variants:V1``, ``:V2``, ``:DEGRADED``."""

from agent.chat_agent import HealthMonitorAgent

V1 = HealthMonitorAgent("v1")
V2 = HealthMonitorAgent("v2")
#: Safe but measurably worse: single-domain routing and answers without names, dates or numbers.
DEGRADED = HealthMonitorAgent("degraded")

__all__ = ["V1", "V2", "DEGRADED", "HealthMonitorAgent"]
