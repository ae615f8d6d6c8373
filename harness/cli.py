"""The `harness` command. Each subcommand lives in the module that owns its job.

A command module exposes `configure_<name>(parser)` and `run_<name>(args) -> int`; modules are
imported only when their subcommand is built, and must keep heavy imports inside `run_*`.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import sys

from harness import HarnessError

COMMANDS: dict[str, tuple[str, str]] = {
    "init": (
        "harness.commands.init",
        "write a ready-to-run evaluation project here: config, suites, golden data, an example agent, a CI recipe",
    ),
    "compare": (
        "harness.commands.compare",
        "compare two versions, or two earlier results.json files, with paired statistics",
    ),
    "promote": (
        "harness.commands.lifecycle",
        "move a version whose sealed gate record verifies to the next alias in the chain",
    ),
    "rollback": ("harness.commands.lifecycle", "move an alias back to the version it held before"),
    "history": ("harness.commands.lifecycle", "print the alias history of the registered model"),
    "status": ("harness.commands.lifecycle", "show each alias, its version, gate scores and age"),
    "verify": (
        "harness.commands.verify",
        "check that an alias's version has a sealed record that verifies and was moved there by the harness",
    ),
    "log": (
        "harness.commands.log",
        "log a written report to MLflow when the session could not; promotes only on a signed record",
    ),
    "dataset": ("harness.commands.dataset", "push a golden JSONL file to an MLflow evaluation dataset, or pull one"),
    "monitor": (
        "harness.commands.monitor",
        "score recent production traces of an alias with the project's scorers and compare them with its gate",
    ),
    "golden": ("harness.commands.golden", "write production requests (traces of an alias) as golden cases to review"),
    "label": ("harness.commands.label", "queue an evaluation run's cases for human labels in an MLflow review queue"),
    "calibrate": ("harness.commands.calibrate", "measure each judge's agreement with human labels"),
    "local-llm": ("harness.commands.local_llm", "start the packaged local LLM server for offline LLM-judge runs"),
    "server": ("harness.commands.server", "start an MLflow tracking server backed by PostgreSQL for a team"),
    "serve": (
        "harness.commands.serve",
        "serve a logged or registered model with the MLflow scoring server on loopback, to evaluate it as an endpoint",
    ),
}


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The parser; only `command`'s module is imported and its options built (all of them when None).

    Importing every command module costs a few tenths of a second that `harness status` should not pay.
    """
    parser = argparse.ArgumentParser(
        prog="harness", description="Agent evaluation harness with gated MLflow registry promotion."
    )
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, (module_name, help_text) in COMMANDS.items():
        if importlib.util.find_spec(module_name) is None:
            continue  # a command whose module is not part of this installation is not offered
        sub = subparsers.add_parser(name, help=help_text, description=help_text)
        if command in (None, name):
            function = name.replace("-", "_")
            module = importlib.import_module(module_name)
            getattr(module, f"configure_{function}")(sub)
            sub.set_defaults(handler=getattr(module, f"run_{function}"))
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    args = build_parser(argv[0] if argv and argv[0] in COMMANDS else None).parse_args(argv)
    try:
        return int(args.handler(args) or 0)
    except HarnessError as exc:
        print(f"harness {args.command}: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
