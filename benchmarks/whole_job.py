"""The whole evaluation job, as a user runs it, against deepeval.evaluate and mlflow.genai.evaluate.

    python benchmarks/whole_job.py [--cases 500] [--repeats 3] [--scale 10] [--endpoint]

Builds a `harness init` project outside this repository whose golden file holds `--cases` cases
(the template's three, repeated under new ids) for its instant example agent, then times whole
processes from outside, start-up and exit included, alternating the tools within each round:

- harness: `pytest suites/ -q --no-promote` (every rule-based scorer, the gate, the latency suite,
  the reports, the MLflow run; the agent answers from its logged artifact, in its own process);
- deepeval: `deepeval.evaluate` over the same cases, the same agent and the same four rule-based
  scorers as deepeval metrics, without Confident AI;
- mlflow: `mlflow.genai.evaluate` with the same scorers as MLflow scorers, into a SQLite store.

Printed: the median wall time of each, the peers' ratios to the harness, and where the harness's
time goes (phases read by a pytest plugin of this benchmark, `job_phases.py`). `--scale 10` also
times the harness on ten times the cases (the growth must stay linear: at most 10x). `--endpoint`
times an endpoint run instead: the agent behind HTTP (tests/endpoints/standin.py, `--think-ms`
per answer, `--in-flight` at once), and prints the fixed cost, the wall time less the ideal
cases x think / in flight. Everything stays offline.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
PEERS = ("deepeval", "mlflow")
SCORERS = ("correctness", "relevance", "safety", "guidelines")


def environment(tmp: Path, phases: Path | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HARNESS_", "PYTEST_", "MLFLOW_", "DEEPEVAL_"))}
    env |= {
        "PYTHONPATH": os.pathsep.join([str(REPO), str(REPO / "benchmarks")]),
        "MLFLOW_TRACKING_URI": f"sqlite:///{tmp / 'mlflow.db'}",
        "MLFLOW_DISABLE_TELEMETRY": "true",
        "DEEPEVAL_TELEMETRY_OPT_OUT": "1",
        "DEEPEVAL_DISABLE_DOTENV": "1",
        "DEEPEVAL_RESULTS_FOLDER": str(tmp / "deepeval"),
        # mlflow.genai.evaluate's threads each hold a pooled SQLite connection while its span exporter
        # waits for one: with the default QueuePool that run deadlocks.
        "MLFLOW_SQLALCHEMYSTORE_POOLCLASS": "NullPool",
    }
    return env | ({"JOB_PHASES": str(phases)} if phases else {})


def make_project(tmp: Path, cases: int, name: str = "project", agent: str | None = None) -> Path:
    project = tmp / name
    project.mkdir()
    done = subprocess.run(
        [sys.executable, "-m", "harness.cli", "init"], cwd=project, env=environment(tmp), capture_output=True, text=True
    )
    if done.returncode != 0:
        sys.exit(f"harness init failed: {done.stderr}")
    golden = project / "golden_data" / "example.jsonl"
    examples = [json.loads(line) for line in golden.read_text(encoding="utf-8").splitlines() if line.strip()]
    if agent is not None:  # the stand-in endpoint echoes the question: what it can pass is the order id
        examples = [
            {
                **e,
                "expectations": {"expected_facts": re.findall(r"A-\d+", str(e)), "guidelines": ["is at most 40 words"]},
            }
            for e in examples
            if "orders" in e.get("tags", [])
        ]
    rows = [{**examples[i % len(examples)], "id": f"case-{i:05d}"} for i in range(cases)]
    golden.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    if agent is not None:
        pyproject = project / "pyproject.toml"
        text = pyproject.read_text(encoding="utf-8").replace('agent = "my_agent:answer"', f'agent = "{agent}"')
        pyproject.write_text(text, encoding="utf-8")
    return project


def timed(argv: list[str], cwd: Path, env: dict[str, str]) -> float:
    started = time.perf_counter()
    done = subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=1800)
    wall = time.perf_counter() - started
    if done.returncode != 0:
        sys.exit(f"{' '.join(argv)} failed ({done.returncode}):\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    return wall


def run_harness(project: Path, tmp: Path) -> tuple[float, dict[str, float]]:
    """One `pytest suites/` job: its wall time and the phases its plugin saw."""
    phases = tmp / "phases.json"
    env = environment(tmp, phases) | {"JOB_T0": repr(time.time())}
    argv = [sys.executable, "-m", "pytest", "suites/", "-q", "--no-promote", "-p", "job_phases"]
    wall = timed(argv, project, env)
    marks = json.loads(phases.read_text(encoding="utf-8"))
    until = marks.pop("_until")  # the plugin's last moment, as pytest unconfigured
    return wall, {**marks, "exit (processes stopped, interpreter teardown)": wall - until}


def run_peer(peer: str, project: Path, tmp: Path) -> float:
    argv = [sys.executable, __file__, "--peer", peer, "--project", str(project)]
    return timed(argv, tmp, environment(tmp))


def peer_main(peer: str, project: Path) -> None:
    """A peer's whole job, in this (fresh) process: the project's golden cases, its agent, our rule scorers."""
    sys.path.insert(0, str(project))
    from my_agent import answer  # the project's example agent

    from harness.golden import load_golden

    cases = load_golden([project / "golden_data" / "example.jsonl"])
    (evaluate_with_mlflow if peer == "mlflow" else evaluate_with_deepeval)(cases, answer)


def evaluate_with_mlflow(cases: list[Any], answer: Callable[[list[dict[str, str]]], str]) -> None:
    import mlflow

    from harness.tracking.scorers import mlflow_scorers

    data = [{"inputs": {"messages": c.messages}, "expectations": c.expectations} for c in cases]

    def predict_fn(messages: list[dict[str, str]]) -> str:
        return answer(messages)

    mlflow.genai.evaluate(data=data, predict_fn=predict_fn, scorers=mlflow_scorers(SCORERS))


def evaluate_with_deepeval(cases: list[Any], answer: Callable[[list[dict[str, str]]], str]) -> None:
    from deepeval import evaluate
    from deepeval.evaluate.configs import AsyncConfig, DisplayConfig
    from deepeval.metrics import BaseMetric
    from deepeval.test_case import LLMTestCase

    from harness.scorers import load_scorer, safe_score
    from harness.versions.version import AgentOutput

    by_input = {c.question: c for c in cases}

    class RuleMetric(BaseMetric):
        """One harness rule-based scorer as a deepeval metric."""

        def __init__(self, scorer: str) -> None:  # deepeval copies a metric by its constructor's arguments
            self.threshold, self.scorer, self.rule = 1.0, scorer, load_scorer(scorer)

        def measure(self, test_case: LLMTestCase, *args: Any, **kwargs: Any) -> float:
            score = safe_score(self.rule, by_input[test_case.input], AgentOutput(test_case.actual_output))
            self.score, self.reason, self.success = score.value, score.rationale, score.passed
            return self.score

        async def a_measure(self, test_case: LLMTestCase, *args: Any, **kwargs: Any) -> float:
            return self.measure(test_case)

        def is_successful(self) -> bool:
            return bool(self.success)

        @property
        def __name__(self) -> str:
            return self.rule.name

    test_cases = [LLMTestCase(input=c.question, actual_output=answer(c.messages)) for c in cases]
    evaluate(
        test_cases=test_cases,
        metrics=[RuleMetric(name) for name in SCORERS],
        async_config=AsyncConfig(run_async=True),
        display_config=DisplayConfig(show_indicator=False, print_results=False),
    )


def median_phases(runs: list[dict[str, float]]) -> dict[str, float]:
    return {name: statistics.median(r[name] for r in runs) for name in runs[0]}


def print_phases(phases: dict[str, float]) -> None:
    print("where the harness's time goes (median seconds):")
    for name, seconds in phases.items():
        print(f"  {name:<44} {seconds:6.2f}")


def compare(args: argparse.Namespace, tmp: Path) -> None:
    project = make_project(tmp, args.cases)
    run_harness(project, tmp)  # warm-up: the store's tables are created once, as in any project's first job
    walls: dict[str, list[float]] = {"harness": [], **{p: [] for p in PEERS}}
    phases = []
    for _ in range(args.repeats):
        wall, marks = run_harness(project, tmp)
        walls["harness"].append(wall)
        phases.append(marks)
        for peer in PEERS:
            walls[peer].append(run_peer(peer, project, tmp))
    ours = statistics.median(walls["harness"])
    print(f"{args.cases} cases, whole process each, median of {args.repeats} alternating rounds:")
    print(f"  {'harness (pytest suites/ --no-promote)':<44} {ours:6.2f} s")
    for peer, label in zip(PEERS, ("deepeval.evaluate", "mlflow.genai.evaluate")):
        theirs = statistics.median(walls[peer])
        print(f"  {label:<44} {theirs:6.2f} s  ({theirs / ours:.1f}x the harness)")
    print_phases(median_phases(phases))
    if args.scale > 1:
        big = make_project(tmp, args.cases * args.scale, name="project-big")
        scaled = statistics.median(run_harness(big, tmp)[0] for _ in range(args.repeats))
        n = args.cases * args.scale
        print(f"harness on {n} cases: {scaled:.2f} s, {scaled / ours:.1f}x the {args.cases}-case job")


def endpoint(args: argparse.Namespace, tmp: Path) -> None:
    from endpoint_load import start_server

    process, port = start_server(args.think_ms, 0.0, 0.0, 0.0)
    try:
        project = make_project(tmp, args.cases, agent=f"http://127.0.0.1:{port}/ok/invocations")
        pyproject = project / "pyproject.toml"
        text = pyproject.read_text(encoding="utf-8").replace("concurrency = 4 ", f"concurrency = {args.in_flight} ")
        pyproject.write_text(text, encoding="utf-8")
        run_harness(project, tmp)
        runs = [run_harness(project, tmp) for _ in range(args.repeats)]
    finally:
        process.stdin.close()
        process.wait(timeout=30)
    wall = statistics.median(w for w, _ in runs)
    ideal = args.cases * args.think_ms / 1000 / args.in_flight
    print(f"endpoint job: {args.cases} cases, {args.think_ms:g} ms each, {args.in_flight} in flight")
    print(f"  wall {wall:.2f} s (median of {args.repeats}); ideal {ideal:.2f} s; fixed cost {wall - ideal:.2f} s")
    print_phases(median_phases([p for _, p in runs]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=500)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--scale", type=int, default=1, help="also time the harness on this many times the cases")
    parser.add_argument("--endpoint", action="store_true", help="time an endpoint run and its fixed cost")
    parser.add_argument("--think-ms", type=float, default=100.0)
    parser.add_argument("--in-flight", type=int, default=32)
    parser.add_argument("--peer", choices=PEERS, help=argparse.SUPPRESS)
    parser.add_argument("--project", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.peer:
        return peer_main(args.peer, args.project)
    if args.endpoint and args.cases == 500:
        args.cases = 400
    with tempfile.TemporaryDirectory(prefix="whole-job-") as tmp:
        (endpoint if args.endpoint else compare)(args, Path(tmp))


if __name__ == "__main__":
    main()
