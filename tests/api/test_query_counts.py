"""No N+1 in the read API (issue 21, item 4): the number of SQL statements a request costs
does not grow with the number of rows it returns.

Every row of the catalogue carries what a row of the answer shows (two topics, a place in a
published collection, a health other than plain healthy for some, an archived copy), so a
per-row read of any of them would make the 50-row page cost more statements than the 5-row
one. Runs on SQLite and, in the PostgreSQL pass, on PostgreSQL (full-text search there).
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from curation.models import (
    ArchivedSnapshot,
    Cost,
    Difficulty,
    HealthState,
    Kind,
    Resource,
    SnapshotSource,
)
from tests.factories import (
    CollectionFactory,
    ItemFactory,
    ResourceFactory,
    SectionFactory,
    TopicFactory,
)

pytestmark = pytest.mark.django_db
LIST = "/api/v1/resources/"
RECOMMENDATIONS = "/api/v1/recommendations/"
ROWS = 60  # more than the larger page, so both pages are full
SMALL, LARGE = 5, 50

# Every documented filter of the list (README's API table), alone and combined, with values
# that all ROWS resources match. `{collection}` is the fixture's collection slug.
FILTERS = {
    "first page": "",
    "topic with subtopics": "topic=machine-learning",
    "difficulty": "difficulty=beginner",
    "kind": "kind=video",
    "health": "health=healthy&health=moved",
    "free": "free=true",
    "language, case-insensitive": "language=EN",
    "max_duration": "max_duration=30",
    "featured": "featured=true",
    "collection": "collection={collection}",
    "modified_since": "modified_since=2000-01-01T00:00:00Z",
    "search": "q=gradient",
    "search by relevance": "q=gradient&ordering=relevance",
    "ordering by title": "ordering=title",
    "ordering by difficulty": "ordering=-difficulty",
    "ordering by update": "ordering=-updated_at",
    "everything at once": (
        "topic=machine-learning&difficulty=beginner&kind=video&health=healthy&health=moved"
        "&free=true&language=en&max_duration=30&featured=true&collection={collection}"
        "&modified_since=2000-01-01T00:00:00Z&q=gradient"
    ),
}
CURATOR_FILTERS = {
    **FILTERS,
    "status": "status=published",
    "status with others": "status=published&topic=machine-learning&language=en",
}


@pytest.fixture
def catalogue():
    """ROWS published beginner videos on a subtopic of machine learning (and on its
    prerequisite), each listed in a published collection and with an archived copy; one in
    three has moved (its `link` is the new address)."""
    maths = TopicFactory(name="Maths", slug="maths")
    ml = TopicFactory(name="Machine learning", slug="machine-learning")
    deep = TopicFactory(name="Deep learning", slug="deep-learning", parent=ml)
    ml.prerequisites.set([maths])
    section = SectionFactory(collection=CollectionFactory(slug="query-count-list"))
    now = timezone.now()
    for n in range(ROWS):
        moved = n % 3 == 0
        resource = ResourceFactory(
            title=f"Gradient descent, part {n}",
            topics=[deep, maths],
            difficulty=Difficulty.BEGINNER,
            kind=Kind.VIDEO,
            health=HealthState.MOVED if moved else HealthState.HEALTHY,
            suggested_url=f"https://moved.example.test/{n}" if moved else "",
            cost=Cost.FREE,
            language="EN-gb",
            duration_minutes=20,
            featured=True,
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
    return section.collection


def statements(client, url: str, *, results: int) -> int:
    """How many SQL statements the request ran; it must answer `results` items."""
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200, response.content[:300]
    assert len(response.json()["results"]) == results
    return len(captured)


def list_statements(client, query: str, size: int, collection) -> int:
    query = query.format(collection=collection.slug)
    return statements(client, f"{LIST}?page_size={size}&{query}", results=size)


def test_a_page_shows_what_an_n_plus_one_would_read_per_row(api, catalogue):
    row = api.get(f"{LIST}?page_size=3").json()["results"][0]
    assert row["topics"] == ["deep-learning", "maths"]
    assert row["archived_url"].startswith("https://web.archive.org/")
    assert row["archived_at"] is not None
    assert row["health"] in {"healthy", "moved"}


@pytest.mark.parametrize("query", FILTERS.values(), ids=FILTERS.keys())
def test_the_public_lists_statement_count_does_not_grow_with_page_size(api, catalogue, query):
    small = list_statements(api, query, SMALL, catalogue)
    assert list_statements(api, query, LARGE, catalogue) == small


@pytest.mark.parametrize("query", CURATOR_FILTERS.values(), ids=CURATOR_FILTERS.keys())
def test_a_curators_lists_statement_count_does_not_grow_with_page_size(
    curator_api, catalogue, query
):
    small = list_statements(curator_api, query, SMALL, catalogue)
    assert list_statements(curator_api, query, LARGE, catalogue) == small


def test_the_next_page_costs_what_the_first_page_costs(api, catalogue):
    first = api.get(f"{LIST}?page_size={SMALL}").json()["next"]
    with CaptureQueriesContext(connection) as captured:
        assert len(api.get(first).json()["results"]) == SMALL
    assert len(captured) == list_statements(api, "", LARGE, catalogue)


@pytest.mark.parametrize(
    "query",
    ["topic=machine-learning&level=beginner",
     "topic=machine-learning&level=beginner&kind=video&max_minutes=30&free=true&exclude=1,2",
     "topic=deep-learning&level=intermediate"],
)  # fmt: skip
def test_the_recommendations_statement_count_does_not_grow_with_limit(api, catalogue, query):
    if "intermediate" in query:
        # Material at the learner's level or above: make the subtopic's rows intermediate.
        Resource.objects.update(difficulty=Difficulty.INTERMEDIATE)
    small = api.get(f"{RECOMMENDATIONS}?{query}&limit={SMALL}").json()["results"]
    assert len(small) == SMALL
    # Curator picks (a collection's title per pick), moved links and archived copies in both.
    assert any(r["resource"]["health"] == "moved" for r in small)
    assert any(reason.startswith("curator pick") for r in small for reason in r["reasons"])
    counts = [
        statements(api, f"{RECOMMENDATIONS}?{query}&limit={limit}", results=limit)
        for limit in (SMALL, LARGE)
    ]
    assert counts[0] == counts[1]


def test_anonymous_clients_are_counted_against_the_anonymous_rate_alone(api, settings):
    # The user rate is for signed-in users: counting the public against it as well cost two
    # cache round trips per request. A user rate of 1 a minute must not stop anonymous reads.
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"anon": "5/minute", "user": "1/minute"},
    }
    assert [api.get(LIST).status_code for _ in range(6)] == [200] * 5 + [429]


def test_signed_in_users_are_still_counted_against_the_user_rate(curator_api, settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"anon": "100/minute", "user": "2/minute"},
    }
    assert [curator_api.get(LIST).status_code for _ in range(3)] == [200, 200, 429]
