"""Moments read exactly as `strftime` writes them (the functions only avoid calling it)."""

from datetime import UTC, datetime, timedelta, timezone

from hypothesis import given
from hypothesis import strategies as st

from domain import moments

MOMENTS = st.datetimes(min_value=datetime(1, 1, 1), max_value=datetime(9999, 12, 30))


@given(MOMENTS)
def test_each_spelling_is_the_strftime_one(moment: datetime) -> None:
    assert moments.clock(moment) == moment.strftime("%H:%M:%S")
    assert moments.day_clock(moment) == moment.strftime("%m-%d %H:%M:%S")
    assert moments.date_clock(moment) == moment.strftime("%Y-%m-%d %H:%M:%S")
    assert moments.shown(moment) == moment.strftime("%m-%d %H:%M:%S")
    assert moments.shown(moment, with_date=True) == moment.strftime("%Y-%m-%d %H:%M:%S")
    assert moments.utc_stamp(moment) == moment.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert moments.local_stamp(moment) == moment.isoformat(timespec="seconds")


@given(MOMENTS)
def test_on_day_drops_the_date_on_the_runs_first_day(moment: datetime) -> None:
    assert moments.on_day(moment, moment.date()) == moment.strftime("%H:%M:%S")
    other = (moment + timedelta(days=1)).date()
    assert moments.on_day(moment, other) == moment.strftime("%m-%d %H:%M:%S")


def test_no_moment_reads_as_a_dash() -> None:
    assert moments.shown(None) == moments.shown(None, with_date=True) == "-"
    assert moments.on_day(None, datetime(2026, 11, 24).date()) == "-"


def test_a_query_time_is_in_utc_with_microseconds() -> None:
    beijing = timezone(timedelta(hours=8))
    moment = datetime(2026, 11, 24, 17, 5, 9, 42, tzinfo=beijing)
    assert moments.query_time(moment) == "2026-11-24T09:05:09.000042Z"
    assert moments.query_time(moment) == (moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"))
