from pathlib import Path

import pytest

from harness import HarnessError
from harness.config import load_config


def write(tmp_path: Path, body: str) -> Path:
    (tmp_path / "pyproject.toml").write_text(body, encoding="utf-8")
    return tmp_path


def test_defaults_and_table(tmp_path):
    root = write(
        tmp_path, '[tool.harness]\nagent = "a.b:C"\nconcurrency = 2\n[tool.harness.thresholds]\ncorrectness = 0.9\n'
    )
    cfg = load_config(root, environ={})
    assert cfg.agent == "a.b:C" and cfg.concurrency == 2 and cfg.thresholds == {"correctness": 0.9}
    assert cfg.root == root.resolve()
    assert cfg.golden_paths == [root.resolve() / "golden_data/golden.jsonl"]


def test_library_defaults_name_no_demo(tmp_path):
    """The reference project's pyproject.toml names its agent and model; the library's defaults do not."""
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "Shop Bot"\n[tool.harness]\n', encoding="utf-8")
    cfg = load_config(tmp_path, environ={})
    assert (cfg.agent, cfg.model_name) == ("", "Shop-Bot")
    with pytest.raises(HarnessError, match=r"^no agent to evaluate: set agent = .* or pass --agent$"):
        _ = cfg.all_versions
    (tmp_path / "orders-agent").mkdir()
    named_by_folder = load_config(write(tmp_path / "orders-agent", "[tool.harness]\n"), environ={})
    assert named_by_folder.model_name == "orders-agent"


def test_unknown_key_names_it_and_suggests(tmp_path):
    root = write(tmp_path, "[tool.harness]\nconcurency = 2\n")
    with pytest.raises(HarnessError, match=r"unknown key 'concurency' \(did you mean 'concurrency'\?\)"):
        load_config(root, environ={})


def test_unknown_threshold_name(tmp_path):
    root = write(tmp_path, "[tool.harness.thresholds]\ncorectness = 0.9\n")
    with pytest.raises(HarnessError, match=r"thresholds: unknown key 'corectness'"):
        load_config(root, environ={})


@pytest.mark.parametrize(
    "body,message",
    [
        ("[tool.harness.thresholds]\ncorrectness = 1.5\n", "'correctness' must be between 0 and 1"),
        ("[tool.harness.thresholds]\nlatency_p95_ms = -3\n", "'latency_p95_ms' must be positive"),
        ("[tool.harness]\nconcurrency = 0\n", "'concurrency' must be at least 1"),
        ('[tool.harness]\nconcurrency = "many"\n', "'concurrency' must be int"),
        ('[tool.harness]\npromote_to = "prod"\n', "not in the promotion chain"),
        ("[tool.harness.promotion]\nchian = []\n", "unknown key 'chian'"),
        ('[tool.harness]\nrequire_sandbox = "sometimes"\n', "require_sandbox must be one of 'ci', 'always', 'never'"),
    ],
)
def test_bad_values_are_one_line_errors(tmp_path, body, message):
    root = write(tmp_path, body)
    with pytest.raises(HarnessError, match=message) as info:
        load_config(root, environ={})
    assert "\n" not in str(info.value)


def test_precedence_pyproject_env_cli(tmp_path):
    root = write(
        tmp_path,
        '[tool.harness]\nagent = "from.toml:A"\nconcurrency = 2\n[tool.harness.thresholds]\ncorrectness = '
        "0.9\nsafety = 1.0\n",
    )
    cfg = load_config(
        root,
        overrides={"agent": "from.cli:A", "thresholds": {"correctness": "0.5"}},
        environ={"HARNESS_AGENT": "from.env:A", "HARNESS_CONCURRENCY": "3"},
    )
    assert cfg.agent == "from.cli:A"
    assert cfg.concurrency == 3
    assert cfg.thresholds == {"correctness": 0.5, "safety": 1.0}


def test_bad_environment_value_names_the_variable(tmp_path):
    root = write(tmp_path, "")
    with pytest.raises(HarnessError, match="environment HARNESS_CASE_TIMEOUT_S: 'case_timeout_s' must be float"):
        load_config(root, environ={"HARNESS_CASE_TIMEOUT_S": "soon"})


def test_invalid_toml_names_the_file(tmp_path):
    root = write(tmp_path, "[tool.harness\n")
    with pytest.raises(HarnessError, match="pyproject.toml: not valid TOML"):
        load_config(root, environ={})
