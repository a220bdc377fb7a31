"""The current-details markdown writes times exactly as `strftime` would (it avoids the call only
because it is slow inside the sandbox)."""

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from workflows.details import _clock


@given(st.datetimes(min_value=datetime(1000, 1, 1), max_value=datetime(9999, 12, 30)))
def test_a_time_reads_as_strftime_writes_it(value: datetime) -> None:
    moment = value.replace(tzinfo=UTC)
    assert _clock(moment, moment.date()) == moment.strftime("%H:%M:%S")
    day_before = (moment - timedelta(days=1)).date()
    assert _clock(moment, day_before) == moment.strftime("%m-%d %H:%M:%S")


def test_no_time_is_a_dash() -> None:
    assert _clock(None, datetime(2026, 11, 24, tzinfo=UTC).date()) == "-"
