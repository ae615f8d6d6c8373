"""`harness log REPORT_DIR`: finish what a session could not log; promote only on a signed record."""

from __future__ import annotations

import argparse
from pathlib import Path


def configure_log(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "report_dir", type=Path, help="a report folder written by `pytest suites/`, e.g. reports/latest"
    )
    parser.add_argument("--no-promote", dest="no_promote", action="store_true", help="log the run but move no alias")


def run_log(args: argparse.Namespace) -> int:
    from harness.publish import log_report

    lines, failed = log_report(args.report_dir, promote=not args.no_promote)
    print("\n".join(lines))
    return 1 if failed else 0
