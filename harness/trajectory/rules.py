"""How one expected argument matches the taken one: the built-in rules and `module:attr` comparators."""

from __future__ import annotations

import functools
import importlib
import json
import re
from collections.abc import Callable
from datetime import date
from typing import Any


def _range(value: Any) -> tuple[date, date] | None:
    def day(v: Any) -> date | None:
        match = re.match(r"^\s*(\d{4}-\d{2}-\d{2})", str(v)) if v is not None else None
        try:
            return date.fromisoformat(match.group(1)) if match else None
        except ValueError:
            return None

    if isinstance(value, dict):
        start, end = value.get("start", value.get("from")), value.get("end", value.get("to"))
    elif isinstance(value, (list, tuple)) and len(value) == 2:
        start, end = value
    elif isinstance(value, str) and ".." in value:
        start, end = value.split("..", 1)
    else:
        start = end = value
    first, last = day(start), day(end)
    return (first, last) if first and last else None


def _table(value: Any) -> str:
    return str(value).replace("`", "").replace('"', "").strip().lower().rsplit(".", 1)[-1]


ARG_RULES: dict[str, Callable[[Any, Any], bool]] = {
    "exact": lambda expected, actual: (
        json.dumps(expected, sort_keys=True) == json.dumps(actual, sort_keys=True, default=str) or expected == actual
    ),
    "same_range": lambda expected, actual: _range(expected) is not None and _range(expected) == _range(actual),
    "same_table": lambda expected, actual: _table(expected) == _table(actual),
    "contains": lambda expected, actual: str(expected).lower() in str(actual).lower(),
    "any": lambda expected, actual: True,
}


@functools.cache
def arg_rule(name: str) -> Callable[[Any, Any], bool]:
    """A built-in rule by name, or a comparator `(expected, actual) -> bool` named `module:attr`."""
    if name in ARG_RULES:
        return ARG_RULES[name]
    module, _, attr = name.partition(":")
    if not module or not attr:
        raise ValueError(f"must be one of {', '.join(ARG_RULES)} or a comparator 'module:function', got {name!r}")
    try:
        rule = getattr(importlib.import_module(module), attr)
    except (ImportError, AttributeError) as exc:
        raise ValueError(
            f"names comparator {name!r}, which cannot be imported here ({type(exc).__name__}: {exc})"
        ) from None
    if not callable(rule):
        raise ValueError(f"names {name!r}, which is not callable")
    return rule
