"""Ids in URLs, and what a client without credentials or without the right is told."""

from __future__ import annotations

import pytest
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from curation.models import Collection, PublicationStatus, Resource, Topic
from tests.factories import (
    CollectionFactory,
    LinkReportFactory,
    ResourceFactory,
    TopicFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db
RESOURCES = "/api/v1/resources/"


@pytest.fixture
def resource_3():
    """A published resource whose id is 3, the number the Unicode digits below spell."""
    return ResourceFactory(id=3)


# Superscripts pass str.isdigit() and fail int(); fullwidth and Arabic-Indic digits pass both.
UNICODE_IDS = ["³", "3²", "３", "٣", "①", "3\u0663"]


@pytest.mark.parametrize("raw", UNICODE_IDS)
@pytest.mark.parametrize("suffix", ["", "archive/", "check/", "refresh-metadata/"])
def test_an_id_in_unicode_digits_is_404_like_any_bad_id(curator_api, resource_3, raw, suffix):
    method = curator_api.get if suffix == "" else curator_api.post
    response = method(f"{RESOURCES}{raw}/{suffix}")
    assert response.status_code == 404
    assert response.json()["errors"][0]["code"] == "not_found"
    resource_3.refresh_from_db()
    assert resource_3.status == PublicationStatus.PUBLISHED


@pytest.mark.parametrize("raw", UNICODE_IDS)
def test_an_id_in_unicode_digits_cannot_be_written_through(curator_api, resource_3, raw):
    response = curator_api.patch(f"{RESOURCES}{raw}/", {"title": "Changed"}, format="json")
    assert response.status_code == 404
    resource_3.refresh_from_db()
    assert resource_3.title != "Changed"


def test_the_ascii_id_still_finds_the_resource(api, resource_3):
    assert api.get(f"{RESOURCES}3/").json()["id"] == 3


def test_the_schema_says_ids_are_ascii_digits(api):
    schema = api.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    for path, operations in schema["paths"].items():
        if "{id}" not in path:
            continue
        for operation in operations.values():
            [param] = [p for p in operation["parameters"] if p["name"] == "id"]
            assert param["schema"]["type"] == "integer" or param["schema"]["pattern"] == (
                "^[0-9]+$"
            ), path


# --- 401 without credentials, 403 with credentials that lack the right ------------------------

WRITES = [
    ("post", RESOURCES, {"url": "https://example.test/n"}),
    ("put", f"{RESOURCES}{{resource}}/", {"url": "https://example.test/n"}),
    ("patch", f"{RESOURCES}{{resource}}/", {"title": "n"}),
    ("post", f"{RESOURCES}{{resource}}/archive/", None),
    ("post", f"{RESOURCES}{{resource}}/check/", None),
    ("post", f"{RESOURCES}{{resource}}/refresh-metadata/", None),
    ("post", "/api/v1/topics/", {"name": "N", "slug": "n"}),
    ("put", "/api/v1/topics/{topic}/", {"name": "N", "slug": "n"}),
    ("patch", "/api/v1/topics/{topic}/", {"name": "N"}),
    ("post", "/api/v1/collections/", {"title": "N", "slug": "n"}),
    ("put", "/api/v1/collections/{collection}/", {"title": "N", "slug": "n"}),
    ("patch", "/api/v1/collections/{collection}/", {"title": "N"}),
    ("post", "/api/v1/collections/{collection}/archive/", None),
]
CURATOR_READS = ["/api/v1/reports/latest/", "/api/v1/reports/{report}/"]


@pytest.fixture
def targets():
    return {
        "resource": ResourceFactory(title="Kept").pk,
        "topic": TopicFactory(name="Kept").slug,
        "collection": CollectionFactory(slug="kept", title="Kept").slug,
        "report": LinkReportFactory().pk,
    }


def nothing_was_written():
    assert list(Resource.objects.values_list("title", "status")) == [("Kept", "published")]
    assert list(Topic.objects.values_list("name", flat=True)) == ["Kept"]
    assert list(Collection.objects.values_list("title", "status")) == [("Kept", "published")]


@pytest.mark.parametrize(("method", "path", "body"), WRITES)
def test_a_write_without_credentials_is_401_with_a_challenge(api, targets, method, path, body):
    response = getattr(api, method)(path.format(**targets), body, format="json")
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"
    nothing_was_written()


@pytest.mark.parametrize("session", [False, True], ids=["token", "session"])
@pytest.mark.parametrize(("method", "path", "body"), WRITES)
def test_a_write_by_a_user_without_the_permission_is_403(targets, method, path, body, session):
    client = APIClient()
    user = UserFactory()
    if session:
        client.force_login(user)
    else:
        client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}")
    response = getattr(client, method)(path.format(**targets), body, format="json")
    assert response.status_code == 403
    assert "WWW-Authenticate" not in response
    nothing_was_written()


@pytest.mark.parametrize("path", CURATOR_READS)
def test_a_curator_only_read_without_credentials_is_401_with_a_challenge(api, targets, path):
    response = api.get(path.format(**targets))
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"


@pytest.mark.parametrize("path", CURATOR_READS)
def test_a_curator_only_read_by_a_user_without_the_permission_is_403(targets, path):
    client = APIClient()
    client.force_login(UserFactory(is_staff=True))
    assert client.get(path.format(**targets)).status_code == 403


def test_a_bad_token_is_401(api, targets):
    api.credentials(HTTP_AUTHORIZATION="Token not-a-real-token")
    response = api.post(RESOURCES, {"url": "https://example.test/n"}, format="json")
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"
