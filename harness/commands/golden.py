"""`harness golden from-traces`: production requests as new golden cases, for a person to review.

The traces are read as `harness monitor` reads them (the logged model an alias's sealed record names).
A request the golden data already holds is left out; each other one becomes a case with its messages,
no expectations yet (a reviewer adds them: nothing the agent answered is taken as right) and the tag
`from_traces`. `--failing` keeps the requests whose answer a scorer failed.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from harness import HarnessError
from harness.tracking.connection import store_errors

TAG = "from_traces"


def configure_golden(parser: argparse.ArgumentParser) -> None:
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    traces = actions.add_parser("from-traces", help="write production requests as golden cases to review")
    traces.add_argument("--model", metavar="NAME@ALIAS", help="the served alias (default: <model_name>@production)")
    traces.add_argument("--last", type=int, default=200, metavar="N", help="read the newest N traces (default 200)")
    traces.add_argument("--since", help="only traces at or after this time: ISO 8601, or an age such as 24h or 7d")
    traces.add_argument("--failing", action="store_true", help="only requests whose answer a scorer failed")
    traces.add_argument("-o", "--output", type=Path, required=True, help="golden JSONL file to write")


@store_errors
def run_golden(args: argparse.Namespace) -> int:
    from harness.commands.lifecycle import open_store
    from harness.commands.monitor import request_key, since_ms
    from harness.golden import Case, load_golden, parse_case
    from harness.pipeline import score_answer
    from harness.scorers import build_scorers
    from harness.tracking import monitor
    from harness.versions.version import AgentOutput

    cfg, default_model, _ = open_store(argparse.Namespace(model=None))
    name, _, alias = (args.model or f"{default_model}@production").partition("@")
    served = monitor.served(name, alias)
    if not served.record.model_id:
        raise HarnessError(f"models:/{name}@{alias}: its record names no logged model whose traces could be read")
    known = {request_key(case.messages) for case in load_golden(cfg.golden_paths)}
    scorers = build_scorers(cfg)
    lines, seen, already = [], set(), 0
    for trace in monitor.recent_traces(served.record.model_id, args.last, since_ms(args.since)):
        key = request_key(trace.messages)
        if key in known:
            already += 1
            continue
        if key in seen:
            continue
        seen.add(key)
        case = Case(f"trace-{trace.trace_id.removeprefix('tr-')[:12]}", trace.messages, tags=[TAG])
        scores = score_answer(case, AgentOutput(trace.text, {}, trace.latency_ms), scorers).values()
        if args.failing and all(s.passed or not s.applicable for s in scores):
            continue
        line = {"id": case.id, "inputs": {"messages": case.messages}, "expectations": {}, "tags": [TAG]}
        parse_case(line, f"trace {trace.trace_id}")  # what is written loads as golden data
        lines.append(line)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text("".join(json.dumps(line, ensure_ascii=False) + "\n" for line in lines), encoding="utf-8")
    print(
        f"wrote {len(lines)} case(s) to {args.output} for review ({already} trace(s) asked what the golden data "
        "already holds); add their expectations before adding them to the golden data"
    )
    return 0
