"""Business-day arithmetic in China: weekends and CN public holidays (from `holidays`) are skipped,
and the weekend days China declares working days (调休, e.g. a Saturday before National Day) count.

Used at start time, outside the workflow, to turn "3 business days" into a fixed deadline that is
written into the workflow input; the workflow itself never consults a calendar.
"""

from datetime import date, datetime, timedelta
from functools import cache
from zoneinfo import ZoneInfo

import holidays

CHINA_TZ = ZoneInfo("Asia/Shanghai")


@cache
def _cn_holidays(year: int) -> "holidays.HolidayBase":
    return holidays.country_holidays("CN", years=year)


def is_business_day(day: date) -> bool:
    return bool(_cn_holidays(day.year).is_working_day(day))


def add_business_days(start: datetime, days: int) -> datetime:
    """The same local time `days` business days after `start` (local time in Asia/Shanghai).

    Starting on a weekend or holiday counts from the next business day, as banks do.
    """
    if days < 0:
        raise ValueError("days must be >= 0")
    local = start.astimezone(CHINA_TZ)
    day = local.date()
    while not is_business_day(day):  # the clock starts on the next business day
        day += timedelta(days=1)
    remaining = days
    while remaining > 0:
        day += timedelta(days=1)
        if is_business_day(day):
            remaining -= 1
    result = datetime.combine(day, local.timetz())
    return result.astimezone(start.tzinfo)
