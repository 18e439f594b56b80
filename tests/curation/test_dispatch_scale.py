"""The dispatcher at scale (issue 21): one keyset walk over the due rows, a per-host cap that
spreads a big host's checks over the coming periods, and disjoint claims under concurrency."""

from __future__ import annotations

import threading
from collections import Counter
from datetime import timedelta

import pytest
import time_machine
from django.db import connections
from django.test import TestCase
from django.utils import timezone

from curation.health import dispatch
from curation.models import PublicationStatus, Resource
from tests.factories import ResourceFactory

pytestmark = pytest.mark.django_db
NOW = "2026-06-01 12:00Z"


def make(count: int, *, host: str = "example.test", **fields) -> list[Resource]:
    start = Resource.objects.count()
    return Resource.objects.bulk_create(
        ResourceFactory.build(url=f"https://{host}/r/{start + i}", **fields) for i in range(count)
    )


def one_host_per_resource(count: int, **fields) -> list[Resource]:
    start = Resource.objects.count()
    return Resource.objects.bulk_create(
        ResourceFactory.build(url=f"https://h{start + i}.example/", **fields) for i in range(count)
    )


def run(**kwargs) -> list[int]:
    batches: list[list[int]] = []
    with TestCase.captureOnCommitCallbacks(execute=True):
        dispatch.dispatch_due_checks(
            enqueue=lambda items, at: batches.append([pk for pk, _ in items]), **kwargs
        )
    return [pk for batch in batches for pk in batch]


@pytest.fixture
def small_chunks(monkeypatch):
    # Several keyset steps on a handful of rows: the walk, not the chunk size, is under test.
    monkeypatch.setattr(dispatch, "CLAIM_CHUNK", 7)


@pytest.fixture
def politeness(settings):
    settings.LINKCHECK_PER_HOST_INTERVAL = 1.0
    settings.MONITOR_DISPATCH_EVERY_SECONDS = 60
    return settings


def test_the_host_cap_is_half_of_what_politeness_lets_through_in_a_period(settings):
    settings.LINKCHECK_PER_HOST_INTERVAL = 1.0
    assert dispatch.host_cap(period_seconds=60) == 30
    settings.LINKCHECK_PER_HOST_INTERVAL = 4.0
    assert dispatch.host_cap(period_seconds=60) == 7
    settings.LINKCHECK_PER_HOST_INTERVAL = 120.0
    assert dispatch.host_cap(period_seconds=60) == 1
    settings.LINKCHECK_PER_HOST_INTERVAL = 0
    assert dispatch.host_cap(period_seconds=60) is None


def test_claims_never_checked_first_then_the_most_overdue_across_chunks(small_chunks, settings):
    settings.LINKCHECK_PER_HOST_INTERVAL = 0
    with time_machine.travel(NOW, tick=False):
        now = timezone.now()
        # Created first (lower ids), so id order and due order disagree.
        overdue = [
            one_host_per_resource(1, next_check_at=now - timedelta(minutes=m))[0]
            for m in (5, 50, 20, 1, 30, 10, 40, 2, 3)
        ]
        never = one_host_per_resource(12, next_check_at=None)
        later = one_host_per_resource(3, next_check_at=now + timedelta(minutes=1))
        claimed = run()
    most_overdue_first = sorted(overdue, key=lambda r: (r.next_check_at, r.pk))
    assert claimed == [r.pk for r in never] + [r.pk for r in most_overdue_first]
    assert set(claimed).isdisjoint(r.pk for r in later)


def test_a_run_reads_each_chunk_once_instead_of_the_whole_due_set(
    small_chunks, settings, django_assert_max_num_queries
):
    settings.LINKCHECK_PER_HOST_INTERVAL = 0
    one_host_per_resource(70, next_check_at=None)
    # 70 due rows in chunks of 7: per chunk one claim statement (plus the transaction's
    # savepoint pair), and the final empty one: no query per row, no re-read of the set.
    with django_assert_max_num_queries(3 * 11 + 3):
        assert len(run()) == 70


def test_a_big_hosts_checks_beyond_its_cap_are_spread_over_the_next_periods(politeness):
    with time_machine.travel(NOW, tick=False):
        now = timezone.now()
        big = make(100, host="video.example", next_check_at=None)
        tail = one_host_per_resource(10, next_check_at=None)
        claimed = run()
        assert len(claimed) == 30 + 10
        assert set(claimed) >= {r.pk for r in tail}
        deferred = Resource.objects.filter(host_filter(big)).exclude(pk__in=claimed)
        assert not deferred.filter(check_lease_until__isnull=False).exists()
        spread = Counter(deferred.values_list("next_check_at", flat=True))
        assert spread == {
            now + timedelta(seconds=60): 30,
            now + timedelta(seconds=120): 30,
            now + timedelta(seconds=180): 10,
        }


def host_filter(resources: list[Resource]):
    from django.db.models import Q

    return Q(pk__in=[r.pk for r in resources])


def test_a_big_host_is_checked_at_its_cap_each_period_until_done(politeness):
    with time_machine.travel(NOW, tick=False) as traveller:
        big = make(100, host="video.example", next_check_at=None)
        per_run = []
        for _ in range(5):
            per_run.append(len(run()))
            traveller.shift(timedelta(seconds=60))
    assert per_run == [30, 30, 30, 10, 0]
    assert Resource.objects.filter(host_filter(big), check_lease_until__isnull=True).count() == 0


def test_archived_and_leased_resources_are_neither_claimed_nor_spread(politeness):
    with time_machine.travel(NOW, tick=False):
        now = timezone.now()
        archived = make(40, host="video.example", status=PublicationStatus.ARCHIVED)
        leased = make(40, host="video.example", check_lease_until=now + timedelta(minutes=5))
        assert run() == []
    untouched = Resource.objects.filter(host_filter(archived + leased))
    assert set(untouched.values_list("next_check_at", flat=True)) == {None}


def test_the_limit_counts_claims_not_deferrals(politeness):
    with time_machine.travel(NOW, tick=False):
        make(50, host="video.example", next_check_at=None)
        tail = one_host_per_resource(20, next_check_at=None)
        claimed = run(limit=35)
    assert len(claimed) == 35
    assert len(set(claimed) & {r.pk for r in tail}) == 5


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_dispatchers_walking_in_small_chunks_never_claim_one_resource_twice(
    small_chunks, settings
):
    settings.LINKCHECK_PER_HOST_INTERVAL = 0
    now = timezone.now()
    one_host_per_resource(150, next_check_at=None)
    one_host_per_resource(150, next_check_at=now - timedelta(hours=1))
    enqueued: list[int] = []
    lock = threading.Lock()
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def enqueue(items, dispatched_at):
        with lock:
            enqueued.extend(pk for pk, _ in items)

    def dispatcher():
        try:
            barrier.wait()
            dispatch.dispatch_due_checks(enqueue=enqueue)
        except BaseException as exc:  # reported below, in the test's thread
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=dispatcher) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors
    assert len(enqueued) == 300
    assert Counter(enqueued).most_common(1)[0][1] == 1
    assert Resource.objects.filter(check_lease_until__isnull=True).count() == 0
