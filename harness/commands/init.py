"""`harness init [FOLDER]`: a ready-to-run evaluation project in a new or existing folder.

Writes the `[tool.harness]` table (appended to an existing pyproject.toml), pytest `addopts` that
keep other installed pytest plugins from slowing every start, the suite files, a three-case golden
file, an example agent (a package: everything added to it is logged with it) loggable as it is,
and a CI recipe. Everything is checked before anything is written: an existing file, or a
pyproject.toml that already has a `[tool.harness]` table, stops it with one line and nothing written. The
templates are package data under harness/templates/.
"""

from __future__ import annotations

import argparse
import configparser
import re
import string
import tomllib
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from harness import HarnessError

ADDOPTS = "-p no:deepeval -p no:langsmith_plugin -p no:asyncio -p no:anyio"
MODEL_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,99}")
GITIGNORE = (
    "# Written by `harness init`: the local tracking store, its artifacts and the "
    "reports.\nmlflow.db\nmlruns/\nreports/\n.harness-cache/\n"
)
# New file -> template; the suites are added from the templates' suites/ folder.
FILES = {
    "my_agent/__init__.py": "my_agent_init.py",
    "my_agent/agent.py": "my_agent_agent.py",
    "my_agent/orders.py": "my_agent_orders.py",
    "golden_data/example.jsonl": "example.jsonl",
    ".github/workflows/agent-quality-gate.yml": "agent-quality-gate.yml",
}
# pytest reads these before (pytest.ini) or instead of (the others, when pyproject.toml has no pytest
# table) pyproject.toml: options there must go there. Each with the section pytest reads.
OTHER_PYTEST_CONFIGS = (
    ("pytest.ini", "pytest"),
    (".pytest.ini", "pytest"),
    ("tox.ini", "pytest"),
    ("setup.cfg", "tool:pytest"),
)


def configure_init(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "folder",
        nargs="?",
        type=Path,
        default=Path("."),
        help="where to write (default: the current folder; created if missing)",
    )
    parser.add_argument(
        "--model", default="my_agent", metavar="NAME", help="the registered model name (default: my_agent)"
    )


@dataclass(frozen=True)
class Scaffold:
    """What `harness init` will write: new files, the pyproject.toml text, and what it leaves to the user."""

    folder: Path
    files: dict[str, str]  # path relative to `folder` -> text; none of them exists yet
    pyproject: str  # the whole new pyproject.toml text
    pyproject_existed: bool
    pytest_table: bool  # whether the addopts table is among what is written
    notes: list[str] = field(default_factory=list)


def _template(name: str) -> str:
    return (resources.files("harness") / "templates" / name).read_text(encoding="utf-8")


def _suite_templates() -> dict[str, str]:
    folder = resources.files("harness") / "templates" / "suites"
    return {
        f"suites/{t.name}": t.read_text(encoding="utf-8")
        for t in sorted(folder.iterdir(), key=lambda t: t.name)
        if t.name.endswith(".py")
    }


def _other_pytest_config(folder: Path) -> str | None:
    """The file (and section) other than pyproject.toml that holds this folder's pytest options, if any."""
    for name, section in OTHER_PYTEST_CONFIGS:
        path = folder / name
        if not path.is_file():
            continue
        if name.startswith(("pytest", ".pytest")):
            return f"{name} [{section}]"
        parser = configparser.ConfigParser(interpolation=None)
        try:
            parser.read(path, encoding="utf-8")
        except (configparser.Error, UnicodeDecodeError):
            continue  # not ours to judge; pytest will say so
        if parser.has_section(section):
            return f"{name} [{section}]"
    return None


def plan(folder: Path, model_name: str) -> Scaffold:
    """Decide everything to write in `folder`, or raise HarnessError naming what is in the way."""
    if not MODEL_NAME.fullmatch(model_name):
        raise HarnessError(
            f"--model {model_name!r}: use letters, digits, '_', '.' and '-' (at most 100), starting with a "
            "letter or digit"
        )
    if folder.exists() and not folder.is_dir():
        raise HarnessError(f"{folder} is a file, not a folder")
    pyproject_path = folder / "pyproject.toml"
    existing = pyproject_path.read_text(encoding="utf-8") if pyproject_path.is_file() else ""
    try:
        tool = tomllib.loads(existing).get("tool", {})
    except tomllib.TOMLDecodeError as exc:
        raise HarnessError(f"{pyproject_path}: not valid TOML ({exc}); nothing written") from None
    if "harness" in tool:
        raise HarnessError(
            f"{pyproject_path} already has a [tool.harness] table; nothing written (edit that table instead)"
        )
    files = {path: _template(name) for path, name in FILES.items()} | _suite_templates()
    for path in files:
        if (folder / path).exists():
            raise HarnessError(
                f"{folder / path} already exists; nothing written (harness init never overwrites a file)"
            )
    notes = []
    other = _other_pytest_config(folder)
    pytest_table = "pytest" not in tool and other is None
    if not pytest_table:
        where = other or f"{pyproject_path.name} [tool.pytest.ini_options]"
        notes.append(
            f"pytest options live in {where}: add `{ADDOPTS}` to its addopts, so pytest plugins the suites do "
            "not use (when installed) do not slow every start and every test"
        )
    tables = string.Template(_template("pyproject_harness.toml")).substitute(model_name=model_name)
    if pytest_table:
        tables += "\n" + _template("pyproject_pytest.toml")
    text = existing + ("\n" if existing and not existing.endswith("\n") else "") + ("\n" if existing else "") + tables
    tomllib.loads(text)  # what is written always parses
    if (folder / ".gitignore").exists():
        notes.append(
            f"{folder / '.gitignore'} exists: consider ignoring mlflow.db, mlruns/, reports/ and .harness-cache/"
        )
    else:
        files[".gitignore"] = GITIGNORE
    return Scaffold(folder, files, text, bool(existing), pytest_table, notes)


def write(scaffold: Scaffold) -> None:
    for path, text in scaffold.files.items():
        target = scaffold.folder / path
        target.parent.mkdir(parents=True, exist_ok=True)
        with target.open("x", encoding="utf-8") as fh:  # "x": a file that appeared meanwhile is not overwritten
            fh.write(text)
    (scaffold.folder / "pyproject.toml").write_text(scaffold.pyproject, encoding="utf-8")


def run_init(args: argparse.Namespace) -> int:
    folder = args.folder.resolve()
    scaffold = plan(folder, args.model)
    try:
        write(scaffold)
    except OSError as exc:
        raise HarnessError(f"cannot write in {folder}: {exc}") from None
    tables = "[tool.harness]" + (", [tool.pytest.ini_options]" if scaffold.pytest_table else "")
    print(f"harness init: a harness project in {folder}")
    print(f"  pyproject.toml  {'appended' if scaffold.pyproject_existed else 'created'}: {tables}")
    for path in scaffold.files:
        print(f"  {path}")
    for note in scaffold.notes:
        print(f"note: {note}")
    print(
        "next: python -m pytest suites/    evaluates my_agent:answer, gates it and, when it passes, "
        f"registers it as '{args.model}' at @development"
    )
    print("      harness status               shows which version holds each alias")
    return 0
