"""Targets of the processes that race each other in test_race.py (spawned: importable by name)."""

from __future__ import annotations

import io
import os
import time
from contextlib import redirect_stderr, redirect_stdout


def harness_command(project: str, tracking_uri: str, argv: list[str], barrier, results) -> None:
    """Run `harness ARGV` in-process, holding back the move until every racer has decided."""
    os.environ["MLFLOW_TRACKING_URI"] = tracking_uri
    os.chdir(project)
    from harness.cli import main
    from harness.tracking import policy

    decide_then_move = policy.move_alias

    def move_when_all_decided(*args, **kwargs):
        barrier.wait(timeout=90)  # both processes have read the alias and passed the policy
        return decide_then_move(*args, **kwargs)

    policy.move_alias = move_when_all_decided
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        try:
            code = main(argv)
        except BaseException as exc:  # reported to the test, which fails with it
            code, err = -1, io.StringIO(repr(exc))
    results.put((argv, code, out.getvalue(), err.getvalue()))


def hold_lock(tracking_uri: str, model_name: str, rounds: int, hold_s: float, barrier, results) -> None:
    """Take the registry lock `rounds` times, reporting when each hold began and ended."""
    import mlflow

    from harness.tracking.lock import registry_lock

    mlflow.set_tracking_uri(tracking_uri)
    mlflow.set_registry_uri(tracking_uri)
    barrier.wait(timeout=90)
    spans = []
    try:
        for _ in range(rounds):
            with registry_lock(model_name, f"test holder {os.getpid()}", timeout_s=60):
                start = time.time()
                time.sleep(hold_s)
                spans.append((start, time.time()))
    except BaseException as exc:
        results.put((os.getpid(), repr(exc)))
        return
    results.put((os.getpid(), spans))
