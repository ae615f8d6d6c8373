"""Gate decision quality: how often the shipped gate blocks simulated versions on the reference golden set.

    python benchmarks/gate_power.py [--trials 100] [--results reports/latest/results.json]

The reference agent (`[tool.harness] agent`) is run once over the golden set (or its per-case
scores are read from a results.json of a real run) and is the baseline. Each scenario perturbs
those recorded scores into a candidate, which is then compared and gated exactly as in a session
(`harness.pipeline.gate_evaluation`, the shipped `[tool.harness]` of pyproject.toml):

- k = 1..12 cases fully wrong (correctness 0) or partly wrong (correctness halved);
- 1 to 4 answers leaking a secret (safety fails);
- equivalent versions: the same scores with latency noise, and versions whose answers flip at
  random (each correctness case wrong with probability p, drawn afresh for baseline and candidate).

Every candidate's latency is the baseline's times log-normal noise (sd 5%). Printed per scenario:
the mean correctness drop, the block rate with the baseline and without one, and the issue's
targets (every leak blocked; a drop of 0.05 or more blocked at least 90% of the time; equivalent
versions blocked at most 5%), with how many cases the golden set would need where it misses one.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Callable

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
os.environ.setdefault("DEEPEVAL_TELEMETRY_OPT_OUT", "1")

import numpy as np  # noqa: E402

from harness.config import HarnessConfig, load_config  # noqa: E402
from harness.pipeline import gate_evaluation  # noqa: E402
from harness.records.evaluation import Evaluation
from harness.records.results import CaseResult, VersionResult
from harness.scorers.base import Score  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
LATENCY_NOISE = 0.05


def reference_run(cfg: HarnessConfig, results: Path | None) -> tuple[Evaluation, float]:
    """The reference agent's scored answers: read from a results.json, or run now (returns seconds taken)."""
    started = time.perf_counter()
    if results is not None:
        from harness.pipeline import evaluation_from_results

        document = json.loads(results.read_text(encoding="utf-8"))
        evaluation = evaluation_from_results({**document, "versions": document["versions"][:1]}, cfg)
    else:
        from harness.pipeline import evaluate
        from harness.golden import load_golden
        from harness.versions import resolve

        evaluation = evaluate(cfg, load_golden(cfg.golden_paths), [resolve(cfg.agent, cfg.root, "baseline")])
    return evaluation, time.perf_counter() - started


def with_scores(base: VersionResult, label: str, changes: dict[str, dict[str, Score]], rng: np.random.Generator | None) -> VersionResult:
    """A copy of `base` with some scores replaced and, given `rng`, its latencies jittered."""
    results = {}
    for cid, r in base.results.items():
        output = r.output
        if rng is not None:
            output = replace(output, latency_ms=output.latency_ms * float(rng.lognormal(0, LATENCY_NOISE)))
        results[cid] = CaseResult(r.case, output, {**r.scores, **changes.get(cid, {})})
    return VersionResult(label, f"simulated {label}", base.kind, base.load_s, results, None, dict(base.weights))


def applicable(base: VersionResult, scorer: str, passing: bool = True) -> list[str]:
    return [cid for cid, r in base.results.items()
            if scorer in r.scores and r.scores[scorer].applicable and (r.scores[scorer].passed or not passing) and r.output.error is None]


def wrong(base: VersionResult, rng: np.random.Generator, k: int, factor: float) -> dict[str, dict[str, Score]]:
    chosen = rng.choice(applicable(base, "correctness"), size=k, replace=False)
    return {cid: {"correctness": Score("correctness", base.results[cid].scores["correctness"].value * factor, False, "simulated")}
            for cid in chosen}


def leaks(base: VersionResult, rng: np.random.Generator, k: int) -> dict[str, dict[str, Score]]:
    chosen = rng.choice(applicable(base, "safety"), size=k, replace=False)
    return {cid: {"safety": Score("safety", 0.0, False, "simulated leak: dapi token")} for cid in chosen}


def flips(base: VersionResult, rng: np.random.Generator, p: float) -> dict[str, dict[str, Score]]:
    return {cid: {"correctness": Score("correctness", 0.0, False, "simulated flip")}
            for cid in applicable(base, "correctness") if rng.random() < p}


@dataclass
class Scenario:
    name: str
    kind: str  # drop | leak | equivalent
    candidate: Callable[[VersionResult, np.random.Generator], dict[str, dict[str, Score]]]
    baseline_noise: float = 0.0  # equivalent versions whose answers flip: the baseline flips too


def scenarios() -> list[Scenario]:
    out = [Scenario(f"{k} case(s) fully wrong", "drop", lambda b, r, k=k: wrong(b, r, k, 0.0)) for k in range(1, 13)]
    out += [Scenario(f"{k} case(s) partly wrong (halved)", "drop", lambda b, r, k=k: wrong(b, r, k, 0.5)) for k in range(1, 13)]
    out += [Scenario(f"{k} leak(s)", "leak", lambda b, r, k=k: leaks(b, r, k)) for k in range(1, 5)]
    out.append(Scenario("equivalent: same answers, latency noise", "equivalent", lambda b, r: {}))
    out += [Scenario(f"equivalent: answers flip at p={p:g}", "equivalent", lambda b, r, p=p: flips(b, r, p), baseline_noise=p)
            for p in (0.01, 0.02, 0.05)]
    return out


def simulate(cfg: HarnessConfig, evaluation: Evaluation, scenario: Scenario, trials: int, seed: int) -> tuple[float, float, float]:
    """(mean correctness drop, block rate against the baseline, block rate without a baseline)."""
    reference = with_scores(evaluation.candidate, "baseline", {}, None)
    alone_cfg = replace(cfg, baseline="none")
    drops, blocked, blocked_alone = [], 0, 0
    for t in range(trials):
        rng = np.random.default_rng([seed, t])
        base = reference if not scenario.baseline_noise else with_scores(reference, "baseline", flips(reference, rng, scenario.baseline_noise), None)
        cand = with_scores(reference, "candidate", scenario.candidate(reference, rng), rng)
        drops.append(np.mean(base.values("correctness")) - np.mean(cand.values("correctness")))
        blocked += not gate_evaluation(Evaluation(cfg, evaluation.cases, [cand, base])).gate.passed
        blocked_alone += not gate_evaluation(Evaluation(alone_cfg, evaluation.cases, [cand])).gate.passed
    return float(np.mean(drops)), blocked / trials, blocked_alone / trials


def main() -> None:
    from harness import stats

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--trials", type=int, default=100, help="simulated versions per scenario")
    parser.add_argument("--results", type=Path, help="a results.json of the reference agent to read instead of running it")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()

    cfg = load_config(REPO, environ={})
    evaluation, took = reference_run(cfg, args.results)
    reference = evaluation.candidate
    n_correct = len(applicable(reference, "correctness", passing=False))
    print(f"reference: {cfg.agent} on {len(evaluation.cases)} golden cases ({n_correct} with correctness, "
          f"mean {np.mean(reference.values('correctness')):.3f}), {'read' if args.results else 'run'} in {took:.1f} s")
    print(f"shipped gate: thresholds {cfg.thresholds}, margins {cfg.non_inferiority}, tests "
          f"{ {m: cfg.relative_test_for(m) for m in cfg.non_inferiority} }, critical {cfg.critical_scorers} + tags {cfg.critical_tags}")
    print(f"{args.trials} simulated versions per scenario\n")
    rows, misses = [], []
    started = time.perf_counter()
    for i, scenario in enumerate(scenarios()):
        drop, rate, alone = simulate(cfg, evaluation, scenario, args.trials, args.seed + i)
        if scenario.kind == "leak":
            target, ok = "100%", rate == 1.0 and alone == 1.0
        elif scenario.kind == "equivalent":
            target, ok = "<= 5%", rate <= 0.05
        elif drop >= 0.05 - 1e-9:
            target, ok = ">= 90%", rate >= 0.90
        else:
            target, ok = "", True
        rows.append([scenario.name, f"{drop:+.3f}", f"{rate:.0%}", f"{alone:.0%}", target, "" if not target else "met" if ok else "MISSED"])
        if not ok:
            misses.append((scenario, drop))
    from tabulate import tabulate

    print(tabulate(rows, headers=["scenario", "correctness drop", "blocked (vs baseline)", "blocked (no baseline)", "target", ""],
                   tablefmt="github", disable_numparse=True))
    print(f"\nsimulation: {time.perf_counter() - started:.0f} s")
    tests = max(1, len(cfg.non_inferiority))
    needed = stats.cases_to_detect(0.05, tests=tests, sd=0.0)
    print(f"a drop of 0.05 from whole wrong cases needs at least {stats.min_cases_for_significance(tests=tests, one_sided=True)} "
          f"wrong cases to be significant: {needed} cases with correctness for 0.05 to be that many; this set has {n_correct}")
    for scenario, drop in misses:
        if scenario.kind == "drop":
            print(f"target missed: {scenario.name} (drop {drop:.3f}): about {stats.cases_to_detect(drop, tests=tests, sd=0.0)} "
                  "cases with correctness would block it")
        else:
            print(f"target missed: {scenario.name}")


if __name__ == "__main__":
    main()
