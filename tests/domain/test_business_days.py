"""Business-day arithmetic in China: weekends, CN public holidays and 调休 working weekends."""

from datetime import UTC, date, datetime, timedelta, timezone

import holidays
import pytest

from domain.business_days import CHINA_TZ, add_business_days, is_business_day

CN = holidays.country_holidays("CN", years=range(2025, 2028))


def shanghai(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0
) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=CHINA_TZ)


# --- the calendar -------------------------------------------------------------------------------


def test_calendar_facts_the_tests_rely_on() -> None:
    # National Day 2026: Oct 1-7 off; Saturday Oct 10 is a declared working day (调休).
    assert CN.is_working_day(date(2026, 9, 30))
    for day in range(1, 8):
        assert not CN.is_working_day(date(2026, 10, day))
    assert date(2026, 10, 10).weekday() == 5  # a Saturday
    assert CN.is_working_day(date(2026, 10, 10))


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (date(2026, 3, 6), True),  # Friday
        (date(2026, 3, 7), False),  # Saturday
        (date(2026, 3, 8), False),  # Sunday
        (date(2026, 3, 9), True),  # Monday
        (date(2026, 10, 1), False),  # National Day (a Thursday)
        (date(2026, 10, 7), False),  # substituted day off (a Wednesday)
        (date(2026, 10, 10), True),  # Saturday declared a working day
        (date(2026, 1, 4), True),  # Sunday declared a working day
        (date(2026, 2, 17), False),  # Spring Festival (a Tuesday)
    ],
)
def test_is_business_day_follows_the_cn_calendar(day: date, expected: bool) -> None:
    assert is_business_day(day) is expected
    assert is_business_day(day) == CN.is_working_day(day)


def test_is_business_day_agrees_with_holidays_over_two_years() -> None:
    day = date(2025, 1, 1)
    while day < date(2027, 1, 1):
        assert is_business_day(day) == CN.is_working_day(day), day
        day += timedelta(days=1)


# --- add_business_days --------------------------------------------------------------------------


def test_friday_plus_one_business_day_is_monday() -> None:
    friday = shanghai(2026, 3, 6, 15, 30)
    assert add_business_days(friday, 1) == shanghai(2026, 3, 9, 15, 30)


def test_thursday_plus_three_business_days_skips_the_weekend() -> None:
    assert add_business_days(shanghai(2026, 3, 5, 9), 3) == shanghai(2026, 3, 10, 9)


def test_plain_weekdays_are_consecutive() -> None:
    monday = shanghai(2026, 3, 9, 11)
    for n in range(5):
        assert add_business_days(monday, n) == monday + timedelta(days=n)


def test_national_day_2026_lands_on_the_declared_working_saturday() -> None:
    start = shanghai(2026, 9, 30, 10)
    result = add_business_days(start, 3)
    # Oct 8 (Thu), Oct 9 (Fri), Oct 10 (Sat, 调休 working day).
    assert result == shanghai(2026, 10, 10, 10)
    assert result.weekday() == 5
    assert CN.is_working_day(result.date())


def test_national_day_each_step() -> None:
    start = shanghai(2026, 9, 30, 10)
    assert add_business_days(start, 1) == shanghai(2026, 10, 8, 10)
    assert add_business_days(start, 2) == shanghai(2026, 10, 9, 10)
    assert add_business_days(start, 4) == shanghai(2026, 10, 12, 10)  # Sunday 11th is off


def test_across_the_year_boundary_onto_a_working_sunday() -> None:
    # Jan 1 holiday, Jan 2 day off, Jan 3 Saturday; Sunday Jan 4 2026 is a working day.
    assert add_business_days(shanghai(2025, 12, 31, 14), 1) == shanghai(2026, 1, 4, 14)


def test_result_is_always_a_business_day_and_counts_exactly_n_of_them() -> None:
    start = shanghai(2026, 9, 24, 8)  # Thursday before Mid-Autumn + National Day
    for n in range(1, 12):
        result = add_business_days(start, n)
        assert is_business_day(result.date())
        counted = [
            start.date() + timedelta(days=i)
            for i in range(1, (result.date() - start.date()).days + 1)
        ]
        assert sum(CN.is_working_day(d) for d in counted) == n


def test_zero_days_on_a_business_day_is_the_same_instant() -> None:
    start = datetime(2026, 3, 9, 3, 17, 42, 123456, tzinfo=UTC)
    result = add_business_days(start, 0)
    assert result == start
    assert result.utcoffset() == timedelta(0)


def test_starting_on_a_saturday_zero_days_moves_to_monday_same_time() -> None:
    assert add_business_days(shanghai(2026, 3, 7, 10), 0) == shanghai(2026, 3, 9, 10)


def test_starting_on_a_holiday_zero_days_moves_to_the_next_business_day() -> None:
    assert add_business_days(shanghai(2026, 10, 2, 16), 0) == shanghai(2026, 10, 8, 16)


def test_starting_on_a_weekend_lands_on_a_business_day_after_the_weekend() -> None:
    for start in (shanghai(2026, 3, 7, 10), shanghai(2026, 3, 8, 23, 59)):
        result = add_business_days(start, 1)
        assert result > shanghai(2026, 3, 9, 0)
        assert is_business_day(result.date())


def test_starting_on_a_weekend_counts_from_the_next_business_day() -> None:
    saturday = shanghai(2026, 3, 7, 10)
    monday = shanghai(2026, 3, 9, 10)
    # Counting from Monday (the next business day): Monday + 1 = Tuesday, + 3 = Thursday.
    assert (
        add_business_days(saturday, 1) == add_business_days(monday, 1) == shanghai(2026, 3, 10, 10)
    )
    assert add_business_days(saturday, 3) == shanghai(2026, 3, 12, 10)


def test_starting_on_a_holiday_counts_from_the_next_business_day() -> None:
    assert add_business_days(shanghai(2026, 10, 1, 10), 1) == shanghai(2026, 10, 9, 10)


def test_more_business_days_is_always_later() -> None:
    for start in (shanghai(2026, 3, 6, 10), shanghai(2026, 3, 7, 10), shanghai(2026, 10, 3, 10)):
        results = [add_business_days(start, n) for n in range(6)]
        assert results == sorted(set(results)), start


def test_time_of_day_is_preserved_in_shanghai_local_time() -> None:
    # 02:00 UTC on Wednesday Sep 30 is 10:00 in Shanghai; 3 business days later is Oct 10 10:00.
    start = datetime(2026, 9, 30, 2, 0, tzinfo=UTC)
    result = add_business_days(start, 3)
    assert result == datetime(2026, 10, 10, 2, 0, tzinfo=UTC)
    assert result.tzinfo == UTC  # returned in the caller's time zone
    local = result.astimezone(CHINA_TZ)
    assert (local.hour, local.minute) == (10, 0)


def test_the_day_is_judged_in_shanghai_not_in_utc() -> None:
    # Friday 18:00 UTC is already Saturday 02:00 in Shanghai: not a business day there.
    start = datetime(2026, 3, 6, 18, 0, tzinfo=UTC)
    result = add_business_days(start, 0)
    assert result.astimezone(CHINA_TZ) == shanghai(2026, 3, 9, 2, 0)
    assert result == datetime(2026, 3, 8, 18, 0, tzinfo=UTC)


def test_late_evening_local_time_is_kept() -> None:
    start = shanghai(2026, 3, 6, 23, 45, 10)
    assert add_business_days(start, 1) == shanghai(2026, 3, 9, 23, 45, 10)


def test_other_time_zones_are_converted_back() -> None:
    new_york = timezone(timedelta(hours=-4))
    start = datetime(2026, 9, 29, 22, 0, tzinfo=new_york)  # = Sep 30 10:00 in Shanghai
    result = add_business_days(start, 3)
    assert result.utcoffset() == timedelta(hours=-4)
    assert result.astimezone(CHINA_TZ) == shanghai(2026, 10, 10, 10)


@pytest.mark.parametrize("days", [-1, -3])
def test_negative_days_raise(days: int) -> None:
    with pytest.raises(ValueError, match="days"):
        add_business_days(shanghai(2026, 3, 9, 10), days)
