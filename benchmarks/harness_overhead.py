"""Harness overhead per case, against mlflow.genai.evaluate and deepeval.evaluate on the same cases.

    python benchmarks/harness_overhead.py [--cases 500]

An instant agent answers every case, so what is timed is the evaluation machinery itself:
runner + every rule-based scorer + gate for the harness; the same agent and one equivalent
code scorer (our correctness rule) for MLflow and deepeval. Everything stays offline: MLflow
logs to a temporary SQLite store, deepeval runs without Confident AI.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
os.environ.setdefault("DEEPEVAL_TELEMETRY_OPT_OUT", "1")
os.environ.setdefault("DEEPEVAL_DISABLE_DOTENV", "1")
# mlflow.genai.evaluate's worker threads each hold a pooled SQLite connection while the span
# exporter waits for one: with the default QueuePool the run deadlocks here. NullPool avoids it.
os.environ.setdefault("MLFLOW_SQLALCHEMYSTORE_POOLCLASS", "NullPool")

from harness.golden import Case  # noqa: E402
from harness.scorers.rules import Correctness  # noqa: E402
from harness.settings import HarnessConfig  # noqa: E402
from harness.versions.resolve import adapt  # noqa: E402
from harness.versions.version import AgentOutput  # noqa: E402


def instant_agent(messages: list[dict[str, str]]) -> str:
    return f"The answer to '{messages[-1]['content']}' is fact-{len(messages[-1]['content'])}.\nSources: none"


def make_cases(n: int) -> list[Case]:
    return [
        Case(
            f"case-{i:04d}",
            [{"role": "user", "content": f"question number {i}"}],
            {
                "expected_facts": [f"fact-{len(f'question number {i}')}"],
                "expected_domains": [],
                "guidelines": ["cites its sources"],
            },
        )
        for i in range(n)
    ]


def time_harness(cases: list[Case]) -> float:
    from harness.pipeline import evaluate
    from harness.reports.terminal import gate_table

    cfg = HarnessConfig(
        thresholds={"correctness": 0.9, "relevance": 0.8, "safety": 1.0, "guidelines": 0.8, "latency_p95_ms": 1000}
    )
    version = replace(adapt(instant_agent, "benchmarks:instant_agent"), label="candidate")
    evaluate(cfg, cases[:10], [version])  # warm-up: imports and first-call costs are not per-case overhead
    started = time.perf_counter()
    evaluation = evaluate(cfg, cases, [version])
    wall = time.perf_counter() - started
    agent_s = sum(r.output.latency_ms for r in evaluation.candidate.results.values()) / 1000 / cfg.concurrency
    assert evaluation.gated.passed, gate_table(evaluation.gated)
    return max(wall - agent_s, 0.0)


def time_mlflow(cases: list[Case], store: Path) -> float:
    import mlflow

    from harness.tracking.scorers import as_mlflow_scorer

    mlflow.set_tracking_uri(f"sqlite:///{store / 'mlflow.db'}")
    data = [{"inputs": {"messages": c.messages}, "expectations": c.expectations} for c in cases]
    scorer = as_mlflow_scorer(Correctness())

    def predict_fn(messages: list[dict[str, str]]) -> str:
        return instant_agent(messages)

    started = time.perf_counter()
    mlflow.genai.evaluate(data=data, predict_fn=predict_fn, scorers=[scorer])
    return time.perf_counter() - started


def time_deepeval(cases: list[Case]) -> float:
    from deepeval import evaluate
    from deepeval.evaluate.configs import AsyncConfig, DisplayConfig
    from deepeval.metrics import BaseMetric
    from deepeval.test_case import LLMTestCase

    rule = Correctness()

    class CorrectnessMetric(BaseMetric):
        def __init__(self) -> None:
            self.threshold = 1.0

        def measure(self, test_case: LLMTestCase, *args, **kwargs) -> float:
            case = Case(
                "x", [{"role": "user", "content": test_case.input}], {"expected_facts": test_case.context or []}
            )
            score = rule.score(case, AgentOutput(test_case.actual_output))
            self.score, self.reason, self.success = score.value, score.rationale, score.passed
            return self.score

        async def a_measure(self, test_case: LLMTestCase, *args, **kwargs) -> float:
            return self.measure(test_case)

        def is_successful(self) -> bool:
            return bool(self.success)

        @property
        def __name__(self) -> str:
            return "correctness"

    started = time.perf_counter()
    test_cases = [
        LLMTestCase(input=c.question, actual_output=instant_agent(c.messages), context=c.expectations["expected_facts"])
        for c in cases
    ]
    evaluate(
        test_cases=test_cases,
        metrics=[CorrectnessMetric()],
        async_config=AsyncConfig(run_async=True),
        display_config=DisplayConfig(show_indicator=False, print_results=False),
    )
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=500)
    args = parser.parse_args()
    cases = make_cases(args.cases)
    with tempfile.TemporaryDirectory() as tmp:
        os.environ.setdefault("DEEPEVAL_RESULTS_FOLDER", tmp)
        os.chdir(tmp)  # deepeval writes its .deepeval/ cache folder into the working directory
        harness_s = time_harness(cases)
        mlflow_s = time_mlflow(cases, Path(tmp))
        deepeval_s = time_deepeval(cases)
    n = len(cases)
    print(f"cases: {n}")
    print(
        f"harness overhead (runner + 4 rule-based scorers + gate): {harness_s * 1000 / n:.3f} ms/case "
        f"({harness_s:.2f} s total)"
    )
    print(
        f"mlflow.genai.evaluate (1 code scorer):                    {mlflow_s * 1000 / n:.3f} ms/case "
        f"({mlflow_s:.2f} s total), "
        f"{mlflow_s / harness_s:.0f}x the harness"
    )
    print(
        f"deepeval.evaluate (1 code metric):                         {deepeval_s * 1000 / n:.3f} ms/case "
        f"({deepeval_s:.2f} s total), "
        f"{deepeval_s / harness_s:.0f}x the harness"
    )


if __name__ == "__main__":
    main()
