""" "Generate now" reports the period that ends now; the schedule keeps reporting complete weeks."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from curation.checker.outcomes import CheckResult, Outcome
from curation.health.recording import CheckEntry, record_checks
from curation.models import HealthState, LinkReport
from curation.reports.periods import Period, is_scheduled, period_to_now
from curation.tasks import generate_link_report_task
from tests.factories import ResourceFactory

pytestmark = pytest.mark.django_db

FRIDAY = datetime(2026, 12, 4, 15, 30, 42, tzinfo=UTC)
LAST_MONDAY = datetime(2026, 11, 30, tzinfo=UTC)
NEXT_MONDAY = datetime(2026, 12, 7, tzinfo=UTC)
GENERATE = "/admin/curation/linkreport/generate/"


@pytest.fixture(autouse=True)
def weekly(settings):
    settings.REPORT_PERIOD_DAYS = 7
    settings.MONITOR_BROKEN_MIN_FAILURES = 3
    settings.MONITOR_BROKEN_MIN_HOURS = 48


def record(resource, outcome: str, status: int | None, at: datetime) -> None:
    result = CheckResult(url=resource.url, outcome=Outcome(outcome), status_code=status)
    record_checks([CheckEntry(resource_id=resource.pk, result=result, checked_at=at)])


@pytest.fixture
def checked_all_week(time_machine) -> list:
    """The checker ran all week and today: one link broke this morning, one stayed healthy."""
    time_machine.move_to(FRIDAY, tick=False)
    dying = ResourceFactory(health=HealthState.UNKNOWN, title="Dies this week")
    fine = ResourceFactory(health=HealthState.UNKNOWN, title="Fine")
    for at in (FRIDAY - timedelta(days=3), FRIDAY - timedelta(days=2), FRIDAY - timedelta(hours=6)):
        record(dying, "not_found", 404, at)
        record(fine, "ok", 200, at)
    return [dying, fine]


def test_generate_now_on_a_friday_reports_the_week_up_to_now(
    curator_client, checked_all_week, mailoutbox
):
    response = curator_client.post(GENERATE, follow=True)

    report = LinkReport.objects.get()
    end = FRIDAY.replace(second=0)
    assert (report.period_start, report.period_end) == (end - timedelta(days=7), end)
    assert "the 7 days up to when “Generate now” was pressed" in response.content.decode()


def test_generate_now_counts_todays_checks_and_lists_only_changes_inside_its_period(
    curator_client, checked_all_week, mailoutbox
):
    curator_client.post(GENERATE)

    report = LinkReport.objects.get()
    data = report.data
    assert data["checks"]["total"] == 6
    assert "the checker may not be running" not in data["summary"]
    assert data["newly_broken"]["total"] == 1
    for item in data["newly_broken"]["items"]:
        broken_at = datetime.fromisoformat(item["broken_at"])
        assert report.period_start <= broken_at < report.period_end
    assert "1 link broke" in data["summary"]


def test_generate_now_twice_in_a_minute_makes_one_report(curator_client, checked_all_week):
    first = curator_client.post(GENERATE, follow=True)
    second = curator_client.post(GENERATE, follow=True)

    assert LinkReport.objects.count() == 1
    assert "Generated" in first.content.decode()
    assert "already exists" in second.content.decode()


def test_the_monday_schedule_still_reports_the_complete_week(
    curator_client, checked_all_week, time_machine, mailoutbox
):
    time_machine.move_to(LAST_MONDAY + timedelta(minutes=5), tick=False)
    generate_link_report_task.apply()
    time_machine.move_to(FRIDAY, tick=False)
    curator_client.post(GENERATE)

    time_machine.move_to(NEXT_MONDAY + timedelta(minutes=5), tick=False)
    generate_link_report_task.apply()

    scheduled = LinkReport.objects.get(period_end=NEXT_MONDAY)
    assert scheduled.period_start == LAST_MONDAY
    assert scheduled.data["checks"]["total"] == 6
    # Week compared with week: the Friday report made on demand is not "the previous report".
    assert scheduled.data["previous_report"]["period_end"] == LAST_MONDAY.isoformat()


def test_the_period_to_now_is_cut_at_the_minute_and_is_scheduled_only_on_the_grid():
    on_demand = period_to_now(FRIDAY)

    assert on_demand == Period(
        start=datetime(2026, 11, 27, 15, 30, tzinfo=UTC),
        end=datetime(2026, 12, 4, 15, 30, tzinfo=UTC),
    )
    assert not is_scheduled(on_demand)
    assert is_scheduled(period_to_now(NEXT_MONDAY + timedelta(seconds=30)))
