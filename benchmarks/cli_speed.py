"""How long `harness status`, `verify`, `history`, `promote` and `rollback` take, and how wide their tables are.

Builds a throw-away project with `harness init` and a SQLite store holding two registered versions
(two real `pytest suites/` sessions of the example agent), then runs each command as a user would,
in a fresh process, and prints its wall time (the median of `--repeats` runs for the read-only
commands; one move each for promote and rollback) and the widest line it printed. For scale it
also times the floor every command pays: starting Python, `import mlflow` and opening the store
with `MlflowClient` (one registry read). `harness verify` on one alias re-reads its version's record
and hashes its artifact files again; it should take at most 0.5 s more than `harness status`, and
`status`, `history`, `promote` and `rollback` at most 0.5 s more than the floor.

    python benchmarks/cli_speed.py [--repeats 3]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

MODEL = "my_agent"


def environment(store: Path) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("HARNESS_", "PYTEST_", "MLFLOW_")) and k != "PYTHONPATH"
    }
    # The commands of this checkout, whichever one the environment installed.
    return env | {
        "MLFLOW_TRACKING_URI": f"sqlite:///{store}",
        "MLFLOW_DISABLE_TELEMETRY": "true",
        "DEEPEVAL_TELEMETRY_OPT_OUT": "1",
        "PYTHONPATH": str(Path(__file__).resolve().parents[1]),
    }


def timed(argv: list[str], cwd: Path, env: dict[str, str]) -> tuple[float, str]:
    started = time.perf_counter()
    done = subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=600)
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        sys.exit(f"{' '.join(argv)} failed ({done.returncode}):\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}")
    return elapsed, done.stdout


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="cli-speed-") as tmp:
        project, env = Path(tmp) / "project", environment(Path(tmp) / "mlflow.db")
        project.mkdir()
        harness = [sys.executable, "-m", "harness.cli"]
        timed([*harness, "init"], project, env)
        print("building the store: two `pytest suites/` sessions of the example agent ...", flush=True)
        for _ in range(2):  # version 1, then version 2 at @development: something to roll back from
            timed([sys.executable, "-m", "pytest", "suites/", "-q"], project, env)

        floor = f"import mlflow; mlflow.MlflowClient().get_registered_model({MODEL!r})"
        runs: list[tuple[str, list[str], int]] = [
            ("python -c pass", [sys.executable, "-c", "pass"], args.repeats),
            ("import mlflow + open the store", [sys.executable, "-c", floor], args.repeats),
            ("harness status", [*harness, "status"], args.repeats),
            ("harness verify @development", [*harness, "verify", f"models:/{MODEL}@development"], args.repeats),
            ("harness history", [*harness, "history"], args.repeats),
            ("harness promote --to staging", [*harness, "promote", "--to", "staging"], 1),
            ("harness rollback development", [*harness, "rollback", "development"], 1),
        ]
        print(f"{'command':<32} {'wall s (median)':>16} {'runs':>5} {'widest line':>12}")
        medians: dict[str, float] = {}
        for label, argv, repeats in runs:
            times, widest = [], 0
            for _ in range(repeats):
                elapsed, out = timed(argv, project, env)
                times.append(elapsed)
                # The first line of `status` names the store (a path); the tables follow it.
                lines = out.splitlines()[1:] if label == "harness status" else out.splitlines()
                widest = max([widest, *(len(line) for line in lines)])
            medians[label] = statistics.median(times)
            print(
                f"{label:<32} {medians[label]:>16.2f} {repeats:>5} {widest if label.startswith('harness') else '':>12}"
            )
        extra = medians["harness verify @development"] - medians["harness status"]
        print(f"harness verify takes {extra:+.2f} s against harness status (budget: at most +0.50 s)")
        floor = medians["import mlflow + open the store"]
        for label in (
            "harness status",
            "harness history",
            "harness promote --to staging",
            "harness rollback development",
        ):
            print(f"{label} takes {medians[label] - floor:+.2f} s against the floor (budget: at most +0.50 s)")


if __name__ == "__main__":
    main()
