"""Gate decision quality: how often the shipped gates block simulated versions, by golden-set size.

    python benchmarks/gate_power.py [--trials 100] [--sizes 3,10,30,145] [--latency-noise 0.5] [--results results.json]

The reference agent (`[tool.harness] agent`) is run once over the golden set (or its per-case
scores and latencies are read from a results.json of a real run). Each trial draws a golden set
of the given size from it and re-runs both versions on paper: the baseline is the reference's
scores, the candidate a perturbation of them, and every call's latency is the case's recorded
latency times fresh log-normal noise (sd `--latency-noise` on the log scale, for both versions:
the same code re-run is never timed the same). Both are compared and gated exactly as in a
session (`harness.pipeline.gate_evaluation`) under two policies:

- `reference`: this repository's `[tool.harness]` (pyproject.toml);
- `init`: the `[tool.harness]` that `harness init` writes (harness/templates), scorers as configured here.

Sets smaller than the reference set are drawn from the cases the reference agent passes on every
scorer (a set its own version passes, as a new project's is); the full size is the whole set.
Smaller sets hold a case for every thresholded scorer. Scenarios: unchanged (same answers; and,
shown without a target, answers flipping at p = 0.02 in both), 1.2x and 2x slower, correctness
drops of 0.05 and 0.10 (that share of the set's correctness cases fully wrong, at least one; or
the same mean drop spread over a third of them), and a single leak. Printed: block rate per scenario, size
and policy, against the
targets: unchanged blocked <= 1% at every size, 2x slower >= 95% and a 0.10 drop >= 95% from 30
cases, a 0.05 drop >= 90% on the reference set, every leak 100% (with a baseline and without).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from string import Template

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
os.environ.setdefault("DEEPEVAL_TELEMETRY_OPT_OUT", "1")

import numpy as np  # noqa: E402

from harness.config import HarnessConfig, load_config  # noqa: E402
from harness.pipeline import (
    gate_evaluation,  # noqa: E402
    version_result,  # noqa: E402
)
from harness.records.evaluation import Evaluation  # noqa: E402
from harness.records.results import CaseResult, VersionResult  # noqa: E402
from harness.scorers.base import Score  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
Changes = dict[str, dict[str, Score]]


def reference_run(cfg: HarnessConfig, results: Path | None) -> tuple[Evaluation, float]:
    """The reference agent's scored answers: read from a results.json, or run now (returns seconds taken)."""
    started = time.perf_counter()
    if results is not None:
        from harness.pipeline import evaluation_from_results

        document = json.loads(results.read_text(encoding="utf-8"))
        evaluation = evaluation_from_results({**document, "versions": document["versions"][:1]}, cfg)
    else:
        from harness.golden import load_golden
        from harness.pipeline import evaluate
        from harness.versions.resolve import resolve

        evaluation = evaluate(cfg, load_golden(cfg.golden_paths), [resolve(cfg.agent, cfg.root, "baseline")])
    return evaluation, time.perf_counter() - started


def init_policy(cfg: HarnessConfig) -> HarnessConfig:
    """The policy `harness init` writes, with this project's agent, golden set and scorers."""
    from importlib import resources

    text = (resources.files("harness") / "templates" / "pyproject_harness.toml").read_text(encoding="utf-8")
    with tempfile.TemporaryDirectory() as folder:
        Path(folder, "pyproject.toml").write_text(
            Template(text).safe_substitute(model_name=cfg.model_name), encoding="utf-8"
        )
        init = load_config(Path(folder), environ={})
    return replace(
        init,
        root=cfg.root,
        agent=cfg.agent,
        golden=cfg.golden,
        scorers=cfg.scorers,
        thresholds={k: v for k, v in init.thresholds.items() if k in cfg.scorers or k.startswith("latency")},
    )


def simulated(
    base: VersionResult,
    label: str,
    ids: list[str],
    changes: Changes,
    rng: np.random.Generator,
    noise: float,
    slower: float = 1.0,
) -> VersionResult:
    """`base` on the cases `ids`, with some scores replaced and every latency re-drawn."""
    results = {}
    for cid in ids:
        r = base.results[cid]
        output = replace(r.output, latency_ms=r.output.latency_ms * slower * float(rng.lognormal(0, noise)))
        results[cid] = CaseResult(r.case, output, {**r.scores, **changes.get(cid, {})})
    return version_result(label, f"simulated {label}", base.kind, base.load_s, results, None, dict(base.weights))


def applicable(base: VersionResult, ids: list[str], scorer: str) -> list[str]:
    return [
        cid
        for cid in ids
        if scorer in base.results[cid].scores
        and base.results[cid].scores[scorer].applicable
        and base.results[cid].scores[scorer].passed
        and base.results[cid].output.error is None
    ]


def drop(base: VersionResult, ids: list[str], rng: np.random.Generator, share: float) -> Changes:
    """`share` of the set's correctness cases fully wrong (at least one)."""
    pool = applicable(base, ids, "correctness")
    k = min(len(pool), max(1, round(share * len(pool))))
    return {
        cid: {"correctness": Score("correctness", 0.0, False, "simulated drop")}
        for cid in rng.choice(pool, k, replace=False)
    }


def spread(base: VersionResult, ids: list[str], rng: np.random.Generator, share: float) -> Changes:
    """A mean correctness drop of about `share` spread over a third of the correctness cases (each
    loses 3 x share of its score: a missing fact here and there, not whole answers gone wrong)."""
    pool = applicable(base, ids, "correctness")
    chosen = rng.choice(pool, min(len(pool), max(1, round(len(pool) / 3))), replace=False)
    scores = {cid: base.results[cid].scores["correctness"].value for cid in chosen}
    return {
        cid: {"correctness": Score("correctness", max(0.0, v - 3 * share), False, "simulated partial drop")}
        for cid, v in scores.items()
    }


def leak(base: VersionResult, ids: list[str], rng: np.random.Generator) -> Changes:
    cid = rng.choice(applicable(base, ids, "safety"))
    return {cid: {"safety": Score("safety", 0.0, False, "simulated leak: dapi token")}}


def flips(base: VersionResult, ids: list[str], rng: np.random.Generator, p: float) -> Changes:
    return {
        cid: {"correctness": Score("correctness", 0.0, False, "simulated flip")}
        for cid in applicable(base, ids, "correctness")
        if rng.random() < p
    }


@dataclass
class Scenario:
    name: str
    kind: str  # unchanged | slower | drop | leak
    candidate: Callable[[VersionResult, list[str], np.random.Generator], Changes] = lambda b, ids, r: {}
    slower: float = 1.0
    flip: float = 0.0  # answers flipping at random in both versions
    share: float = 0.0  # a drop: share of the correctness cases wrong


SCENARIOS = [
    Scenario("unchanged", "unchanged"),
    Scenario("unchanged, answers flip at p=0.02", "unchanged", flip=0.02),
    Scenario("1.2x slower", "slower", slower=1.2),
    Scenario("2x slower", "slower", slower=2.0),
    Scenario("correctness drop 0.05 (whole cases wrong)", "drop", lambda b, ids, r: drop(b, ids, r, 0.05), share=0.05),
    Scenario("correctness drop 0.10 (whole cases wrong)", "drop", lambda b, ids, r: drop(b, ids, r, 0.10), share=0.10),
    Scenario(
        "correctness drop 0.05 (spread over a third)", "drop", lambda b, ids, r: spread(b, ids, r, 0.05), share=0.05
    ),
    Scenario(
        "correctness drop 0.10 (spread over a third)", "drop", lambda b, ids, r: spread(b, ids, r, 0.10), share=0.10
    ),
    Scenario("one leak", "leak", leak),
]


def target(scenario: Scenario, size: int, full: int) -> tuple[str, Callable[[float], bool]]:
    if scenario.kind == "unchanged" and not scenario.flip:
        return "<= 1%", lambda rate: rate <= 0.01
    if scenario.kind == "leak":
        return "100%", lambda rate: rate == 1.0
    if scenario.slower == 2.0 and size >= 30:
        return ">= 95%", lambda rate: rate >= 0.95
    if scenario.share == 0.10 and size >= 30:
        return ">= 95%", lambda rate: rate >= 0.95
    if scenario.share == 0.05 and size >= full:
        return ">= 90%", lambda rate: rate >= 0.90
    return "", lambda rate: True


def draw(
    reference: VersionResult, pool: list[str], size: int, rng: np.random.Generator, cfg: HarnessConfig
) -> list[str]:
    """A golden set of `size` cases from `pool` with a case for every thresholded scorer (a real set
    has them: a threshold on a metric with no data fails, as it must), as far as the size allows."""
    needed = [m for m in cfg.thresholds if any(m in reference.results[c].scores for c in pool)]
    for _ in range(200):
        ids = [str(c) for c in rng.choice(pool, size, replace=False)]
        if all(
            any(m in reference.results[c].scores and reference.results[c].scores[m].applicable for c in ids)
            for m in needed
        ):
            return ids
    return ids


def simulate(
    cfg: HarnessConfig,
    reference: VersionResult,
    pool: list[str],
    everything: list[str],
    size: int,
    scenario: Scenario,
    trials: int,
    seed: int,
    noise: float,
) -> tuple[float, float, float, int]:
    """(mean correctness drop, block rate against the baseline, block rate without one (leaks), undecided
    latency share)."""
    alone_cfg = replace(cfg, baseline="none")
    drops, blocked, blocked_alone, undecided = [], 0, 0, 0
    for t in range(trials):
        rng = np.random.default_rng([seed, t])
        ids = everything if size >= len(everything) else draw(reference, pool, size, rng, cfg)
        base_changes = flips(reference, ids, rng, scenario.flip) if scenario.flip else {}
        cand_changes = {
            **(flips(reference, ids, rng, scenario.flip) if scenario.flip else {}),
            **scenario.candidate(reference, ids, rng),
        }
        base = simulated(reference, "baseline", ids, base_changes, rng, noise)
        cand = simulated(reference, "candidate", ids, cand_changes, rng, noise, scenario.slower)
        drops.append(np.mean(base.values("correctness")) - np.mean(cand.values("correctness")))
        gate = gate_evaluation(Evaluation(cfg, [r.case for r in cand.results.values()], [cand, base])).gate
        blocked += not gate.passed
        undecided += any(c.undecided for c in gate.checks)
        if scenario.kind == "leak":
            blocked_alone += not gate_evaluation(
                Evaluation(alone_cfg, [r.case for r in cand.results.values()], [cand])
            ).gate.passed
    return float(np.mean(drops)), blocked / trials, blocked_alone / trials, undecided


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--trials", type=int, default=100, help="simulated versions per scenario, size and policy")
    parser.add_argument(
        "--sizes", default="3,10,30,145", help="golden-set sizes (the largest is capped at the reference set)"
    )
    parser.add_argument(
        "--latency-noise",
        type=float,
        default=0.3,
        help="sd of log latency per call (0.3: a call 1.35x slower or faster is common)",
    )
    parser.add_argument(
        "--results", type=Path, help="a results.json of the reference agent to read instead of running it"
    )
    parser.add_argument("--policies", default="reference,init", help="which policies to simulate (reference, init)")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()

    cfg = load_config(REPO, environ={})
    evaluation, took = reference_run(cfg, args.results)
    reference = evaluation.candidate
    everything = list(reference.results)
    pool = [
        cid
        for cid, r in reference.results.items()
        if r.output.error is None and all(s.passed for s in r.scores.values())
    ]
    full = len(everything)
    sizes = sorted({min(int(s), full) for s in args.sizes.split(",")})
    print(
        f"reference: {cfg.agent} on {full} golden cases ({len(pool)} passing every scorer), "
        f"{'read' if args.results else 'run'} in {took:.1f} s; latency noise sd {args.latency_noise:g} (log "
        "scale) per call"
    )
    policies = {
        name: policy
        for name, policy in (("reference", cfg), ("init", init_policy(cfg)))
        if name in args.policies.split(",")
    }
    for name, policy in policies.items():
        print(
            f"{name} policy: thresholds {policy.thresholds}, margins {policy.non_inferiority}, "
            f"latency gate_on {policy.gate_on_for('latency_ratio_max')}, latency_undecided {policy.latency_undecided!r}"
        )
    print(f"{args.trials} simulated versions per scenario, size and policy\n")

    from tabulate import tabulate

    rows, misses = [], []
    started = time.perf_counter()
    for name, policy in policies.items():
        p = ["reference", "init"].index(name)
        for size in sizes:
            for i, scenario in enumerate(SCENARIOS):
                mean_drop, rate, alone, undecided = simulate(
                    policy,
                    reference,
                    pool,
                    everything,
                    size,
                    scenario,
                    args.trials,
                    args.seed + 100 * p + 10 * i + size,
                    args.latency_noise,
                )
                goal, met = target(scenario, size, full)
                ok = met(rate) and (scenario.kind != "leak" or alone == 1.0)
                shown_alone = f"{alone:.0%}" if scenario.kind == "leak" else ""
                rows.append(
                    [
                        name,
                        size,
                        scenario.name,
                        f"{mean_drop:+.3f}",
                        f"{rate:.1%}",
                        shown_alone,
                        f"{undecided / args.trials:.0%}",
                        goal,
                        "" if not goal else "met" if ok else "MISSED",
                    ]
                )
                print(
                    " | ".join(map(str, rows[-1])), file=sys.stderr, flush=True
                )  # as it goes: a long run can be read early
                if not ok:
                    misses.append(f"{name}, {size} cases, {scenario.name}: blocked {rate:.1%} (target {goal})")
            print(f"... {name} policy, {size} cases done ({time.perf_counter() - started:.0f} s)", file=sys.stderr)
    print(
        tabulate(
            rows,
            headers=[
                "policy",
                "cases",
                "scenario",
                "correctness drop",
                "blocked (vs baseline)",
                "blocked (no baseline)",
                "latency undecided",
                "target",
                "",
            ],
            tablefmt="github",
            disable_numparse=True,
        )
    )
    print(f"\nsimulation: {time.perf_counter() - started:.0f} s")
    print("every target met" if not misses else "targets missed:\n  " + "\n  ".join(misses))


if __name__ == "__main__":
    main()
