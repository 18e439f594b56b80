"""The link reports in the admin: list, report page with chart, generate now, apply a move."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.contrib import admin
from django.urls import path

from curation.models import HealthState, LinkReport
from curation.reports.generate import generate_link_report
from curation.reports.periods import Period
from tests.factories import (
    CuratorFactory,
    HealthTransitionFactory,
    ItemFactory,
    ResourceFactory,
    UserFactory,
)

urlpatterns = [path("admin/", admin.site.urls)]
pytestmark = [pytest.mark.django_db, pytest.mark.urls(__name__)]

END = datetime(2026, 11, 23, tzinfo=UTC)
PERIOD = Period(start=END - timedelta(days=7), end=END)
DURING = END - timedelta(days=3)


@pytest.fixture
def moved_resource():
    resource = ResourceFactory(
        title="Moved <b>page</b>",
        url="https://old.example.test/page",
        health=HealthState.MOVED,
        suggested_url="https://new.example.test/page",
        health_changed_at=DURING,
    )
    HealthTransitionFactory(
        resource=resource, from_state=HealthState.HEALTHY, to_state=HealthState.MOVED, at=DURING
    )
    ItemFactory(resource=resource)
    return resource


@pytest.fixture
def report(moved_resource):
    return generate_link_report(period=PERIOD).report


@pytest.fixture
def generator_client(curator, curator_client):
    """A member of the Curators group, which migration 0006 lets generate reports."""
    assert curator.has_perm("curation.add_linkreport")
    return curator_client


def test_the_list_shows_reports_and_a_generate_now_button(generator_client, report):
    response = generator_client.get("/admin/curation/linkreport/")

    assert response.status_code == 200
    body = response.content.decode()
    assert "Generate now" in body
    assert "Link report 2026-11-16" in body


def test_the_report_page_shows_the_sections_the_chart_and_escapes_titles(curator_client, report):
    response = curator_client.get(f"/admin/curation/linkreport/{report.pk}/change/")

    assert response.status_code == 200
    body = response.content.decode()
    assert "<svg" in body and "Health over time" in body
    assert "Moved &lt;b&gt;page&lt;/b&gt;" in body
    assert "<b>page</b>" not in body
    assert "https://new.example.test/page" in body
    assert "Apply suggested address" in body
    assert "Published lists with broken or moved items (1)" in body


def test_generate_now_creates_the_report_up_to_now_once(generator_client, time_machine, mailoutbox):
    now = datetime(2026, 11, 25, 9, tzinfo=UTC)
    time_machine.move_to(now, tick=False)

    first = generator_client.post("/admin/curation/linkreport/generate/", follow=True)
    second = generator_client.post("/admin/curation/linkreport/generate/", follow=True)

    assert first.status_code == 200
    assert LinkReport.objects.count() == 1
    # The period that ends now, not the last complete week (see test_reports_now.py).
    assert LinkReport.objects.get().period_end == now
    assert "Generated" in first.content.decode()
    assert "already exists" in second.content.decode()


def test_generate_now_needs_a_post(generator_client):
    assert generator_client.get("/admin/curation/linkreport/generate/").status_code == 405
    assert LinkReport.objects.count() == 0


def test_apply_suggested_address_moves_the_resource_in_one_click(
    curator_client, report, moved_resource
):
    response = curator_client.post(
        f"/admin/curation/linkreport/{report.pk}/apply/{moved_resource.pk}/", follow=True
    )

    assert response.status_code == 200
    moved_resource.refresh_from_db()
    assert moved_resource.url == "https://new.example.test/page"
    assert moved_resource.health == HealthState.HEALTHY
    assert "now points at https://new.example.test/page" in response.content.decode()
    # The suggestion is no longer pending, so the page stops offering it.
    page = curator_client.get(f"/admin/curation/linkreport/{report.pk}/change/")
    assert "no longer pending" in page.content.decode()


def test_apply_refuses_a_resource_that_is_no_longer_moved(curator_client, report, moved_resource):
    type(moved_resource).objects.filter(pk=moved_resource.pk).update(health=HealthState.HEALTHY)

    response = curator_client.post(
        f"/admin/curation/linkreport/{report.pk}/apply/{moved_resource.pk}/", follow=True
    )

    moved_resource.refresh_from_db()
    assert moved_resource.url == "https://old.example.test/page"
    assert "no confirmed new address" in response.content.decode()


def test_the_chart_and_downloads_are_served(curator_client, report):
    chart = curator_client.get(f"/admin/curation/linkreport/{report.pk}/chart.svg")
    csv_file = curator_client.get(f"/admin/curation/linkreport/{report.pk}/download.csv")

    assert chart["Content-Type"] == "image/svg+xml"
    assert chart.content.startswith(b"<svg")
    assert csv_file["Content-Type"].startswith("text/csv")
    assert b"moved" in csv_file.content


def test_staff_without_the_report_permission_cannot_see_reports(client, report):
    client.force_login(UserFactory(is_staff=True))

    assert client.get(f"/admin/curation/linkreport/{report.pk}/change/").status_code == 403
    assert client.post("/admin/curation/linkreport/generate/").status_code == 403


def test_a_curator_without_change_permission_gets_no_apply_button(client, report):
    viewer = CuratorFactory()
    viewer.groups.clear()
    from django.contrib.auth.models import Permission

    viewer.user_permissions.add(Permission.objects.get(codename="view_linkreport"))
    client.force_login(viewer)

    page = client.get(f"/admin/curation/linkreport/{report.pk}/change/")

    assert page.status_code == 200
    assert "Apply suggested address" not in page.content.decode()
