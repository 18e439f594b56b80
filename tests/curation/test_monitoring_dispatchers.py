"""Concurrent dispatchers on a real database: each due resource is enqueued exactly once."""

from __future__ import annotations

import threading
from collections import Counter

import pytest
from django.db import connection, connections, transaction
from django.utils import timezone

from curation.health import dispatch
from curation.models import Resource
from tests.factories import ResourceFactory

DUE = 600


def make_due(count: int) -> None:
    Resource.objects.bulk_create(ResourceFactory.build(next_check_at=None) for _ in range(count))


def run_in_parallel(workers: int, target) -> list:
    barrier = threading.Barrier(workers)
    results: list = [None] * workers
    errors: list = []

    def run(index: int) -> None:
        try:
            barrier.wait()
            results[index] = target()
        except Exception as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors
    return results


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_two_dispatchers_at_once_enqueue_each_due_resource_once(settings):
    settings.MONITOR_BATCH_SIZE = 25
    # All on one host: no per-host pacing here, or each run would take only the host's cap.
    settings.LINKCHECK_PER_HOST_INTERVAL = 0
    make_due(DUE)
    enqueued: list[int] = []
    lock = threading.Lock()

    def enqueue(items, dispatched_at):
        with lock:
            enqueued.extend(pk for pk, _ in items)

    counts = run_in_parallel(2, lambda: dispatch.dispatch_due_checks(enqueue=enqueue))
    assert sum(counts) == DUE
    assert len(enqueued) == DUE
    assert Counter(enqueued).most_common(1)[0][1] == 1
    assert Resource.objects.due_for_check(timezone.now()).count() == 0


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_dispatcher_skips_rows_another_holds_instead_of_waiting():
    make_due(10)
    holding = threading.Event()
    release = threading.Event()
    held: list[int] = []

    def slow_dispatcher():
        with transaction.atomic():
            held.extend(pk for pk, _ in dispatch.claim_due_resources(limit=4))
            holding.set()
            # Still inside the transaction: the four rows stay locked until we commit.
            release.wait(timeout=30)

    thread = threading.Thread(target=lambda: (slow_dispatcher(), connections.close_all()))
    thread.start()
    try:
        assert holding.wait(timeout=30)
        assert connection.vendor == "postgresql"
        other = [pk for pk, _ in dispatch.claim_due_resources(limit=10)]
    finally:
        release.set()
        thread.join(timeout=30)
    assert len(held) == 4
    assert len(other) == 6
    assert not set(held) & set(other)
