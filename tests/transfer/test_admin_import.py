from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from curation import enqueue
from curation.models import Collection, ImportJob, ImportJobStatus, Resource
from curation.transfer.jobs import run_import_job, sweep_import_jobs
from tests.factories import CuratorFactory, UserFactory

SEED = Path(__file__).with_name("fixtures") / "so-you-are-interested-in-deep-learning.linked.md"

pytestmark = pytest.mark.django_db


def upload(name: str, content: bytes, **options) -> dict:
    return {
        "file": SimpleUploadedFile(name, content),
        "format": "auto",
        "folders": "sections",
        "on_duplicate": "skip",
        **options,
    }


def test_the_preview_shows_counts_and_every_problem_and_writes_nothing(curator_client):
    response = curator_client.post(reverse("admin:curation_import"),
                                   upload(SEED.name, SEED.read_bytes()))  # fmt: skip

    page = response.content.decode()
    assert response.status_code == 200
    assert "16 resource" in page and "1 collection" in page
    assert page.count('<tr class="warning">') == 3
    assert not Resource.objects.exists()


def confirm(client, url: str, job) -> None:
    """Confirm the preview, then run its job as the worker that takes the message would."""
    client.post(url, {"confirm": "1", "job": str(job.pk)})
    run_import_job(job.pk)


def test_confirming_queues_the_job_for_a_worker_and_opens_its_page(
    curator_client, broker_messages, django_capture_on_commit_callbacks
):
    url = reverse("admin:curation_import")
    preview = curator_client.post(url, upload(SEED.name, SEED.read_bytes()))
    job = preview.context["job"]
    assert f'name="job" value="{job.pk}"' in preview.content.decode()

    with django_capture_on_commit_callbacks(execute=True):
        response = curator_client.post(url, {"confirm": "1", "job": str(job.pk)})

    assert response.status_code == 302
    assert response["Location"] == reverse("admin:curation_importjob_change", args=[job.pk])
    # Nothing is imported inside the web request: a worker takes the job.
    assert not Resource.objects.exists()
    assert ImportJob.objects.get().status == ImportJobStatus.QUEUED
    assert broker_messages() == [(enqueue.RUN_IMPORT_JOB, {"job_id": str(job.pk)})]


def test_the_worker_imports_exactly_the_previewed_file(curator_client, curator):
    url = reverse("admin:curation_import")
    job = curator_client.post(url, upload(SEED.name, SEED.read_bytes())).context["job"]

    confirm(curator_client, url, job)

    assert Collection.objects.get().sections.count() == 8
    assert set(Resource.objects.values_list("created_by", flat=True)) == {curator.pk}


def test_a_job_confirmed_in_the_admin_is_not_run_again_by_the_sweep_once_done(
    curator_client, time_machine, settings
):
    time_machine.move_to(datetime(2026, 12, 1, 9, tzinfo=UTC))
    url = reverse("admin:curation_import")
    job = curator_client.post(url, upload(SEED.name, SEED.read_bytes())).context["job"]
    confirm(curator_client, url, job)
    time_machine.shift(timedelta(seconds=settings.CELERY_TASK_TIME_LIMIT + 61))

    assert sweep_import_jobs()["jobs_resent"] == 0
    assert run_import_job(job.pk) is None
    assert Resource.objects.count() == 16


def test_the_preview_waits_in_the_database_not_on_the_web_machines_disk(
    curator_client, curator, settings
):
    preview = curator_client.post(reverse("admin:curation_import"),
                                  upload(SEED.name, SEED.read_bytes()))  # fmt: skip

    job = ImportJob.objects.get(pk=preview.context["job"].pk)
    assert job.status == ImportJobStatus.PREVIEW and job.created_by == curator
    assert bytes(job.content) == SEED.read_bytes()
    assert not (Path(settings.VAR_DIR) / "imports").exists()


def test_confirming_clears_the_stored_file_and_keeps_the_report(curator_client):
    url = reverse("admin:curation_import")
    job = curator_client.post(url, upload(SEED.name, SEED.read_bytes())).context["job"]

    confirm(curator_client, url, job)

    job.refresh_from_db()
    assert job.status == ImportJobStatus.DONE and bytes(job.content) == b""
    assert job.report["applied"] and job.report["created"]["resource"] == 16


def test_a_preview_is_confirmed_once_and_only_by_its_uploader(curator_client):
    url = reverse("admin:curation_import")
    job = curator_client.post(url, upload(SEED.name, SEED.read_bytes())).context["job"]
    client = Client()
    client.force_login(CuratorFactory())

    other = client.post(url, {"confirm": "1", "job": str(job.pk)}, follow=True)
    assert "expired" in other.content.decode() and not Resource.objects.exists()

    confirm(curator_client, url, job)
    again = curator_client.post(url, {"confirm": "1", "job": str(job.pk)}, follow=True)
    assert "expired" in again.content.decode()
    assert Resource.objects.count() == 16


def test_an_expired_preview_cannot_be_confirmed_and_is_swept(curator_client, time_machine):
    time_machine.move_to(datetime(2026, 12, 1, 9, tzinfo=UTC))
    url = reverse("admin:curation_import")
    job = curator_client.post(url, upload(SEED.name, SEED.read_bytes())).context["job"]
    time_machine.move_to(datetime(2026, 12, 1, 10, 1, tzinfo=UTC))

    response = curator_client.post(url, {"confirm": "1", "job": str(job.pk)}, follow=True)

    assert "expired" in response.content.decode() and not Resource.objects.exists()
    assert sweep_import_jobs()["previews_deleted"] == 1
    assert not ImportJob.objects.exists()


def test_a_bad_job_id_is_an_expired_preview_not_a_crash(curator_client):
    response = curator_client.post(reverse("admin:curation_import"),
                                   {"confirm": "1", "job": "not-a-uuid"}, follow=True)  # fmt: skip

    assert response.status_code == 200 and "expired" in response.content.decode()


def test_a_file_with_errors_cannot_be_confirmed_unless_valid_rows_are_asked_for(curator_client):
    url = reverse("admin:curation_import")
    content = b"url,title\nhttps://a.example.test/,A\nnope,B\n"

    refused = curator_client.post(url, upload("list.csv", content)).content.decode()
    assert "Confirm the import" not in refused and "line" in refused.lower()
    assert not ImportJob.objects.exists()

    allowed = curator_client.post(url, upload("list.csv", content, import_valid_rows="on"))
    assert "Confirm the import" in allowed.content.decode()


def test_a_refused_file_is_a_form_error_not_a_crash(curator_client):
    response = curator_client.post(reverse("admin:curation_import"),
                                   upload("x.json", b'{"not": "a catalogue"}'))  # fmt: skip

    assert response.status_code == 200
    assert "not a Syllabus catalogue" in response.content.decode()


def test_staff_without_the_add_permission_cannot_import(client):
    client.force_login(UserFactory(is_staff=True))

    assert client.get(reverse("admin:curation_import")).status_code == 403
