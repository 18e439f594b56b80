"""One write path: every entry point (admin, API, command, task) reaches the same service.

Each test drives a real entry point and checks two things: the service function was called
(a pass-through spy: the real function still runs) and what only that service does happened
(work queued on the real broker, a changed URL due for a check at once, the outline saved).
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.core.management import call_command
from django.urls import reverse

from curation import enqueue
from curation.catalog import services
from curation.health import checking
from curation.metadata import services as metadata
from curation.models import Collection, Resource, Topic
from tests.curation.test_admin import EMPTY_INLINES, form_data
from tests.factories import ResourceFactory, TopicFactory
from tests.integration.support import allow_loopback, server_hosts

pytestmark = pytest.mark.django_db


@pytest.fixture
def calls(monkeypatch) -> Callable[[object, str], list]:
    """calls(module, "name"): the calls made to module.name, which still runs as before."""

    def spy(module: object, name: str) -> list:
        real = getattr(module, name)
        seen: list = []

        def recorded(*args, **kwargs):
            seen.append((args, kwargs))
            return real(*args, **kwargs)

        monkeypatch.setattr(module, name, recorded)
        return seen

    return spy


def queued_for(messages, resource_id: int) -> set[str]:
    names = set()
    for task, kwargs in messages:
        if task == enqueue.REFRESH_METADATA and kwargs.get("resource_id") == resource_id:
            names.add(task)
        if task == enqueue.CHECK_RESOURCES and any(i[0] == resource_id for i in kwargs["items"]):
            names.add(task)
    return names


RESOURCE_FORM = {
    "title": "Kernels",
    "kind": "article",
    "difficulty": "1",
    "cost": "free",
    "status": "draft",
    **EMPTY_INLINES,
}


# --- Admin ---------------------------------------------------------------------------------------


def test_a_resource_added_in_the_admin_is_queued_for_its_first_check_and_metadata(
    curator_client, calls, broker_messages, django_capture_on_commit_callbacks
):
    created = calls(services, "create_resource")
    with django_capture_on_commit_callbacks(execute=True):
        response = curator_client.post(
            reverse("admin:curation_resource_add"),
            {"url": "https://example.com/kernels", **RESOURCE_FORM},
        )
    assert response.status_code == 302, response.content.decode()[:2000]
    resource = Resource.objects.get()
    assert len(created) == 1
    assert queued_for(broker_messages(), resource.pk) == {
        enqueue.CHECK_RESOURCES,
        enqueue.REFRESH_METADATA,
    }


def test_a_url_fixed_in_the_admin_is_due_for_a_check_at_once(
    curator_client, calls, broker_messages, django_capture_on_commit_callbacks
):
    resource = ResourceFactory(url="https://example.com/old", health="broken")
    Resource.objects.filter(pk=resource.pk).update(next_check_at="2099-01-01T00:00:00Z")
    updated = calls(services, "update_resource")
    url = reverse("admin:curation_resource_change", args=[resource.pk])
    data = form_data(curator_client.get(url).content.decode(), "resource_form")
    data["url"] = "https://example.com/new"
    with django_capture_on_commit_callbacks(execute=True):
        response = curator_client.post(url, data)
    assert response.status_code == 302, response.content.decode()[:2000]
    resource.refresh_from_db()
    assert len(updated) == 1
    assert resource.url == "https://example.com/new"
    assert resource.next_check_at is None
    assert Resource.objects.due_for_check(resource.created_at).filter(pk=resource.pk).exists()
    assert enqueue.CHECK_RESOURCES in queued_for(broker_messages(), resource.pk)


def test_an_admin_edit_that_keeps_the_url_keeps_the_schedule(
    curator_client, broker_messages, django_capture_on_commit_callbacks
):
    resource = ResourceFactory(url="https://example.com/same", title="Before")
    Resource.objects.filter(pk=resource.pk).update(next_check_at="2099-01-01T00:00:00Z")
    url = reverse("admin:curation_resource_change", args=[resource.pk])
    data = form_data(curator_client.get(url).content.decode(), "resource_form")
    data["title"] = "After"
    with django_capture_on_commit_callbacks(execute=True):
        assert curator_client.post(url, data).status_code == 302
    resource.refresh_from_db()
    assert resource.title == "After"
    assert resource.next_check_at.year == 2099
    assert queued_for(broker_messages(), resource.pk) == set()


def test_a_topic_saved_in_the_admin_goes_through_save_topic(curator_client, calls):
    saved = calls(services, "save_topic")
    prerequisite = TopicFactory(name="Calculus")
    response = curator_client.post(
        reverse("admin:curation_topic_add"),
        {
            "name": "Backprop",
            "slug": "backprop",
            "description": "",
            "prerequisites": [prerequisite.pk],
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    topic = Topic.objects.get(slug="backprop")
    assert len(saved) == 1
    assert list(topic.prerequisites.all()) == [prerequisite]


def test_a_collection_saved_in_the_admin_goes_through_save_collection(curator_client, calls):
    from curation.demo.loader import load_demo

    load_demo()
    collection = Collection.objects.get(slug="so-you-are-interested-in-deep-learning")
    before = collection.updated_at
    saved = calls(services, "save_collection")
    url = reverse("admin:curation_collection_change", args=[collection.pk])
    data = form_data(curator_client.get(url).content.decode(), "collection_form")
    note_key = next(
        k for k in data if k.endswith("-note") and "items" in k and "__prefix__" not in k
    )
    data[note_key] = "Watch this one twice."
    data["_save"] = "Save"
    response = curator_client.post(url, data)
    assert response.status_code == 302, response.content.decode()[:3000]
    assert len(saved) == 1
    collection.refresh_from_db()
    assert collection.updated_at > before
    notes = [i.note for s in collection.sections.all() for i in s.items.all()]
    assert "Watch this one twice." in notes


def test_the_admin_refuses_an_archived_resource_in_a_list(curator_client):
    from curation.demo.loader import load_demo

    load_demo()
    collection = Collection.objects.get(slug="so-you-are-interested-in-deep-learning")
    archived = ResourceFactory(status="archived", title="Gone for good")
    url = reverse("admin:curation_collection_change", args=[collection.pk])
    data = form_data(curator_client.get(url).content.decode(), "collection_form")
    resource_key = next(
        k for k in data if k.endswith("-resource") and "items" in k and "__prefix__" not in k
    )
    data[resource_key] = str(archived.pk)
    data["_save"] = "Save"
    response = curator_client.post(url, data)
    assert response.status_code == 200
    assert "An archived resource cannot be added to a list." in response.content.decode()


# --- API, command, tasks -----------------------------------------------------------------------


def test_a_resource_created_through_the_api_goes_through_create_resource(
    curator, calls, broker_messages, django_capture_on_commit_callbacks
):
    from rest_framework.authtoken.models import Token
    from rest_framework.test import APIClient

    created = calls(services, "create_resource")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=curator).key}")
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/api/v1/resources/",
            {"url": "https://example.com/api-made", "title": "Made", "kind": "article"},
            format="json",
        )
    assert response.status_code == 201, response.content
    assert len(created) == 1
    assert queued_for(broker_messages(), response.json()["id"]) == {
        enqueue.CHECK_RESOURCES,
        enqueue.REFRESH_METADATA,
    }


def test_the_demo_loader_command_goes_through_the_services(calls):
    created = calls(services, "create_resource")
    call_command("load_demo")
    assert len(created) == Resource.objects.count() > 0


def test_checklinks_all_records_through_the_guarded_recording(calls, settings, httpserver):
    httpserver.expect_request("/fine").respond_with_data("fine")
    allow_loopback(settings, *server_hosts(httpserver))
    resource = ResourceFactory(url=httpserver.url_for("/fine"), status="published")
    recorded = calls(checking, "record_checks")
    call_command("checklinks", "--all", "--format", "json", "--per-host-interval", "0")
    assert len(recorded) == 1
    resource.refresh_from_db()
    assert resource.checks.get().source == "command"


def test_the_metadata_task_goes_through_the_metadata_service(calls, settings, httpserver):
    from curation import tasks

    httpserver.expect_request("/page").respond_with_data(
        "<html><head><title>From the page</title></head></html>", content_type="text/html"
    )
    allow_loopback(settings, *server_hosts(httpserver))
    resource = ResourceFactory(url=httpserver.url_for("/page"), title="")
    applied = calls(metadata, "apply_fetched_metadata")
    tasks.refresh_metadata_task.apply(args=[resource.pk])
    assert len(applied) == 1
    resource.refresh_from_db()
    assert resource.title == "From the page"


def test_the_check_task_records_through_the_guarded_recording(calls, settings, httpserver):
    from curation import tasks

    httpserver.expect_request("/fine").respond_with_data("fine")
    allow_loopback(settings, *server_hosts(httpserver))
    settings.CELERY_BROKER_IS_REDIS = False
    resource = ResourceFactory(url=httpserver.url_for("/fine"), health="unknown")
    recorded = calls(checking, "record_checks")
    tasks.check_resources_task.apply(kwargs={"items": [[resource.pk, "tok"]]})
    assert len(recorded) == 1
    resource.refresh_from_db()
    assert resource.health == "healthy"
