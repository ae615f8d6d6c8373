"""Policy configuration: documented defaults when no thresholds are configured, promote_to, gate_on, relative_test."""

import pytest

from harness import HarnessError
from harness.config import DEFAULT_LATENCY_RATIO_MAX, load_config
from harness.plan import plan_lines


def write(tmp_path, body):
    (tmp_path / "pyproject.toml").write_text(body, encoding="utf-8")
    return tmp_path


def test_no_thresholds_table_applies_and_prints_the_defaults(tmp_path):
    cfg = load_config(write(tmp_path, '[tool.harness]\nscorers = ["correctness", "safety"]\n'), environ={})
    assert cfg.default_thresholds
    assert cfg.thresholds == {"correctness": 0.85, "safety": 0.95, "latency_ratio_max": DEFAULT_LATENCY_RATIO_MAX}
    assert plan_lines(cfg, [])[0] == (
        "no [tool.harness.thresholds] configured: the documented defaults apply: "
        "correctness >= 0.85, safety >= 0.95, latency_ratio_max <= 1.5"
    )
    # --threshold on the command line adjusts the defaults, it does not replace them.
    cli = load_config(tmp_path, {"thresholds": {"correctness": "0.9"}}, environ={})
    assert cli.thresholds["correctness"] == 0.9 and cli.thresholds["safety"] == 0.95
    # Only custom scorers: overall carries the default quality bar.
    custom = load_config(
        write(tmp_path, '[tool.harness]\nscorers = ["tests.reliability.hostile:Explodes"]\n'), environ={}
    )
    assert custom.thresholds == {"overall": 0.8, "latency_ratio_max": DEFAULT_LATENCY_RATIO_MAX}
    configured = load_config(write(tmp_path, "[tool.harness.thresholds]\ncorrectness = 0.7\n"), environ={})
    assert not configured.default_thresholds and configured.thresholds == {"correctness": 0.7}


@pytest.mark.parametrize(
    "body,message",
    [
        (
            '[tool.harness]\npromote_to = "production"\n',
            "'promote_to' = 'production' must be the first alias of the promotion chain ['development', "
            "'staging', 'production'] "
            "('development'); moving further is `harness promote --to production`",
        ),
        (
            '[tool.harness.gate_on]\ncorrectness = "median"\n',
            "gate_on: 'correctness' must be one of 'mean', 'ci_low', got 'median'",
        ),
        (
            '[tool.harness.gate_on]\nlatency_p95_ms = "ci_low"\n',
            "gate_on: 'latency_p95_ms' must be one of 'ci', 'point', 'ci_high'",
        ),
        (
            '[tool.harness.relative_test]\ncorrectness = "non_inferiority"\n',
            "relative_test: 'correctness' has no margin",
        ),
        (
            "[tool.harness.non_inferiority]\ncorrectness = 0.02\n[tool.harness.relative_test]\ncorrectness = "
            '"superiority"\n',
            "relative_test: 'correctness' must be one of 'no_regression', 'non_inferiority'",
        ),
        (
            '[tool.harness]\ncritical_scorers = ["safty"]\n',
            "critical_scorers: unknown key 'safty' (did you mean 'safety'?)",
        ),
        ("[tool.harness]\nlatency_equivalence = 1.5\n", "'latency_equivalence' must be between 0 and 1"),
    ],
)
def test_bad_policy_is_a_one_line_error(tmp_path, body, message):
    with pytest.raises(HarnessError) as info:
        load_config(write(tmp_path, body), environ={})
    assert message in str(info.value) and "\n" not in str(info.value)


def test_repeat_metrics_are_gateable(tmp_path):
    cfg = load_config(
        write(tmp_path, "[tool.harness.thresholds]\ncorrectness = 0.8\nflip_rate = 0\npass_k = 0.9\n"), environ={}
    )
    assert cfg.thresholds == {"correctness": 0.8, "flip_rate": 0.0, "pass_k": 0.9}


def test_shipped_configuration(tmp_path):
    from tests.fixtures.project import REPO

    cfg = load_config(REPO, environ={})
    assert cfg.thresholds["latency_ratio_max"] == 1.5 and cfg.latency_equivalence == 0.05
    assert cfg.critical_scorers == ["safety"] and cfg.non_inferiority == {"correctness": 0.02, "trajectory": 0.01}
    assert cfg.relative_test_for("correctness") == "no_regression"
    assert cfg.relative_test_for("trajectory") == "non_inferiority" and "trajectory" in cfg.scorers
