from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db

URL = "/api/v1/resources/"


def preflight(client, origin: str, method: str, headers: str = ""):
    extra = {"HTTP_ORIGIN": origin, "HTTP_ACCESS_CONTROL_REQUEST_METHOD": method}
    if headers:
        extra["HTTP_ACCESS_CONTROL_REQUEST_HEADERS"] = headers
    return client.options(URL, **extra)


def test_any_origin_may_preflight_a_conditional_public_read(client):
    response = preflight(client, "https://learner.example", "GET", "if-none-match")
    assert response.status_code == 200
    assert response["Access-Control-Allow-Origin"] == "*"
    assert "if-none-match" in response["Access-Control-Allow-Headers"]
    assert "Access-Control-Allow-Credentials" not in response


def test_an_unlisted_origin_gets_no_grant_for_a_write(client):
    response = preflight(client, "https://learner.example", "POST", "content-type")
    assert "Access-Control-Allow-Origin" not in response


def test_an_unlisted_origin_gets_no_grant_to_send_credentials(client):
    response = preflight(client, "https://learner.example", "GET", "authorization")
    assert "Access-Control-Allow-Origin" not in response


def test_a_listed_origin_keeps_its_credentialed_grant(client, settings):
    settings.CORS_ALLOWED_ORIGINS = ["https://curators.example"]
    settings.CORS_ALLOW_CREDENTIALS = True
    response = preflight(client, "https://curators.example", "POST", "content-type,x-csrftoken")
    assert response["Access-Control-Allow-Origin"] == "https://curators.example"
    assert response["Access-Control-Allow-Credentials"] == "true"
