"""Freshness in the admin and the API: every way to confirm a review ends in mark_reviewed, the
queue says why each resource is in it, and only those who may change resources confirm."""

from __future__ import annotations

from datetime import timedelta

import pytest
from bs4 import BeautifulSoup
from django.contrib.auth.models import Permission
from django.urls import reverse
from django.utils import timezone

from curation.catalog import freshness
from curation.models import Collection, ProblemKind, ProblemReport, Resource
from tests.curation.test_admin import form_data
from tests.factories import CollectionFactory, ResourceFactory, UserFactory

pytestmark = pytest.mark.django_db

RESOURCE_LIST = reverse("admin:curation_resource_changelist")
QUEUE = reverse("admin:curation_resource_needs_review")
CONFIRM = "Confirm still worth recommending"


@pytest.fixture
def reviews(monkeypatch) -> list:
    """The calls made to mark_reviewed (which still runs)."""
    seen: list = []
    real = freshness.mark_reviewed

    def recorded(*args, **kwargs):
        seen.append((args, kwargs))
        return real(*args, **kwargs)

    monkeypatch.setattr(freshness, "mark_reviewed", recorded)
    return seen


@pytest.fixture
def viewer(client):
    user = UserFactory(is_staff=True)
    user.user_permissions.add(
        *Permission.objects.filter(content_type__app_label="curation", codename="view_resource")
    )
    client.force_login(user)
    return client


@pytest.fixture
def overdue() -> Resource:
    return ResourceFactory(
        title="An old tutorial", last_reviewed_at=timezone.now() - timedelta(days=400)
    )


def soup(response) -> BeautifulSoup:
    assert response.status_code == 200, response.content[:500]
    return BeautifulSoup(response.content, "html.parser")


def reviewed_at(resource: Resource):
    return Resource.objects.get(pk=resource.pk).last_reviewed_at


def test_the_admin_action_confirms_through_mark_reviewed(curator_client, overdue, reviews):
    response = curator_client.post(
        RESOURCE_LIST, {"action": "confirm_still_recommended", "_selected_action": [overdue.pk]}
    )
    assert response.status_code == 302
    assert len(reviews) == 1
    assert reviewed_at(overdue) > timezone.now() - timedelta(minutes=1)


def test_the_button_on_the_resource_page_confirms_through_mark_reviewed(
    curator_client, overdue, reviews
):
    change = reverse("admin:curation_resource_change", args=[overdue.pk])
    page = soup(curator_client.get(change))
    button = page.find("button", string=CONFIRM)
    assert button["formaction"] == reverse("admin:curation_resource_review", args=[overdue.pk])
    assert "last reviewed 400 days ago" in page.get_text()
    response = curator_client.post(button["formaction"])
    assert response.status_code == 302 and response["Location"] == change
    assert len(reviews) == 1
    assert freshness.needs_review().count() == 0
    assert "Nothing asks for a review now." in soup(curator_client.get(change)).get_text()


def test_the_queue_says_why_each_resource_needs_review(curator_client, overdue):
    reported = ResourceFactory(title="A changed course", last_reviewed_at=timezone.now())
    ProblemReport.objects.create(resource=reported, kind=ProblemKind.OUTDATED, client="c")
    ResourceFactory(title="Fresh", last_reviewed_at=timezone.now())
    page = soup(curator_client.get(QUEUE))
    rows = {
        int(row["data-resource-id"]): [li.get_text() for li in row.select(".reasons li")]
        for row in page.select("#needs-review tbody tr")
    }
    assert rows == {
        overdue.pk: ["last reviewed 400 days ago (review every 365 days)"],
        reported.pk: ["reported outdated by 1 learner"],
    }
    assert page.select_one("#needs-review-total").get_text() == "2 resources need review."


def test_confirming_from_the_queue_empties_it_through_mark_reviewed(
    curator_client, overdue, reviews
):
    response = curator_client.post(QUEUE, {"resource": [str(overdue.pk), "9" * 30, "x"]})
    assert response.status_code == 302
    assert len(reviews) == 1 and reviewed_at(overdue) is not None
    assert "Nothing needs review." in soup(curator_client.get(QUEUE)).get_text()


def test_the_resource_list_links_the_queue(curator_client):
    page = soup(curator_client.get(RESOURCE_LIST))
    assert page.find("a", string="Needs review")["href"] == QUEUE


def test_a_viewer_sees_the_queue_but_confirms_nothing(viewer, overdue):
    page = soup(viewer.get(QUEUE))
    assert page.select('input[name="resource"]') == []
    assert viewer.post(QUEUE, {"resource": [overdue.pk]}).status_code == 403
    review = reverse("admin:curation_resource_review", args=[overdue.pk])
    assert viewer.post(review).status_code == 403
    viewer.post(
        RESOURCE_LIST, {"action": "confirm_still_recommended", "_selected_action": [overdue.pk]}
    )
    change = soup(viewer.get(reverse("admin:curation_resource_change", args=[overdue.pk])))
    assert change.find("button", string=CONFIRM) is None
    assert "last reviewed 400 days ago" in change.get_text()
    assert reviewed_at(overdue) == overdue.last_reviewed_at


def test_the_review_button_answers_only_posts(curator_client, overdue):
    review = reverse("admin:curation_resource_review", args=[overdue.pk])
    assert curator_client.get(review).status_code == 405
    assert reviewed_at(overdue) == overdue.last_reviewed_at


def test_a_collections_review_period_is_edited_in_the_admin(curator_client):
    collection = CollectionFactory()
    url = reverse("admin:curation_collection_change", args=[collection.pk])
    data = form_data(curator_client.get(url).content.decode(), "collection_form")
    assert data["review_period_days"] == "365"
    curator_client.post(url, {**data, "review_period_days": "90"})
    assert Collection.objects.get(pk=collection.pk).review_period_days == 90
    response = curator_client.post(url, {**data, "review_period_days": "0"})
    assert response.status_code == 200  # the form again, with the error beside the field
    assert "review_period_days" in response.context["adminform"].form.errors
    assert Collection.objects.get(pk=collection.pk).review_period_days == 90


def test_the_api_shows_the_review_time_and_refuses_to_set_it(curator_client, overdue):
    url = f"/api/v1/resources/{overdue.pk}/"
    shown = curator_client.get(url).json()["last_reviewed_at"]
    assert shown is not None and shown.startswith(overdue.last_reviewed_at.date().isoformat())
    response = curator_client.patch(
        url, {"last_reviewed_at": None}, content_type="application/json"
    )
    assert response.status_code == 400
    assert {e["field"] for e in response.json()["errors"]} == {"last_reviewed_at"}
    assert reviewed_at(overdue) == overdue.last_reviewed_at
