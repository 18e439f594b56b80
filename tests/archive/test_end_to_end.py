"""A link served by a local site breaks over the health state machine's window and ends with
its archived copy on the resource, in the API's collection item and in the link report.

The checks are real (the engine against the local site), recorded through the one recording
path; the lookups run as the tasks the recording enqueues on commit (eagerly, in process),
against the local archive.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.urls import reverse
from werkzeug import Response

from curation.health import checking
from curation.models import ArchivedSnapshot, HealthState
from curation.reports.delivery import render_report_email
from curation.reports.formats import render_csv
from curation.reports.generate import generate_link_report
from curation.reports.markdown import render_markdown
from curation.reports.periods import period_ending_at
from tests.factories import ItemFactory, ResourceFactory
from tests.integration.support import allow_loopback, server_hosts

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
CAPTURED = datetime(2025, 12, 20, 14, 30, tzinfo=UTC)


@pytest.fixture
def site(httpserver, settings, archive):
    """The lesson's own site: it answers 200 until `state["status"]` says otherwise."""
    state = {"status": 200}
    httpserver.expect_request("/lesson").respond_with_handler(
        lambda request: Response(
            "<html><head><title>Joins, explained</title></head><body>Joins.</body></html>",
            status=state["status"],
            content_type="text/html",
        )
    )
    allow_loopback(settings, *server_hosts(httpserver), archive.host_port)
    settings.LINKCHECK_PROBE = False
    settings.MONITOR_JITTER = 0.0
    settings.CELERY_BROKER_IS_REDIS = False
    yield state
    httpserver.clear()


def check(resource, token: str, capture) -> None:
    with capture(execute=True):
        assert checking.check_and_record([(resource.pk, token)]) == 1


def test_a_link_that_breaks_ends_with_its_archived_copy_everywhere(
    site, archive, httpserver, client, eager_tasks, django_capture_on_commit_callbacks
):
    url = httpserver.url_for("/lesson")
    archive.hold(url, datetime(2024, 6, 1, tzinfo=UTC), CAPTURED)
    resource = ResourceFactory(url=url, title="Joins, explained", health=HealthState.UNKNOWN)
    item = ItemFactory(resource=resource)
    memento = archive.memento_url(url, CAPTURED)

    with time_machine.travel(T0, tick=True) as traveller:
        check(resource, "t0", django_capture_on_commit_callbacks)
        resource.refresh_from_db()
        assert resource.health == HealthState.HEALTHY
        assert not ArchivedSnapshot.objects.exists()

        site["status"] = 404
        states = []
        # Three failures over more than two days: the state machine's window for "broken".
        for hours in (24, 48, 73):
            traveller.move_to(T0 + timedelta(hours=hours))
            check(resource, f"t{hours}", django_capture_on_commit_callbacks)
            resource.refresh_from_db()
            states.append(resource.health)
    assert states == [HealthState.SUSPECT, HealthState.SUSPECT, HealthState.BROKEN]

    # On the resource: the copy from before the first failure, looked up once for the whole
    # failure (the suspect transition asked; the broken one found it already there).
    snapshot = ArchivedSnapshot.objects.get(resource=resource)
    assert (snapshot.url, snapshot.captured_at, snapshot.verified) == (memento, CAPTURED, True)
    assert snapshot.transition.to_state == HealthState.SUSPECT
    (asked,) = archive.asked_for("timegate")
    assert asked.headers["Accept-Datetime"] == "Tue, 06 Jan 2026 09:00:00 GMT"

    # In the API's collection item: broken, no live link, the archived copy beside it.
    response = client.get(reverse("api:collection-detail", args=[item.section.collection.slug]))
    assert response.status_code == 200
    shown = response.json()["sections"][0]["items"][0]["resource"]
    assert shown["health"] == "broken"
    assert shown["link"] is None
    assert shown["archived_url"] == memento
    assert shown["archived_at"] == "2025-12-20T14:30:00Z"

    # In the link report: the newly broken link with its archived copy, down to the email.
    report = generate_link_report(
        period=period_ending_at(T0 + timedelta(days=4)), now=T0 + timedelta(days=4)
    ).report
    (broken,) = report.data["newly_broken"]["items"]
    assert broken["archived_url"] == memento
    assert broken["archived_at"] == CAPTURED.isoformat()
    markdown = render_markdown(report)
    assert f"Archived copy: [captured 2025-12-20 14:30](<{memento}>)" in markdown
    assert f"archived copy {memento}" in render_csv(report)
    _subject, text, html = render_report_email(report)
    assert f"archived copy: {memento} (captured 2025-12-20 14:30)" in text
    assert f'href="{memento}"' in html
