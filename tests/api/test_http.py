from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django.utils.http import http_date

from curation.models import Resource
from tests.api.conftest import error_fields
from tests.factories import (
    CollectionFactory,
    ItemFactory,
    ResourceFactory,
    SectionFactory,
    TopicFactory,
)

pytestmark = pytest.mark.django_db
LIST = "/api/v1/resources/"


def test_a_matching_etag_gets_304(api):
    ResourceFactory()
    first = api.get(LIST)
    assert first.status_code == 200
    etag = first["ETag"]
    again = api.get(LIST, HTTP_IF_NONE_MATCH=etag)
    assert again.status_code == 304
    assert again["ETag"] == etag
    assert again.content == b""


def test_the_etag_changes_when_the_data_does(api):
    resource = ResourceFactory()
    etag = api.get(f"{LIST}{resource.pk}/")["ETag"]
    Resource.objects.filter(pk=resource.pk).update(title="Changed")
    response = api.get(f"{LIST}{resource.pk}/", HTTP_IF_NONE_MATCH=etag)
    assert response.status_code == 200
    assert response["ETag"] != etag


def test_detail_has_last_modified_and_honours_if_modified_since(api):
    resource = ResourceFactory()
    response = api.get(f"{LIST}{resource.pk}/")
    assert response["Last-Modified"] == http_date(int(resource.updated_at.timestamp()))
    later = http_date((timezone.now() + timedelta(minutes=1)).timestamp())
    assert api.get(f"{LIST}{resource.pk}/", HTTP_IF_MODIFIED_SINCE=later).status_code == 304
    earlier = http_date((timezone.now() - timedelta(days=1)).timestamp())
    assert api.get(f"{LIST}{resource.pk}/", HTTP_IF_MODIFIED_SINCE=earlier).status_code == 200


def test_a_health_change_moves_last_modified(api):
    resource = ResourceFactory()
    stamp = api.get(f"{LIST}{resource.pk}/")["Last-Modified"]
    Resource.objects.filter(pk=resource.pk).update(
        health="broken", health_changed_at=timezone.now() + timedelta(minutes=5)
    )
    response = api.get(f"{LIST}{resource.pk}/", HTTP_IF_MODIFIED_SINCE=stamp)
    assert response.status_code == 200
    assert response.json()["health"] == "broken"


@pytest.mark.parametrize("url", [LIST, "/api/v1/topics/", "/api/v1/collections/"])
def test_public_lists_are_cacheable(api, url):
    response = api.get(url)
    assert response["Cache-Control"] == "public, max-age=60"
    assert {"Authorization", "Cookie"} <= {v.strip() for v in response["Vary"].split(",")}


def test_curators_responses_are_private(curator_api):
    assert curator_api.get(LIST)["Cache-Control"] == "private, no-cache"


def test_any_origin_may_read_without_credentials(api):
    response = api.get(LIST, HTTP_ORIGIN="https://some-frontend.example")
    assert response["Access-Control-Allow-Origin"] == "*"
    assert "Access-Control-Allow-Credentials" not in response


def test_a_configured_origin_gets_credentials(api, settings):
    settings.CORS_ALLOWED_ORIGINS = ["https://app.example"]
    settings.CORS_ALLOW_CREDENTIALS = True
    response = api.get(LIST, HTTP_ORIGIN="https://app.example")
    assert response["Access-Control-Allow-Origin"] == "https://app.example"
    assert response["Access-Control-Allow-Credentials"] == "true"


def test_an_unlisted_origin_gets_no_cors_for_writes(curator_api, settings):
    settings.CORS_ALLOWED_ORIGINS = ["https://app.example"]
    settings.CORS_ALLOW_CREDENTIALS = True
    response = curator_api.post(
        LIST, {"url": "https://x.example/", "title": "x"}, format="json",
        HTTP_ORIGIN="https://evil.example",
    )  # fmt: skip
    assert "Access-Control-Allow-Origin" not in response
    preflight = curator_api.options(
        LIST, HTTP_ORIGIN="https://evil.example", HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST"
    )
    assert "Access-Control-Allow-Origin" not in preflight


def throttle_settings(settings, rate: str) -> None:
    rest = dict(settings.REST_FRAMEWORK)
    rest["DEFAULT_THROTTLE_RATES"] = {"anon": rate, "user": rate}
    settings.REST_FRAMEWORK = rest


def test_anonymous_clients_are_throttled_with_a_named_problem(api, settings):
    throttle_settings(settings, "3/minute")
    assert [api.get(LIST).status_code for _ in range(3)] == [200, 200, 200]
    response = api.get(LIST)
    assert response.status_code == 429
    assert int(response["Retry-After"]) > 0
    assert response.json()["errors"][0]["code"] == "throttled"


@pytest.mark.redis
def test_throttling_counts_in_the_shared_redis_cache(
    api, settings, redis_url, redis_client, monkeypatch
):
    from django.core.cache import cache as default_cache

    from api.throttling import AnonThrottle

    monkeypatch.setattr(AnonThrottle, "cache", default_cache)
    # A prefix of our own, deleted afterwards: other test runs may share this Redis database.
    prefix = f"api-throttle-test-{uuid.uuid4().hex}"
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": redis_url,
            "KEY_PREFIX": prefix,
        }
    }
    throttle_settings(settings, "2/minute")
    try:
        assert [api.get(LIST).status_code for _ in range(3)] == [200, 200, 429]
        assert any(b"throttle_anon" in key for key in redis_client.keys(f"{prefix}*"))
    finally:
        for key in redis_client.keys(f"{prefix}*"):
            redis_client.delete(key)


def test_four_hundreds_name_the_field_and_the_problem(api):
    body = api.get(LIST, {"max_duration": "x"}).json()
    assert body["detail"]
    assert body["errors"] == [
        {"field": "max_duration", "code": "invalid", "message": "Enter a whole number of minutes."}
    ]


def count_queries(client, url: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


@pytest.fixture
def catalogue():
    topics = [TopicFactory() for _ in range(3)]
    for n in range(60):
        ResourceFactory(topics=topics[: 1 + n % 3])
    collection = CollectionFactory()
    for _ in range(3):
        section = SectionFactory(collection=collection)
        for _ in range(10):
            ItemFactory(section=section, resource=ResourceFactory(topics=topics[:2]))
    return topics, collection


@pytest.mark.parametrize(
    "query",
    ["", "&q=resource", "&topic={topic}", "&collection={collection}&ordering=title",
     "&difficulty=beginner&kind=article&free=true&language=en"],
)  # fmt: skip
def test_list_query_count_does_not_grow_with_page_size(api, catalogue, query):
    topics, collection = catalogue
    # The fixture's own slugs: factory sequences run on across tests.
    query = query.format(topic=topics[0].slug, collection=collection.slug)
    small = count_queries(api, f"{LIST}?page_size=5{query}")
    large = count_queries(api, f"{LIST}?page_size=50{query}")
    assert small == large
    assert large <= 3


def test_curator_list_query_count_does_not_grow_with_page_size(curator_api, catalogue):
    assert count_queries(curator_api, f"{LIST}?page_size=5") == count_queries(
        curator_api, f"{LIST}?page_size=50"
    )


def test_collection_detail_query_count_does_not_grow_with_items(api, catalogue):
    _, collection = catalogue
    before = count_queries(api, f"/api/v1/collections/{collection.slug}/")
    section = SectionFactory(collection=collection)
    for _ in range(20):
        ItemFactory(section=section)
    assert count_queries(api, f"/api/v1/collections/{collection.slug}/") == before


def test_recommendation_query_count_does_not_grow_with_limit(api, catalogue):
    topics, _ = catalogue
    url = f"/api/v1/recommendations/?topic={topics[0].slug}"
    assert count_queries(api, f"{url}&limit=2") == count_queries(api, f"{url}&limit=50")


def test_topic_list_query_count_is_constant(api, catalogue):
    before = count_queries(api, "/api/v1/topics/")
    for _ in range(10):
        TopicFactory()
    assert count_queries(api, "/api/v1/topics/") == before


def test_schema_and_documentation_are_served_locally(api):
    schema = api.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert schema.status_code == 200
    assert "/api/v1/recommendations/" in schema.json()["paths"]
    for page in ("/api/docs/", "/api/redoc/"):
        html = api.get(page).content.decode()
        assert "cdn" not in html.lower()
        assert "drf_spectacular_sidecar" in html or "static" in html


def test_error_for_unknown_page_of_curator_reading_uses_the_shape(api):
    response = api.get("/api/v1/collections/no-such-list/")
    assert response.status_code == 404
    assert error_fields(response) == [None]


def test_head_and_options_answer(api):
    assert api.head(LIST).status_code == 200
    options = api.options(LIST)
    assert options.status_code == 200
    assert options.json()["name"]
