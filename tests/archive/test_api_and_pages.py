"""The API and the public site: resource and collection items carry `archived_url` and
`archived_at`; a broken item shows its copy beside its health, never as a live link."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from curation.models import ArchivedSnapshot, HealthState
from tests.factories import ItemFactory, ResourceFactory, TopicFactory

pytestmark = pytest.mark.django_db

CAPTURED = datetime(2025, 11, 3, 9, 0, tzinfo=UTC)


def snapshot(resource, url: str, *, verified: bool = True, captured_at=CAPTURED, **extra):
    return ArchivedSnapshot.objects.create(
        resource=resource,
        url=url,
        captured_at=captured_at if verified else None,
        archive="Internet Archive",
        found_by="timegate" if verified else "constructed",
        verified=verified,
        looked_up_at=extra.pop("looked_up_at", timezone.now()),
        **extra,
    )


@pytest.fixture
def broken():
    resource = ResourceFactory(url="https://site.test/joins", health=HealthState.BROKEN)
    snapshot(resource, "https://archive.test/web/20251103090000/https://site.test/joins")
    return resource


def test_resource_list_and_detail_carry_the_archived_copy(client, broken):
    healthy = ResourceFactory(url="https://site.test/fine")
    listing = client.get("/api/v1/resources/?health=broken&health=healthy").json()["results"]
    rows = {r["id"]: r for r in listing}
    assert rows[broken.pk]["archived_url"].startswith("https://archive.test/web/2025")
    assert rows[broken.pk]["archived_at"] == "2025-11-03T09:00:00Z"
    assert rows[broken.pk]["link"] is None
    assert (rows[healthy.pk]["archived_url"], rows[healthy.pk]["archived_at"]) == (None, None)
    detail = client.get(f"/api/v1/resources/{broken.pk}/").json()
    assert detail["archived_url"] == rows[broken.pk]["archived_url"]
    assert detail["archived_at"] == "2025-11-03T09:00:00Z"


def test_a_verified_copy_is_preferred_to_a_later_constructed_address(client, broken):
    later = "https://archive.test/web/20260101000000/https://site.test/joins"
    snapshot(broken, later, verified=False)
    detail = client.get(f"/api/v1/resources/{broken.pk}/").json()
    assert detail["archived_url"].startswith("https://archive.test/web/20251103")


def test_an_unverified_address_has_no_capture_time(client):
    resource = ResourceFactory(url="https://site.test/x", health=HealthState.BROKEN)
    constructed = "https://archive.test/web/20260101000000/https://site.test/x"
    snapshot(resource, constructed, verified=False)
    detail = client.get(f"/api/v1/resources/{resource.pk}/").json()
    assert detail["archived_url"].endswith("/https://site.test/x")
    assert detail["archived_at"] is None


def test_a_broken_collection_item_shows_its_copy_beside_its_health(client, broken):
    item = ItemFactory(resource=broken)
    body = client.get(f"/api/v1/collections/{item.section.collection.slug}/").json()
    shown = body["sections"][0]["items"][0]["resource"]
    assert (shown["health"], shown["link"]) == ("broken", None)
    assert shown["archived_url"].startswith("https://archive.test/web/2025")
    assert shown["archived_at"] == "2025-11-03T09:00:00Z"


def test_recommendations_never_serve_a_dead_link_even_with_a_copy(client, broken):
    topic = TopicFactory(slug="sql")
    broken.topics.set([topic])
    alive = ResourceFactory(url="https://site.test/alive", topics=[topic])
    snapshot(alive, "https://archive.test/web/20251103090000/https://site.test/alive")
    results = client.get("/api/v1/recommendations/?topic=sql&level=beginner").json()["results"]
    ids = [r["resource"]["id"] for r in results]
    assert broken.pk not in ids
    (shown,) = [r["resource"] for r in results if r["resource"]["id"] == alive.pk]
    assert shown["link"] == "https://site.test/alive"
    assert shown["archived_url"].startswith("https://archive.test/")


def test_the_schema_documents_both_fields(client):
    text = client.get(reverse("schema") + "?format=json").content.decode()
    assert "archived_url" in text and "archived_at" in text


def test_the_public_collection_page_offers_a_broken_items_archived_copy(client, broken):
    item = ItemFactory(resource=broken)
    page = client.get(reverse("public:collection", args=[item.section.collection.slug]))
    html = page.content.decode()
    copy = "https://archive.test/web/20251103090000/https://site.test/joins"
    assert f'class="archived-copy" href="{copy}"' in html
    assert 'class="item-link" href="https://site.test/joins"' not in html


def test_the_public_resource_page_offers_the_archived_copy(client, broken):
    page = client.get(reverse("public:resource", args=[broken.pk])).content.decode()
    assert "Read the archived copy" in page
    assert "3 November 2025" in page
