"""What evaluating the shipped artifact costs a session, before and after, on a SQLite store.

Each path runs in a fresh Python process, timed from its start, as the harness's side of a session
runs it (the store exists already, as after a project's first session):

- before: the candidate was imported into the harness's process, answered there, and a passing
  session logged it as a model at the end (`log_model`) and registered that;
- after: the agent processes are started ahead (as collection starts), the candidate is saved once
  in its own process, logged and hashed by the harness, loaded back from that artifact in a worker
  process, and a passing session registers that same logged model (no second `log_model`); once
  unconfined (`HARNESS_SANDBOX=none`) and once in the bubblewrap sandbox, so the sandbox's own cost
  shows as the difference (target: at most 0.5 s).

Both include what the harness's process does anyway (import MLflow, point it at the store). Prints
each step's wall time, the median of `--repeats` rounds, and the extra seconds per session. The
after path uses the project's import hint (`.harness-cache/agent-imports.json`, written by each
session) when there is one: a project's first session, with none, pays about 3 s more.

    python benchmarks/promotion_cost.py [--agent agent.chat_agent:AGENT] [--repeats 3]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
QUESTION = [{"role": "user", "content": "Why did costs spike yesterday?"}]


def before(agent: str) -> dict[str, float]:
    figures = {"import MLflow, connect": time.perf_counter()}
    import mlflow

    from harness.tracking.connection import connect, pip_requirements
    from harness.versions.resolve import resolve

    connect(ROOT)
    figures["import in process"] = time.perf_counter()
    version = resolve(agent, ROOT, "candidate")
    figures["first answer"] = time.perf_counter()
    version.predict(QUESTION)
    figures["log_model at finish"] = time.perf_counter()
    info = mlflow.pyfunc.log_model(
        name="agent",
        python_model=version.model_code_path,
        model_config=version.model_config,
        code_paths=version.code_paths or None,
        pip_requirements=pip_requirements(ROOT),
    )
    figures["register at finish"] = time.perf_counter()
    mlflow.register_model(info.model_uri, "bench_before")
    return figures


def after(agent: str) -> dict[str, float]:
    from harness.config import load_config
    from harness.versions.process.loader import IsolatedLoader

    figures = {"start agent processes ahead": time.perf_counter()}
    loader = IsolatedLoader(load_config(ROOT, {"agent": agent, "baseline": "none"}))
    loader.start()
    figures["import MLflow, connect"] = time.perf_counter()
    import mlflow

    from harness.tracking.connection import connect

    connect(ROOT)
    figures["log + hash + load (own processes)"] = time.perf_counter()
    isolated = loader(agent, ROOT, "candidate")
    figures["first answer"] = time.perf_counter()
    isolated.predict(QUESTION)
    figures["register at finish"] = time.perf_counter()
    mlflow.register_model(isolated.isolated.logged.model_uri, "bench_after")
    loader.close()
    return figures


def child(path: str, agent: str) -> None:
    """One path, in this fresh process: step -> seconds, printed as JSON on the last line."""
    marks = {"before": before, "after": after}[path](agent)
    marks["end"] = time.perf_counter()
    names = list(marks)
    steps = {name: marks[nxt] - marks[name] for name, nxt in zip(names, names[1:])}
    steps["total (from process start)"] = time.perf_counter() - STARTED
    print(json.dumps(steps))


SANDBOX = {"before": "none", "after, unconfined": "none", "after, sandboxed": ""}


def run_child(path: str, agent: str, uri: str) -> dict[str, float]:
    env = {
        **os.environ,
        "MLFLOW_TRACKING_URI": uri,
        "MLFLOW_DISABLE_TELEMETRY": "true",
        "HARNESS_SANDBOX": SANDBOX[path],
    }
    done = subprocess.run(
        [sys.executable, __file__, "--child", path.split(",")[0], "--agent", agent],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        sys.exit(f"{path} path failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--agent", default="agent.chat_agent:AGENT")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--child", choices=["before", "after"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.agent)
        return
    hint = "with" if (ROOT / ".harness-cache" / "agent-imports.json").is_file() else "without (first round)"
    rounds: dict[str, list[dict[str, float]]] = {path: [] for path in SANDBOX}
    for _ in range(args.repeats):
        with tempfile.TemporaryDirectory() as store:
            uri = f"sqlite:///{Path(store) / 'mlflow.db'}"
            import mlflow

            mlflow.MlflowClient(uri).search_experiments()  # the store exists, as after a first session
            for path in rounds:
                rounds[path].append(run_child(path, args.agent, uri))
    print(f"agent {args.agent}, SQLite store, median of {args.repeats} round(s), {hint} the import hint, seconds")
    for path, runs in rounds.items():
        for name in runs[0]:
            print(f"  {path + ': ' + name:<48} {statistics.median(r[name] for r in runs):7.2f}")
    key = "total (from process start)"
    extra = statistics.median(a[key] - b[key] for a, b in zip(rounds["after, sandboxed"], rounds["before"]))
    print(f"  {'extra per session (after, sandboxed - before)':<48} {extra:7.2f}   (target: at most 3 s)")
    sandbox = statistics.median(
        a[key] - b[key] for a, b in zip(rounds["after, sandboxed"], rounds["after, unconfined"])
    )
    print(f"  {'the sandbox (sandboxed - unconfined)':<48} {sandbox:7.2f}   (target: at most 0.5 s)")


STARTED = time.perf_counter()
sys.path.insert(0, str(ROOT))
os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")

if __name__ == "__main__":
    main()
