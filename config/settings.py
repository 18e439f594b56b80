"""Syllabus settings: one file, read from the environment.

Nothing set gives a laptop setup (SQLite and a file-based Celery broker under var/,
local-memory cache, console email). README's configuration table lists every variable.
"""

from __future__ import annotations

from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from config.env import (
    env_bool,
    env_float,
    env_header,
    env_int,
    env_list,
    env_log_level,
    env_parse,
    env_rate,
    env_str,
    env_url,
)
from curation.checker.config import ENVIRONMENT as LINKCHECK_VARIABLES
from curation.checker.config import parse_allowed_hosts

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("SYLLABUS_VAR_DIR", str(BASE_DIR / "var")))

# The development key only ever works with DEBUG on: a production deployment that forgot
# DJANGO_SECRET_KEY refuses to start instead of signing sessions with a public key.
DEVELOPMENT_SECRET_KEY = "syllabus-development-key-never-use-in-production"  # noqa: S105
DEBUG = env_bool("DJANGO_DEBUG", True)
SECRET_KEY = env_str("DJANGO_SECRET_KEY", DEVELOPMENT_SECRET_KEY)
if not DEBUG and SECRET_KEY == DEVELOPMENT_SECRET_KEY:
    raise ImproperlyConfigured(
        "DJANGO_SECRET_KEY must be set to a secret value when DJANGO_DEBUG is off"
    )
if not SECRET_KEY.strip():
    raise ImproperlyConfigured("DJANGO_SECRET_KEY must not be empty")

ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]")
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS", "")

# HTTPS: on by default when DEBUG is off. Behind a proxy that terminates TLS, Django learns a
# request came over HTTPS from the header the proxy sets (and must strip from clients).
SECURE_PROXY_SSL_HEADER = env_header("DJANGO_SECURE_PROXY_SSL_HEADER")
SECURE_SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT", not DEBUG)
SESSION_COOKIE_SECURE = env_bool("DJANGO_SESSION_COOKIE_SECURE", not DEBUG)
CSRF_COOKIE_SECURE = env_bool("DJANGO_CSRF_COOKIE_SECURE", not DEBUG)
# An hour by default: a mistake wears off by itself. Raise it once HTTPS is known to work.
SECURE_HSTS_SECONDS = env_int("DJANGO_SECURE_HSTS_SECONDS", 0 if DEBUG else 3600, minimum=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("DJANGO_SECURE_HSTS_INCLUDE_SUBDOMAINS", False)
SECURE_HSTS_PRELOAD = env_bool("DJANGO_SECURE_HSTS_PRELOAD", False)

INSTALLED_APPS = [
    "nested_admin",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "corsheaders",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_celery_beat",
    "curation",
    "api",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Static files under gunicorn, with far-future caching of the hashed names.
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "api.cors.PublicReadPreflightMiddleware",
    "corsheaders.middleware.CorsMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]


def _database_from_env() -> dict:
    default_url = f"sqlite:///{VAR_DIR / 'syllabus.sqlite3'}"
    url = env_url("DATABASE_URL", default_url, schemes=("sqlite", "postgres", "postgresql"))
    try:
        config = dj_database_url.parse(url, conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 60))
    except (ValueError, KeyError) as exc:
        raise ImproperlyConfigured(f"DATABASE_URL is not a valid database URL: {exc}") from None
    if config["ENGINE"] == "django.db.backends.sqlite3":
        # A file, not memory, for the test database too: the integration tests start real
        # worker processes that must see what the test wrote.
        config["TEST"] = {"NAME": str(VAR_DIR / "test-syllabus.sqlite3")}
        config["OPTIONS"] = {"timeout": 20, "transaction_mode": "IMMEDIATE"}
    else:
        config["CONN_HEALTH_CHECKS"] = True
    return config


DATABASES = {"default": _database_from_env()}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env_url("REDIS_URL", "", schemes=("redis", "rediss", "unix"))

if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": env_str("CACHE_KEY_PREFIX", "syllabus"),
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
# With DEBUG off, `collectstatic` writes hashed, compressed copies that WhiteNoise serves (the
# admin's styles, Swagger UI); with DEBUG on, files are served from the apps as they are.
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}

# Email: console by default; SMTP when DJANGO_EMAIL_BACKEND says so.
EMAIL_BACKEND = env_str("DJANGO_EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25, minimum=1)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "syllabus@localhost")

# --- Celery -------------------------------------------------------------------------------
# Without Redis the broker is kombu's filesystem transport under var/: it needs no server
# and works across the web, worker and beat processes of `make run`.
BROKER_DIR = VAR_DIR / "broker"
CELERY_BROKER_URL = env_url(
    "CELERY_BROKER_URL", REDIS_URL or "filesystem://", schemes=("redis", "rediss", "filesystem")
)
CELERY_BROKER_IS_REDIS = CELERY_BROKER_URL.startswith(("redis", "rediss"))
# Every countdown, ETA and retry stays far below this, or Redis redelivers a task that is
# merely waiting (FIELD-NOTES: keep ETAs below the visibility timeout).
CELERY_VISIBILITY_TIMEOUT = env_int("CELERY_VISIBILITY_TIMEOUT", 3600, minimum=60)
if CELERY_BROKER_IS_REDIS:
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": CELERY_VISIBILITY_TIMEOUT}
else:
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(BROKER_DIR / "queue"),
        "data_folder_out": str(BROKER_DIR / "queue"),
        "control_folder": str(BROKER_DIR / "control"),
        "store_processed": False,
    }
CELERY_TASK_DEFAULT_QUEUE = env_str("CELERY_QUEUE", "syllabus")
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = env_int("CELERY_TASK_TIME_LIMIT", 600, minimum=10)
CELERY_TASK_SOFT_TIME_LIMIT = max(CELERY_TASK_TIME_LIMIT - 30, 5)
if CELERY_TASK_TIME_LIMIT >= CELERY_VISIBILITY_TIMEOUT:
    raise ImproperlyConfigured(
        "CELERY_TASK_TIME_LIMIT must be below CELERY_VISIBILITY_TIMEOUT, or Redis redelivers "
        "tasks that are still running"
    )
CELERY_TASK_IGNORE_RESULT = True
CELERY_RESULT_BACKEND = None
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True

# --- Django REST Framework ------------------------------------------------------------------
API_PAGE_SIZE = env_int("API_PAGE_SIZE", 50, minimum=1)
API_MAX_PAGE_SIZE = env_int("API_MAX_PAGE_SIZE", 200, minimum=1)
REST_FRAMEWORK = {
    # Public reads, writes for authenticated curators only (model permissions), no Basic auth.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
        "rest_framework.authentication.TokenAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["api.permissions.CuratorWriteOrReadOnly"],
    "DEFAULT_PAGINATION_CLASS": "api.pagination.BoundedCursorPagination",
    "PAGE_SIZE": API_PAGE_SIZE,
    "DEFAULT_THROTTLE_CLASSES": [
        "api.throttling.AnonThrottle",
        "api.throttling.UserThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "anon": env_rate("API_THROTTLE_ANON", "120/minute"),
        "user": env_rate("API_THROTTLE_USER", "1200/minute"),
    },
    # A client is its address as the last of these proxies saw it. With none, X-Forwarded-For
    # is ignored: DRF would otherwise let a client name itself and dodge the anonymous limit.
    "NUM_PROXIES": env_int("API_TRUSTED_PROXIES", 0, minimum=0),
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"]
    + (["rest_framework.renderers.BrowsableAPIRenderer"] if DEBUG else []),
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "api.exceptions.api_exception_handler",
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Syllabus API",
    "DESCRIPTION": "Curated learning resources, topics, recommendation lists and link health.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # One name for the difficulty slugs, whether a field calls them difficulty or level.
    "ENUM_NAME_OVERRIDES": {"DifficultyEnum": "api.serializers.DIFFICULTY_SLUGS"},
}

# CORS: anyone may read the public API without credentials; credentialed requests only
# from the origins an operator lists.
CORS_URLS_REGEX = r"^/api/.*$"
CORS_ALLOWED_ORIGINS = env_list("CORS_ALLOWED_ORIGINS", "")
CORS_ALLOW_CREDENTIALS = bool(CORS_ALLOWED_ORIGINS)

# --- Link checking ----------------------------------------------------------------------------
# The LINKCHECK_* variables are named, parsed and defaulted once, in curation.checker.config
# (the Django-free `checklinks --input` reads them there too); each becomes a setting here.
for _name, _variable in LINKCHECK_VARIABLES.items():
    globals()[_name] = env_parse(_name, _variable.parse(_variable.default), _variable.parse)

# --- Local admin for `make run` -----------------------------------------------------------------
SYLLABUS_ADMIN_USERNAME = env_str("SYLLABUS_ADMIN_USERNAME", "admin")
SYLLABUS_ADMIN_EMAIL = env_str("SYLLABUS_ADMIN_EMAIL", "admin@localhost")

# Every process logs through this, Celery's workers and beat too (config/celery.py): at INFO a
# worker writes one line per task (succeeded, failed, retried), beat one per task it sends.
LOG_LEVEL = env_log_level("LOG_LEVEL", "INFO")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"line": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "line"}},
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    # "Task ... received" would be a second line per task at INFO.
    "loggers": {
        "celery.worker.strategy": {"level": "WARNING" if LOG_LEVEL == "INFO" else LOG_LEVEL}
    },
}

VAR_DIR.mkdir(parents=True, exist_ok=True)
STATIC_ROOT.mkdir(exist_ok=True)  # WhiteNoise warns at every start while it is missing
if not CELERY_BROKER_IS_REDIS:
    for folder in ("queue", "control"):
        (BROKER_DIR / folder).mkdir(parents=True, exist_ok=True)

# --- Monitoring (issue 4) -----------------------------------------------------------------------
# Link-health policy and scheduling; docs/workers.md has the table with every default.
MONITOR_BROKEN_MIN_FAILURES = env_int("MONITOR_BROKEN_MIN_FAILURES", 3, minimum=1)
MONITOR_BROKEN_MIN_HOURS = env_float("MONITOR_BROKEN_MIN_HOURS", 48.0, minimum=0.0)
MONITOR_MOVED_MIN_CHECKS = env_int("MONITOR_MOVED_MIN_CHECKS", 2, minimum=1)
MONITOR_UNVERIFIABLE_MIN_BLOCKED = env_int("MONITOR_UNVERIFIABLE_MIN_BLOCKED", 3, minimum=1)
MONITOR_HEALTHY_INTERVAL_HOURS = env_float("MONITOR_HEALTHY_INTERVAL_HOURS", 168.0, minimum=0.01)
MONITOR_SUSPECT_INTERVAL_HOURS = env_float("MONITOR_SUSPECT_INTERVAL_HOURS", 12.0, minimum=0.01)
MONITOR_BROKEN_INTERVAL_HOURS = env_float("MONITOR_BROKEN_INTERVAL_HOURS", 24.0, minimum=0.01)
MONITOR_BROKEN_MAX_INTERVAL_HOURS = env_float(
    "MONITOR_BROKEN_MAX_INTERVAL_HOURS", 720.0, minimum=0.01
)
MONITOR_UNVERIFIABLE_INTERVAL_HOURS = env_float(
    "MONITOR_UNVERIFIABLE_INTERVAL_HOURS", 168.0, minimum=0.01
)
MONITOR_JITTER = env_float("MONITOR_JITTER", 0.1, minimum=0.0)
if MONITOR_JITTER >= 1:
    raise ImproperlyConfigured(f"MONITOR_JITTER must be below 1, got {MONITOR_JITTER}")
# How often the default beat schedule runs the dispatcher (created once; edit it in the admin).
MONITOR_DISPATCH_EVERY_SECONDS = env_int("MONITOR_DISPATCH_EVERY_SECONDS", 60, minimum=5)
# Most resources one dispatcher run claims, and how many go in one check task.
MONITOR_DISPATCH_LIMIT = env_int("MONITOR_DISPATCH_LIMIT", 5000, minimum=1)
MONITOR_BATCH_SIZE = env_int("MONITOR_BATCH_SIZE", 50, minimum=1)
# A claimed resource is not claimed again for this long: a check lost between the claim and
# the broker is dispatched again once it expires.
MONITOR_LEASE_SECONDS = env_int("MONITOR_LEASE_SECONDS", 1800, minimum=30)
if MONITOR_LEASE_SECONDS <= CELERY_TASK_TIME_LIMIT:
    raise ImproperlyConfigured(
        "MONITOR_LEASE_SECONDS must exceed CELERY_TASK_TIME_LIMIT, or a running check is "
        "dispatched a second time"
    )
# Deliveries of one check task before its URL is recorded as a check error.
MONITOR_MAX_DELIVERIES = env_int("MONITOR_MAX_DELIVERIES", 3, minimum=1)
# Checker-offline guard.
MONITOR_CANARY_URLS = env_list("MONITOR_CANARY_URLS", "")
MONITOR_OFFLINE_MIN_HOSTS = env_int("MONITOR_OFFLINE_MIN_HOSTS", 5, minimum=1)
MONITOR_OFFLINE_HOST_RATIO = env_float("MONITOR_OFFLINE_HOST_RATIO", 0.8, minimum=0.0)
MONITOR_OFFLINE_RETRY_MINUTES = env_float("MONITOR_OFFLINE_RETRY_MINUTES", 15.0, minimum=0.1)
# How far back the guard reads the checks of every task to tell "these hosts are dead" from
# "we have no network". Longer than the retry above, so that an outage's retries still see it.
MONITOR_OFFLINE_WINDOW_MINUTES = env_float("MONITOR_OFFLINE_WINDOW_MINUTES", 30.0, minimum=1.0)
# Retention: checks older than this are pruned, except the newest few per resource and every
# check that caused a health transition.
MONITOR_RETENTION_DAYS = env_int("MONITOR_RETENTION_DAYS", 90, minimum=1)
MONITOR_RETENTION_KEEP_PER_RESOURCE = env_int("MONITOR_RETENTION_KEEP_PER_RESOURCE", 10, minimum=0)

# --- Metadata (issue 5) -----------------------------------------------------------------------
METADATA_REFRESH_DAYS = env_int("METADATA_REFRESH_DAYS", 30, minimum=1)
METADATA_RETRY_HOURS = env_int("METADATA_RETRY_HOURS", 24, minimum=1)
METADATA_DISPATCH_BATCH = env_int("METADATA_DISPATCH_BATCH", 500, minimum=1)

# --- Reports (issue 7) ------------------------------------------------------------------------
# Length of a report period. Periods lie on a fixed grid ending at midnight UTC (weekly ones
# on Mondays), so every trigger in the same period names the same report row.
REPORT_PERIOD_DAYS = env_int("REPORT_PERIOD_DAYS", 7, minimum=1)
# When the default beat schedule fires (minute hour day-of-month month day-of-week, UTC).
# Used only when the schedule is first created; after that the admin's copy is the truth.
REPORT_SCHEDULE_CRONTAB = env_str("REPORT_SCHEDULE_CRONTAB", "0 6 * * 1")
if len(REPORT_SCHEDULE_CRONTAB.split()) != 5:
    raise ImproperlyConfigured(
        f"REPORT_SCHEDULE_CRONTAB must have 5 fields, got {REPORT_SCHEDULE_CRONTAB!r}"
    )
# Email the report only when something changed (a link broke, moved, recovered, became
# unverifiable, or the checker went offline).
REPORT_EMAIL_ONLY_ON_CHANGE = env_bool("REPORT_EMAIL_ONLY_ON_CHANGE", True)
REPORT_EMAIL_SUBJECT_PREFIX = env_str("REPORT_EMAIL_SUBJECT_PREFIX", "[Syllabus] ")
# Where the admin is served, for the link in the email; empty leaves the link out.
REPORT_BASE_URL = env_url("REPORT_BASE_URL", "", schemes=("http", "https"))
# A claim older than this is taken to belong to a dead worker and may be taken over.
REPORT_CLAIM_TIMEOUT = env_int("REPORT_CLAIM_TIMEOUT", 1800, minimum=60)
# Rows per listed section (each section still states its full total), domains and lists shown.
REPORT_LIST_LIMIT = env_int("REPORT_LIST_LIMIT", 200, minimum=1)
REPORT_TOP_DOMAINS = env_int("REPORT_TOP_DOMAINS", 10, minimum=1)
REPORT_TOP_COLLECTIONS = env_int("REPORT_TOP_COLLECTIONS", 20, minimum=1)
# Days of history in the health-over-time chart.
REPORT_HISTORY_DAYS = env_int("REPORT_HISTORY_DAYS", 28, minimum=2)

# --- Import (issue 18) ------------------------------------------------------------------------
# An API upload larger than this (bytes) is imported by a worker: 202 and a status URL.
IMPORT_INLINE_MAX_BYTES = env_int("IMPORT_INLINE_MAX_BYTES", 1024 * 1024, minimum=0)
# An admin import preview not confirmed within this many minutes is deleted.
IMPORT_PREVIEW_TTL_MINUTES = env_int("IMPORT_PREVIEW_TTL_MINUTES", 60, minimum=1)
# A finished import job (done or failed: its report, never its file, which the end clears) is
# deleted this many days after it ended.
IMPORT_JOB_RETENTION_DAYS = env_int("IMPORT_JOB_RETENTION_DAYS", 90, minimum=1)

# --- Freshness (issue 20) ---------------------------------------------------------------------
# A published resource on no published list needs a curator's fresh look after this many days
# without one (a listed resource follows the shortest review period of its lists).
FRESHNESS_REVIEW_DAYS = env_int("FRESHNESS_REVIEW_DAYS", 365, minimum=1)

# --- Webhooks (issue 19) ----------------------------------------------------------------------
# Hosts webhook deliveries may reach although private (as LINKCHECK_ALLOWED_INTERNAL_HOSTS,
# which applies too): comma-separated "host" or "host:port".
WEBHOOK_ALLOWED_HOSTS = env_parse("WEBHOOK_ALLOWED_HOSTS", frozenset(), parse_allowed_hosts)
# Total time one delivery attempt may take (connect, send, read the answer), in seconds.
WEBHOOK_TIMEOUT = env_float("WEBHOOK_TIMEOUT", 10.0, minimum=0.5)


def _seconds_list(text: str) -> list[int]:
    values = [v.strip() for v in text.split(",") if v.strip()]
    if not all(v.isascii() and v.isdigit() for v in values):
        raise ValueError("must be comma-separated whole seconds")
    return [int(v) for v in values]


# Seconds before each retry after a failed attempt (timeouts, 5xx, 429): about a day in all.
WEBHOOK_RETRY_DELAYS = env_parse(
    "WEBHOOK_RETRY_DELAYS", [5, 300, 1800, 7200, 18000, 36000, 36000], _seconds_list
)
# An endpoint is disabled after this many failed deliveries in a row, or when it has been
# failing for longer than WEBHOOK_DISABLE_AFTER_HOURS.
WEBHOOK_DISABLE_AFTER_FAILURES = env_int("WEBHOOK_DISABLE_AFTER_FAILURES", 5, minimum=1)
WEBHOOK_DISABLE_AFTER_HOURS = env_float("WEBHOOK_DISABLE_AFTER_HOURS", 24.0, minimum=0.0)
# How often beat sweeps for pending deliveries whose message was lost or whose retry is due.
WEBHOOK_SWEEP_EVERY_SECONDS = env_int("WEBHOOK_SWEEP_EVERY_SECONDS", 60, minimum=5)
# Finished (delivered or failed) deliveries and their attempts are pruned after this many days.
WEBHOOK_LOG_RETENTION_DAYS = env_int("WEBHOOK_LOG_RETENTION_DAYS", 30, minimum=1)

# --- Archived copies (issue 19) ---------------------------------------------------------------
# Look up an archived copy of a page when its link turns suspect, broken or moved.
ARCHIVE_LOOKUP = env_bool("ARCHIVE_LOOKUP", True)
ARCHIVE_FIELDS = ("timegate", "timemap", "availability", "web", "save")
# The archives asked, in order (JSON list). Each has a name and any of: timegate, timemap and
# web (prefixes the page's address is appended to), availability (the endpoint taking
# ?url=&timestamp=), save (a prefix, for ARCHIVE_SAVE_ON_CREATE).
DEFAULT_ARCHIVES = [
    {
        "name": "Internet Archive",
        "timegate": "https://web.archive.org/web/",
        "timemap": "https://web.archive.org/web/timemap/link/",
        "availability": "https://archive.org/wayback/available",
        "web": "https://web.archive.org/web/",
        "save": "https://web.archive.org/save/",
    }
]


def _parse_archives(text: str) -> list[dict[str, str]]:
    import json

    try:
        entries = json.loads(text)
    except ValueError as exc:
        raise ValueError(f"must be a JSON list of archives: {exc}") from None
    if not isinstance(entries, list):
        raise ValueError("must be a JSON list of archives")
    for index, entry in enumerate(entries):
        if not isinstance(entry, dict) or not isinstance(entry.get("name"), str):
            raise ValueError(f"archive {index} must be an object with a name")
        unknown = set(entry) - {"name", *ARCHIVE_FIELDS}
        if unknown:
            raise ValueError(f"archive {index} has unknown keys {sorted(unknown)}")
        for key in ARCHIVE_FIELDS:
            value = entry.get(key, "")
            text = value if isinstance(value, str) else "-"
            if text and not text.startswith(("http://", "https://")):
                raise ValueError(f"archive {index} {key} must be an http(s) address")
    return entries


ARCHIVES = env_parse("ARCHIVES", DEFAULT_ARCHIVES, _parse_archives)
# How long a lookup's answer (a copy, or "none here") is kept in the cache, in hours.
ARCHIVE_CACHE_HOURS = env_float("ARCHIVE_CACHE_HOURS", 24.0, minimum=0.01)
# Retries of a lookup an archive answered 429/503 (each after its Retry-After, or a backoff);
# after the last one the constructed, unverified address is recorded.
ARCHIVE_LOOKUP_MAX_RETRIES = env_int("ARCHIVE_LOOKUP_MAX_RETRIES", 6, minimum=0)
# Ask the archive to capture each resource when it is added, at most this many a day.
ARCHIVE_SAVE_ON_CREATE = env_bool("ARCHIVE_SAVE_ON_CREATE", False)
ARCHIVE_SAVE_DAILY_CAP = env_int("ARCHIVE_SAVE_DAILY_CAP", 100, minimum=0)
