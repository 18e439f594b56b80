"""Report periods: a fixed grid, so every trigger for "the current period" names the same row.

Periods are REPORT_PERIOD_DAYS long and end at midnight UTC; the grid is anchored on a Monday,
so weekly periods end on Mondays. The schedule reports those complete periods; "generate now"
reports the REPORT_PERIOD_DAYS up to the current minute (`period_to_now`), off the grid.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.utils import timezone

# Weekly periods end at Monday 00:00 UTC: the grid is anchored on a Monday.
PERIOD_ANCHOR = datetime(2024, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class Period:
    start: datetime
    end: datetime


def period_length() -> timedelta:
    return timedelta(days=settings.REPORT_PERIOD_DAYS)


def period_ending_at(end: datetime) -> Period:
    """The period that ends at `end` (any instant; the command's --period-end)."""
    if timezone.is_naive(end):
        end = timezone.make_aware(end, UTC)
    return Period(start=end - period_length(), end=end)


def current_period(now: datetime | None = None) -> Period:
    """The most recent complete period on the grid at `now`.

    Every trigger between two grid boundaries (a second beat tick, a worker redelivery, the
    admin button, the command) names this same period, which is what makes the row unique.
    """
    now = now or timezone.now()
    length = period_length()
    steps = (now - PERIOD_ANCHOR) // length
    end = PERIOD_ANCHOR + steps * length
    return Period(start=end - length, end=end)


def period_to_now(now: datetime | None = None) -> Period:
    """The REPORT_PERIOD_DAYS that end now: what "generate now" reports.

    Cut at the minute, so that a double click (or two curators in the same minute) names
    the same row and the report is generated and emailed once; at a grid boundary this is
    the scheduled period itself.
    """
    now = now or timezone.now()
    end = now.replace(second=0, microsecond=0)
    return Period(start=end - period_length(), end=end)


def is_scheduled(period: Period) -> bool:
    """Whether `period` is a complete period on the grid (what the schedule reports)."""
    length = period_length()
    return period.end - period.start == length and (period.end - PERIOD_ANCHOR) % length == (
        timedelta(0)
    )
