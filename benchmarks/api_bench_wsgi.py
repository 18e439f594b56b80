"""WSGI entry for the benchmark's gunicorn: the project plus the bare comparison views."""

from __future__ import annotations

import json
import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
application = get_wsgi_application()

import api_bench_urls  # noqa: E402
from django.conf import settings  # noqa: E402

settings.ROOT_URLCONF = "api_bench_urls"
api_bench_urls.RECOMMENDATION_TOPIC_IDS.update(
    json.loads(os.environ.get("API_BENCH_TOPIC_IDS", "{}"))
)
