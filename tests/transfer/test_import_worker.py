"""A large API upload imported by a real Celery worker, on real Redis and the test database."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.contrib.auth.models import Permission
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

from curation import enqueue
from curation.models import Collection, ImportJob, Resource
from tests.factories import CuratorFactory
from tests.integration.conftest import cluster, wait_for  # noqa: F401 (the fixture)

SEED = Path(__file__).with_name("fixtures") / "so-you-are-interested-in-deep-learning.linked.md"

pytestmark = [pytest.mark.slow, pytest.mark.redis]


@pytest.fixture
def worker(cluster, settings):  # noqa: F811
    settings.IMPORT_INLINE_MAX_BYTES = 100
    cluster.start_worker()
    return cluster


def queue(worker, api: APIClient, upload: SimpleUploadedFile, **fields) -> str:
    """POST the file; hand its job's message to the worker; returns the status URL.

    In tests the app publishes to an in-memory broker (tests/conftest.py): the message the
    API sent on commit (its name and arguments are asserted in test_import_jobs.py) is sent
    again, the same, to the workers' queue on Redis.
    """
    response = api.post("/api/v1/imports/", {"file": upload, **fields}, format="multipart")
    assert response.status_code == 202, response.json()
    worker.send(enqueue.RUN_IMPORT_JOB, job_id=response.json()["id"])
    return response.json()["status_url"]


def importer():
    # A transactional test starts from flushed tables: the Curators group's permissions,
    # made by a migration, are gone. Give the one this needs.
    user = CuratorFactory()
    user.user_permissions.add(Permission.objects.get(codename="add_resource"))
    return user


def finished(status_url: str, api: APIClient) -> dict:
    def done() -> dict | None:
        body = api.get(status_url).json()
        return body if body["status"] in ("done", "failed") else None

    return wait_for(done, timeout=60, what="the worker to finish the import job")


def test_a_worker_imports_a_large_upload_and_the_status_url_gives_the_report(worker):
    curator = importer()
    api = APIClient()
    api.force_authenticate(curator)
    upload = SimpleUploadedFile(SEED.name, SEED.read_bytes())

    body = finished(queue(worker, api, upload, collection="deep-learning"), api)
    assert body["status"] == "done", body
    assert body["report"]["applied"] and body["report"]["created"]["resource"] == 16
    assert [p["line"] for p in body["report"]["problems"]] == [17, 23, 28]
    assert Collection.objects.get().slug == "deep-learning"
    assert set(Resource.objects.values_list("created_by", flat=True)) == {curator.pk}
    assert bytes(ImportJob.objects.get().content) == b""


def test_a_worker_refuses_a_file_with_errors_and_writes_nothing(worker):
    api = APIClient()
    api.force_authenticate(importer())
    content = b"url,title\n" + b"".join(
        f"https://ok.example.test/{n},Fine\n".encode() for n in range(20)
    ) + b"javascript:alert(1),Bad\n"  # fmt: skip

    body = finished(queue(worker, api, SimpleUploadedFile("l.csv", content)), api)
    assert body["status"] == "failed" and body["error"] == "1 errors: nothing was imported"
    assert [(p["line"], p["column"]) for p in body["report"]["problems"]] == [(22, 1)]
    assert not Resource.objects.exists()
