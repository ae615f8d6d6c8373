"""`harness dataset push|pull`: golden data moved between a JSONL file and an MLflow evaluation dataset.

Both ways the cases are validated as the golden loader validates a file, so a dataset holds only what a
session could evaluate, and a pulled file loads as it was pushed. A session reads a dataset directly
with `golden = ["mlflow-dataset:<name>"]` or `--golden mlflow-dataset:<name>[@<version>]`.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from harness import HarnessError
from harness.tracking.connection import store_errors


def configure_dataset(parser: argparse.ArgumentParser) -> None:
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    push = actions.add_parser("push", help="make an evaluation dataset hold exactly the cases of a golden file")
    push.add_argument("file", type=Path, help="golden JSONL file")
    push.add_argument("--name", required=True, help="evaluation dataset name (created when missing)")
    pull = actions.add_parser("pull", help="write an evaluation dataset's records as a golden JSONL file")
    pull.add_argument("name", help="evaluation dataset name")
    pull.add_argument("-o", "--output", type=Path, required=True, help="golden JSONL file to write")


@store_errors
def run_dataset(args: argparse.Namespace) -> int:
    from harness.config import load_config
    from harness.tracking.connection import connect

    if args.action == "push":
        lines = _validated(args.file)  # before the store is opened: a bad file touches nothing
        connect(load_config().root)
        return _push(args.file, lines, args.name)
    from harness.commands.lifecycle import open_store

    open_store(argparse.Namespace(model=None))  # a store that does not exist yet holds no dataset
    return _pull(args.name, args.output)


def _validated(path: Path) -> list[dict[str, Any]]:
    """The lines of a golden file, each checked as the loader checks it, ids unique, inputs distinct."""
    from harness.golden import iter_lines, parse_cases

    lines: list[dict[str, Any]] = []
    ids: dict[str, str] = {}
    inputs: dict[str, str] = {}
    for where, line in iter_lines(path):
        for case in parse_cases(line, where):
            if case.id in ids:
                raise HarnessError(f"{where}: duplicate case id '{case.id}' (first at {ids[case.id]})")
            ids[case.id] = where
        key = json.dumps(line.get("inputs") or line.get("turns"), sort_keys=True)
        if key in inputs:
            # MLflow keeps one record per distinct inputs: a second would overwrite the first.
            raise HarnessError(f"{where}: case '{line['id']}' has the same inputs as the case at {inputs[key]}")
        inputs[key] = where
        lines.append(line)
    if not lines:
        raise HarnessError(f"{path}: no cases found")
    return lines


def _push(path: Path, lines: list[dict[str, Any]], name: str) -> int:
    from harness.golden import cases_sha256, iter_golden, source_cases
    from harness.settings import DATASET_SCHEME
    from harness.tracking import EXPERIMENT
    from harness.tracking.datasets import write_dataset

    cases = list(iter_golden(path))
    source = Path(f"{DATASET_SCHEME}{name}")
    try:
        label, stored = source_cases(source)
        if cases_sha256(list(stored)) == cases_sha256(cases):
            print(f"{label} already holds the {len(cases)} cases of {path}; nothing written")
            return 0
    except HarnessError:
        pass  # missing, or holding records that are not golden cases: replaced below
    write_dataset(name, lines, EXPERIMENT)
    label, _ = source_cases(source)
    print(f"pushed {len(lines)} lines ({len(cases)} cases) of {path} to {label}")
    return 0


def _pull(name: str, output: Path) -> int:
    from harness.golden import parse_cases
    from harness.settings import DATASET_SCHEME
    from harness.tracking.datasets import read_dataset

    dataset = read_dataset(name)
    for where, line in dataset.lines:
        parse_cases(line, where)  # a record that is not a golden case stops the pull, naming it
    if not dataset.lines:
        raise HarnessError(f"{DATASET_SCHEME}{name}: the dataset holds no records")
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text("".join(json.dumps(line, ensure_ascii=False) + "\n" for _, line in dataset.lines))
    print(f"pulled {len(dataset.lines)} lines of {DATASET_SCHEME}{name} to {output}")
    return 0
