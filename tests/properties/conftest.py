"""The count of the cases each property test tried, printed at the end of the run (`make test`
shows it). The Hypothesis profiles themselves are in `tests/conftest.py`, for every test."""

import pytest

from tests.properties.counts import CASES


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if not CASES:
        return
    terminalreporter.section("property-based cases tried")
    for name, count in sorted(CASES.items()):
        terminalreporter.write_line(f"{count:6d}  {name}")
    terminalreporter.write_line(f"{sum(CASES.values()):6d}  total")
