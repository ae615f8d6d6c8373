"""The `harness` command. Each subcommand lives in the module that owns its job.

A command module exposes `configure_<name>(parser)` and `run_<name>(args) -> int`; modules are
imported only when their subcommand is built, and must keep heavy imports inside `run_*`.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from harness import HarnessError

COMMANDS: dict[str, tuple[str, str]] = {
    "compare": ("harness.compare", "compare two versions, or two earlier results.json files, with paired statistics"),
    "promote": ("harness.promotion", "move a gated version to the next alias in the promotion chain"),
    "rollback": ("harness.promotion", "move an alias back to the version it held before"),
    "history": ("harness.promotion", "print the alias history of the registered model"),
    "status": ("harness.promotion", "show each alias, its version, gate scores and age"),
    "log": ("harness.finish", "log a written report to MLflow and promote it, when the session could not"),
    "calibrate": ("harness.calibrate", "measure each judge's agreement with human labels"),
    "local-llm": ("harness.local_llm", "start the packaged local LLM server for offline LLM-judge runs"),
    "server": ("harness.server", "start an MLflow tracking server backed by PostgreSQL for a team"),
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="harness", description="Agent evaluation harness with gated MLflow registry promotion.")
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, (module_name, help_text) in COMMANDS.items():
        function = name.replace("-", "_")
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name != module_name:
                raise
            continue  # a command whose module is not part of this installation is not offered
        sub = subparsers.add_parser(name, help=help_text, description=help_text)
        getattr(module, f"configure_{function}")(sub)
        sub.set_defaults(handler=getattr(module, f"run_{function}"))
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.handler(args) or 0)
    except HarnessError as exc:
        print(f"harness {args.command}: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
