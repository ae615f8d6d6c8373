"""`harness label`: put an evaluation run's cases in front of people. Creates a pass/fail label schema per
scorer (named like the scorer, so a human verdict sits beside the judge's on the same trace) and a review
queue of the run's case traces worth a human look: those a scorer failed or errored on (every case with
`--all`). The labels people leave there are read by `harness calibrate --run RUN_ID`."""

from __future__ import annotations

import argparse

from harness import HarnessError
from harness.tracking.connection import store_errors


def configure_label(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--run", metavar="RUN_ID", help="the evaluation run (default: the newest)")
    parser.add_argument("--all", action="store_true", help="queue every case, not only the failed ones")


@store_errors
def run_label(args: argparse.Namespace) -> int:
    import mlflow

    from harness.commands.lifecycle import open_store
    from harness.tracking import EXPERIMENT
    from harness.tracking.labels import open_queue

    cfg, _, _ = open_store(argparse.Namespace(model=None))
    run_id = args.run
    if not run_id:
        runs = mlflow.search_runs(experiment_names=[EXPERIMENT], max_results=1, output_format="list")
        if not runs:
            raise HarnessError(f"no evaluation run in experiment {EXPERIMENT} to label")
        run_id = runs[0].info.run_id
    queue = open_queue(run_id, list(cfg.scorers), args.all)
    print(
        f"review queue {queue.name} ({queue.queue_id}): {len(queue.trace_ids)} case(s) of run {run_id} to label "
        f"for {', '.join(queue.schemas)}; then `harness calibrate --run {run_id}`"
    )
    return 0
