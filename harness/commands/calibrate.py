"""`harness calibrate`: how far each judge agrees with human verdicts.

Every configured judge (rule-based ones, and the LLM judges when a judge model is set) scores
the labelled answers in `golden_data/human_labels.jsonl`; per judge we report accuracy, Cohen's
kappa and the false-pass rate (the judge passes what a human failed) with bootstrap CIs. A
judge error counts as a fail, as it does in the gate.

Label file, one answer a line:
`{"id", "case": <golden case record>, "answer", "metadata", "trajectory", "labels": {"correctness": true,
...}, "note"}`.
A judge named `llm_<metric>` is compared with the label `<metric>`, like the rule judge `<metric>`.
`trajectory` (optional) is the route the answer took, as results.json records it; a `trajectory`
label calibrates the `trajectory` scorer, which joins the judges here even where the configuration
does not score trajectories.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from harness import HarnessError

if TYPE_CHECKING:
    import numpy as np

    from harness.golden import Case
    from harness.records.estimate import Estimate
    from harness.settings import HarnessConfig
    from harness.versions.version import AgentOutput

DEFAULT_LABELS = "golden_data/human_labels.jsonl"


@dataclass
class LabelledAnswer:
    id: str
    case: Case
    output: AgentOutput
    labels: dict[str, bool]
    note: str = ""


def load_labels(path: Path) -> list[LabelledAnswer]:
    """Read the label file; errors name the file and line."""
    if not path.is_file():
        raise HarnessError(f"{path}: label file not found")
    answers: list[LabelledAnswer] = []
    for lineno, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        where = f"{path}:{lineno}"
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            raise HarnessError(f"{where}: not valid JSON: {exc.msg} at column {exc.colno}") from None
        answers.append(labelled_answer(record, where))
    if not answers:
        raise HarnessError(f"{path}: no labelled answers")
    return answers


def labelled_answer(record: Any, where: str) -> LabelledAnswer:
    """One labelled answer, from a label-file line or a labelled case trace read back from the store."""
    from harness.golden import parse_case
    from harness.trajectory import received_trajectory
    from harness.versions.version import AgentOutput

    if not isinstance(record, dict):
        raise HarnessError(f"{where}: a labelled answer must be a JSON object")
    for key, typ in (("id", str), ("case", dict), ("answer", str), ("labels", dict)):
        if not isinstance(record.get(key), typ):
            raise HarnessError(f"{where}: '{key}' is missing or not a {typ.__name__}")
    labels = record["labels"]
    if not labels or not all(isinstance(v, bool) for v in labels.values()):
        raise HarnessError(f"{where}: 'labels' must map metric names to true/false")
    metadata = record.get("metadata") or {}
    steps = record.get("trajectory")
    trajectory = received_trajectory(steps)
    if steps is not None and trajectory is None:
        raise HarnessError(f"{where}: 'trajectory' must be a non-empty list of step objects")
    output = AgentOutput(record["answer"], metadata, trajectory=trajectory)
    return LabelledAnswer(record["id"], parse_case(record["case"], where), output, labels, record.get("note", ""))


def store_labels(run_id: str, root: Path) -> list[LabelledAnswer]:
    """The labels people left on an evaluation run's case traces (in its review queue, or anywhere in MLflow)."""
    from harness.tracking.connection import connect
    from harness.tracking.labels import labelled_answers

    connect(root)
    return [labelled_answer(r, f"run {run_id}, case {r['id']}") for r in labelled_answers(run_id)]


@dataclass
class JudgeAgreement:
    judge: str
    metric: str
    kind: str
    n: int
    accuracy: Estimate
    kappa: Estimate
    false_pass: Estimate
    human_fails: int
    errors: int
    flip_rate: float | None = None
    disagreements: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


# Pairs are coded 2*human + judge (0: both fail, 1: judge passes a human fail, 2: judge fails a
# human pass, 3: both pass), so the bootstrap resamples pairs and each statistic reads one array.
def _accuracy(codes: np.ndarray, axis: int = -1) -> np.ndarray:
    import numpy as np

    return np.isin(codes, (0, 3)).mean(axis=axis)


def _kappa(codes: np.ndarray, axis: int = -1) -> np.ndarray:
    import numpy as np

    observed = np.isin(codes, (0, 3)).mean(axis=axis)
    human = (codes >= 2).mean(axis=axis)
    judge = (codes % 2 == 1).mean(axis=axis)
    chance = human * judge + (1 - human) * (1 - judge)
    with np.errstate(invalid="ignore", divide="ignore"):
        # Perfect agreement on a set with one class only: chance is 1, kappa is taken as 1.
        return np.where(chance < 1, (observed - chance) / (1 - chance), np.where(observed == 1, 1.0, np.nan))


def agreement(
    judge_name: str,
    kind: str,
    pairs: Sequence[tuple[bool, bool]],
    errors: int,
    disagreements: list[str],
    flip_rate: float | None,
) -> JudgeAgreement:
    from harness.stats import mean_ci, statistic_ci

    codes = [2 * int(h) + int(j) for h, j in pairs]
    return JudgeAgreement(
        judge_name,
        judge_name.removeprefix("llm_"),
        kind,
        len(codes),
        statistic_ci(codes, _accuracy),
        statistic_ci(codes, _kappa),
        # the rate among human fails, so resampling only those answers keeps every resample defined
        mean_ci([float(j) for h, j in pairs if not h]),
        sum(1 for h, _ in pairs if not h),
        errors,
        flip_rate,
        disagreements,
    )


def calibrate(
    cfg: HarnessConfig, answers: Sequence[LabelledAnswer], scorers: Sequence[Any] | None = None
) -> list[JudgeAgreement]:
    """Score every labelled answer with every judge and measure agreement with the humans."""
    from harness.scorers import build_scorers, load_scorer, safe_score

    if scorers is None:
        scorers = build_scorers(cfg)
        if any("trajectory" in a.labels for a in answers) and not any(s.name == "trajectory" for s in scorers):
            scorers.append(load_scorer("trajectory"))
    results = []
    for scorer in scorers:
        metric = scorer.name.removeprefix("llm_")
        pairs: list[tuple[bool, bool]] = []
        errors = 0
        disagreements = []
        for answer in answers:
            if metric not in answer.labels:
                continue
            score = safe_score(scorer, answer.case, answer.output)
            if not score.applicable:
                continue
            errors += score.error
            human = answer.labels[metric]
            pairs.append((human, score.passed))
            if human != score.passed:
                disagreements.append(
                    f"{answer.id}: human {'pass' if human else 'fail'}, judge "
                    f"{'pass' if score.passed else 'fail'}: {score.rationale[:160]}"
                )
        results.append(
            agreement(
                scorer.name,
                getattr(scorer, "kind", "") or scorer.judge,
                pairs,
                errors,
                disagreements,
                getattr(scorer, "flip_rate", None),
            )
        )
    return results


def _ci(e: Estimate) -> str:
    if e.n == 0 or e.value != e.value:  # nan: nothing to measure
        return "n/a"
    return f"{e.value:.2f} [{e.low:.2f}, {e.high:.2f}]"


def table(results: Sequence[JudgeAgreement]) -> str:
    from tabulate import tabulate

    rows = [
        [
            r.judge,
            r.kind,
            r.n,
            r.human_fails,
            _ci(r.accuracy),
            _ci(r.kappa),
            _ci(r.false_pass),
            r.errors,
            "-" if r.flip_rate is None else f"{r.flip_rate:.2f}",
        ]
        for r in results
    ]
    headers = [
        "judge",
        "kind",
        "n",
        "human fails",
        "accuracy [95% CI]",
        "kappa [95% CI]",
        "false-pass [95% CI]",
        "judge errors",
        "flip rate",
    ]
    return tabulate(rows, headers=headers, tablefmt="github", disable_numparse=True)


def write_report(results: Sequence[JudgeAgreement], folder: Path, labels: Path, judge_model: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    md = folder / "calibration.md"
    title = (
        f"# Judge calibration against {labels.name}\n\njudge model: "
        f"{judge_model or 'none (rule-based judges only)'}\n\n"
    )
    details = "\n".join(
        f"\n## {r.judge}: disagreements\n" + "\n".join(f"- {d}" for d in r.disagreements)
        for r in results
        if r.disagreements
    )
    md.write_text(title + table(results) + "\n" + details + "\n", encoding="utf-8")
    (folder / "calibration.json").write_text(
        json.dumps(
            {"labels": str(labels), "judge_model": judge_model, "judges": [r.to_dict() for r in results]}, indent=2
        ),
        encoding="utf-8",
    )
    return md


def configure_calibrate(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--labels", default=DEFAULT_LABELS, help=f"human-labelled answers (default {DEFAULT_LABELS})")
    parser.add_argument(
        "--judge-model", dest="judge_model", help="LLM judge model URI; adds the LLM judges to the rule-based ones"
    )
    parser.add_argument(
        "--judge-repeats",
        dest="judge_repeats",
        type=int,
        help="score each answer N times per LLM judge and report flip rates",
    )
    parser.add_argument(
        "--judge-cache", dest="judge_cache", choices=["on", "off"], help="reuse cached judge answers (default on)"
    )
    parser.add_argument(
        "--report-dir", dest="report_dir", help="where the calibration report is written (default reports/)"
    )
    parser.add_argument(
        "--run",
        metavar="RUN_ID",
        help="also read the human labels left on this evaluation run's case traces (`harness label` queues them)",
    )


def run_calibrate(args: argparse.Namespace) -> int:
    from harness.config import load_config

    overrides = {
        "judge_model": args.judge_model,
        "judge_repeats": args.judge_repeats,
        "judge_cache": args.judge_cache,
        "report_dir": args.report_dir,
    }
    cfg = load_config(overrides=overrides)
    labels = cfg.resolve_path(args.labels)
    answers = store_labels(args.run, cfg.root) if args.run else []
    if not args.run or labels.is_file():
        answers += load_labels(labels)
    if not answers:
        raise HarnessError(f"run {args.run}: no case of it has a human label yet")
    results = calibrate(cfg, answers)
    print(table(results))
    from harness.reports.files import new_report_dir

    path = write_report(results, new_report_dir(cfg.report_path, "calibration-"), labels, cfg.judge_model)
    print(f"\nreport: {path}")
    return 0
