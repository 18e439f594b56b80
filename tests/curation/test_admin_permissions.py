"""Every admin action and one-click view that writes needs the permission matching its write.

The user here is staff, logged in, and may view what they see but not change it: nothing
with a side effect is offered to them, and a hand-made request for it writes and queues nothing.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from curation.models import (
    HealthState,
    LinkReport,
    MetadataSuggestion,
    PublicationStatus,
    Resource,
    SuggestionStatus,
)
from curation.reports.generate import generate_link_report
from curation.reports.periods import Period
from tests.factories import ResourceFactory, UserFactory

pytestmark = pytest.mark.django_db

RESOURCE_LIST = reverse("admin:curation_resource_changelist")
SUGGESTION_LIST = reverse("admin:curation_metadatasuggestion_changelist")
REPORT_LIST = reverse("admin:curation_linkreport_changelist")
GENERATE = reverse("admin:curation_linkreport_generate")
VIEW_ONLY = ("view_resource", "view_metadatasuggestion", "view_linkreport")
RESOURCE_ACTIONS = (
    "publish", "archive", "make_beginner", "make_intermediate", "make_advanced",
    "check_links_now", "refresh_metadata", "snooze_7_days", "snooze_30_days", "lift_snooze",
    "apply_moved_address", "confirm_still_recommended",
)  # fmt: skip


def staff_with(*codenames: str):
    user = UserFactory(is_staff=True)
    user.user_permissions.add(
        *Permission.objects.filter(content_type__app_label="curation", codename__in=codenames)
    )
    return user


@pytest.fixture
def viewer(client):
    client.force_login(staff_with(*VIEW_ONLY))
    return client


@pytest.fixture
def moved() -> Resource:
    return ResourceFactory(
        status=PublicationStatus.DRAFT,
        health=HealthState.MOVED,
        url="https://old.example.test/page",
        suggested_url="https://new.example.test/page",
    )


def resource_row(resource: Resource) -> dict:
    return Resource.objects.filter(pk=resource.pk).values().get()


def offered_actions(client, url: str) -> set[str]:
    from bs4 import BeautifulSoup

    page = BeautifulSoup(client.get(url).content, "html.parser")
    select = page.find("select", attrs={"name": "action"})
    return {o["value"] for o in select.find_all("option") if o["value"]} if select else set()


# --- Resource actions and the health buttons -----------------------------------------------------


def test_a_viewer_is_offered_no_resource_action(viewer, moved):
    assert offered_actions(viewer, RESOURCE_LIST) == set()


def test_a_curator_is_offered_every_resource_action(client, moved):
    client.force_login(staff_with(*VIEW_ONLY, "change_resource"))

    assert offered_actions(client, RESOURCE_LIST) == set(RESOURCE_ACTIONS)


@pytest.mark.parametrize("action", RESOURCE_ACTIONS)
def test_a_resource_action_posted_by_a_viewer_writes_and_queues_nothing(
    viewer, moved, action, broker_messages, django_capture_on_commit_callbacks
):
    before = resource_row(moved)

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = viewer.post(RESOURCE_LIST, {"action": action, "_selected_action": [moved.pk]})

    assert response.status_code in (200, 302)
    assert resource_row(moved) == before
    assert callbacks == []
    assert broker_messages() == []


@pytest.mark.parametrize(
    ("view", "data"),
    [
        ("admin:curation_resource_snooze", {"snooze_days": "30"}),
        ("admin:curation_resource_apply_moved", {}),
    ],
)
def test_a_viewer_gets_403_from_the_health_buttons_and_nothing_changes(viewer, moved, view, data):
    before = resource_row(moved)

    response = viewer.post(reverse(view, args=[moved.pk]), data)

    assert response.status_code == 403
    assert resource_row(moved) == before


def test_a_viewer_sees_the_evidence_but_not_the_snooze_and_apply_buttons(viewer, moved):
    page = viewer.get(reverse("admin:curation_resource_change", args=[moved.pk]))

    html = page.content.decode()
    assert page.status_code == 200
    assert "Failure streak" in html
    assert "Apply the new address" not in html
    assert reverse("admin:curation_resource_snooze", args=[moved.pk]) not in html


def test_a_curator_sees_the_snooze_and_apply_buttons(client, moved):
    client.force_login(staff_with(*VIEW_ONLY, "change_resource"))

    html = client.get(reverse("admin:curation_resource_change", args=[moved.pk])).content.decode()

    assert "Apply the new address" in html
    assert reverse("admin:curation_resource_snooze", args=[moved.pk]) in html


# --- Metadata suggestions ------------------------------------------------------------------------


@pytest.fixture
def suggestion(moved) -> MetadataSuggestion:
    return MetadataSuggestion.objects.create(
        resource=moved, field="title", current_value=moved.title, suggested_value="From the page"
    )


def test_a_viewer_is_offered_no_suggestion_action(viewer, suggestion):
    assert offered_actions(viewer, SUGGESTION_LIST) == set()


@pytest.mark.parametrize("action", ["accept", "dismiss"])
def test_a_suggestion_action_posted_by_a_viewer_decides_nothing(viewer, suggestion, action):
    title = suggestion.resource.title

    viewer.post(SUGGESTION_LIST, {"action": action, "_selected_action": [suggestion.pk]})

    suggestion.refresh_from_db()
    assert suggestion.status == SuggestionStatus.PENDING
    assert Resource.objects.get(pk=suggestion.resource_id).title == title


def test_accepting_needs_change_on_the_resource_too_dismissing_does_not(client, suggestion):
    # Accepting writes the resource's title; dismissing writes only the suggestion.
    client.force_login(staff_with(*VIEW_ONLY, "change_metadatasuggestion"))
    title = suggestion.resource.title

    assert offered_actions(client, SUGGESTION_LIST) == {"dismiss"}
    client.post(SUGGESTION_LIST, {"action": "accept", "_selected_action": [suggestion.pk]})
    suggestion.refresh_from_db()
    assert suggestion.status == SuggestionStatus.PENDING
    assert Resource.objects.get(pk=suggestion.resource_id).title == title

    client.post(SUGGESTION_LIST, {"action": "dismiss", "_selected_action": [suggestion.pk]})
    suggestion.refresh_from_db()
    assert suggestion.status == SuggestionStatus.DISMISSED


def test_a_curator_with_both_changes_accepts_a_suggestion(client, suggestion):
    client.force_login(staff_with(*VIEW_ONLY, "change_metadatasuggestion", "change_resource"))

    client.post(SUGGESTION_LIST, {"action": "accept", "_selected_action": [suggestion.pk]})

    suggestion.refresh_from_db()
    assert suggestion.status == SuggestionStatus.ACCEPTED
    assert Resource.objects.get(pk=suggestion.resource_id).title == "From the page"


# --- Link reports --------------------------------------------------------------------------------

END = datetime(2026, 11, 23, tzinfo=UTC)


@pytest.fixture
def report(moved) -> LinkReport:
    return generate_link_report(period=Period(start=END - timedelta(days=7), end=END)).report


def test_a_viewer_gets_403_from_generate_now_and_no_report_is_written_or_mailed(
    viewer, mailoutbox, time_machine
):
    time_machine.move_to(datetime(2026, 11, 25, 9, tzinfo=UTC))

    response = viewer.post(GENERATE)

    assert response.status_code == 403
    assert LinkReport.objects.count() == 0
    assert mailoutbox == []


def test_a_viewer_sees_the_reports_without_a_generate_now_button(viewer, report):
    page = viewer.get(REPORT_LIST)

    assert page.status_code == 200
    assert "Link report 2026-11-16" in page.content.decode()
    assert "Generate now" not in page.content.decode()


def test_the_add_permission_on_link_reports_lets_a_curator_generate(
    client, mailoutbox, time_machine
):
    time_machine.move_to(datetime(2026, 11, 25, 9, tzinfo=UTC))
    client.force_login(staff_with(*VIEW_ONLY, "add_linkreport"))

    assert "Generate now" in client.get(REPORT_LIST).content.decode()
    response = client.post(GENERATE)

    assert response.status_code == 302
    # "Generate now" reports the days up to the moment it was pressed.
    assert LinkReport.objects.get().period_end == datetime(2026, 11, 25, 9, tzinfo=UTC)


def test_a_viewer_gets_403_from_apply_on_the_report_page_and_the_resource_stays(
    viewer, report, moved
):
    before = resource_row(moved)

    response = viewer.post(reverse("admin:curation_linkreport_apply", args=[report.pk, moved.pk]))

    assert response.status_code == 403
    assert resource_row(moved) == before
    page = viewer.get(reverse("admin:curation_linkreport_change", args=[report.pk]))
    assert "Apply suggested address" not in page.content.decode()
