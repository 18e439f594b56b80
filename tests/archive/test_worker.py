"""On a real Celery worker and Redis: a link that fails gets its archived copy looked up by the
task the recording enqueued, and an archive's 429 delays the lookup without losing it."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from curation.models import ArchivedSnapshot, HealthState, Resource
from tests.archive.archive_server import Reply
from tests.factories import ResourceFactory
from tests.integration.conftest import wait_for

pytestmark = [pytest.mark.slow, pytest.mark.redis]

CAPTURED = datetime(2025, 11, 3, 9, 0, tzinfo=UTC)


def test_a_worker_looks_up_the_copy_after_a_429_and_loses_nothing(cluster, site, archive_server):
    url = f"http://{site.host_port}/gone"  # not one of the site's pages: it answers 404
    archive_server.hold(url, CAPTURED)
    archive_server.script("timegate", Reply(status=429, headers={"Retry-After": "2"}))
    cluster.allowed.update({site.host_port, archive_server.host_port})
    cluster.extra_env["ARCHIVES"] = json.dumps(archive_server.archives_setting())
    resource = ResourceFactory(url=url, health=HealthState.HEALTHY)
    cluster.start_worker()
    cluster.send("curation.check_resources", items=[[resource.pk, "archive-e2e"]])
    snapshot = wait_for(
        lambda: ArchivedSnapshot.objects.filter(resource_id=resource.pk).first(),
        timeout=90,
        what="the worker to record the archived copy",
    )
    assert Resource.objects.get(pk=resource.pk).health == HealthState.SUSPECT
    assert snapshot.url == archive_server.memento_url(url, CAPTURED)
    assert (snapshot.found_by, snapshot.verified, snapshot.captured_at) == (
        "timegate",
        True,
        CAPTURED,
    )
    first, second = archive_server.asked_for("timegate")
    # The retry came after the archive's Retry-After, through the broker (a countdown).
    assert second.at - first.at >= 1.9
