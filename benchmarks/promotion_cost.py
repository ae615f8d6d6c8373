"""What evaluating the shipped artifact costs a session, before and after, on a throw-away SQLite store.

Before: the candidate was imported into the harness's process (its load time), and a passing
session logged it as a model at the end (`log_model`) and registered that. After: the candidate is
logged once before any case runs (in a throw-away process), loaded back from that artifact in its
own worker process, and a passing session registers the same logged model (no second `log_model`),
with the sealed record. Prints each step's wall time, the median of `--repeats` runs.

    python benchmarks/promotion_cost.py [--agent agent.chat_agent:AGENT] [--repeats 3]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")


def timed(step, *args, **kwargs):
    started = time.perf_counter()
    value = step(*args, **kwargs)
    return value, time.perf_counter() - started


def one_round(agent: str, store: Path) -> dict[str, float]:
    import mlflow

    from harness.tracking import EXPERIMENT
    from harness.tracking.connection import pip_requirements
    from harness.versions import resolve

    uri = f"sqlite:///{store / 'mlflow.db'}"
    os.environ["MLFLOW_TRACKING_URI"] = uri
    mlflow.set_tracking_uri(uri)
    mlflow.set_registry_uri(uri)
    mlflow.set_experiment(EXPERIMENT)
    figures: dict[str, float] = {}
    question = [{"role": "user", "content": "Why did costs spike yesterday?"}]

    # Before: import in process, answer, then log_model + register at the end of a passing session.
    version, figures["before: import in process"] = timed(resolve, agent, ROOT, "candidate")
    _, figures["before: first answer"] = timed(version.predict, question)
    code = version.model_code_path
    info, figures["before: log_model at finish"] = timed(
        mlflow.pyfunc.log_model, name="agent", python_model=code, model_config=version.model_config,
        code_paths=version.code_paths or None, pip_requirements=pip_requirements(ROOT))
    _, figures["before: register at finish"] = timed(mlflow.register_model, info.model_uri, "bench_before")

    # After, as a session does it: log once up front (own process) while a worker starts and imports
    # MLflow, hash the artifact, load it in that worker; at the end register that same logged model.
    from harness.agent_process.loader import IsolatedLoader
    from harness.config import load_config

    loader = IsolatedLoader(load_config(ROOT, {"agent": agent, "baseline": "none"}))
    isolated, figures["after: log + hash + load (own processes)"] = timed(loader, agent, ROOT, "candidate")
    _, figures["after: first answer"] = timed(isolated.predict, question)
    _, figures["after: register at finish"] = timed(mlflow.register_model, isolated.isolated.logged.model_uri, "bench_after")
    loader.close()
    figures["before: total"] = sum(v for k, v in figures.items() if k.startswith("before:") and k != "before: total")
    figures["after: total"] = sum(v for k, v in figures.items() if k.startswith("after:") and k != "after: total")
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--agent", default="agent.chat_agent:AGENT")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    rounds = []
    for _ in range(args.repeats):
        with tempfile.TemporaryDirectory() as store:
            rounds.append(one_round(args.agent, Path(store)))
    print(f"agent {args.agent}, SQLite store, median of {args.repeats} round(s), seconds")
    for name in rounds[0]:
        print(f"  {name:<44} {statistics.median(r[name] for r in rounds):7.2f}")
    extra = statistics.median(r["after: total"] - r["before: total"] for r in rounds)
    print(f"  {'extra per session (after - before)':<44} {extra:7.2f}   (target: at most 3 s)")


if __name__ == "__main__":
    main()
