"""Import jobs in the admin: a read-only list of one's own jobs, each with its report by line,
and a confirmed job that never runs twice at once."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from django.contrib.auth.models import Permission
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection, connections
from django.test import Client
from django.urls import reverse

from curation.models import ImportJob, ImportJobStatus, Resource
from curation.transfer import jobs
from tests.factories import CuratorFactory, UserFactory

SEED = Path(__file__).with_name("fixtures") / "so-you-are-interested-in-deep-learning.linked.md"
# A cell the import never repeats in a problem: the uploaded file's own words.
FILE_ONLY = "words-only-the-uploaded-file-holds"
BAD_CSV = (
    "url,title,description\n"
    f"https://a.example.test/,A,{FILE_ONLY}\n"
    f"not a url,B,{FILE_ONLY}\n"
    f"https://c.example.test/,C,{FILE_ONLY}\n"
    f"https://a.example.test/?utm_source=x,A again,{FILE_ONLY}\n"
).encode()
CHANGELIST = "admin:curation_importjob_changelist"


def job_page(job) -> str:
    return reverse("admin:curation_importjob_change", args=[job.pk])


def finished_job(user, content: bytes = BAD_CSV, name: str = "resources.csv") -> ImportJob:
    job = jobs.queue_import(content, filename=name, options=jobs.job_options(), user=user)
    return jobs.run_import_job(job.pk) or job


@pytest.mark.django_db
def test_a_curator_lists_their_own_import_jobs_with_status_and_counts(curator_client, curator):
    done = finished_job(curator, SEED.read_bytes(), SEED.name)
    failed = finished_job(curator)
    jobs.queue_import(b"url\n", filename="waiting.csv", options=jobs.job_options(), user=curator)
    finished_job(CuratorFactory(), name="someone-elses.csv")

    page = curator_client.get(reverse(CHANGELIST)).content.decode()

    assert done.status == ImportJobStatus.DONE and failed.status == ImportJobStatus.FAILED
    assert SEED.name in page and "resources.csv" in page and "waiting.csv" in page
    assert "someone-elses.csv" not in page
    assert "created: 1 collection, 16 item, 16 resource, 8 section; 0 errors" in page
    assert "2 errors: nothing was imported" in page
    assert "Queued" in page and "Done" in page and "Failed" in page


@pytest.mark.django_db
def test_a_jobs_page_shows_its_problems_by_line_and_never_the_file(curator_client, curator):
    job = finished_job(curator)

    page = curator_client.get(job_page(job)).content.decode()

    assert '<table id="import-problems">' in page
    assert "<td>3</td><td>1</td><td>error</td><td>bad URL" in page
    duplicate = "duplicate inside the file: same address as line 2"
    assert f"<td>5</td><td>1</td><td>error</td><td>{duplicate}</td>" in page
    assert FILE_ONLY not in page
    assert 'http-equiv="refresh"' not in page


@pytest.mark.django_db
def test_a_queued_jobs_page_reloads_itself_until_the_job_ends(curator_client, curator):
    job = jobs.queue_import(BAD_CSV, filename="l.csv", options=jobs.job_options(), user=curator)

    page = curator_client.get(job_page(job)).content.decode()

    assert 'http-equiv="refresh"' in page and FILE_ONLY not in page


@pytest.mark.django_db
def test_another_curators_job_is_not_found_and_a_superuser_sees_every_job(curator_client):
    others = finished_job(CuratorFactory())
    admin = Client()
    admin.force_login(CuratorFactory(is_superuser=True))

    assert curator_client.get(job_page(others)).status_code == 302  # the admin: "not found"
    assert ImportJob.objects.filter(pk=others.pk).exists()
    assert admin.get(job_page(others)).status_code == 200
    assert "resources.csv" in admin.get(reverse(CHANGELIST)).content.decode()


@pytest.mark.django_db
def test_import_jobs_cannot_be_added_changed_or_deleted(curator_client, curator):
    job = finished_job(curator)

    assert curator_client.get(reverse("admin:curation_importjob_add")).status_code == 403
    changed = curator_client.post(job_page(job), {"filename": "renamed.csv", "status": "done"})
    assert changed.status_code == 403
    deleted = reverse("admin:curation_importjob_delete", args=[job.pk])
    assert curator_client.post(deleted, {"post": "yes"}).status_code == 403
    job.refresh_from_db()
    assert job.filename == "resources.csv" and job.status == ImportJobStatus.FAILED
    assert 'name="_save"' not in curator_client.get(job_page(job)).content.decode()


@pytest.mark.django_db
def test_staff_who_may_not_import_do_not_see_import_jobs(client):
    client.force_login(UserFactory(is_staff=True))

    assert client.get(reverse(CHANGELIST)).status_code == 403
    assert "Import jobs" not in client.get(reverse("admin:index")).content.decode()


# --- Never twice at once -----------------------------------------------------------------------


def waiting_on_a_lock() -> int:
    """How many of this database's sessions wait for a lock (PostgreSQL), seen afresh."""
    with connection.cursor() as cursor:
        # Inside a transaction the statistics are a snapshot unless cleared.
        cursor.execute("SELECT pg_stat_clear_snapshot()")
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity"
            " WHERE datname = current_database() AND wait_event_type = 'Lock'"
        )
        return cursor.fetchone()[0]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_job_confirmed_in_the_admin_runs_once_when_the_sweep_resends_it_past_the_limit(
    client, settings, time_machine, monkeypatch
):
    time_machine.move_to(datetime(2026, 12, 1, 9, tzinfo=UTC))
    curator = CuratorFactory()
    # A transactional test starts from flushed tables: the Curators group's permissions are gone.
    curator.user_permissions.add(Permission.objects.get(codename="add_resource"))
    client.force_login(curator)
    url = reverse("admin:curation_import")
    upload = {"file": SimpleUploadedFile(SEED.name, SEED.read_bytes()), "format": "auto",
              "folders": "sections", "on_duplicate": "skip"}  # fmt: skip
    job = client.post(url, upload).context["job"]
    client.post(url, {"confirm": "1", "job": str(job.pk)})
    assert not Resource.objects.exists()

    imports: list[str] = []
    second: dict[str, object] = {}
    real_run = jobs.run_parsed

    def redelivered() -> None:
        # Another worker takes the message the sweep sent again.
        try:
            second["job"] = jobs.run_import_job(job.pk)
        finally:
            connections.close_all()

    def import_outliving_the_limit(*args, **kwargs):
        imports.append("run")
        if len(imports) == 1:
            # This import is still running past the task time limit (as an import inside a
            # web request could be): the sweep takes it for a dead worker's and sends it again.
            time_machine.shift(timedelta(seconds=settings.CELERY_TASK_TIME_LIMIT + 61))
            assert jobs.sweep_import_jobs()["jobs_resent"] == 1
            other = threading.Thread(target=redelivered)
            other.start()
            for _ in range(600):
                if not other.is_alive() or waiting_on_a_lock():
                    break
                time.sleep(0.05)
            second["thread"] = other
        return real_run(*args, **kwargs)

    monkeypatch.setattr(jobs, "run_parsed", import_outliving_the_limit)

    finished = jobs.run_import_job(job.pk)
    other = second["thread"]
    assert isinstance(other, threading.Thread)
    other.join(timeout=60)

    assert finished is not None and finished.status == ImportJobStatus.DONE
    assert second["job"] is None
    assert imports == ["run"]
    assert Resource.objects.count() == 16
    assert ImportJob.objects.get().status == ImportJobStatus.DONE
