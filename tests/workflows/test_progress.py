"""The current-details markdown writes times exactly as `strftime` would (it avoids the call only
because it is slow inside the sandbox)."""

from datetime import UTC, datetime

from hypothesis import given
from hypothesis import strategies as st

from workflows.progress import _time


@given(st.datetimes(min_value=datetime(1000, 1, 1), max_value=datetime(9999, 12, 31)))
def test_a_time_reads_as_strftime_writes_it(value: datetime) -> None:
    aware = value.replace(tzinfo=UTC)
    assert _time(aware) == aware.strftime("%Y-%m-%d %H:%M:%S UTC")


def test_no_time_is_a_dash() -> None:
    assert _time(None) == "-"
