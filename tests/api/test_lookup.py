from __future__ import annotations

import pytest

from curation.models import PublicationStatus
from tests.api.conftest import error_fields
from tests.factories import ResourceFactory

pytestmark = pytest.mark.django_db
LOOKUP = "/api/v1/resources/lookup/"


def test_lookup_says_which_addresses_are_catalogued(api):
    known = ResourceFactory(url="https://example.test/known")
    response = api.get(
        LOOKUP, {"url": ["https://EXAMPLE.test/known?utm_source=feed", "https://example.test/new"]}
    )
    assert response.status_code == 200
    first, second = response.json()["results"]
    assert first["found"] is True
    assert first["resource"]["id"] == known.pk
    assert first["normalized_url"] == "https://example.test/known"
    assert second == {
        "url": "https://example.test/new", "normalized_url": "https://example.test/new",
        "found": False, "resource": None, "error": None,
    }  # fmt: skip


def test_lookup_reports_an_invalid_address_per_item(api):
    body = api.get(LOOKUP, {"url": ["ftp://example.test/x"]}).json()
    assert body["results"][0]["found"] is False
    assert "http" in body["results"][0]["error"]


def test_lookup_hides_drafts_from_the_public_but_not_from_curators(api, curator_api):
    ResourceFactory(url="https://example.test/draft", status=PublicationStatus.DRAFT)
    params = {"url": "https://example.test/draft"}
    assert api.get(LOOKUP, params).json()["results"][0]["found"] is False
    assert curator_api.get(LOOKUP, params).json()["results"][0]["found"] is True


def test_lookup_needs_at_least_one_url(api):
    response = api.get(LOOKUP)
    assert response.status_code == 400
    assert error_fields(response) == ["url"]


def test_lookup_takes_at_most_fifty(api):
    response = api.get(LOOKUP, {"url": [f"https://example.test/{n}" for n in range(51)]})
    assert response.status_code == 400
    assert error_fields(response) == ["url"]
