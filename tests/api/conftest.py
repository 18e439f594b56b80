from __future__ import annotations

import uuid

import pytest
from django.core.cache.backends.locmem import LocMemCache
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from api.throttling import AnonThrottle, UserThrottle


@pytest.fixture(autouse=True)
def _fresh_throttle_counts(monkeypatch):
    # Throttle counters live in the cache; a private cache per test keeps earlier tests'
    # requests from counting against later ones without flushing a shared Redis.
    store = LocMemCache(f"api-throttle-{uuid.uuid4().hex}", {})
    monkeypatch.setattr(AnonThrottle, "cache", store)
    monkeypatch.setattr(UserThrottle, "cache", store)


@pytest.fixture
def api():
    return APIClient()


@pytest.fixture
def curator_token(curator) -> str:
    return Token.objects.create(user=curator).key


@pytest.fixture
def curator_api(curator_token):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {curator_token}")
    return client


def error_fields(response) -> list:
    return [e["field"] for e in response.json()["errors"]]
