"""Large API uploads as background jobs: 202, a status URL, the same report when done."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

from curation import enqueue
from curation.models import Collection, ImportJob, ImportJobStatus, Resource
from curation.transfer import jobs
from tests.factories import CuratorFactory, UserFactory

SEED = Path(__file__).with_name("fixtures") / "so-you-are-interested-in-deep-learning.linked.md"
URL = "/api/v1/imports/"

pytestmark = pytest.mark.django_db


@pytest.fixture
def api(curator) -> APIClient:
    client = APIClient()
    client.force_authenticate(curator)
    return client


@pytest.fixture
def small_inline_limit(settings):
    settings.IMPORT_INLINE_MAX_BYTES = 100


def post_seed(api, **fields):
    upload = SimpleUploadedFile(SEED.name, SEED.read_bytes())
    return api.post(URL, {"file": upload, "collection": "deep-learning", **fields},
                    format="multipart")  # fmt: skip


def test_a_file_over_the_inline_limit_is_queued_with_a_status_url(
    api, small_inline_limit, broker_messages, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = post_seed(api)

    body = response.json()
    assert response.status_code == 202, body
    job = ImportJob.objects.get()
    assert body["id"] == str(job.pk) and body["status"] == "queued" and body["report"] is None
    assert body["status_url"].endswith(f"/api/v1/imports/{job.pk}/")
    assert response["Location"] == body["status_url"]
    assert broker_messages() == [(enqueue.RUN_IMPORT_JOB, {"job_id": str(job.pk)})]
    assert not Resource.objects.exists()
    assert api.get(body["status_url"]).json()["status"] == "queued"


def test_a_finished_job_reports_what_the_inline_import_would_have(api, settings, curator):
    inline = post_seed(api, dry_run=True).json()
    settings.IMPORT_INLINE_MAX_BYTES = 100
    queued = post_seed(api).json()

    job = jobs.run_import_job(queued["id"])

    assert job is not None and job.status == ImportJobStatus.DONE
    status = api.get(queued["status_url"]).json()
    assert status["status"] == "done" and status["finished_at"] and status["error"] == ""
    report = status["report"]
    assert report["applied"] and not report["dry_run"]
    assert {k: report[k] for k in ("created", "problems", "collections")} == {
        k: inline[k] for k in ("created", "problems", "collections")
    }
    assert Collection.objects.get().slug == "deep-learning"
    assert set(Resource.objects.values_list("created_by", flat=True)) == {curator.pk}
    assert bytes(ImportJob.objects.get().content) == b""


def test_a_job_whose_file_has_errors_fails_naming_them_and_writes_nothing(api, small_inline_limit):
    content = b"url,title\n" + b"https://a.example.test/x,A\n" * 1 + b"not a url,B\n" * 10
    response = api.post(URL, {"file": SimpleUploadedFile("l.csv", content)}, format="multipart")

    jobs.run_import_job(response.json()["id"])

    status = api.get(response.json()["status_url"]).json()
    assert status["status"] == "failed" and status["error"] == "10 errors: nothing was imported"
    assert [p["line"] for p in status["report"]["problems"]] == list(range(3, 13))
    assert not Resource.objects.exists()


def test_an_unreadable_large_file_is_a_400_at_once_not_a_job(api, small_inline_limit):
    upload = SimpleUploadedFile("l.csv", b"url\n" + b"\xff\xfe" * 200)
    response = api.post(URL, {"file": upload}, format="multipart")

    assert response.status_code == 400 and "not UTF-8" in response.json()["errors"][0]["message"]
    assert not ImportJob.objects.exists()


def test_a_job_runs_once_however_often_its_message_arrives(api, small_inline_limit):
    job_id = post_seed(api).json()["id"]

    assert jobs.run_import_job(job_id) is not None
    assert jobs.run_import_job(job_id) is None
    assert Resource.objects.count() == 16


def test_a_job_whose_worker_died_is_claimed_again_after_the_time_limit(
    api, small_inline_limit, time_machine, settings
):
    time_machine.move_to(datetime(2026, 12, 1, 9, tzinfo=UTC))
    job_id = post_seed(api).json()["id"]
    # A worker claimed it, then died: its transaction was rolled back, the claim stayed.
    ImportJob.objects.filter(pk=job_id).update(status="running", started_at=datetime.now(UTC))

    assert jobs.run_import_job(job_id) is None
    time_machine.shift(timedelta(seconds=settings.CELERY_TASK_TIME_LIMIT + 61))
    assert jobs.run_import_job(job_id).status == ImportJobStatus.DONE


def test_the_sweep_sends_lost_and_orphaned_jobs_again(
    api,
    small_inline_limit,
    time_machine,
    settings,
    broker_messages,
    django_capture_on_commit_callbacks,
):
    time_machine.move_to(datetime(2026, 12, 1, 9, tzinfo=UTC))
    lost = post_seed(api).json()["id"]
    orphan = post_seed(api).json()["id"]
    ImportJob.objects.filter(pk=orphan).update(status="running", started_at=datetime.now(UTC))
    time_machine.shift(timedelta(seconds=settings.CELERY_TASK_TIME_LIMIT + 61))
    fresh = post_seed(api).json()["id"]
    broker_messages()

    with django_capture_on_commit_callbacks(execute=True):
        swept = jobs.sweep_import_jobs()

    assert swept == {"previews_deleted": 0, "jobs_deleted": 0, "jobs_resent": 2}
    resent = {kwargs["job_id"] for _task, kwargs in broker_messages()}
    assert resent == {lost, orphan} and fresh not in resent


def test_only_the_creator_or_an_administrator_see_a_job(api, small_inline_limit):
    url = post_seed(api).json()["status_url"]
    # Another curator (curators are staff): not theirs to see.
    other = APIClient()
    other.force_authenticate(CuratorFactory())
    admin = APIClient()
    admin.force_authenticate(CuratorFactory(is_superuser=True))
    reader = APIClient()
    reader.force_authenticate(UserFactory())

    assert other.get(url).status_code == 404
    assert admin.get(url).status_code == 200
    assert reader.get(url).status_code == 403
    assert APIClient().get(url).status_code == 401
    assert api.get(URL + "00000000-0000-0000-0000-000000000000/").status_code == 404


def test_a_small_file_is_still_imported_within_the_request(api):
    response = post_seed(api)

    assert response.status_code == 200 and response.json()["applied"]
    assert not ImportJob.objects.exists()


def test_the_sweep_deletes_finished_jobs_after_their_retention_only(
    api, small_inline_limit, time_machine, settings
):
    settings.IMPORT_JOB_RETENTION_DAYS = 30
    time_machine.move_to(datetime(2026, 11, 1, 9, tzinfo=UTC))
    done = post_seed(api).json()["id"]
    failed = post_seed(api).json()["id"]
    assert jobs.run_import_job(done).status == ImportJobStatus.DONE
    ImportJob.objects.filter(pk=failed).update(
        status=ImportJobStatus.FAILED, finished_at=datetime.now(UTC)
    )
    still_queued = post_seed(api).json()["id"]  # never run: not finished, never deleted here
    time_machine.shift(timedelta(days=29))
    recent = post_seed(api).json()["id"]
    assert jobs.run_import_job(recent).status == ImportJobStatus.DONE

    assert jobs.sweep_import_jobs()["jobs_deleted"] == 0
    time_machine.shift(timedelta(days=1, seconds=1))
    assert jobs.sweep_import_jobs()["jobs_deleted"] == 2

    left = set(ImportJob.objects.values_list("pk", flat=True))
    assert {str(pk) for pk in left} == {still_queued, recent}
