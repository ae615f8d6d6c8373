"""Variant configuration: ``agent/configs/<name>.yaml`` merged over defaults."""

from __future__ import annotations

import copy
import os
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import yaml

CONFIG_DIR = Path(__file__).resolve().parent / "configs"
ENV_VAR = "HEALTH_MONITOR_CONFIG"

DEFAULTS: dict[str, Any] = {
    "name": "v1",
    "description": "",
    "reference_date": "2026-11-20",
    "routing": {"mode": "keywords", "max_domains": 5},
    "answer": {"include_figures": True, "max_findings_per_domain": 3, "stream_chunk": "sentence"},
    "llm": {
        "enabled": False,
        "base_url": "",
        "model": "",
        "api_key_env": "HEALTH_MONITOR_LLM_API_KEY",
        "temperature": 0.0,
        "max_tokens": 400,
        "timeout_s": 20,
        "route": True,
        "phrase": True,
        "verify_facts": True,
    },
    "prompts": {"system": "", "router": "", "synthesis": ""},
    "memory": {"checkpointer": "memory", "preferences_db": ""},
}


def _merge(base: dict, over: dict) -> dict:
    out = copy.deepcopy(base)
    for k, v in (over or {}).items():
        if isinstance(v, dict) and isinstance(out.get(k), dict):
            out[k] = _merge(out[k], v)
        else:
            out[k] = v
    return out


def resolve_config_path(ref: str | os.PathLike) -> Path:
    """A variant name (``v2``) or a YAML path -> absolute path of the YAML file."""
    s = str(ref)
    p = Path(s).expanduser()
    if p.suffix in (".yaml", ".yml") or os.sep in s or "/" in s:
        if not p.is_file():
            raise FileNotFoundError(f"agent config not found: {s}")
        return p.resolve()
    p = CONFIG_DIR / f"{s}.yaml"
    if not p.is_file():
        names = sorted(x.stem for x in CONFIG_DIR.glob("*.yaml"))
        raise FileNotFoundError(f"unknown agent config {s!r}; known: {', '.join(names)}")
    return p


@dataclass
class AgentConfig:
    data: dict[str, Any]
    path: str = ""  # absolute path of the YAML it came from ("" when built from a dict)
    raw: dict[str, Any] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return str(self.data.get("name") or Path(self.path).stem or "custom")

    @property
    def reference_date(self) -> date:
        v = os.environ.get("HEALTH_MONITOR_REFERENCE_DATE") or self.data.get("reference_date")
        return v if isinstance(v, date) else date.fromisoformat(str(v))

    def section(self, key: str) -> dict[str, Any]:
        return self.data.get(key) or {}


def load_config(ref: str | os.PathLike | dict | None = None) -> AgentConfig:
    """Load a variant: ``None`` -> env ``HEALTH_MONITOR_CONFIG`` or ``v1``; a name; a path; a dict."""
    if isinstance(ref, AgentConfig):
        return ref
    if isinstance(ref, dict):
        return AgentConfig(_merge(DEFAULTS, ref), path=str(ref.get("_path", "")), raw=dict(ref))
    if ref is None:
        ref = os.environ.get(ENV_VAR) or "v1"
    path = resolve_config_path(ref)
    with open(path, encoding="utf-8") as f:
        raw = yaml.safe_load(f) or {}
    if not isinstance(raw, dict):
        raise ValueError(f"{path}: agent config must be a mapping")
    raw.setdefault("name", path.stem)
    return AgentConfig(_merge(DEFAULTS, raw), path=str(path), raw=raw)
