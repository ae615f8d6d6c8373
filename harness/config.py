"""`[tool.harness]` loading and validation into a `HarnessConfig`: pyproject < environment < command line."""

from __future__ import annotations

import dataclasses
import difflib
import os
import re
import tomllib
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from harness import HarnessError
from harness.scorers import scorer_names
from harness.scorers.judge_specs import parse_judges_table
from harness.settings import (
    DEFAULT_CRITICAL_SCORERS,
    DEFAULT_LATENCY_RATIO_MAX,
    DEFAULT_OVERALL_THRESHOLD,
    DEFAULT_THRESHOLDS,
    GATE_ON_LATENCY,
    GATE_ON_QUALITY,
    LATENCY_THRESHOLDS,
    LATENCY_UNDECIDED,
    RELATIVE_TESTS,
    REPEAT_METRICS,
    REQUIRE_SANDBOX,
    UPPER_BOUND_METRICS,
    USAGE_METRICS,
    HarnessConfig,
    PromotionPolicy,
)

_FIELDS = {
    f.name: f for f in dataclasses.fields(HarnessConfig) if f.name not in ("root", "source", "default_thresholds")
}
_ALL_FIELDS = tuple(f.name for f in dataclasses.fields(HarnessConfig))
_TABLES = {"thresholds", "non_inferiority", "weights", "promotion", "judges", "gate_on", "relative_test"}
_PROMOTION_FIELDS = {f.name for f in dataclasses.fields(PromotionPolicy)}


def _unknown(where: str, key: str, known: Iterable[str]) -> HarnessError:
    hint = difflib.get_close_matches(key, list(known), n=1)
    suggestion = f" (did you mean '{hint[0]}'?)" if hint else ""
    return HarnessError(f"{where}: unknown key '{key}'{suggestion}; known keys: {', '.join(sorted(known))}")


def _coerce(where: str, key: str, value: Any, target: Any) -> Any:
    """Coerce a scalar from TOML, the environment or the command line to the field's type."""
    typ = type(target)
    try:
        if typ is bool:
            if isinstance(value, bool):
                return value
            text = str(value).strip().lower()
            if text in ("1", "true", "yes", "on"):
                return True
            if text in ("0", "false", "no", "off"):
                return False
            raise ValueError(value)
        if typ is int:
            if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
                raise ValueError(value)
            return int(value)
        if typ is float:
            if isinstance(value, bool):
                raise ValueError(value)
            return float(value)
        if typ is list:
            if isinstance(value, str):
                return [v.strip() for v in value.split(",") if v.strip()]
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise ValueError(value)
            return list(value)
        if typ is str:
            if not isinstance(value, str):
                raise ValueError(value)
            return value
    except (TypeError, ValueError):
        raise HarnessError(f"{where}: '{key}' must be {typ.__name__}, got {value!r}") from None
    return value


def find_pyproject(start: Path) -> Path | None:
    for directory in [start, *start.parents]:
        candidate = directory / "pyproject.toml"
        if candidate.is_file():
            return candidate
    return None


def load_config(
    root: Path | None = None,
    overrides: dict[str, Any] | None = None,
    environ: Mapping[str, str] | None = None,
    pyproject: Path | None = None,
) -> HarnessConfig:
    """Load `[tool.harness]`, then apply `HARNESS_<KEY>` environment variables, then `overrides`."""
    env: Mapping[str, str] = os.environ if environ is None else environ
    pyproject = pyproject or find_pyproject((root or Path.cwd()).resolve())
    defaults = HarnessConfig(root=(pyproject.parent if pyproject else (root or Path.cwd())).resolve())
    # The record is built once, from every source: collected here first, field by field.
    values = {name: getattr(defaults, name) for name in _ALL_FIELDS}
    table: dict[str, Any] = {}
    project_name = ""
    if pyproject is not None:
        try:
            with pyproject.open("rb") as fh:
                document = tomllib.load(fh)
            table = document.get("tool", {}).get("harness", {})
            project_name = str(document.get("project", {}).get("name") or "")
        except tomllib.TOMLDecodeError as exc:
            raise HarnessError(f"{pyproject}: not valid TOML: {exc}") from None
        values["source"] = str(pyproject)
    where = f"{pyproject or 'config'} [tool.harness]"
    for key, value in table.items():
        if key not in _FIELDS:
            raise _unknown(where, key, _FIELDS)
        _apply(values, where, key, value)
    for key in _FIELDS:
        env_name = f"HARNESS_{key.upper()}"
        if key not in _TABLES and env_name in env:
            _apply(values, f"environment {env_name}", key, env[env_name])
    for key, value in (overrides or {}).items():
        if value is None:
            continue
        if key not in _FIELDS:
            raise _unknown("command line", key, _FIELDS)
        if key == "thresholds":
            merged = dict(values["thresholds"])
            merged.update(value)
            value = merged
        _apply(values, "command line", key, value)
    cli_thresholds = (overrides or {}).get("thresholds") or {}
    known = known_metrics(HarnessConfig(**values))
    unknown = sorted(set(cli_thresholds) - known) if cli_thresholds else []
    if unknown:  # a typo on the command line is the command line's, not the pyproject's
        raise _unknown("--threshold", unknown[0], sorted(known))
    if "thresholds" not in table:  # after every source: the defaults follow the final scorer list
        values["thresholds"] = {**default_thresholds(values["scorers"]), **values["thresholds"]}
        values["default_thresholds"] = True
    if not values["model_name"].strip():
        values["model_name"] = default_model_name(project_name or defaults.root.name)
    cfg = HarnessConfig(**values)
    validate(cfg, where)
    return cfg


def default_model_name(project: str) -> str:
    """The registered model's name when none is configured: the project's, in the characters a name may hold."""
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", project).strip("-.") or "agent"


def project_config(root: Path) -> HarnessConfig:
    """The project's own configuration: its pyproject.toml alone, without command-line options or
    HARNESS_* variables. A gate decision made under another policy does not promote."""
    return load_config(root, {}, environ={})


def effective_baselines(cfg: HarnessConfig) -> list[str]:
    """What the candidate is meant to be compared against: --versions, the baseline, or by default
    `models:/<model_name>@production` (whether or not it exists yet); [] for `baseline = "none"`."""
    if len(cfg.versions) > 1:
        return [v.strip() for v in cfg.versions[1:]]
    if cfg.baseline.strip().lower() == "none":
        return []
    return [cfg.baseline.strip() or f"models:/{cfg.model_name}@production"]


def _apply(values: dict[str, Any], where: str, key: str, value: Any) -> None:
    """Parse `value` for `key` (from `where`) into `values`."""
    if key == "promotion":
        if not isinstance(value, dict):
            raise HarnessError(f"{where}: 'promotion' must be a table")
        for sub, subval in value.items():
            if sub not in _PROMOTION_FIELDS:
                raise _unknown(f"{where}.promotion", sub, _PROMOTION_FIELDS)
            policy = values["promotion"]
            coerced = _coerce(f"{where}.promotion", sub, subval, getattr(policy, sub))
            values["promotion"] = dataclasses.replace(policy, **{sub: coerced})
        return
    if key in ("thresholds", "non_inferiority", "weights"):
        if not isinstance(value, dict):
            raise HarnessError(f"{where}: '{key}' must be a table of metric = number")
        parsed = {}
        for metric, number in value.items():
            if isinstance(number, bool) or not isinstance(number, (int, float, str)):
                raise HarnessError(f"{where}.{key}: '{metric}' must be a number, got {number!r}")
            try:
                parsed[metric] = float(number)
            except ValueError:
                raise HarnessError(f"{where}.{key}: '{metric}' must be a number, got {number!r}") from None
        values[key] = parsed
        return
    if key in ("gate_on", "relative_test"):
        if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
            raise HarnessError(f"{where}: '{key}' must be a table of metric = \"name\"")
        values[key] = dict(value)
        return
    if key == "judges":
        values[key] = parse_judges_table(value, f"{where}.judges")
        return
    values[key] = _coerce(where, key, value, values[key])


def default_thresholds(scorers: list[str]) -> dict[str, float]:
    """The documented thresholds used when none are configured: never a gate that checks nothing."""
    thresholds = {name: value for name, value in DEFAULT_THRESHOLDS.items() if name in scorers}
    if not thresholds and scorers:
        thresholds["overall"] = DEFAULT_OVERALL_THRESHOLD
    thresholds["latency_ratio_max"] = DEFAULT_LATENCY_RATIO_MAX
    return thresholds


def known_metrics(cfg: HarnessConfig) -> set[str]:
    """Every metric name a threshold may refer to under this configuration."""
    return (
        set(scorer_names(cfg)) | set(UPPER_BOUND_METRICS) | set(REPEAT_METRICS) | {"overall", "conversation_pass_rate"}
    )


def validate(cfg: HarnessConfig, where: str) -> None:
    if cfg.concurrency < 1:
        raise HarnessError(f"{where}: 'concurrency' must be at least 1, got {cfg.concurrency}")
    if cfg.case_timeout_s <= 0:
        raise HarnessError(f"{where}: 'case_timeout_s' must be positive, got {cfg.case_timeout_s}")
    if cfg.judge_timeout_s <= 0:
        raise HarnessError(f"{where}: 'judge_timeout_s' must be positive, got {cfg.judge_timeout_s}")
    if cfg.judge_retries < 0:
        raise HarnessError(f"{where}: 'judge_retries' must be at least 0, got {cfg.judge_retries}")
    for key in ("repeats", "judge_repeats"):
        if getattr(cfg, key) < 1:
            raise HarnessError(f"{where}: '{key}' must be at least 1, got {getattr(cfg, key)}")
    for key in ("max_judge_error_rate", "max_agent_error_rate"):
        if not 0.0 <= getattr(cfg, key) <= 1.0:
            raise HarnessError(f"{where}: '{key}' must be between 0 and 1, got {getattr(cfg, key)}")
    if not cfg.golden:
        raise HarnessError(f"{where}: 'golden' must list at least one JSONL file")
    for path in cfg.code_paths:
        if not cfg.resolve_path(path).exists():
            raise HarnessError(f"{where}: 'code_paths' names {path!r}, which does not exist ({cfg.resolve_path(path)})")
    if cfg.promote_to and cfg.promote_to not in cfg.promotion.chain:
        raise HarnessError(
            f"{where}: 'promote_to' = '{cfg.promote_to}' is not in the promotion chain {cfg.promotion.chain}"
        )
    if cfg.promote_to and cfg.promote_to != cfg.promotion.chain[0]:
        raise HarnessError(
            f"{where}: 'promote_to' = '{cfg.promote_to}' must be the first alias of the promotion chain "
            f"{cfg.promotion.chain} ('{cfg.promotion.chain[0]}'); moving further is `harness promote --to "
            f"{cfg.promote_to}`"
        )
    if cfg.latency_undecided not in LATENCY_UNDECIDED:
        raise HarnessError(
            f"{where}: 'latency_undecided' must be one of {', '.join(repr(a) for a in LATENCY_UNDECIDED)}, "
            f"got {cfg.latency_undecided!r}"
        )
    if not 0.0 <= cfg.max_detectable_drop <= 1.0:
        raise HarnessError(f"{where}: 'max_detectable_drop' must be between 0 and 1, got {cfg.max_detectable_drop}")
    if not 0.0 <= cfg.latency_equivalence < 1.0:
        raise HarnessError(f"{where}: 'latency_equivalence' must be between 0 and 1, got {cfg.latency_equivalence}")
    metrics = known_metrics(cfg)
    _validate_critical(cfg, where)
    _validate_choices(cfg, where, metrics)
    for table in ("thresholds", "non_inferiority", "weights"):
        for name, value in getattr(cfg, table).items():
            if name not in metrics:
                raise _unknown(f"{where}.{table}", name, metrics)
            if problem := _metric_value_problem(table, name, value):
                raise HarnessError(f"{where}.{table}: '{name}' {problem}")


def _metric_value_problem(table: str, name: str, value: float) -> str | None:
    """What is wrong with `value` for metric `name` in `table`, or None."""
    if table == "weights":
        return f"must be non-negative, got {value}" if value < 0 else None
    if table == "non_inferiority":
        if name in USAGE_METRICS:
            return "counts calls (fewer is better): cap it in thresholds instead"
        return None if 0.0 <= value <= 1.0 else f"must be between 0 and 1, got {value}"
    if name in USAGE_METRICS:
        return f"must be at least 0, got {value}" if value < 0 else None
    if name in LATENCY_THRESHOLDS:
        return f"must be positive, got {value}" if value <= 0 else None
    return None if 0.0 <= value <= 1.0 else f"must be between 0 and 1, got {value}"


def _validate_critical(cfg: HarnessConfig, where: str) -> None:
    """Critical scorers must be configured scorers; the default (`safety`) simply does not apply without it."""
    if cfg.critical_scorers == DEFAULT_CRITICAL_SCORERS:
        return
    names = scorer_names(cfg)
    for name in cfg.critical_scorers:
        if name not in names:
            raise _unknown(f"{where}.critical_scorers", name, names)


def _validate_choices(cfg: HarnessConfig, where: str, metrics: set[str]) -> None:
    if cfg.require_sandbox not in REQUIRE_SANDBOX:
        raise HarnessError(
            f"{where}.require_sandbox must be one of {', '.join(repr(c) for c in REQUIRE_SANDBOX)}, got "
            f"{cfg.require_sandbox!r}"
        )
    for metric, choice in cfg.gate_on.items():
        if metric not in metrics:
            raise _unknown(f"{where}.gate_on", metric, metrics)
        allowed = GATE_ON_LATENCY if metric in LATENCY_THRESHOLDS else GATE_ON_QUALITY
        if choice not in allowed:
            raise HarnessError(
                f"{where}.gate_on: '{metric}' must be one of {', '.join(repr(a) for a in allowed)}, got {choice!r}"
            )
    for metric, choice in cfg.relative_test.items():
        if metric not in cfg.non_inferiority and not (metric in LATENCY_THRESHOLDS and metric in cfg.thresholds):
            raise HarnessError(
                f"{where}.relative_test: '{metric}' has no margin in [tool.harness.non_inferiority] "
                "and is not a latency threshold"
            )
        if choice not in RELATIVE_TESTS:
            raise HarnessError(
                f"{where}.relative_test: '{metric}' must be one of "
                f"{', '.join(repr(t) for t in RELATIVE_TESTS)}, got {choice!r}"
            )
