from __future__ import annotations

import pytest
from django.core.cache import cache

from curation import outbound
from tests.archive.archive_server import ArchiveServer
from tests.integration.conftest import cluster, site  # noqa: F401 (real workers: test_worker)
from tests.integration.support import allow_loopback


@pytest.fixture
def archive_server():
    server = ArchiveServer().start()
    yield server
    server.stop()


@pytest.fixture
def archive(settings, archive_server):
    """The local archive as the only configured one, reachable through the guard's allow-list
    (LINKCHECK_ALLOWED_INTERNAL_HOSTS), with a fresh cache and fresh in-process limiters."""
    settings.ARCHIVES = archive_server.archives_setting()
    allow_loopback(settings, archive_server.host_port)
    cache.clear()
    outbound._local_limiters.clear()
    yield archive_server
    cache.clear()
    outbound._local_limiters.clear()


@pytest.fixture
def eager_tasks():
    """Tasks sent by name run at once in this process (retries too), as a worker would."""
    import curation.tasks  # noqa: F401  (registers the tasks that are sent by name)
    from config.celery import app

    previous = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = previous
