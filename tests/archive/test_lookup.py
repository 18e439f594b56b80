"""Asking a local archive through the guarded client: TimeGate, TimeMap, availability, and
the archive's failure modes (429 with Retry-After, 503, empty answers, slow answers)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from curation import outbound
from curation.archive.endpoints import configured_archives
from curation.archive.lookup import ArchiveBusy, constructed, find_snapshot
from curation.checker.guard import build_session
from tests.archive.archive_server import Reply

PAGE = "http://lessons.test/intro-to-sql"
FAILED_AT = datetime(2026, 1, 10, 12, 0, tzinfo=UTC)
BEFORE = datetime(2025, 12, 1, 8, 30, tzinfo=UTC)
AFTER = datetime(2026, 2, 1, tzinfo=UTC)

pytestmark = pytest.mark.django_db


def look_up(url: str = PAGE, *, limiter=None):
    config = outbound.checker_config()
    with build_session(config) as session:
        return find_snapshot(
            url,
            before=FAILED_AT,
            archives=configured_archives(),
            config=config,
            session=session,
            limiter=limiter,
        )


def test_the_timegate_names_the_copy_from_before_the_failure(archive):
    archive.hold(PAGE, datetime(2024, 5, 1, tzinfo=UTC), BEFORE, AFTER)
    found = look_up().found
    assert found.found_by == "timegate"
    assert found.url == archive.memento_url(PAGE, BEFORE)
    assert found.captured_at == BEFORE
    assert found.verified is True
    (asked,) = archive.asked_for("timegate")
    assert asked.headers["Accept-Datetime"] == "Sat, 10 Jan 2026 12:00:00 GMT"
    # One request: the TimeGate's redirect is read, not followed.
    assert archive.asked_for("memento") == []


def test_a_timegate_that_fails_falls_back_to_the_timemap(archive):
    archive.hold(PAGE, BEFORE, AFTER)
    archive.script("timegate", Reply(status=500, body=b"oops"))
    outcome = look_up()
    assert outcome.found.found_by == "timemap"
    assert outcome.found.url == archive.memento_url(PAGE, BEFORE)
    assert outcome.found.captured_at == BEFORE
    assert "timegate" in outcome.failures[0]


def test_an_empty_timemap_falls_back_to_the_availability_api(archive):
    archive.hold(PAGE, BEFORE)
    archive.script("timegate", Reply(status=500))
    archive.script(
        "timemap", Reply(status=200, headers={"Content-Type": "application/link-format"})
    )
    found = look_up().found
    assert found.found_by == "availability"
    assert found.url == archive.memento_url(PAGE, BEFORE)
    (asked,) = archive.asked_for("availability")
    assert "timestamp=20260110120000" in asked.path


def test_a_slow_timegate_hits_the_time_limit_and_the_next_way_answers(archive, settings):
    settings.LINKCHECK_TIMEOUT = 1.0
    archive.hold(PAGE, BEFORE)
    archive.script("timegate", Reply(status=302, delay=3.0))
    outcome = look_up()
    assert outcome.found.found_by == "timemap"
    assert "deadline" in outcome.failures[0] or "timed out" in outcome.failures[0]


def test_nothing_archived_is_an_answer_not_a_failure(archive):
    outcome = look_up()
    assert outcome.found is None
    assert outcome.failures == []
    assert len(archive.asked_for("timegate")) == 1
    assert len(archive.asked_for("timemap")) == 1
    assert len(archive.asked_for("availability")) == 1


@pytest.mark.parametrize("status", [429, 503])
def test_a_busy_archive_stops_the_lookup_and_holds_its_host(archive, status):
    archive.hold(PAGE, BEFORE)
    archive.script("timegate", Reply(status=status, headers={"Retry-After": "120"}))
    limiter = outbound.host_limiter(outbound.checker_config())
    with pytest.raises(ArchiveBusy) as raised:
        look_up(limiter=limiter)
    assert raised.value.retry_after == 120
    # Nothing more was asked of it, and every request to it now waits its Retry-After.
    assert archive.asked_for("timemap") == []
    assert limiter.delay(archive.host_port) > 60


def test_a_held_archive_is_busy_for_the_next_lookup_without_a_request(archive, settings):
    settings.LINKCHECK_TIMEOUT = 0.5
    limiter = outbound.host_limiter(outbound.checker_config(max_queue_wait=0.0))
    limiter.defer(archive.host_port, 120)
    with pytest.raises(ArchiveBusy):
        look_up(limiter=limiter)
    assert archive.asked == []


def test_a_private_archive_is_refused_unless_allowed(archive, settings, connections):
    settings.LINKCHECK_ALLOWED_INTERNAL_HOSTS = frozenset()
    outcome = look_up()
    assert outcome.found is None
    assert len(outcome.failures) == 3
    assert all("is not a public address" in f for f in outcome.failures)
    assert archive.asked == []


def test_the_constructed_address_is_marked_unverified(archive):
    found = constructed(PAGE, before=FAILED_AT, archives=configured_archives())
    assert found.url == f"{archive.base}/web/20260110120000/{PAGE}"
    assert found.verified is False
    assert found.found_by == "constructed"
    assert found.captured_at is None
