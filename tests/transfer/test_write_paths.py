"""One write path: every way an import comes in reaches the import service and, through it,
the catalogue's own write services (a pass-through spy: the real functions still run)."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.urls import reverse
from rest_framework.test import APIClient

from curation.catalog import services
from curation.models import Collection, ImportJob, Resource
from curation.tasks import run_import_job_task
from curation.transfer import importing

SEED = Path(__file__).with_name("fixtures") / "so-you-are-interested-in-deep-learning.linked.md"

pytestmark = pytest.mark.django_db


@pytest.fixture
def calls(monkeypatch):
    """calls(): the calls made to the import service and the catalogue's bulk create and
    collection save, each still running as before."""
    seen: list[str] = []

    def spy(module: object, name: str) -> None:
        real = getattr(module, name)

        def recorded(*args, **kwargs):
            seen.append(name)
            return real(*args, **kwargs)

        monkeypatch.setattr(module, name, recorded)

    spy(importing._Run, "resources")
    spy(services, "create_resources_in_bulk")
    spy(services, "save_collection")
    return lambda: seen


def went_through_the_services(seen: list[str]) -> None:
    assert seen == ["resources", "create_resources_in_bulk", "save_collection"]
    assert Resource.objects.count() == 16 and Collection.objects.count() == 1


def test_the_command_imports_through_the_service(calls):
    call_command("import_resources", str(SEED), stdout=io.StringIO())

    went_through_the_services(calls())


def test_the_admin_confirmation_imports_through_the_service(curator_client, calls):
    url = reverse("admin:curation_import")
    preview = curator_client.post(url, {"file": SimpleUploadedFile(SEED.name, SEED.read_bytes()),
                                        "format": "auto", "folders": "sections",
                                        "on_duplicate": "skip"})  # fmt: skip
    # The preview ran the service too (a dry run, rolled back).
    assert calls() == ["resources", "create_resources_in_bulk", "save_collection"]
    calls().clear()

    job_id = str(preview.context["job"].pk)
    curator_client.post(url, {"confirm": "1", "job": job_id})
    # Confirming queues the job; the worker that takes its message runs the service.
    assert calls() == []
    assert run_import_job_task(job_id) == "done"

    went_through_the_services(calls())


def test_the_api_imports_through_the_service(curator, calls):
    api = APIClient()
    api.force_authenticate(curator)

    api.post("/api/v1/imports/", {"file": SimpleUploadedFile(SEED.name, SEED.read_bytes())},
             format="multipart")  # fmt: skip

    went_through_the_services(calls())


def test_the_import_task_imports_through_the_service(curator, calls, settings):
    settings.IMPORT_INLINE_MAX_BYTES = 100
    api = APIClient()
    api.force_authenticate(curator)
    api.post("/api/v1/imports/", {"file": SimpleUploadedFile(SEED.name, SEED.read_bytes())},
             format="multipart")  # fmt: skip
    assert calls() == []

    assert run_import_job_task(str(ImportJob.objects.get().pk)) == "done"

    went_through_the_services(calls())
