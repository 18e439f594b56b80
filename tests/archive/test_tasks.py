"""The lookup task: an archive's 429 or 503 slows the lookups and loses nothing."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime

import pytest

from curation.models import ArchivedSnapshot, HealthState
from curation.tasks import look_up_archived_copy_task
from tests.archive.archive_server import Reply
from tests.archive.helpers import record
from tests.factories import ResourceFactory

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 1, 10, 12, 0, tzinfo=UTC)
CAPTURED = datetime(2025, 11, 3, 9, 0, tzinfo=UTC)


@pytest.fixture
def transition(archive, settings):
    settings.CELERY_BROKER_IS_REDIS = False
    resource = ResourceFactory(url="http://lessons.test/busy", health=HealthState.HEALTHY)
    archive.hold(resource.url, CAPTURED)
    record(resource, "not_found", status=404, at=T0)
    return resource.transitions.get()


def test_a_429_slows_the_lookup_and_the_retry_finds_the_copy(archive, transition, eager_tasks):
    archive.script("timegate", Reply(status=429, headers={"Retry-After": "1"}, times=2))
    result = look_up_archived_copy_task.apply(kwargs={"transition_id": transition.pk})
    snapshot = ArchivedSnapshot.objects.get()
    assert result.get() == snapshot.pk
    assert (snapshot.found_by, snapshot.verified) == ("timegate", True)
    asked = archive.asked_for("timegate")
    assert len(asked) == 3
    # The archive saw each retry only after the Retry-After it gave (the retries here run at
    # once, in process: the shared host limiter is what held them back).
    gaps = [later.at - earlier.at for earlier, later in itertools.pairwise(asked)]
    assert all(gap >= 0.95 for gap in gaps), gaps
    # Nothing else of the archive was asked while it was busy.
    assert archive.asked_for("timemap") == []


def test_a_503_to_the_last_retry_records_the_constructed_address(
    archive, transition, eager_tasks, settings
):
    settings.ARCHIVE_LOOKUP_MAX_RETRIES = 2
    archive.script("timegate", Reply(status=503, headers={"Retry-After": "0"}, times=10))
    look_up_archived_copy_task.apply(kwargs={"transition_id": transition.pk})
    snapshot = ArchivedSnapshot.objects.get()
    assert (snapshot.found_by, snapshot.verified) == ("constructed", False)
    assert len(archive.asked_for("timegate")) == 3


def test_the_task_for_a_deleted_resource_returns_quietly(archive, transition, eager_tasks):
    transition.resource.delete()
    result = look_up_archived_copy_task.apply(kwargs={"transition_id": transition.pk})
    assert result.get() is None
    assert archive.asked == []
