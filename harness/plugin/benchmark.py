"""pytest-benchmark glue for the latency suite: where benchmarks are saved, and how long each takes.

Which cases are benchmarked is `harness.latency.representative_cases`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

# pytest-benchmark's own defaults: an option still at its default value was not set by the user.
BENCHMARK_DEFAULTS = {
    "benchmark_storage": "file://./.benchmarks",
    "benchmark_max_time": 1.0,
    "benchmark_warmup_iterations": 100000,
}


def apply_benchmark_defaults(option: Any, report_path: Path) -> None:
    """Default pytest-benchmark to saving under `<reports>/benchmarks`, with a short warm-up and 0.5 s per benchmark.

    Agent calls take milliseconds to seconds, so pytest-benchmark's 1 s and 100000 warm-up
    iterations would make each benchmark take seconds; three warm-up calls take the first-call
    effects out while keeping the suite within its budget. Options the user gave are kept.
    """
    if getattr(option, "benchmark_storage", None) is None:
        return  # pytest-benchmark is not loaded in this session
    if option.benchmark_storage == BENCHMARK_DEFAULTS["benchmark_storage"]:
        option.benchmark_storage = f"file://{report_path / 'benchmarks'}"
        option.harness_autosave = True  # see enable_benchmark_autosave
    if float(option.benchmark_max_time) == BENCHMARK_DEFAULTS["benchmark_max_time"]:
        from pytest_benchmark.utils import parse_seconds

        option.benchmark_max_time = parse_seconds("0.5")
    if option.benchmark_warmup_iterations == BENCHMARK_DEFAULTS["benchmark_warmup_iterations"]:
        option.benchmark_warmup = True
        option.benchmark_warmup_iterations = 3


def enable_benchmark_autosave(config: Any) -> None:
    """Autosave the benchmarks of this session into the storage that `apply_benchmark_defaults` chose.

    Called once benchmark tests are collected: switched on for every session, pytest-benchmark
    would warn in each one that runs none (the project's own tests, say).
    """
    session = getattr(config, "_benchmarksession", None)
    if session is None or not getattr(config.option, "harness_autosave", False) or session.save or session.autosave:
        return
    from pytest_benchmark.utils import get_tag

    session.autosave = get_tag()  # the name --benchmark-autosave gives: counter_commit_date


def quiet_benchmarks(config: Any) -> None:
    """pytest-benchmark's table (200+ columns) and its "Saved benchmark data" line only under -v: the
    reports hold the figures, and the gate table is what a session ends with."""
    session = getattr(config, "_benchmarksession", None)
    if session is None or config.get_verbosity() > 0:
        return
    session.logger.level = session.logger.QUIET
    session.display = lambda terminalreporter: None  # this session's own table, nothing else of the plugin's
