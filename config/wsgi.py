"""The WSGI application, for gunicorn (`gunicorn config.wsgi`)."""

from __future__ import annotations

import os

from django.core.wsgi import get_wsgi_application

from config.env import exit_if_misconfigured

# gunicorn's "application failed to load": its master stops with this status instead of
# booting a worker that fails the same way over and over.
APP_LOAD_ERROR = 4

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
with exit_if_misconfigured(APP_LOAD_ERROR):
    application = get_wsgi_application()
