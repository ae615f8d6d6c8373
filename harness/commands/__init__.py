"""The `harness` subcommands that sit on the tracking store: each module exposes `configure_<name>`
and `run_<name>` (see harness/cli.py), keeping heavy imports inside `run_*`."""
