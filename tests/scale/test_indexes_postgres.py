"""Indexes of migration 0011 that the planner must be able to use (issue 21)."""

from __future__ import annotations

import pytest
from django.db import connection

from curation.catalog import selectors
from curation.models import Resource
from tests.factories import ResourceFactory

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]


def plan_without_seqscan(queryset) -> str:
    with connection.cursor() as cursor:
        # A handful of rows makes a sequential scan cheapest; forbid it to learn whether the
        # planner *can* use the index, i.e. whether the indexed expression matches the query's.
        cursor.execute("SET LOCAL enable_seqscan = off")
        return queryset.explain()


def test_the_case_insensitive_language_filter_can_use_its_index():
    ResourceFactory(language="pt-BR")
    ResourceFactory(language="en")
    found = selectors.filter_by_language(Resource.objects.all(), "PT")
    assert "resource_language_upper" in plan_without_seqscan(found.values("pk"))
    assert [r.language for r in found] == ["pt-BR"]


def test_the_dispatchers_walk_can_use_the_due_order_index():
    ResourceFactory(next_check_at=None)
    due = Resource.objects.filter(next_check_at__isnull=True).order_by("next_check_at", "id")
    assert "resource_due_order" in plan_without_seqscan(due.values("pk"))
