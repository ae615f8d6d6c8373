"""The package's shape, checked from its source: no import cycle (counting imports inside functions and
imports by name), records at the floor, a top level a newcomer can map, modules and functions small
enough to read."""

from __future__ import annotations

import ast
import re
from functools import cache
from pathlib import Path

HARNESS = Path(__file__).resolve().parents[2] / "harness"
MODULE_NAME = re.compile(r"harness(\.\w+)+")
MAX_TOP_MODULES = 20
MAX_MODULE_LINES = 350
MAX_FUNCTION_LINES = 60


@cache
def modules() -> dict[str, Path]:
    found = {}
    for path in HARNESS.rglob("*.py"):
        parts = path.relative_to(HARNESS.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        if "templates" not in parts:
            found[name] = path
    return found


def _existing(name: str) -> str | None:
    """The module `name` names, or the package holding the attribute it names."""
    while name and name not in modules():
        name = name.rpartition(".")[0]
    return name or None


def _type_checking_lines(tree: ast.Module) -> set[int]:
    lines: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            for child in node.body:
                lines.update(range(child.lineno, (child.end_lineno or child.lineno) + 1))
    return lines


def imports_of(name: str) -> set[str]:
    """Every harness module `name` imports at run time: at the top, inside functions, or by name (a string
    holding a module path, as `importlib.import_module` and the command table use)."""
    path = modules()[name]
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    return imports_in(path.read_text(), name, package)


def imports_in(source: str, name: str, package: str) -> set[str]:
    tree = ast.parse(source)
    skip = _type_checking_lines(tree)
    # A class's `__module__` names where it is shown, not what it imports.
    shown_as = {
        id(node.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == "__module__" for t in node.targets)
    }
    targets: set[str] = set()
    for node in ast.walk(tree):
        if getattr(node, "lineno", None) in skip or id(node) in shown_as:
            continue
        if isinstance(node, ast.Import):
            targets.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(
                    package.split(".")[: len(package.split(".")) - node.level + 1] + ([base] if base else [])
                )
            targets.update(f"{base}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and MODULE_NAME.fullmatch(node.value):
            targets.add(node.value)
    resolved = {_existing(t) for t in targets if t == "harness" or t.startswith("harness.")}
    return {t for t in resolved if t and t != name}


def cycles() -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    graph = {name: imports_of(name) for name in modules()}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in graph[node]:
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for name in sorted(graph):
        if name not in index:
            visit(name)
    return found


def test_no_import_cycle_counting_lazy_and_by_name_imports() -> None:
    assert cycles() == []


def test_records_import_only_records_and_the_config_record() -> None:
    allowed = ("harness.records", "harness.settings")
    outside = {
        name: sorted(t for t in imports_of(name) if not t.startswith(allowed) and t != "harness")
        for name in modules()
        if name.startswith("harness.records")
    }
    assert {name: found for name, found in outside.items() if found} == {}


def test_top_level_is_small_enough_to_map() -> None:
    top = sorted(p.stem for p in HARNESS.glob("*.py"))
    assert len(top) <= MAX_TOP_MODULES, top


def test_no_module_or_function_too_long_to_read() -> None:
    long_modules, long_functions = [], []
    for name, path in modules().items():
        text = path.read_text()
        if text.count("\n") > MAX_MODULE_LINES:
            long_modules.append(f"{name}: {text.count(chr(10))} lines")
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                length = (node.end_lineno or node.lineno) - node.lineno + 1
                if length > MAX_FUNCTION_LINES:
                    long_functions.append(f"{name}.{node.name}: {length} lines")
    assert (long_modules, long_functions) == ([], [])


def test_the_checker_sees_lazy_relative_and_by_name_imports() -> None:
    """The cycle check would prove nothing if it missed the import forms that hide cycles."""
    source = (
        "import importlib\n"
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n    from harness.compare import compare_versions\n"
        "from . import rules\n"
        "def later():\n    from harness.stats import bootstrap\n"
        "def by_name():\n    return importlib.import_module('harness.gate')\n"
    )
    found = imports_in(source, "harness.scorers.probe", "harness.scorers")
    assert found == {"harness.stats", "harness.gate", "harness.scorers.rules"}
