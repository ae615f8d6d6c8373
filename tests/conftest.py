"""Settings for this project's own test run (not for `pytest suites/`)."""

import pytest


def pytest_configure(config: pytest.Config) -> None:
    # The slowest tests, at the end of every run (CI logs included): where the suite's time goes.
    if config.option.durations is None:
        config.option.durations = 30
