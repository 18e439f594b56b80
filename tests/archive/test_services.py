"""Looking up and recording archived copies: once per transition, cached, never lost."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from curation.archive import services
from curation.archive.lookup import ArchiveBusy
from curation.models import (
    ArchivedSnapshot,
    HealthState,
    HealthTransition,
    WebhookDelivery,
    WebhookEndpoint,
)
from tests.archive.archive_server import Reply
from tests.archive.helpers import record
from tests.factories import ResourceFactory

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 1, 10, 12, 0, tzinfo=UTC)
CAPTURED = datetime(2025, 11, 3, 9, 0, tzinfo=UTC)


@pytest.fixture
def failing(archive):
    """A resource whose first failure was just recorded (healthy -> suspect)."""
    resource = ResourceFactory(url="http://lessons.test/joins", health=HealthState.HEALTHY)
    archive.hold(resource.url, CAPTURED)
    record(resource, "not_found", status=404, at=T0)
    return resource


def latest_transition(resource) -> HealthTransition:
    return resource.transitions.order_by("-at", "-id").first()


def test_a_failing_link_gets_the_copy_from_before_it_failed(failing, archive):
    transition = latest_transition(failing)
    assert transition.to_state == HealthState.SUSPECT
    snapshot = services.look_up_archived_copy(transition.pk)
    assert snapshot.url == archive.memento_url(failing.url, CAPTURED)
    assert snapshot.captured_at == CAPTURED
    assert (snapshot.archive, snapshot.found_by, snapshot.verified) == (
        "Local Archive",
        "timegate",
        True,
    )
    assert snapshot.transition == transition
    (asked,) = archive.asked_for("timegate")
    assert asked.headers["Accept-Datetime"] == "Sat, 10 Jan 2026 12:00:00 GMT"


def test_a_transition_is_looked_up_once_however_often_its_task_runs(failing, archive):
    transition = latest_transition(failing)
    first = services.look_up_archived_copy(transition.pk)
    again = services.look_up_archived_copy(transition.pk)
    assert again == first
    assert ArchivedSnapshot.objects.count() == 1
    assert len(archive.asked_for("timegate")) == 1


def test_the_broken_transition_of_the_same_failure_asks_the_archive_nothing(failing, archive):
    services.look_up_archived_copy(latest_transition(failing).pk)
    record(failing, "not_found", status=404, at=T0 + timedelta(hours=24))
    record(failing, "not_found", status=404, at=T0 + timedelta(hours=48))
    broken = latest_transition(failing)
    assert broken.to_state == HealthState.BROKEN
    snapshot = services.look_up_archived_copy(broken.pk)
    assert snapshot.url == archive.memento_url(failing.url, CAPTURED)
    assert ArchivedSnapshot.objects.count() == 1
    assert len(archive.asked) == 1


def test_a_cached_answer_serves_another_transition_without_a_request(failing, archive):
    services.look_up_archived_copy(latest_transition(failing).pk)
    ArchivedSnapshot.objects.all().delete()
    snapshot = services.look_up_archived_copy(latest_transition(failing).pk)
    assert snapshot.url == archive.memento_url(failing.url, CAPTURED)
    assert len(archive.asked) == 1


def test_a_busy_archive_raises_for_a_retry_and_records_nothing(failing, archive):
    archive.script("timegate", Reply(status=429, headers={"Retry-After": "30"}))
    with pytest.raises(ArchiveBusy) as raised:
        services.look_up_archived_copy(latest_transition(failing).pk)
    assert raised.value.retry_after == 30
    assert not ArchivedSnapshot.objects.exists()


def test_the_last_attempt_at_a_busy_archive_records_the_constructed_address(failing, archive):
    archive.script("timegate", Reply(status=503))
    snapshot = services.look_up_archived_copy(latest_transition(failing).pk, final_attempt=True)
    assert snapshot.url == f"{archive.base}/web/20260110120000/{failing.url}"
    assert (snapshot.found_by, snapshot.verified, snapshot.captured_at) == (
        "constructed",
        False,
        None,
    )


def test_with_every_way_failing_the_constructed_address_is_recorded_unverified(failing, archive):
    for kind in ("timegate", "timemap", "availability"):
        archive.script(kind, Reply(status=500))
    snapshot = services.look_up_archived_copy(latest_transition(failing).pk)
    assert snapshot.found_by == "constructed"
    assert snapshot.verified is False


def test_a_moved_link_looks_for_a_copy_from_before_the_move(archive):
    resource = ResourceFactory(url="http://lessons.test/moved", health=HealthState.HEALTHY)
    archive.hold(resource.url, CAPTURED)
    transition = HealthTransition.objects.create(
        resource=resource, from_state="healthy", to_state="moved", at=T0
    )
    snapshot = services.look_up_archived_copy(transition.pk)
    assert snapshot.captured_at == CAPTURED


def test_a_resource_already_on_its_archived_copy_is_not_looked_up(failing, archive):
    failing.original_url = "http://lessons.test/was"
    failing.save(update_fields=["original_url"])
    assert services.look_up_archived_copy(latest_transition(failing).pk) is None
    assert archive.asked == []


def test_a_vanished_transition_or_resource_is_a_quiet_no_op(archive):
    assert services.look_up_archived_copy(987654) is None


def test_recording_a_snapshot_emits_resource_archived(failing, archive):
    WebhookEndpoint.objects.create(
        url="https://hooks.example.test/in", events=["resource.archived"], secret="whsec_x"
    )
    snapshot = services.look_up_archived_copy(latest_transition(failing).pk)
    delivery = WebhookDelivery.objects.get(event="resource.archived")
    assert delivery.resource_id == failing.pk
    assert delivery.payload["data"]["archived"]["url"] == snapshot.url


def test_retry_countdown_honours_retry_after_and_stays_below_the_visibility_timeout(settings):
    settings.CELERY_VISIBILITY_TIMEOUT = 3600
    assert services.retry_countdown(0, None) == 60
    assert services.retry_countdown(2, None) == 240
    assert services.retry_countdown(3, 5) == 5
    assert services.retry_countdown(0, 0) == 1
    assert services.retry_countdown(0, 600) == 600
    assert services.retry_countdown(0, 86400) == 1800
    assert services.retry_countdown(20, None) == 1800


def test_an_archive_holding_nothing_gives_the_constructed_address_and_is_remembered(archive):
    resource = ResourceFactory(url="http://lessons.test/never-archived")
    record(resource, "not_found", status=404, at=T0)
    first = services.look_up_archived_copy(latest_transition(resource).pk)
    assert (first.found_by, first.verified) == ("constructed", False)
    asked = len(archive.asked)
    assert asked == 3  # TimeGate, TimeMap and availability each said "nothing here"
    ArchivedSnapshot.objects.all().delete()
    again = services.look_up_archived_copy(latest_transition(resource).pk)
    assert again.url == first.url
    assert len(archive.asked) == asked
