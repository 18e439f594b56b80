"""Times in the workbench read as people read them, in the admin's time zone, with the exact
stored value on hover, on every page that shows one."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from bs4 import BeautifulSoup
from django.urls import reverse

from curation.checker.outcomes import CheckResult, Outcome
from curation.health.recording import CheckEntry, record_checks
from curation.models import CheckerIncident, HealthState, HealthTransition, Resource
from curation.reports.generate import generate_link_report
from curation.reports.periods import Period
from tests.factories import ResourceFactory

pytestmark = pytest.mark.django_db

CHECKED = datetime(2026, 12, 4, 15, 43, 35, 721684, tzinfo=UTC)
NOW = CHECKED + timedelta(hours=2, minutes=5)
EXACT = "2026-12-04T15:43:35.721684+00:00"
# A stored time as Python or JSON prints it: what must never reach a curator's eyes.
RAW = re.compile(r"\d{4}-\d\d-\d\d[ T]\d\d:\d\d:\d\d")


@pytest.fixture(autouse=True)
def frozen(time_machine):
    time_machine.move_to(NOW, tick=False)


@pytest.fixture
def checked(db) -> Resource:
    resource = ResourceFactory(health=HealthState.UNKNOWN)
    result = CheckResult(url=resource.url, outcome=Outcome.NOT_FOUND, status_code=404)
    record_checks([CheckEntry(resource_id=resource.pk, result=result, checked_at=CHECKED)])
    resource.refresh_from_db()
    return resource


def visible_text(html: str) -> str:
    return BeautifulSoup(html, "html.parser").get_text(" ")


def hover_values(html: str) -> set[str]:
    soup = BeautifulSoup(html, "html.parser")
    for tag in soup.find_all("time"):
        assert tag["datetime"] == tag["title"]
    return {tag["datetime"] for tag in soup.find_all("time")}


def get(client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200
    return response.content.decode()


def test_the_resource_page_shows_readable_times_with_the_exact_value_on_hover(
    curator_client, checked
):
    html = get(curator_client, reverse("admin:curation_resource_change", args=[checked.pk]))

    text = visible_text(html)
    assert "4 Dec 2026, 15:43 UTC (2 hours ago)" in text
    assert not RAW.search(text), RAW.search(text)
    assert EXACT in hover_values(html)


def test_the_resource_list_shows_the_last_check_readably(curator_client, checked):
    html = get(curator_client, reverse("admin:curation_resource_changelist"))

    text = visible_text(html)
    assert "4 Dec 2026, 15:43 UTC (2 hours ago)" in text
    assert not RAW.search(text)
    assert EXACT in hover_values(html)


def test_times_follow_the_admins_time_zone(curator_client, checked, settings):
    settings.TIME_ZONE = "Europe/Paris"

    html = get(curator_client, reverse("admin:curation_resource_change", args=[checked.pk]))

    assert "4 Dec 2026, 16:43 CET (2 hours ago)" in visible_text(html)
    assert EXACT in hover_values(html)


def test_an_incidents_detail_shows_its_stored_times_readably(curator_client):
    incident = CheckerIncident.objects.create(
        started_at=CHECKED, reason="6 of 6 hosts unreachable", detail={"last_seen": EXACT}
    )

    html = get(curator_client, reverse("admin:curation_checkerincident_change", args=[incident.pk]))

    assert not RAW.search(visible_text(html))
    assert EXACT in hover_values(html)
    assert "last_seen" in visible_text(html)


def test_the_fetched_metadata_panel_shows_when_it_was_fetched_readably(curator_client, checked):
    Resource.objects.filter(pk=checked.pk).update(
        fetched_metadata={"fetched_at": EXACT, "fields": {"title": {"value": "T", "source": "og"}}}
    )

    html = get(curator_client, reverse("admin:curation_resource_change", args=[checked.pk]))

    assert "Fetched 4 Dec 2026, 15:43 UTC (2 hours ago)" in " ".join(visible_text(html).split())
    assert not RAW.search(visible_text(html))


def test_the_transition_log_shows_readable_times(curator_client, checked):
    html = get(curator_client, reverse("admin:curation_healthtransition_changelist"))

    assert HealthTransition.objects.filter(resource=checked).exists()
    assert not RAW.search(visible_text(html))
    assert EXACT in hover_values(html)


def test_the_report_pages_show_readable_times(curator_client, checked):
    end = datetime(2026, 12, 4, 16, 0, tzinfo=UTC)
    report = generate_link_report(period=Period(start=end - timedelta(days=7), end=end)).report

    detail = get(curator_client, reverse("admin:curation_linkreport_change", args=[report.pk]))
    listing = get(curator_client, reverse("admin:curation_linkreport_changelist"))

    for html in (detail, listing):
        assert not RAW.search(visible_text(html)), RAW.search(visible_text(html))
    # The evidence of the newly suspect resource's check, and the generation time.
    assert "4 Dec 2026, 17:48 UTC (just now)" in visible_text(detail)
    assert NOW.isoformat() in hover_values(detail) | hover_values(listing)
