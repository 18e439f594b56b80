"""Every documented filter of the read API can be served without a sequential scan of the
big tables (issue 21, item 4).

Two views of each filter. First the statements a real request runs (captured, then
EXPLAINed with sequential scans forbidden): none may read curation_resource or its big
neighbours from end to end. Forbidding sequential scans is needed because the test's few
rows make one the cheapest plan; the question is whether the planner *can* avoid it. Second
the filter alone, as the list builds it (api.filters.ResourceQuery on a curator's queryset,
without the page's order): its plan must name the index meant to serve it, since a page
ordered by id can always walk the primary key and filter, which proves nothing about the
filter. The benchmark (benchmarks/scale_api.py) prints the plans chosen at 1,000,000 rows.
"""

from __future__ import annotations

import re
import uuid
from datetime import timedelta

import pytest
from django.core.cache.backends.locmem import LocMemCache
from django.db import connection
from django.http import QueryDict
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from api.filters import ResourceQuery
from api.throttling import AnonThrottle, UserThrottle
from curation.catalog import selectors
from curation.models import (
    ArchivedSnapshot,
    Cost,
    Difficulty,
    HealthState,
    Kind,
    SnapshotSource,
)
from tests.factories import (
    CollectionFactory,
    ItemFactory,
    ResourceFactory,
    SectionFactory,
    TopicFactory,
)

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]
LIST = "/api/v1/resources/"
RECOMMENDATIONS = "/api/v1/recommendations/"
# Tables that grow with the catalogue: a sequential scan of one is a full read per request.
BIG_TABLES = {
    "curation_resource",
    "curation_resource_topics",
    "curation_collectionitem",
    "curation_archivedsnapshot",
}
SEQ_SCAN = re.compile(r"Seq Scan on (\w+)")

# Each documented filter (README's API table) alone, with the indexes that may serve it (a
# name, or the start of Django's generated name, which ends in a hash). Read as a curator
# reads (no status condition beside the filter's), except health: the public's health filter
# is `status = 'published' AND health IN (...)`, served by (status, health).
SERVED_BY = {
    "topic=machine-learning": ("curation_resource_topics_topic_id",),
    "difficulty=beginner": ("resource_difficulty",),
    "difficulty=beginner&difficulty=advanced": ("resource_difficulty",),
    "kind=video": ("resource_kind",),
    "health=suspect": ("resource_status_health",),
    "health=broken&health=moved": ("resource_status_health",),
    "free=true": ("resource_cost",),
    "language=EN": ("resource_language_upper",),
    "language=pt-br": ("resource_language_upper",),
    "max_duration=30": ("resource_duration",),
    "featured=true": ("resource_featured",),
    "collection=explain-list": ("curation_collectionitem_section_id", "item_unique_in_section"),
    "modified_since=2026-01-01T00:00:00Z": ("resource_health_changed",),
    "q=gradient": ("resource_search_gin",),
    "status=draft": ("resource_status_health",),
}
PUBLIC_FILTERS = {"health"}
# What the list builds, public and curator: each filter alone, the orderings, the page
# after a cursor, and combinations.
REQUESTS = [
    "",
    *SERVED_BY,
    "free=false",
    "featured=false",
    "health=healthy",
    "ordering=title",
    "ordering=-created_at",
    "ordering=updated_at",
    "ordering=-difficulty",
    "ordering=relevance&q=gradient",
    "topic=machine-learning&difficulty=beginner&health=healthy&language=en",
    "topic=deep-learning&kind=video&free=true&max_duration=60&ordering=title",
    "q=gradient&topic=machine-learning&language=EN",
    "collection=explain-list&featured=true&health=moved",
    "modified_since=2026-01-01T00:00:00Z&ordering=updated_at",
    "status=published&health=broken&difficulty=advanced",
]
RECOMMENDATION_REQUESTS = [
    "topic=machine-learning&level=beginner",
    "topic=machine-learning&level=intermediate&kind=video&max_minutes=30&free=true",
    "topic=deep-learning&level=advanced&exclude=1,2,3&limit=50",
]


@pytest.fixture
def api(monkeypatch):
    # A private throttle store, as in tests/api: this module's many requests must not trip
    # the shared cache's rate limit.
    store = LocMemCache(f"explain-throttle-{uuid.uuid4().hex}", {})
    monkeypatch.setattr(AnonThrottle, "cache", store)
    monkeypatch.setattr(UserThrottle, "cache", store)
    return APIClient()


@pytest.fixture
def curator_api(api, curator):
    api.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=curator).key}")
    return api


@pytest.fixture
def catalogue():
    """A few resources on a topic tree with a prerequisite, listed in a published collection,
    with archived copies: every statement a list or recommendation request runs has rows."""
    maths = TopicFactory(name="Maths", slug="maths")
    ml = TopicFactory(name="Machine learning", slug="machine-learning")
    deep = TopicFactory(name="Deep learning", slug="deep-learning", parent=ml)
    ml.prerequisites.set([maths])
    section = SectionFactory(collection=CollectionFactory(slug="explain-list"))
    now = timezone.now()
    for n, (difficulty, health, language) in enumerate(
        [
            (Difficulty.BEGINNER, HealthState.HEALTHY, "en"),
            (Difficulty.BEGINNER, HealthState.MOVED, "EN-gb"),
            (Difficulty.INTERMEDIATE, HealthState.HEALTHY, "pt-BR"),
            (Difficulty.ADVANCED, HealthState.BROKEN, "fr"),
            (Difficulty.ADVANCED, HealthState.SUSPECT, "En"),
        ]
    ):
        resource = ResourceFactory(
            title=f"Gradient descent {n}",
            topics=[deep, maths] if n % 2 else [deep],
            difficulty=difficulty,
            kind=Kind.VIDEO,
            health=health,
            cost=Cost.FREE,
            language=language,
            duration_minutes=20,
            featured=n % 2 == 0,
        )
        ItemFactory(section=section, resource=resource)
        ArchivedSnapshot.objects.create(
            resource=resource,
            url=f"https://web.archive.org/web/2025/https://example.test/{n}",
            captured_at=now - timedelta(days=30),
            archive="Internet Archive",
            found_by=SnapshotSource.TIMEGATE,
            looked_up_at=now,
        )


def explain(sql: str) -> str:
    with connection.cursor() as cursor:
        # The test's few rows make a sequential scan cheapest: forbid it to learn whether the
        # planner *can* do without one. SET LOCAL ends with the test's transaction.
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute(f"EXPLAIN {sql}")
        return "\n".join(row[0] for row in cursor.fetchall())


def statements_of(client, url: str) -> list[str]:
    """The SELECT statements the request ran, with their parameters bound (psycopg binds
    them on the client, so the captured text is what the server ran)."""
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200, response.content[:300]
    selects = [q["sql"] for q in captured.captured_queries]
    return [sql for sql in selects if sql.lstrip().upper().startswith(("SELECT", "WITH"))]


def big_tables_scanned(client, url: str) -> dict[str, list[str]]:
    """{statement: [big tables it scans sequentially]} for the statements that scan any."""
    found = {}
    for sql in statements_of(client, url):
        tables = [t for t in SEQ_SCAN.findall(explain(sql)) if t in BIG_TABLES]
        if tables:
            found[sql] = tables
    return found


@pytest.mark.parametrize("query", REQUESTS)
def test_no_public_list_statement_scans_a_big_table(api, catalogue, query):
    assert big_tables_scanned(api, f"{LIST}?{query}") == {}


@pytest.mark.parametrize("query", REQUESTS)
def test_no_curator_list_statement_scans_a_big_table(curator_api, catalogue, query):
    assert big_tables_scanned(curator_api, f"{LIST}?{query}") == {}


def test_the_page_after_a_cursor_scans_no_big_table(api, catalogue):
    following = api.get(f"{LIST}?page_size=2&ordering=title").json()["next"]
    assert following
    assert big_tables_scanned(api, following) == {}


@pytest.mark.parametrize("query", RECOMMENDATION_REQUESTS)
def test_no_recommendation_statement_scans_a_big_table(api, catalogue, query):
    assert big_tables_scanned(api, f"{RECOMMENDATIONS}?{query}") == {}


@pytest.mark.parametrize(("query", "indexes"), SERVED_BY.items(), ids=SERVED_BY.keys())
def test_each_filter_is_served_by_its_index(catalogue, query, indexes):
    parsed = ResourceQuery.parse(QueryDict(query))
    curator = not PUBLIC_FILTERS.intersection(parsed.values)
    readable = selectors.catalogue_resources(include_unpublished=curator)
    filtered = parsed.apply(readable).order_by().values("pk")
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
    plan = filtered.explain()
    assert any(index in plan for index in indexes), plan
