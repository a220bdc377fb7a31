"""Hypothesis profiles for the property tests, and a count of the cases each one tried, printed
at the end of the run (`make test` shows it).

Profiles (`HYPOTHESIS_PROFILE`): `default` for `make test`, `ci` for a quick pass, `thorough`
for a long hunt. No deadline: a loaded 2-core machine must not turn slowness into a failure.
"""

import os

import pytest
from hypothesis import HealthCheck, settings

from tests.properties.counts import CASES

settings.register_profile(
    "default", max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile(
    "ci", max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile("thorough", max_examples=2000, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if not CASES:
        return
    terminalreporter.section("property-based cases tried")
    for name, count in sorted(CASES.items()):
        terminalreporter.write_line(f"{count:6d}  {name}")
    terminalreporter.write_line(f"{sum(CASES.values()):6d}  total")
