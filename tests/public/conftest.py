from __future__ import annotations

import os
import uuid

import pytest
from django.core.cache.backends.locmem import LocMemCache

from api.throttling import AnonThrottle, UserThrottle
from curation.models import Cost, Difficulty, HealthState, Kind, PublicationStatus
from tests.factories import (
    CollectionFactory,
    ItemFactory,
    ResourceFactory,
    SectionFactory,
    TopicFactory,
)

# The browser walk's live server listens on the loopback address itself, not on "localhost"
# (which could resolve elsewhere); read by pytest-django when the live_server fixture starts.
os.environ.setdefault("DJANGO_LIVE_TEST_SERVER_ADDRESS", "127.0.0.1")


@pytest.fixture(autouse=True)
def _fresh_throttle_counts(monkeypatch):
    # The API's throttle counts live in the cache: a private one per test, as in tests/api.
    store = LocMemCache(f"public-throttle-{uuid.uuid4().hex}", {})
    monkeypatch.setattr(AnonThrottle, "cache", store)
    monkeypatch.setattr(UserThrottle, "cache", store)


@pytest.fixture
def catalogue(db):
    """A small published list: a live video, a moved course, a broken book, a draft article,
    over a topic with a prerequisite."""
    algebra = TopicFactory(name="Linear algebra", slug="linear-algebra")
    learning = TopicFactory(name="Deep learning", slug="deep-learning")
    learning.prerequisites.add(algebra)
    video = ResourceFactory(
        title="Essence of linear algebra", kind=Kind.VIDEO, duration_minutes=190,
        author="3Blue1Brown", language="en", topics=[algebra],
        curator_note="Great <b>for</b> visual thinkers & friends",
    )  # fmt: skip
    course = ResourceFactory(
        title="Practical Deep Learning", kind=Kind.COURSE, cost=Cost.FREE,
        difficulty=Difficulty.BEGINNER, health=HealthState.MOVED,
        suggested_url="https://example.test/moved-course", topics=[learning],
    )  # fmt: skip
    book = ResourceFactory(
        title="The Deep Learning Book", kind=Kind.BOOK, cost=Cost.PAID,
        difficulty=Difficulty.ADVANCED, health=HealthState.BROKEN, topics=[learning],
    )  # fmt: skip
    draft = ResourceFactory(title="Unpublished draft", status=PublicationStatus.DRAFT)
    collection = CollectionFactory(
        title="So you want deep learning", slug="deep", intro="Start here.", author_name="R. T."
    )
    first = SectionFactory(collection=collection, title="The math", position=0)
    second = SectionFactory(collection=collection, title="Then a course", position=1)
    ItemFactory(section=first, resource=video, note="Watch all of it.", position=0)
    ItemFactory(section=second, resource=course, note="The MOOC.", position=0)
    ItemFactory(section=second, resource=book, note="Later, once hooked.", position=1)
    ItemFactory(section=second, resource=draft, position=2)
    return {
        "algebra": algebra, "learning": learning, "video": video, "course": course,
        "book": book, "draft": draft, "collection": collection,
    }  # fmt: skip
