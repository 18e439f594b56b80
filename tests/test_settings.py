from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from django.core.cache.backends.locmem import LocMemCache
from rest_framework.test import APIClient

from api.throttling import AnonThrottle, UserThrottle

ROOT = Path(__file__).resolve().parent.parent
# Variables of the machine the tests run on that would change what the settings read.
OURS = ("DJANGO_", "DATABASE_", "REDIS_", "CELERY_", "API_", "LINKCHECK_", "LOG_LEVEL")
SUMMARY = (
    "print(settings.DATABASES['default']['ENGINE'], settings.CELERY_BROKER_URL, "
    "settings.CACHES['default']['BACKEND'], settings.EMAIL_BACKEND)"
)
# Values that each stop start-up, naming their variable.
MALFORMED = [
    ("DATABASE_URL", "mysq1://nonsense"),
    ("REDIS_URL", "localhost:6379"),
    ("CELERY_BROKER_URL", "amqp://guest@localhost//"),
    ("DJANGO_DEBUG", "maybe"),
    ("API_PAGE_SIZE", "fifty"),
    ("API_PAGE_SIZE", "0"),
    ("LINKCHECK_PER_HOST_INTERVAL", "soon"),
    ("EMAIL_PORT", "25x"),
    ("API_THROTTLE_ANON", "120/fortnight"),
    ("API_THROTTLE_ANON", "many/minute"),
    ("API_THROTTLE_ANON", "120"),
    ("API_THROTTLE_USER", "0/minute"),
    ("API_THROTTLE_USER", "１２０/minute"),
    ("API_TRUSTED_PROXIES", "-1"),
    ("LOG_LEVEL", "loud"),
    ("DJANGO_SECURE_PROXY_SSL_HEADER", "https"),
    ("DJANGO_SECURE_HSTS_SECONDS", "a year"),
    ("DJANGO_SESSION_COOKIE_SECURE", "sometimes"),
]


def environment(tmp_path, **env: str) -> dict[str, str]:
    base = {key: value for key, value in os.environ.items() if not key.startswith(OURS)}
    return {
        **base,
        "SYLLABUS_VAR_DIR": str(tmp_path),
        "DJANGO_SETTINGS_MODULE": "config.settings",
        **env,
    }


def load_settings(tmp_path, *, show: str = SUMMARY, **env: str) -> subprocess.CompletedProcess:
    code = f"import django; from django.conf import settings; django.setup(); {show}"
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=environment(tmp_path, **env),
        capture_output=True,
        text=True,
        timeout=60,
    )


def run(tmp_path, *command: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, *command],
        cwd=ROOT,
        env=environment(tmp_path, **env),
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


@pytest.mark.parametrize(("name", "value"), MALFORMED)
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


# --- Rates, log level, proxies: spelled as the code that reads them expects ---------------------


def test_throttle_rates_are_read_in_any_documented_spelling(tmp_path):
    result = load_settings(
        tmp_path,
        show="print(settings.REST_FRAMEWORK['DEFAULT_THROTTLE_RATES'])",
        API_THROTTLE_ANON=" 30 / MIN ",
        API_THROTTLE_USER="5000/h",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "{'anon': '30/minute', 'user': '5000/hour'}"


def test_the_log_level_sets_the_root_logger_of_every_process(tmp_path):
    result = load_settings(
        tmp_path,
        show="import logging; print(logging.getLevelName(logging.getLogger().level))",
        LOG_LEVEL="warning",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "WARNING"


def test_trusted_proxies_become_drfs_proxy_count(tmp_path):
    show = "print(settings.REST_FRAMEWORK['NUM_PROXIES'])"
    assert load_settings(tmp_path, show=show).stdout.strip() == "0"
    assert load_settings(tmp_path, show=show, API_TRUSTED_PROXIES="2").stdout.strip() == "2"


def test_the_proxys_https_header_is_read_as_django_names_it(tmp_path):
    result = load_settings(
        tmp_path,
        show="print(settings.SECURE_PROXY_SSL_HEADER)",
        DJANGO_SECURE_PROXY_SSL_HEADER="X-Forwarded-Proto: https",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "('HTTP_X_FORWARDED_PROTO', 'https')"


def test_debug_off_turns_https_on_unless_told_otherwise(tmp_path):
    show = (
        "print(settings.SECURE_SSL_REDIRECT, settings.SESSION_COOKIE_SECURE, "
        "settings.CSRF_COOKIE_SECURE, settings.SECURE_HSTS_SECONDS)"
    )
    production = {"DJANGO_DEBUG": "false", "DJANGO_SECRET_KEY": "s3cret-" * 8}
    assert load_settings(tmp_path, show=show).stdout.split() == ["False", "False", "False", "0"]
    assert load_settings(tmp_path, show=show, **production).stdout.split() == [
        "True",
        "True",
        "True",
        "3600",
    ]
    told = load_settings(
        tmp_path, show=show, DJANGO_SECURE_SSL_REDIRECT="false", **production
    ).stdout.split()
    assert told[0] == "False"


# --- Entry points: one line, not a traceback -----------------------------------------------------


def assert_one_line(result: subprocess.CompletedProcess, name: str) -> None:
    assert "Traceback" not in result.stderr, result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1, result.stderr
    assert errors[0].startswith(f"error: {name} must be"), result.stderr


@pytest.mark.parametrize("command", ["check", "migrate", "ensure_schedules"])
def test_a_manage_py_command_stops_with_one_line_naming_the_variable(tmp_path, command):
    result = run(tmp_path, "manage.py", command, API_THROTTLE_ANON="120/fortnight")
    assert result.returncode == 2
    assert result.stderr == (
        "error: API_THROTTLE_ANON must be a number of requests per second, minute, hour or "
        "day, such as 120/minute, got '120/fortnight'\n"
    )


@pytest.mark.parametrize("process", ["worker", "beat"])
def test_celery_stops_with_one_line_naming_the_variable(tmp_path, process):
    result = run(tmp_path, "-m", "celery", "-A", "config", process, LOG_LEVEL="loud")
    assert result.returncode == 2
    assert_one_line(result, "LOG_LEVEL")


def test_gunicorn_stops_with_one_line_naming_the_variable(tmp_path):
    # Without the fix, gunicorn's master boots a worker, which dies in a traceback.
    result = run(
        tmp_path,
        "-m",
        "gunicorn",
        "config.wsgi",
        "--bind",
        "127.0.0.1:0",
        "--control-socket",
        str(tmp_path / "gunicorn.ctl"),
        API_PAGE_SIZE="fifty",
    )
    assert result.returncode == 4  # gunicorn's "App failed to load": the master stops too
    assert_one_line(result, "API_PAGE_SIZE")


# --- Throttling: who the client is --------------------------------------------------------------


@pytest.fixture
def anon_limit_of_two(settings, monkeypatch):
    # Both throttles count an anonymous client (by address): both get a private store.
    store = LocMemCache(f"throttle-{uuid.uuid4().hex}", {})
    monkeypatch.setattr(AnonThrottle, "cache", store)
    monkeypatch.setattr(UserThrottle, "cache", store)
    rest = dict(settings.REST_FRAMEWORK)
    rest["DEFAULT_THROTTLE_RATES"] = {"anon": "2/minute", "user": "2/minute"}
    settings.REST_FRAMEWORK = rest
    return settings


@pytest.mark.django_db
def test_a_made_up_x_forwarded_for_does_not_reset_the_anonymous_limit(anon_limit_of_two):
    client = APIClient()
    assert [client.get("/api/v1/resources/").status_code for _ in range(3)] == [200, 200, 429]
    forged = client.get("/api/v1/resources/", HTTP_X_FORWARDED_FOR="203.0.113.9")
    assert forged.status_code == 429


@pytest.mark.django_db
def test_behind_one_trusted_proxy_a_client_is_the_address_the_proxy_saw(anon_limit_of_two):
    rest = dict(anon_limit_of_two.REST_FRAMEWORK)
    rest["NUM_PROXIES"] = 1
    anon_limit_of_two.REST_FRAMEWORK = rest
    client = APIClient()

    def status(forwarded_for: str) -> int:
        return client.get("/api/v1/resources/", HTTP_X_FORWARDED_FOR=forwarded_for).status_code

    assert [status("198.51.100.7") for _ in range(3)] == [200, 200, 429]
    # What the client wrote before the proxy's entry changes nothing; another client passes.
    assert status("203.0.113.9, 198.51.100.7") == 429
    assert status("198.51.100.8") == 200
