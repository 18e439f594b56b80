from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def load_settings(tmp_path, **env: str) -> subprocess.CompletedProcess:
    environment = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "DATABASE_", "REDIS_", "CELERY_", "API_", "LINKCHECK_"))
    }
    environment.update(SYLLABUS_VAR_DIR=str(tmp_path), **env)
    code = (
        "import django; from django.conf import settings; django.setup(); "
        "print(settings.DATABASES['default']['ENGINE'], settings.CELERY_BROKER_URL, "
        "settings.CACHES['default']['BACKEND'], settings.EMAIL_BACKEND)"
    )
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={**environment, "DJANGO_SETTINGS_MODULE": "config.settings"},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_nothing_set_gives_the_laptop_defaults(tmp_path):
    result = load_settings(tmp_path)
    assert result.returncode == 0, result.stderr
    engine, broker, cache, email = result.stdout.split()
    assert engine == "django.db.backends.sqlite3"
    assert broker == "filesystem://"
    assert cache.endswith("LocMemCache")
    assert email.endswith("console.EmailBackend")


def test_database_and_redis_urls_select_postgresql_and_redis(tmp_path):
    result = load_settings(
        tmp_path,
        DATABASE_URL="postgres://postgres@127.0.0.1:5432/somewhere",
        REDIS_URL="redis://127.0.0.1:6379/3",
    )
    assert result.returncode == 0, result.stderr
    engine, broker, cache, _ = result.stdout.split()
    assert engine == "django.db.backends.postgresql"
    assert broker == "redis://127.0.0.1:6379/3"
    assert cache.endswith("RedisCache")


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("DATABASE_URL", "mysq1://nonsense"),
        ("REDIS_URL", "localhost:6379"),
        ("CELERY_BROKER_URL", "amqp://guest@localhost//"),
        ("DJANGO_DEBUG", "maybe"),
        ("API_PAGE_SIZE", "fifty"),
        ("API_PAGE_SIZE", "0"),
        ("LINKCHECK_PER_HOST_INTERVAL", "soon"),
        ("EMAIL_PORT", "25x"),
    ],
)
def test_a_malformed_value_is_refused_naming_the_variable(tmp_path, name, value):
    result = load_settings(tmp_path, **{name: value})
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert name in result.stderr


def test_the_development_secret_key_is_refused_with_debug_off(tmp_path):
    result = load_settings(tmp_path, DJANGO_DEBUG="false")
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY" in result.stderr


def test_debug_off_with_a_real_secret_key_starts(tmp_path):
    result = load_settings(tmp_path, DJANGO_DEBUG="false", DJANGO_SECRET_KEY="s3cret-" * 8)
    assert result.returncode == 0, result.stderr
