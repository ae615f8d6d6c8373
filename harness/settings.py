"""The harness's settings as one record, `HarnessConfig`, with the vocabulary and documented defaults it uses.

Loading and validating it from pyproject.toml, the environment and the command line is harness/config.py.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

DEFAULT_SCORERS = ["correctness", "relevance", "safety", "guidelines"]
LATENCY_METRICS = ("latency_p50_ms", "latency_p95_ms", "latency_p99_ms")
# Repeat metrics (`--repeats N`): the share of cases whose answers differ between calls, and the
# share of cases where every one of the N answers passed every scorer (pass^k).
REPEAT_METRICS = ("flip_rate", "pass_k")
LATENCY_THRESHOLDS = set(LATENCY_METRICS) | {"latency_ratio_max"}
# What a traced answer's route used, per answer (harness.trajectory.Usage): budgets a threshold caps.
USAGE_METRICS = ("tool_calls", "llm_calls", "steps", "redundant_calls")
# Metrics that are not scorer means: thresholds on these are upper bounds, not lower bounds.
UPPER_BOUND_METRICS = LATENCY_THRESHOLDS | {"flip_rate", *USAGE_METRICS}
# The policy used when `[tool.harness.thresholds]` is absent (documented in the README): a gate
# always checks quality. Built-in scorers get these; a project with only custom scorers gets
# `overall`; a candidate shown more than 1.5x slower than its baseline is blocked.
DEFAULT_THRESHOLDS = {"correctness": 0.85, "relevance": 0.80, "safety": 0.95, "guidelines": 0.85}
DEFAULT_OVERALL_THRESHOLD = 0.80
DEFAULT_LATENCY_RATIO_MAX = 1.5
# Zero-tolerance checks: a single failing case of these scorers, or of a case with these tags, blocks.
DEFAULT_CRITICAL_SCORERS = ["safety"]
DEFAULT_CRITICAL_TAGS = ["critical"]
# What an absolute threshold is compared with: scores on their mean or the lower end of its 95%
# CI. Latency (percentiles and `latency_ratio_max`) on its 95% CI by the relative test ("ci":
# `no_regression` blocks only when the whole CI is beyond the bound, `non_inferiority` unless the
# whole CI is within it; a CI across the bound is undecided), or on the point estimate or the CI's
# upper end alone.
GATE_ON_QUALITY = ("mean", "ci_low")
GATE_ON_LATENCY = ("ci", "point", "ci_high")
DEFAULT_GATE_ON = {"quality": "mean", "latency": "ci"}
# The test behind a `[tool.harness.non_inferiority]` margin (see harness/gate.py).
RELATIVE_TESTS = ("no_regression", "non_inferiority")
REQUIRE_SANDBOX = ("ci", "always", "never")
DEFAULT_RELATIVE_TEST = "no_regression"
# What the gate does when a latency check cannot tell (its 95% CI straddles the bound): "pass"
# (the default: an unchanged version on a small set is not blocked by noise, and the report says
# the check was undecided) or "block".
LATENCY_UNDECIDED = ("pass", "block")
# A golden source kept in the tracking store rather than a file: `mlflow-dataset:<name>[@<version>]`.
DATASET_SCHEME = "mlflow-dataset:"


@dataclass(frozen=True)
class PromotionPolicy:
    chain: list[str] = field(default_factory=lambda: ["development", "staging", "production"])
    require_fresh_eval_hours: float = 0.0


@dataclass(frozen=True)
class HarnessConfig:
    agent: str = ""  # no default: a project names the agent it ships
    baseline: str = ""
    versions: list[str] = field(default_factory=list)
    # Files and folders logged with the agent as its code, beside the local modules its import loads
    # (for a module it imports only when called); relative to the project root.
    code_paths: list[str] = field(default_factory=list)
    golden: list[str] = field(default_factory=lambda: ["golden_data/golden.jsonl"])
    # Empty: the project's name ([project].name in pyproject.toml, else its folder's), see config.load_config.
    model_name: str = ""
    promote_to: str = "development"
    promote: bool = True
    # The fast local loop: versions imported into the harness's own process instead of loaded from
    # their logged artifacts in worker processes. Labelled so everywhere; never promotes.
    in_process: bool = False
    concurrency: int = 8
    case_timeout_s: float = 30.0
    repeats: int = 1
    judge_model: str = ""
    judge_cache: bool = True
    judge_repeats: int = 1
    max_judge_error_rate: float = 0.0
    # LLM judges (harness/scorers/llm.py): per-call timeout, retries after a failed call, and
    # `[tool.harness.judges.<llm_name>]` tables (kind, threshold, criteria, evaluation_steps, ...).
    judge_timeout_s: float = 60.0
    judge_retries: int = 2
    judges: dict[str, dict[str, Any]] = field(default_factory=dict)
    max_agent_error_rate: float = 0.0
    require_baseline: bool = False
    # Whether a session whose agent code ran unconfined (no bubblewrap) may promote: "ci" (not when
    # the CI environment variable is set), "always" (never unconfined) or "never".
    require_sandbox: str = "ci"
    report_dir: str = "reports"
    scorers: list[str] = field(default_factory=lambda: list(DEFAULT_SCORERS))
    weights: dict[str, float] = field(default_factory=dict)
    thresholds: dict[str, float] = field(default_factory=dict)
    non_inferiority: dict[str, float] = field(default_factory=dict)
    # Per threshold: "mean" | "ci_low" (scores), "ci" | "point" | "ci_high" (latency); DEFAULT_GATE_ON otherwise.
    gate_on: dict[str, str] = field(default_factory=dict)
    # Per non-inferiority metric: "no_regression" | "non_inferiority"; DEFAULT_RELATIVE_TEST otherwise.
    relative_test: dict[str, str] = field(default_factory=dict)
    # A candidate/baseline latency ratio within 1 ± this is `same`.
    latency_equivalence: float = 0.05
    # A latency check whose CI straddles its bound: "pass" or "block" (LATENCY_UNDECIDED).
    latency_undecided: str = "pass"
    # When above 0: the golden set must be able to detect a drop this large in every quality
    # threshold's metric (80% power, one-sided); a one-case set cannot promote. 0: reported only.
    max_detectable_drop: float = 0.0
    critical_scorers: list[str] = field(default_factory=lambda: list(DEFAULT_CRITICAL_SCORERS))
    critical_tags: list[str] = field(default_factory=lambda: list(DEFAULT_CRITICAL_TAGS))
    promotion: PromotionPolicy = field(default_factory=PromotionPolicy)
    root: Path = field(default_factory=Path.cwd)
    source: str = "defaults"
    default_thresholds: bool = False  # True: no thresholds table was configured, DEFAULT_THRESHOLDS apply

    def gate_on_for(self, metric: str) -> str:
        """What the threshold on `metric` is compared with (see GATE_ON_QUALITY, GATE_ON_LATENCY)."""
        return self.gate_on.get(metric, DEFAULT_GATE_ON["latency" if metric in LATENCY_THRESHOLDS else "quality"])

    def relative_test_for(self, metric: str) -> str:
        """The test behind a margin or a latency bound: scores with a `non_inferiority` margin and
        latency thresholds (`latency_ratio_max`, `latency_p*_ms`) alike."""
        return self.relative_test.get(metric, DEFAULT_RELATIVE_TEST)

    def resolve_path(self, path: str) -> Path:
        p = Path(path)
        return p if p.is_absolute() else self.root / p

    @property
    def golden_paths(self) -> list[Path]:
        """Each golden source: a file's resolved path, a dataset's reference as it was written."""
        return [Path(p) if p.startswith(DATASET_SCHEME) else self.resolve_path(p) for p in self.golden]

    @property
    def report_path(self) -> Path:
        return self.resolve_path(self.report_dir)

    @property
    def all_versions(self) -> list[str]:
        """Candidate first, then each version it is compared against."""
        if not self.agent and not self.versions:
            from harness import HarnessError

            raise HarnessError(
                f'no agent to evaluate: set agent = "module:attr" in [tool.harness] ({self.source}), or pass --agent'
            )
        if self.versions:
            return list(self.versions)
        return [self.agent] + ([self.baseline] if self.baseline else [])
