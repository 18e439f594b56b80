"""Which changes emit which events: exactly one per change, written in its transaction."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from pathlib import Path

import pytest
import time_machine
from django.db import transaction
from django.utils import timezone

from curation.catalog import services as catalog
from curation.health import actions, recording
from curation.models import (
    ArchivedSnapshot,
    Collection,
    HealthState,
    HealthTransition,
    PublicationStatus,
    SnapshotSource,
    WebhookDelivery,
)
from curation.reports.generate import generate_link_report
from curation.webhooks import events
from tests.factories import CollectionFactory, ResourceFactory
from tests.integration.support import result
from tests.webhooks.conftest import deliver_all

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _no_jitter(settings):
    settings.MONITOR_JITTER = 0.0


def record(resource, outcome, **kwargs):
    token = kwargs.pop("token", "")
    return recording.record_check(
        resource.pk,
        result=result(outcome, url=resource.url, **kwargs),
        source="scheduled",
        dispatch_token=token,
    )


def sent(event: str) -> list[WebhookDelivery]:
    return list(WebhookDelivery.objects.filter(event=event).order_by("created_at", "pk"))


def test_a_link_that_breaks_and_recovers_sends_one_verified_event_per_transition(
    receiver, make_endpoint
):
    make_endpoint(events=[events.RESOURCE_HEALTH_CHANGED])
    resource = ResourceFactory(health=HealthState.HEALTHY)
    with time_machine.travel("2026-01-01 00:00Z", tick=False) as clock:
        for _ in range(4):  # the fourth failure changes nothing: already broken
            record(resource, "not_found", status=404, rule="http-404")
            clock.shift(timedelta(hours=24))
        record(resource, "not_found", status=404, token="tok")
        record(resource, "not_found", status=404, token="tok")  # a redelivered result
        record(resource, "ok", status=200)

    transitions = list(
        HealthTransition.objects.filter(resource=resource)
        .order_by("at", "pk")
        .values_list("from_state", "to_state")
    )
    assert transitions == [("healthy", "suspect"), ("suspect", "broken"), ("broken", "healthy")]
    deliveries = sent(events.RESOURCE_HEALTH_CHANGED)
    assert [(d.payload["data"]["from"], d.payload["data"]["to"]) for d in deliveries] == (
        transitions
    )

    deliver_all()

    got = receiver.events()
    assert [(e["data"]["from"], e["data"]["to"]) for e in got] == transitions
    assert all(r.verified is not None for r in receiver.requests)
    assert len(receiver.requests) == 3
    broke = got[1]["data"]
    assert broke["resource"]["id"] == resource.pk
    assert broke["resource"]["health"] in {"broken", "healthy"}
    assert broke["check"]["outcome"] == "not_found"
    assert broke["check"]["status_code"] == 404
    assert broke["check"]["rule"] == "http-404"
    assert broke["archived"] is None


def test_the_health_event_carries_the_latest_archived_copy(make_endpoint):
    make_endpoint(events=[events.RESOURCE_HEALTH_CHANGED])
    resource = ResourceFactory(health=HealthState.SUSPECT)
    ArchivedSnapshot.objects.create(
        resource=resource,
        url="https://web.archive.org/web/20250101000000/https://example.test/",
        captured_at=timezone.now() - timedelta(days=300),
        archive="Internet Archive",
        found_by=SnapshotSource.TIMEGATE,
        looked_up_at=timezone.now(),
    )
    with time_machine.travel("2026-01-01 00:00Z", tick=False) as clock:
        for _ in range(3):
            record(resource, "not_found", status=404)
            clock.shift(timedelta(hours=24))
    [delivery] = sent(events.RESOURCE_HEALTH_CHANGED)
    archived = delivery.payload["data"]["archived"]
    assert archived["url"].startswith("https://web.archive.org/web/2025")
    assert archived["archive"] == "Internet Archive"
    assert archived["found_by"] == "timegate"
    assert archived["verified"] is True


def test_no_delivery_is_written_when_no_endpoint_wants_the_event(make_endpoint):
    make_endpoint(events=[events.RESOURCE_CREATED])
    resource = ResourceFactory(health=HealthState.UNKNOWN)
    record(resource, "ok", status=200)
    assert HealthTransition.objects.filter(resource=resource).exists()
    assert not WebhookDelivery.objects.exists()


def test_an_inactive_endpoint_gets_nothing(make_endpoint):
    make_endpoint(events=[events.RESOURCE_CREATED], active=False)
    catalog.create_resource(url="https://example.com/a", title="A")
    assert not WebhookDelivery.objects.exists()


def test_events_roll_back_with_the_change_that_made_them(make_endpoint):
    make_endpoint(events=[events.RESOURCE_CREATED])
    with pytest.raises(RuntimeError), transaction.atomic():
        catalog.create_resource(url="https://example.com/rolled-back", title="Gone")
        raise RuntimeError("the change fails after the event was written")
    assert not WebhookDelivery.objects.exists()


def test_a_snooze_that_lifts_a_broken_state_is_one_health_event(make_endpoint):
    make_endpoint(events=[events.RESOURCE_HEALTH_CHANGED])
    resource = ResourceFactory(health=HealthState.BROKEN)
    actions.snooze_resource(resource.pk, until=timezone.now() + timedelta(days=7))
    [delivery] = sent(events.RESOURCE_HEALTH_CHANGED)
    assert (delivery.payload["data"]["from"], delivery.payload["data"]["to"]) == (
        "broken",
        "suspect",
    )


def test_applying_a_moved_address_is_one_health_event(make_endpoint):
    make_endpoint(events=[events.RESOURCE_HEALTH_CHANGED, events.RESOURCE_UPDATED])
    resource = ResourceFactory(health=HealthState.MOVED, suggested_url="https://example.test/new")
    actions.apply_suggested_url(resource.pk)
    [delivery] = sent(events.RESOURCE_HEALTH_CHANGED)
    data = delivery.payload["data"]
    assert (data["from"], data["to"]) == ("moved", "healthy")
    assert data["resource"]["url"] == "https://example.test/new"


def test_an_edit_names_the_fields_that_changed_and_an_edit_that_changes_nothing_is_silent(
    make_endpoint,
):
    make_endpoint(events=[events.RESOURCE_UPDATED])
    resource = ResourceFactory(title="Before")
    catalog.update_resource(resource, title="After", difficulty=resource.difficulty)
    catalog.update_resource(resource, title="After")
    [delivery] = sent(events.RESOURCE_UPDATED)
    assert delivery.payload["data"]["changed"] == ["title"]
    assert delivery.payload["data"]["resource"]["title"] == "After"
    assert delivery.resource_id == resource.pk


def test_archiving_a_resource_is_an_update_not_an_archived_copy(make_endpoint):
    make_endpoint(events=[events.RESOURCE_UPDATED, events.RESOURCE_ARCHIVED])
    resource = ResourceFactory()
    catalog.archive_resource(resource)
    catalog.archive_resource(resource)  # already archived: nothing changed
    [delivery] = sent(events.RESOURCE_UPDATED)
    assert delivery.payload["data"]["changed"] == ["status"]
    assert delivery.payload["data"]["resource"]["status"] == "archived"
    assert sent(events.RESOURCE_ARCHIVED) == []


def test_bulk_status_changes_send_one_update_per_changed_resource(make_endpoint):
    make_endpoint(events=[events.RESOURCE_UPDATED])
    draft = ResourceFactory(status=PublicationStatus.DRAFT)
    published = ResourceFactory(status=PublicationStatus.PUBLISHED)
    changed = catalog.set_resources_status(
        [draft.pk, published.pk], status=PublicationStatus.PUBLISHED
    )
    assert changed == 1
    [delivery] = sent(events.RESOURCE_UPDATED)
    assert delivery.resource_id == draft.pk
    assert delivery.payload["data"]["resource"]["status"] == "published"


def test_an_archived_copy_recorded_is_a_resource_archived_event(make_endpoint):
    make_endpoint(events=[events.RESOURCE_ARCHIVED])
    resource = ResourceFactory(health=HealthState.BROKEN)
    snapshot = ArchivedSnapshot.objects.create(
        resource=resource,
        url="https://web.archive.org/web/2020/https://example.test/",
        captured_at=None,
        archive="Internet Archive",
        found_by=SnapshotSource.CONSTRUCTED,
        verified=False,
        looked_up_at=timezone.now(),
    )
    events.emit_resource_archived(snapshot)
    [delivery] = sent(events.RESOURCE_ARCHIVED)
    assert delivery.payload["data"] == {
        "resource": events.resource_data(resource),
        "archived": {
            "url": snapshot.url,
            "captured_at": None,
            "archive": "Internet Archive",
            "found_by": "constructed",
            "verified": False,
        },
    }


def test_a_collection_becoming_published_is_one_event(make_endpoint):
    make_endpoint(events=[events.COLLECTION_PUBLISHED])
    collection = CollectionFactory(status=PublicationStatus.DRAFT)
    catalog.save_collection(collection)
    assert sent(events.COLLECTION_PUBLISHED) == []
    collection.status = PublicationStatus.PUBLISHED
    catalog.save_collection(collection)
    catalog.save_collection(collection)  # saved again while published
    catalog.publish_collection(collection)  # and published again
    [delivery] = sent(events.COLLECTION_PUBLISHED)
    assert delivery.payload["data"]["collection"]["slug"] == collection.slug


def test_a_collection_created_published_is_one_event(make_endpoint):
    make_endpoint(events=[events.COLLECTION_PUBLISHED])
    collection = Collection(title="Start here", slug="start-here", status="published")
    catalog.save_collection(collection, sections=[])
    assert len(sent(events.COLLECTION_PUBLISHED)) == 1


def test_a_generated_report_is_one_event_and_a_second_trigger_sends_none(make_endpoint):
    make_endpoint(events=[events.REPORT_GENERATED])
    first = generate_link_report()
    again = generate_link_report()
    assert first.created and not again.created
    [delivery] = sent(events.REPORT_GENERATED)
    report = delivery.payload["data"]["report"]
    assert report["id"] == first.report.pk
    assert report["summary"] == first.report.data["summary"]
    assert set(report) == {
        "id", "period_start", "period_end", "generated_at", "changed", "summary",
        "newly_broken", "recovered", "moved", "disabled_webhooks",
    }  # fmt: skip


def test_an_unknown_event_is_refused():
    with pytest.raises(ValueError, match="unknown webhook event"):
        events.emit("resource.eaten", {})


def test_the_readme_example_has_the_shape_of_a_real_health_event(make_endpoint):
    """README's example body: the same keys, at every level, as a payload really sent."""
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    section = readme.split("## Webhooks", 1)[1]
    example = json.loads(re.search(r"```json\n(.*?)```", section, re.S).group(1))
    make_endpoint(events=[events.RESOURCE_HEALTH_CHANGED])
    resource = ResourceFactory(health=HealthState.SUSPECT)
    ArchivedSnapshot.objects.create(
        resource=resource,
        url="https://web.archive.org/web/2025/https://example.test/",
        captured_at=timezone.now(),
        archive="Internet Archive",
        found_by=SnapshotSource.TIMEGATE,
        looked_up_at=timezone.now(),
    )
    with time_machine.travel("2026-01-01 00:00Z", tick=False) as clock:
        for _ in range(3):
            record(resource, "not_found", status=404)
            clock.shift(timedelta(hours=24))
    [delivery] = sent(events.RESOURCE_HEALTH_CHANGED)

    def shape(value):
        if isinstance(value, dict):
            return {key: shape(inner) for key, inner in value.items()}
        return None

    assert shape(example) == shape(delivery.payload)
