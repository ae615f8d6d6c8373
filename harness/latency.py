"""Latency beyond the per-case percentiles: benchmark cases, cold start, per-node breakdown.

- Representative cases: the pytest-benchmark suite (`suites/test_latency.py`) times one case per
  domain tag rather than the whole golden set, so it stays within seconds (its pytest-benchmark
  settings: `harness.plugin.benchmark`).
- Cold start: `Version.load_s` (import or `load_model`) and the first answer, timed alone before
  the interleaved run (see `runner.run_versions`), so lazy initialisation never lands in the warm
  percentiles that the gate reads.
- Per-node breakdown: `harness.tracking.traces`; the report sections: `harness.reports.latency`.
"""

from __future__ import annotations

from collections.abc import Sequence

from harness.golden import Case

DOMAIN_TAGS = ("cost", "security", "performance", "reliability", "quality")
GENERIC_CASES = 3  # benchmark cases taken from a golden set without domain tags


def representative_cases(cases: Sequence[Case], domains: Sequence[str] = DOMAIN_TAGS, generic: int = GENERIC_CASES) -> list[Case]:
    """The first case of each domain tag, in domain order; the first `generic` cases when no case has one."""
    picked = [next(c for c in cases if domain in c.tags) for domain in domains if any(domain in c.tags for c in cases)]
    unique = list({c.id: c for c in picked}.values())
    return unique or list(cases[:generic])
