"""How each version was called, for the reports: what its latency measured, and what an endpoint's
calls cost in retries (rate limits and server errors are reported, not hidden).

An endpoint answer carries `metadata["endpoint"]` (see `harness.versions.endpoints.client.Reply.stats`):
the retries it needed, the time slept between attempts and why each retry happened. The service
latency of such an answer is its end-to-end latency less those retry waits.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from harness.reports.format import ms

if TYPE_CHECKING:
    from harness.records.results import VersionResult

IN_PROCESS = "in_process"
ISOLATED = "isolated"
ENDPOINT = "endpoint"
MEASURED = {
    IN_PROCESS: "in process: the bare predict call",
    ISOLATED: "from its own process: the call through the worker process's socket",
    ENDPOINT: "endpoint: the HTTP round trip, including the serving stack and retry waits",
}
SERVICE = "service latency, retry waits excluded"


def measured_kind(version: VersionResult, in_process: bool) -> str:
    """What a version's latency measured: an endpoint, its own process, or the harness's process.

    A version read back from results.json or merged from xdist workers has no loaded `Version`:
    outside `--in-process` every version that is not an endpoint answers from its own process.
    """
    if version.kind.startswith(ENDPOINT):
        return ENDPOINT
    if version.version is not None:
        return IN_PROCESS if version.version.isolated is None else ISOLATED
    return IN_PROCESS if in_process else ISOLATED


def _number(value: Any) -> float:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else 0.0


@dataclass(frozen=True)
class EndpointCalls:
    """One endpoint version's answered calls (a failed call's retries are said in its error)."""

    cases: int  # cases with at least one answered call
    cases_retried: int
    retries: int
    retry_wait_ms: float
    by_reason: dict[str, int]
    service_ms: list[float] = field(repr=False)  # per case without an agent error: latency_ms − retry_wait_ms

    def to_dict(self) -> dict[str, Any]:
        return {
            "cases": self.cases,
            "cases_retried": self.cases_retried,
            "retries": self.retries,
            "retry_wait_ms": round(self.retry_wait_ms, 1),
            "retried_on": dict(self.by_reason),
        }


def endpoint_calls(version: VersionResult) -> EndpointCalls | None:
    """The retry figures of an endpoint version's answers (repeats included); None for other versions."""
    if not version.kind.startswith(ENDPOINT):
        return None
    cases = retried = retries = 0
    wait_ms = 0.0
    reasons: Counter[str] = Counter()
    service: list[float] = []
    for result in version.results.values():
        answered = [
            (n, o, stats)
            for n, o in enumerate([result.output, *result.repeats])
            if isinstance(stats := o.metadata.get(ENDPOINT), Mapping)
        ]
        cases += bool(answered)
        retried += any(_number(stats.get("retries")) > 0 for _, _, stats in answered)
        for n, output, stats in answered:
            retries += int(_number(stats.get("retries")))
            waited = _number(stats.get("retry_wait_ms"))
            wait_ms += waited
            reasons.update(str(r) for r in stats.get("retried_on") or [])
            if n == 0 and output.error is None:  # the first answer is the one the latency percentiles read
                service.append(max(0.0, output.latency_ms - waited))
    return EndpointCalls(cases, retried, retries, wait_ms, dict(reasons.most_common()), service)


ENDPOINT_HEADERS = ["version", "cases retried", "retries", "retry wait ms", "retried on"]


def endpoint_rows(versions: list[VersionResult]) -> list[list[str]]:
    """One row per endpoint version among `versions` (plain text; the writer escapes it)."""
    rows = []
    for version in versions:
        calls = endpoint_calls(version)
        if calls is not None:
            reasons = ", ".join(f"{reason}: {count}" for reason, count in calls.by_reason.items()) or "none"
            rows.append(
                [
                    version.label,
                    f"{calls.cases_retried} of {calls.cases}",
                    str(calls.retries),
                    ms(calls.retry_wait_ms),
                    reasons,
                ]
            )
    return rows


def measured_lines(versions: list[VersionResult], in_process: bool) -> list[str]:
    """`candidate (ref): from its own process: ...`, one per version (plain text)."""
    return [f"{v.label} ({v.reference}): {MEASURED[measured_kind(v, in_process)]}" for v in versions]
