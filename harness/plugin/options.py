"""The harness's command-line options, and the configuration overrides they make."""

from __future__ import annotations

from typing import Any

import pytest

from harness import HarnessError


def add_options(parser: pytest.Parser) -> None:
    group = parser.getgroup("harness", "agent evaluation harness")
    group.addoption("--agent", help="agent reference to evaluate (overrides [tool.harness] agent)")
    group.addoption("--baseline", help="reference to compare the agent against")
    group.addoption(
        "--versions", help="comma-separated references; the first is the candidate, each other is compared against it"
    )
    group.addoption(
        "--golden",
        action="append",
        help="golden JSONL file or mlflow-dataset:NAME[@VERSION] (repeatable; replaces [tool.harness] golden)",
    )
    group.addoption("--judge-model", dest="judge_model", help="LLM judge model URI, e.g. openai:/gpt-4o-mini")
    # LLM judges: the judge cache and judge repeats.
    group.addoption(
        "--judge-cache", dest="judge_cache", choices=["on", "off"], help="reuse cached judge answers (default on)"
    )
    group.addoption(
        "--judge-repeats",
        dest="judge_repeats",
        type=int,
        help="score each answer N times with each LLM judge and report flips",
    )
    group.addoption("--promote-to", dest="promote_to", help="alias to move when the gate passes")
    group.addoption("--no-promote", dest="no_promote", action="store_true", help="log the run but move no alias")
    group.addoption("--report-dir", dest="report_dir", help="where reports are written (default reports/)")
    group.addoption(
        "--threshold",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="override one gate threshold (repeatable)",
    )
    group.addoption("--concurrency", type=int, help="agent calls in flight at once")
    group.addoption(
        "--case-timeout", dest="case_timeout_s", type=float, help="seconds before a case is abandoned as timed out"
    )
    group.addoption("--repeats", type=int, help="run each case N times and report answer flip rates")
    group.addoption(
        "--require-baseline",
        dest="require_baseline",
        action="store_true",
        default=None,
        help="fail when the baseline cannot be loaded",
    )
    group.addoption(
        "--in-process",
        dest="in_process",
        action="store_true",
        default=False,
        help="fast local loop: run the agent inside this process, not from its logged artifact; never promotes",
    )


def overrides(config: pytest.Config) -> dict[str, Any]:
    """The options given, as `load_config` overrides (None: not given)."""
    opt = config.option
    thresholds: dict[str, str] = {}
    for item in opt.threshold:
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            raise HarnessError(f"--threshold {item!r}: expected NAME=VALUE, e.g. correctness=0.9")
        thresholds[name.strip()] = value.strip()
    return {
        "agent": opt.agent,
        "baseline": opt.baseline,
        "versions": opt.versions,
        "golden": opt.golden,
        "judge_model": opt.judge_model,
        "judge_cache": opt.judge_cache,
        "judge_repeats": opt.judge_repeats,
        "promote_to": opt.promote_to,
        "promote": False if opt.no_promote else None,
        "report_dir": opt.report_dir,
        "thresholds": thresholds or None,
        "concurrency": opt.concurrency,
        "case_timeout_s": opt.case_timeout_s,
        "repeats": opt.repeats,
        "require_baseline": opt.require_baseline,
        "in_process": True if opt.in_process else None,
    }
