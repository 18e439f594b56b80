from __future__ import annotations

import pytest
from django.urls import reverse
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from tests.factories import CuratorFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client_(client):
    admin = UserFactory(is_staff=True, is_superuser=True)
    client.force_login(admin)
    return client


def test_an_admin_issues_a_token_and_it_authenticates(admin_client_):
    curator = CuratorFactory()
    response = admin_client_.post(reverse("admin:authtoken_tokenproxy_add"), {"user": curator.pk})
    assert response.status_code == 302, response.content[:500]
    token = Token.objects.get(user=curator)
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    created = api.post(
        "/api/v1/resources/", {"url": "https://example.test/t", "title": "T"}, format="json"
    )
    assert created.status_code == 201


def test_an_admin_revokes_a_token_and_it_stops_working(admin_client_):
    curator = CuratorFactory()
    token = Token.objects.create(user=curator)
    url = reverse("admin:authtoken_tokenproxy_delete", args=[curator.pk])
    assert admin_client_.post(url, {"post": "yes"}).status_code == 302
    assert not Token.objects.filter(key=token.key).exists()
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    response = api.post(
        "/api/v1/resources/", {"url": "https://example.test/t", "title": "T"}, format="json"
    )
    assert response.status_code == 401


def test_the_token_list_is_reachable(admin_client_):
    Token.objects.create(user=CuratorFactory())
    assert admin_client_.get(reverse("admin:authtoken_tokenproxy_changelist")).status_code == 200
