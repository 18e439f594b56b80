"""update_rows (issue 21): the recording's one-statement UPDATE writes what bulk_update would."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from curation.health.recording import RESOURCE_HEALTH_FIELDS
from curation.health.rowupdate import update_rows
from curation.models import HealthState, Resource
from tests.factories import ResourceFactory

pytestmark = pytest.mark.django_db


def test_it_writes_every_named_field_of_every_row_nulls_and_times_included():
    now = timezone.now().replace(microsecond=123456)
    rows = [ResourceFactory(health=HealthState.UNKNOWN) for _ in range(3)]
    for n, resource in enumerate(rows):
        resource.health = HealthState.BROKEN if n else HealthState.HEALTHY
        resource.health_changed_at = now
        resource.last_checked_at = now - timedelta(minutes=n)
        resource.last_outcome = "not_found" if n else "ok"
        resource.last_status_code = 404 if n else None
        resource.next_check_at = now + timedelta(hours=n + 1)
        resource.check_lease_until = None
        resource.consecutive_failures = n
        resource.first_failure_at = now if n else None
        resource.consecutive_blocked = 0
        resource.consecutive_moves = n * 2
        resource.suggested_url = f"https://example.org/moved/{n}" if n else ""
        resource.updated_at = now

    update_rows(rows, RESOURCE_HEALTH_FIELDS)

    for resource in rows:
        stored = Resource.objects.get(pk=resource.pk)
        for name in RESOURCE_HEALTH_FIELDS:
            assert getattr(stored, name) == getattr(resource, name), name


def test_it_leaves_other_rows_and_other_fields_alone():
    changed, untouched = ResourceFactory(title="Kept title"), ResourceFactory()
    before = Resource.objects.get(pk=untouched.pk)
    changed.health = HealthState.SUSPECT
    changed.title = "Not written: not a named field"

    update_rows([changed], ["health"])

    stored = Resource.objects.get(pk=changed.pk)
    assert stored.health == HealthState.SUSPECT
    assert stored.title == "Kept title"
    after = Resource.objects.get(pk=untouched.pk)
    assert (after.health, after.updated_at) == (before.health, before.updated_at)


def test_nothing_to_write_is_no_statement(django_assert_num_queries):
    with django_assert_num_queries(0):
        update_rows([], RESOURCE_HEALTH_FIELDS)


def test_rows_beyond_one_statement_go_out_in_the_next(django_assert_num_queries, monkeypatch):
    from curation.health import rowupdate

    monkeypatch.setattr(rowupdate, "ROWS_PER_STATEMENT", 2)
    rows = [ResourceFactory(consecutive_failures=0) for _ in range(3)]
    for n, resource in enumerate(rows):
        resource.consecutive_failures = n + 1
    with django_assert_num_queries(2 if connection.vendor == "postgresql" else 1):
        update_rows(rows, ["consecutive_failures"])
    stored = dict(
        Resource.objects.filter(pk__in=[r.pk for r in rows]).values_list(
            "pk", "consecutive_failures"
        )
    )
    assert stored == {r.pk: r.consecutive_failures for r in rows}
