from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from curation import enqueue
from curation.models import HealthState, PublicationStatus, Resource
from tests.api.conftest import error_fields
from tests.factories import CuratorFactory, ResourceFactory, TopicFactory, UserFactory

pytestmark = pytest.mark.django_db
LIST = "/api/v1/resources/"
NEW = {"url": "https://example.test/new-thing", "title": "A new thing", "difficulty": "advanced"}


def token_client(user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}")
    return client


def test_a_curator_creates_a_resource_with_a_token(curator_api, curator):
    topic = TopicFactory(name="Calculus")
    response = curator_api.post(LIST, {**NEW, "topics": ["calculus"]}, format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    created = Resource.objects.get(pk=body["id"])
    assert created.created_by == curator
    assert created.difficulty == 3
    assert list(created.topics.all()) == [topic]
    assert body["topics"] == ["calculus"]
    assert body["created_by"] == curator.username
    assert response["Location"].endswith(f"/api/v1/resources/{created.pk}/")


def test_anonymous_writes_are_refused_with_401(api):
    response = api.post(LIST, NEW, format="json")
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Token")
    assert not Resource.objects.exists()


def test_a_user_without_curator_permissions_is_refused(db):
    client = token_client(UserFactory())
    response = client.post(LIST, NEW, format="json")
    assert response.status_code == 403
    assert response.json()["errors"][0]["message"]
    assert not Resource.objects.exists()


def test_a_token_cannot_do_what_its_user_is_not_allowed_to(db):
    # A user allowed to add resources but not to change them cannot archive one.
    user = UserFactory()
    user.user_permissions.add(Permission.objects.get(codename="add_resource"))
    client = token_client(user)
    assert client.post(LIST, NEW, format="json").status_code == 201
    resource = Resource.objects.get()
    assert client.post(f"{LIST}{resource.pk}/archive/").status_code == 403
    assert client.patch(f"{LIST}{resource.pk}/", {"title": "x"}, format="json").status_code == 403
    resource.refresh_from_db()
    assert resource.status == PublicationStatus.DRAFT


def test_curators_cannot_delete_resources(curator_api):
    resource = ResourceFactory()
    assert curator_api.delete(f"{LIST}{resource.pk}/").status_code == 405
    assert Resource.objects.filter(pk=resource.pk).exists()


def test_session_writes_need_the_csrf_token(curator):
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(curator)
    refused = client.post(LIST, NEW, format="json")
    assert refused.status_code == 403
    assert "CSRF" in refused.json()["detail"]
    client.get("/api/v1/resources/")  # any page; the token comes from the cookie below
    from django.middleware.csrf import _get_new_csrf_string, _mask_cipher_secret

    secret = _get_new_csrf_string()
    client.cookies["csrftoken"] = secret
    accepted = client.post(LIST, NEW, format="json", HTTP_X_CSRFTOKEN=_mask_cipher_secret(secret))
    assert accepted.status_code == 201, accepted.content


def test_a_duplicate_url_gets_409_with_the_existing_resource(curator_api):
    existing = ResourceFactory(url="https://example.test/page")
    response = curator_api.post(
        LIST,
        {"url": "HTTPS://EXAMPLE.test/page?utm_source=x#top", "title": "Same page"},
        format="json",
    )
    assert response.status_code == 409
    body = response.json()
    assert body["existing"]["id"] == existing.pk
    assert body["errors"][0]["field"] == "url"
    assert str(existing.pk) in body["errors"][0]["message"]
    assert Resource.objects.count() == 1


def test_changing_the_url_to_a_duplicate_gets_409(curator_api):
    existing = ResourceFactory(url="https://example.test/a")
    other = ResourceFactory(url="https://example.test/b")
    response = curator_api.patch(
        f"{LIST}{other.pk}/", {"url": "https://example.test/a/"}, format="json"
    )
    assert response.status_code == 409
    assert response.json()["existing"]["id"] == existing.pk


@pytest.mark.parametrize(
    "url", ["ftp://example.test/file", "ftps://example.test/f", "javascript:alert(1)", "nope"]
)
def test_only_http_and_https_urls_are_accepted(curator_api, url):
    response = curator_api.post(LIST, {**NEW, "url": url}, format="json")
    assert response.status_code == 400
    assert error_fields(response) == ["url"]
    assert not Resource.objects.exists()


@pytest.mark.parametrize(
    ("url", "scheme"), [("ftp://example.test/file", "ftp"), ("javascript:alert(1)", "javascript")]
)
def test_a_url_of_another_scheme_is_refused_in_the_admins_words(curator_api, url, scheme):
    response = curator_api.post(LIST, {**NEW, "url": url}, format="json")
    assert response.json()["errors"] == [
        {
            "field": "url",
            "code": "invalid",
            "message": f"URL scheme must be http or https, not {scheme!r}",
        }
    ]
    resource = ResourceFactory()
    changed = curator_api.patch(f"{LIST}{resource.pk}/", {"url": url}, format="json")
    assert changed.json()["errors"] == response.json()["errors"]


def test_a_url_with_a_lone_surrogate_is_400_not_a_server_error(curator_api):
    body = '{"url": "https://example.test/\\ud800"}'
    response = curator_api.post(LIST, body, content_type="application/json")
    assert response.status_code == 400
    assert error_fields(response) == ["url"]


def test_the_title_is_optional_as_in_the_admin(curator_api):
    response = curator_api.post(LIST, {"url": "https://example.test/untitled"}, format="json")
    assert response.status_code == 201, response.content
    assert Resource.objects.get().title == ""
    assert response.json()["status"] == "draft"


@pytest.mark.parametrize("tag", ["en", "en-GB", "pt-BR", "zh-Hant-TW", "es-419", "de-CH-1996", ""])
def test_a_well_formed_language_tag_is_accepted(curator_api, tag):
    response = curator_api.post(LIST, {**NEW, "language": tag}, format="json")
    assert response.status_code == 201, response.content
    assert Resource.objects.get().language == tag


@pytest.mark.parametrize("tag", ["english", "en_GB", "en-", "e", " en", "en GB", "12", "fr-ı"])
def test_a_language_that_is_not_a_bcp_47_tag_is_refused(curator_api, tag):
    response = curator_api.post(LIST, {**NEW, "language": tag}, format="json")
    assert response.status_code == 400
    [error] = response.json()["errors"]
    assert error["field"] == "language"
    assert "BCP 47" in error["message"]
    assert not Resource.objects.exists()


def test_missing_and_invalid_fields_are_named(curator_api):
    response = curator_api.post(
        LIST, {"difficulty": "expert", "topics": ["nope"], "duration_minutes": -3}, format="json"
    )
    assert response.status_code == 400
    assert set(error_fields(response)) == {"url", "difficulty", "topics", "duration_minutes"}


def test_system_fields_are_refused_by_name_and_nothing_is_written(curator_api):
    resource = ResourceFactory(health=HealthState.BROKEN, title="Kept")
    response = curator_api.patch(
        f"{LIST}{resource.pk}/",
        {"title": "Renamed", "health": "healthy", "fetched_metadata": {"x": 1},
         "metadata": {"x": 1}, "created_by": "someone", "suggested_url": "https://x.test/"},
        format="json",
    )  # fmt: skip
    assert response.status_code == 400
    codes = {e["field"]: e["code"] for e in response.json()["errors"]}
    assert codes == {
        "health": "read_only", "metadata": "read_only", "created_by": "read_only",
        "suggested_url": "read_only", "fetched_metadata": "unknown_field",
    }  # fmt: skip
    resource.refresh_from_db()
    assert resource.title == "Kept"
    assert resource.health == HealthState.BROKEN
    assert resource.fetched_metadata == {}
    assert resource.created_by is None
    assert resource.suggested_url == ""


def test_put_replaces_curated_fields(curator_api):
    resource = ResourceFactory(author="Someone")
    response = curator_api.put(
        f"{LIST}{resource.pk}/", {"url": resource.url, "title": "New title"}, format="json"
    )
    assert response.status_code == 200
    resource.refresh_from_db()
    assert resource.title == "New title"


def test_put_without_required_fields_names_them(curator_api):
    resource = ResourceFactory()
    response = curator_api.put(f"{LIST}{resource.pk}/", {}, format="json")
    assert response.status_code == 400
    assert set(error_fields(response)) == {"url"}


@pytest.mark.parametrize("method", ["post", "put", "patch"])
@pytest.mark.parametrize(
    ("body", "field", "code"),
    [({"bogus": 1}, "bogus", "unknown_field"), ({"health": "broken"}, "health", "read_only")],
)
def test_a_field_the_client_may_not_set_is_400_naming_it(curator_api, method, body, field, code):
    resource = ResourceFactory(title="Kept")
    url = LIST if method == "post" else f"{LIST}{resource.pk}/"
    sent = {"url": "https://example.test/other", "title": "Changed", **body}
    response = getattr(curator_api, method)(url, sent, format="json")
    assert response.status_code == 400
    assert [(e["field"], e["code"]) for e in response.json()["errors"]] == [(field, code)]
    assert list(Resource.objects.values_list("title", flat=True)) == ["Kept"]


def test_archive_takes_a_resource_out_of_the_public_list(curator_api, api):
    resource = ResourceFactory()
    response = curator_api.post(f"{LIST}{resource.pk}/archive/")
    assert response.status_code == 200
    assert response.json()["status"] == "archived"
    assert api.get(LIST).json()["results"] == []


def test_check_now_answers_202_and_enqueues(
    curator_api, broker_messages, django_capture_on_commit_callbacks
):
    resource = ResourceFactory()
    with django_capture_on_commit_callbacks(execute=True):
        response = curator_api.post(f"{LIST}{resource.pk}/check/")
    assert response.status_code == 202
    assert response.json() == {"queued": 1}
    [(task, kwargs)] = broker_messages()
    assert task == enqueue.CHECK_RESOURCES
    assert [pk for pk, _token in kwargs["items"]] == [resource.pk]
    assert kwargs["source"] == "manual"


def test_refresh_metadata_answers_202_and_enqueues(
    curator_api, broker_messages, django_capture_on_commit_callbacks
):
    resource = ResourceFactory()
    with django_capture_on_commit_callbacks(execute=True):
        response = curator_api.post(f"{LIST}{resource.pk}/refresh-metadata/")
    assert response.status_code == 202
    assert broker_messages() == [(enqueue.REFRESH_METADATA, {"resource_id": resource.pk})]


def test_check_now_is_refused_to_the_public(api):
    resource = ResourceFactory()
    assert api.post(f"{LIST}{resource.pk}/check/").status_code == 401


def test_a_curator_can_edit_a_draft(curator_api):
    draft = ResourceFactory(status=PublicationStatus.DRAFT)
    response = curator_api.patch(f"{LIST}{draft.pk}/", {"status": "published"}, format="json")
    assert response.status_code == 200
    draft.refresh_from_db()
    assert draft.status == PublicationStatus.PUBLISHED


def test_an_unoffered_method_is_405_even_for_the_public(api):
    resource = ResourceFactory()
    assert api.delete(f"{LIST}{resource.pk}/").status_code == 405
    assert api.put("/api/v1/resources/lookup/", {}, format="json").status_code == 405
    assert api.post("/api/v1/recommendations/", {}, format="json").status_code == 405


def test_a_malformed_json_body_is_400(curator_api):
    response = curator_api.generic("POST", LIST, "{not json", content_type="application/json")
    assert response.status_code == 400
    assert response.json()["errors"][0]["message"]


def test_a_second_curator_token_works_too(db):
    client = token_client(CuratorFactory())
    assert client.post(LIST, NEW, format="json").status_code == 201


def test_check_now_reports_what_the_task_layer_queued(curator_api):
    # The real enqueue function: it counts the resources it queued (after commit).
    resource = ResourceFactory()
    response = curator_api.post(f"{LIST}{resource.pk}/check/")
    assert response.status_code == 202
    assert response.json() == {"queued": 1}


def test_check_now_of_an_unknown_resource_is_404(curator_api):
    assert curator_api.post(f"{LIST}999999/check/").status_code == 404


def test_an_oversized_body_is_a_json_400(curator_api, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    response = curator_api.post(LIST, {**NEW, "description": "x" * 2000}, format="json")
    assert response.status_code == 400
    assert "larger than" in response.json()["detail"]


def test_a_title_too_long_before_trimming_is_refused(curator_api):
    response = curator_api.post(LIST, {**NEW, "title": "\r" + "x" * 300}, format="json")
    assert response.status_code == 400
    assert error_fields(response) == ["title"]
