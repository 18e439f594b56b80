"""What the recording path and resource creation ask of the workers, read back from the broker:
one lookup per transition to suspect, broken or moved (after commit), and a capture of a new
resource only with ARCHIVE_SAVE_ON_CREATE."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.core.cache import cache

from curation import enqueue
from curation.archive import services
from curation.archive.lookup import ArchiveBusy
from curation.catalog.services import create_resource
from curation.models import HealthState
from tests.archive.archive_server import Reply
from tests.archive.helpers import record
from tests.factories import ResourceFactory

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 1, 10, 12, 0, tzinfo=UTC)


def lookups(messages) -> list[int]:
    return [k["transition_id"] for t, k in messages if t == enqueue.LOOK_UP_ARCHIVED_COPY]


def captures(messages) -> list[int]:
    return [k["resource_id"] for t, k in messages if t == enqueue.CAPTURE_IN_ARCHIVE]


def test_each_failing_transition_asks_for_one_lookup_after_commit(
    broker_messages, django_capture_on_commit_callbacks
):
    resource = ResourceFactory(health=HealthState.HEALTHY)
    with django_capture_on_commit_callbacks(execute=True):
        record(resource, "not_found", status=404, at=T0)
    suspect = resource.transitions.get()
    assert lookups(broker_messages()) == [suspect.pk]
    with django_capture_on_commit_callbacks(execute=True):
        # A second failure changes no state: no lookup (once per transition, not per check).
        record(resource, "not_found", status=404, at=T0 + timedelta(hours=24))
    assert lookups(broker_messages()) == []
    with django_capture_on_commit_callbacks(execute=True):
        record(resource, "not_found", status=404, at=T0 + timedelta(hours=49))
    broken = resource.transitions.get(to_state=HealthState.BROKEN)
    assert lookups(broker_messages()) == [broken.pk]


def test_a_recovery_asks_for_no_lookup(broker_messages, django_capture_on_commit_callbacks):
    resource = ResourceFactory(health=HealthState.UNKNOWN)
    with django_capture_on_commit_callbacks(execute=True):
        record(resource, "ok", status=200, at=T0)
    assert resource.transitions.get().to_state == HealthState.HEALTHY
    assert lookups(broker_messages()) == []


def test_lookups_can_be_turned_off(settings, broker_messages, django_capture_on_commit_callbacks):
    settings.ARCHIVE_LOOKUP = False
    resource = ResourceFactory(health=HealthState.HEALTHY)
    with django_capture_on_commit_callbacks(execute=True):
        record(resource, "not_found", status=404, at=T0)
    assert lookups(broker_messages()) == []


def test_a_new_resource_is_sent_for_capture_only_when_asked(
    settings, broker_messages, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        create_resource(url="https://site.test/one", title="One")
    assert captures(broker_messages()) == []
    settings.ARCHIVE_SAVE_ON_CREATE = True
    with django_capture_on_commit_callbacks(execute=True):
        two = create_resource(url="https://site.test/two", title="Two")
    assert captures(broker_messages()) == [two.pk]


@pytest.fixture
def saving(settings, archive):
    settings.ARCHIVE_SAVE_ON_CREATE = True
    settings.ARCHIVE_SAVE_DAILY_CAP = 2
    return archive


def test_a_capture_asks_the_archive_to_save_the_page(saving):
    resource = ResourceFactory(url="http://site.test/new")
    assert services.capture_in_archive(resource.pk) is True
    (asked,) = saving.asked_for("save")
    assert asked.path == "/save/http://site.test/new"


def test_captures_stop_at_the_daily_cap(saving):
    resources = [ResourceFactory(url=f"http://site.test/{n}") for n in range(3)]
    done = [services.capture_in_archive(r.pk) for r in resources]
    assert done == [True, True, False]
    assert len(saving.asked_for("save")) == 2
    cache.clear()  # a new day's count
    assert services.capture_in_archive(resources[2].pk) is True


def test_a_busy_archive_defers_the_capture(saving):
    saving.script("save", Reply(status=429, headers={"Retry-After": "90"}))
    resource = ResourceFactory(url="http://site.test/busy")
    with pytest.raises(ArchiveBusy) as raised:
        services.capture_in_archive(resource.pk)
    assert raised.value.retry_after == 90


def test_no_capture_when_off(settings, archive):
    settings.ARCHIVE_SAVE_ON_CREATE = False
    assert services.capture_in_archive(ResourceFactory().pk) is False
    assert archive.asked == []
