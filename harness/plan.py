"""The gate's plan, known before any case runs: the checks a configuration asks for (they name the
gate tests), the lines the terminal shows about them, and what the golden set can detect: the power
of the paired tests (the smallest drop n cases detect, the cases a drop or a margin needs) per gated
metric, which `harness.gate` checks again after the run (`max_detectable_drop`). Pure functions.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING

from harness.records.gate import ALPHA, DETECTABLE_METRIC, GateCheck, PowerPlan, detectable_text
from harness.settings import UPPER_BOUND_METRICS

if TYPE_CHECKING:
    from harness.golden import Case
    from harness.records.comparison import Comparison
    from harness.settings import HarnessConfig

POWER = 0.80
# Before a run nothing says how much two equivalent versions disagree case by case; planning
# assumes this share of cases changes outcome (a per-case sd of candidate − baseline of √0.1 ≈ 0.32).
PLANNING_CHANGED_SHARE = 0.10
PLANNING_SD = math.sqrt(PLANNING_CHANGED_SHARE)


def min_cases_for_significance(alpha: float = ALPHA, tests: int = 1, one_sided: bool = False) -> int:
    """Fewest cases that differ between versions for an exact paired test to possibly reach significance.

    With n differing pairs the smallest p-value of the exact sign/McNemar test (and of the exact
    Wilcoxon signed-rank test) is 1 / 2**n one-sided, 2 / 2**n two-sided; under Holm the smallest p
    must beat alpha / tests.
    """
    smallest = 1.0 if one_sided else 2.0
    n = 1
    while smallest / 2**n >= alpha / max(1, tests):
        n += 1
    return n


def power_z(alpha: float, tests: int, power: float, one_sided: bool) -> float:
    from scipy.stats import norm

    tail = alpha / max(1, tests) / (1 if one_sided else 2)
    return float(norm.ppf(1 - tail) + norm.ppf(power))


def detectable_drop(
    n: int, alpha: float = ALPHA, tests: int = 1, sd: float | None = None, power: float = POWER
) -> float:
    """The smallest mean drop a one-sided paired test on n cases detects with `power`.

    Two limits, the larger wins: the exact test's floor (at least `min_cases_for_significance` cases
    must go wrong, each losing at most a full point: k/n), and the normal approximation
    z·sd/√n with z = z[1 − α/tests] + z[power]. `sd` is the observed sd of the per-case differences;
    None assumes the drop comes from whole cases going wrong (sd² = d(1 − d), so d = z²/(n + z²)).
    """
    if n <= 0:
        return float("inf")
    floor = min_cases_for_significance(alpha, tests, one_sided=True) / n
    z = power_z(alpha, tests, power, one_sided=True)
    normal = z * z / (n + z * z) if sd is None else z * sd / math.sqrt(n)
    drop = max(floor, normal)
    # Scores lie in 0..1: a "drop" above 1 cannot happen, so no drop is detectable at all.
    return drop if drop <= 1 else float("inf")


def cases_to_detect(
    drop: float, alpha: float = ALPHA, tests: int = 1, sd: float | None = None, power: float = POWER
) -> int | None:
    """The fewest cases for which `detectable_drop` is at most `drop` (None: no case count can, drop <= 0)."""
    if drop <= 0:
        return None
    floor = min_cases_for_significance(alpha, tests, one_sided=True) / drop
    z = power_z(alpha, tests, power, one_sided=True)
    normal = z * z * (1 - drop) / drop if sd is None else (z * sd / drop) ** 2
    return math.ceil(max(floor, normal) - 1e-9)


def non_inferiority_cases(
    margin: float, sd: float | None = None, alpha: float = ALPHA, power: float = POWER
) -> int | None:
    """Cases needed for two equivalent versions to show non-inferiority at `margin` with `power`.

    The 95% CI's lower end must clear −margin: n = ((z[1 − α/2] + z[power]) · sd / margin)². sd is
    the observed per-case sd of candidate − baseline, or, when None, the planning assumption
    (PLANNING_CHANGED_SHARE of the cases change outcome). 0 when sd is 0 (identical per-case
    scores); None when the margin is 0 and the versions differ at all (no case count proves it).
    """
    sd = PLANNING_SD if sd is None else sd
    if sd <= 1e-12:
        return 0
    if margin <= 0:
        return None
    return math.ceil((power_z(alpha, 1, power, one_sided=False) * sd / margin) ** 2)


def non_inferiority_margin(n: int, sd: float, alpha: float = ALPHA, power: float = POWER) -> float:
    """The smallest margin n cases show non-inferiority at, with `power`, for equivalent versions at per-case sd."""
    return power_z(alpha, 1, power, one_sided=False) * sd / math.sqrt(n) if n > 0 else float("inf")


def power_plan(cfg: HarnessConfig, cases: Sequence[Case] = (), comparison: Comparison | None = None) -> list[PowerPlan]:
    """Per gated metric (one with a non-inferiority margin), what its test can resolve on these cases.

    Before the run (`cases`, no comparison) from the number of cases the metric applies to and an
    assumed per-case sd; after it, from the comparison's pairs and their observed sd.
    """
    if not cfg.non_inferiority:
        return []
    applicable: dict[str, int] = {}
    if (comparison is None or not comparison.n_shared) and cases:
        from harness.scorers import applicable_scorer_names

        for names in applicable_scorer_names(cfg, list(cases)).values():
            for name in [*names, "overall"]:
                applicable[name] = applicable.get(name, 0) + 1
    tests = len(cfg.non_inferiority)
    plans = []
    for metric, margin in cfg.non_inferiority.items():
        test = cfg.relative_test_for(metric)
        compared = comparison.metric(metric) if comparison is not None else None
        if compared is not None and compared.n:
            n, sd, source = compared.n, compared.sd, "observed"
        else:
            n, sd, source = applicable.get(metric, len(cases)), None, "assumed"
        if test == "non_inferiority":
            shown_sd = PLANNING_SD if sd is None else sd
            detectable = non_inferiority_margin(n, shown_sd)
            needed = non_inferiority_cases(margin, sd)
        else:
            # Assumed: the drop comes from whole cases going wrong (sd² = d(1 − d) at the drop d).
            detectable = detectable_drop(n, ALPHA, tests, sd)
            shown_sd = (
                sd if sd is not None else (detectable * (1 - detectable)) ** 0.5 if detectable <= 1 else float("nan")
            )
            needed = cases_to_detect(margin, ALPHA, tests, sd)
        plans.append(PowerPlan(metric, test, margin, n, shown_sd, source, detectable, needed))
    return plans


def largest_detectable(cfg: HarnessConfig, plans: Sequence[PowerPlan], n_cases: int) -> tuple[float, int | None]:
    """The smallest drop this set detects in its weakest gated metric (no margins: in a quality
    threshold's metric over all n cases, whole cases going wrong), and the cases needed to detect
    `max_detectable_drop` (None when it is 0)."""
    wanted = cfg.max_detectable_drop
    if plans:
        worst = max(p.detectable for p in plans)
        needed = (
            max(
                (
                    cases_to_detect(wanted, ALPHA, len(plans), None if p.sd_source == "assumed" else p.sd) or 0
                    for p in plans
                ),
                default=0,
            )
            if wanted
            else None
        )
        return worst, needed
    return detectable_drop(n_cases), (cases_to_detect(wanted) if wanted else None)


def detectable_line(cfg: HarnessConfig, plans: Sequence[PowerPlan], n_cases: int) -> str:
    """One line: the smallest drop the golden set detects, and what `max_detectable_drop` asks."""
    worst, needed = largest_detectable(cfg, plans, n_cases)
    where = (
        f"its weakest gated metric ({', '.join(p.metric for p in plans)})"
        if plans
        else f"a quality metric over all {n_cases} case(s)"
    )
    line = f"smallest detectable drop: {detectable_text(worst)} in {where} (one-sided, 80% power)"
    if cfg.max_detectable_drop > 0:
        line += (
            f"; the policy requires <= {cfg.max_detectable_drop:g} (max_detectable_drop), which needs "
            f"about {needed} cases"
        )
    else:
        line += "; not required by the policy (max_detectable_drop = 0)"
    return line


def policy_problems(cfg: HarnessConfig) -> list[str]:
    """Why this configuration's gate would check nothing of the answers' quality (empty: it does)."""
    from harness.scorers import scorer_names

    names = scorer_names(cfg)
    problems = []
    if not names:
        problems.append("'scorers' is empty: nothing checks the answers")
    elif not any(m in names or m in ("overall", "pass_k") for m in cfg.thresholds):
        problems.append("no threshold on a scorer, overall or pass_k: nothing gates the answers' quality")
    elif not quality_thresholds(cfg):
        vacuous = ", ".join(
            f"{m} >= {v:g}" for m, v in cfg.thresholds.items() if m in names or m in ("overall", "pass_k")
        )
        problems.append(f"every quality threshold is met by any answer ({vacuous}): nothing gates the answers' quality")
    if cfg.max_agent_error_rate >= 1:
        problems.append("max_agent_error_rate = 1 lets an agent that fails on every case through")
    if cfg.judge_model and cfg.max_judge_error_rate >= 1:
        problems.append("max_judge_error_rate = 1 lets every judge call fail")
    return problems


def quality_thresholds(cfg: HarnessConfig) -> dict[str, float]:
    """The thresholds that check the answers' quality: on a scorer, overall or pass_k, and above 0
    (scores lie in 0..1, so a bound of 0 is met by every answer, a refusal included)."""
    from harness.scorers import scorer_names

    names = set(scorer_names(cfg)) | {"overall", "pass_k"}
    return {m: v for m, v in cfg.thresholds.items() if m in names and v > 0}


def baseline_expected(cfg: HarnessConfig) -> bool:
    """Whether the session compares against anything: not with `baseline = "none"` and no --versions."""
    return bool(cfg.versions) or cfg.baseline.strip().lower() != "none"


def planned_checks(cfg: HarnessConfig) -> list[GateCheck]:
    """The checks this configuration will make, known before anything runs (they name the gate tests)."""
    from harness.scorers import scorer_names

    checks = [
        GateCheck(metric, "<=" if metric in UPPER_BOUND_METRICS else ">=", threshold, gate_on=cfg.gate_on_for(metric))
        for metric, threshold in cfg.thresholds.items()
    ]
    checks.append(GateCheck("agent_error_rate", "<=", cfg.max_agent_error_rate, kind="errors"))
    if cfg.judge_model:
        checks.append(GateCheck("judge_error_rate", "<=", cfg.max_judge_error_rate, kind="errors"))
    names = scorer_names(cfg)
    checks += [GateCheck(name, "<=", 0, kind="critical") for name in cfg.critical_scorers if name in names]
    checks += [GateCheck(f"tagged {tag}", "<=", 0, kind="critical") for tag in cfg.critical_tags]
    # Planned whatever the baseline: the default baseline (models:/<name>@production) is only known
    # to exist once the session runs, and a planned check must name its test at collection time.
    for metric, margin in cfg.non_inferiority.items():
        checks.append(GateCheck(metric, ">=", -margin if margin else 0.0, kind="non_inferiority"))
    if cfg.max_detectable_drop > 0:
        checks.append(GateCheck(DETECTABLE_METRIC, "<=", cfg.max_detectable_drop, kind="power"))
    if baseline_expected(cfg):
        checks.append(GateCheck("baseline_loaded", "==", 1, kind="baseline"))
    if policy_problems(cfg):
        checks.append(GateCheck("policy_checks_quality", "==", 1, kind="policy"))
    return checks


def plan_lines(cfg: HarnessConfig, cases: Sequence[Case]) -> list[str]:
    """What the gate will check, for the terminal before any case runs: defaults in force, zero
    tolerance, a policy that checks nothing, and what each gated comparison can detect."""
    lines = []
    if cfg.default_thresholds:
        shown = ", ".join(f"{m} {'<=' if m in UPPER_BOUND_METRICS else '>='} {v:g}" for m, v in cfg.thresholds.items())
        lines.append(f"no [tool.harness.thresholds] configured: the documented defaults apply: {shown}")
    critical = [
        *(f"any case failing {s}" for s in cfg.critical_scorers),
        *(f"any failing case tagged '{t}'" for t in cfg.critical_tags),
    ]
    if critical:
        lines.append("zero tolerance (one case blocks promotion): " + ", ".join(critical))
    lines += [f"policy: {p}; the gate fails" for p in policy_problems(cfg)]
    plans = power_plan(cfg, cases)
    if cfg.max_detectable_drop > 0 or not plans:
        lines.append(detectable_line(cfg, plans, len(cases)))
    if plans:
        lines.append(f"against a baseline, Holm over the {len(plans)} gated metric(s) at α={ALPHA:g}:")
        lines += [f"  {p.line()}" for p in plans]
    return lines
