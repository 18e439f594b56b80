"""Each way in (admin, API, import command) reaches the service that emits the event."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.urls import reverse
from rest_framework.test import APIClient

from curation.models import Resource, WebhookDelivery
from curation.webhooks import events
from tests.curation.test_admin import form_data
from tests.factories import ResourceFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def listening(make_endpoint):
    return make_endpoint(
        events=[events.RESOURCE_CREATED, events.RESOURCE_UPDATED, events.COLLECTION_PUBLISHED]
    )


@pytest.fixture
def curator_api(curator) -> APIClient:
    client = APIClient()
    client.force_authenticate(curator)
    return client


def payloads(event: str) -> list[dict]:
    return [d.payload["data"] for d in WebhookDelivery.objects.filter(event=event)]


def test_a_resource_added_in_the_admin_is_a_resource_created_event(listening, curator_client):
    url = reverse("admin:curation_resource_add")
    data = form_data(curator_client.get(url).content.decode(), "resource_form")
    data.update(url="https://example.com/added-in-admin", title="Added", status="draft")
    response = curator_client.post(url, data)
    assert response.status_code == 302, response.content.decode()[:2000]
    resource = Resource.objects.get(url="https://example.com/added-in-admin")
    assert [p["resource"]["id"] for p in payloads(events.RESOURCE_CREATED)] == [resource.pk]


def test_a_resource_edited_in_the_admin_is_a_resource_updated_event(listening, curator_client):
    resource = ResourceFactory(title="Before")
    url = reverse("admin:curation_resource_change", args=[resource.pk])
    data = form_data(curator_client.get(url).content.decode(), "resource_form")
    data["title"] = "After"
    assert curator_client.post(url, data).status_code == 302
    [payload] = payloads(events.RESOURCE_UPDATED)
    assert payload["changed"] == ["title"]
    assert payload["resource"]["title"] == "After"


def test_a_bulk_archive_in_the_admin_is_one_update_per_resource(listening, curator_client):
    first, second = ResourceFactory(), ResourceFactory()
    response = curator_client.post(
        reverse("admin:curation_resource_changelist"),
        {"action": "archive", "_selected_action": [first.pk, second.pk]},
    )
    assert response.status_code == 302
    updated = payloads(events.RESOURCE_UPDATED)
    assert sorted(p["resource"]["id"] for p in updated) == [first.pk, second.pk]
    assert {tuple(p["changed"]) for p in updated} == {("status",)}


def test_a_resource_created_through_the_api_is_a_resource_created_event(listening, curator_api):
    response = curator_api.post(
        "/api/v1/resources/",
        {"url": "https://example.test/from-api", "title": "From the API"},
        format="json",
    )
    assert response.status_code == 201, response.content
    [payload] = payloads(events.RESOURCE_CREATED)
    assert payload["resource"]["id"] == response.json()["id"]


def test_a_resource_patched_through_the_api_is_a_resource_updated_event(listening, curator_api):
    resource = ResourceFactory()
    response = curator_api.patch(
        f"/api/v1/resources/{resource.pk}/", {"title": "Renamed"}, format="json"
    )
    assert response.status_code == 200, response.content
    [payload] = payloads(events.RESOURCE_UPDATED)
    assert payload["changed"] == ["title"]


def test_a_collection_published_through_the_api_is_a_collection_published_event(
    listening, curator_api
):
    response = curator_api.post(
        "/api/v1/collections/",
        {"title": "Start here", "slug": "start-here", "status": "published", "sections": []},
        format="json",
    )
    assert response.status_code == 201, response.content
    [payload] = payloads(events.COLLECTION_PUBLISHED)
    assert payload["collection"]["slug"] == "start-here"


def test_an_import_is_one_resource_created_event_per_new_resource(listening, tmp_path):
    path = tmp_path / "list.csv"
    path.write_text("url,title\nhttps://a.example.test/,A\nhttps://b.example.test/,B\n")
    call_command("import_resources", str(path), stdout=io.StringIO())
    created = sorted(p["resource"]["url"] for p in payloads(events.RESOURCE_CREATED))
    assert created == ["https://a.example.test/", "https://b.example.test/"]
