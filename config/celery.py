"""The Celery app of the workers and beat (`celery -A config worker|beat`).

Its configuration is Django's settings (the CELERY_* ones), and so is its logging.
"""

from __future__ import annotations

import os

from celery import Celery
from celery.signals import setup_logging

from config.env import exit_if_misconfigured

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("syllabus")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@app.on_configure.connect
def _load_settings(sender: Celery, **kwargs: object) -> None:
    # Celery first reads the settings deep inside its command line: a malformed variable
    # would end `celery worker` or `celery beat` in a long traceback. Load them here instead.
    from django.conf import settings

    with exit_if_misconfigured():
        settings.INSTALLED_APPS  # noqa: B018 (the first attribute read loads the settings)


@setup_logging.connect
def _log_as_the_settings_say(**kwargs: object) -> None:
    # Left to itself, Celery sets the root logger to its --loglevel, WARNING by default, and a
    # worker says nothing of the tasks it runs. Any receiver of this signal replaces Celery's
    # set-up: settings.LOGGING (LOG_LEVEL) is every process's configuration, workers' too,
    # applied as django.setup() applies it.
    from django.conf import settings
    from django.utils.log import configure_logging

    configure_logging(settings.LOGGING_CONFIG, settings.LOGGING)
