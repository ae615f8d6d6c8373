"""`harness verify`: may this alias (or version) be deployed? The step before any rollout.

Exits 1, one line per problem, unless the version's sealed record verifies (artifact digest,
signature, a passing and complete session) and, for an alias, it points where the harness last
moved it. With no argument every alias of the model is checked.
"""

from __future__ import annotations

import argparse

from harness.tracking.connection import store_errors


def configure_verify(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "reference",
        nargs="?",
        default=None,
        help="models:/NAME@ALIAS, models:/NAME/N, @ALIAS or a version number of the model (default: every "
        "alias of the model)",
    )
    parser.add_argument("--model", metavar="NAME", help="registered model (default: [tool.harness] model_name)")


@store_errors
def run_verify(args: argparse.Namespace) -> int:
    from harness.commands.lifecycle import open_store
    from harness.tracking.verify import check_reference

    cfg, model_name, _ = open_store(args)
    verdicts = check_reference(args.reference, cfg, model_name)
    for verdict in verdicts:
        if verdict.verified:
            print(
                f"verified {verdict.subject} (version {verdict.version}): its record verifies"
                + (", moved there by the harness" if "@" in verdict.subject else "")
            )
        for problem in verdict.problems:
            print(f"{verdict.subject}: {problem}")
    return 0 if all(v.verified for v in verdicts) else 1
