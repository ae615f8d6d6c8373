"""The pytest plugin: `pytest suites/` runs the evaluation, gates it and publishes it.

- `hooks`: the `pytest11` entry point; each hook hands off to the session object or a module below.
- `session`: `HarnessSession`, the per-pytest-session state (configuration, cases, the evaluation).
- `options`: the command-line options and the configuration overrides they make.
- `parametrize`, `collection`: test ids from the golden cases; what the selected tests need.
- `fixtures`: `harness_result`, `harness_gate_check`, `harness_ab` and the others the suites use.
- `finish`: the completeness facts and the hand-off to `harness.publish`; the gate summary.
- `xdist`, `benchmark`: pytest-xdist and pytest-benchmark glue.

Nothing outside this package imports pytest.
"""

from __future__ import annotations

from typing import Any


def __getattr__(name: str) -> Any:
    """`AgentCaseError`, the error an agent's failure on a case raises in a test's setup; `explain_score`
    and `explain_check`, which suite files copied from earlier versions import from here."""
    if name == "AgentCaseError":
        from harness.plugin.fixtures import AgentCaseError

        return AgentCaseError
    if name in ("explain_score", "explain_check"):
        import harness.reports.terminal

        return getattr(harness.reports.terminal, name)
    raise AttributeError(name)
