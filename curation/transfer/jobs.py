"""Imports kept in the database: the admin's previews and the background jobs.

The uploaded bytes live in an ImportJob row, never on one machine's disk, so a preview may be
confirmed through any web process and a queued job run by any worker. Only workers run jobs:
a confirmed admin preview is queued like the API's large files, so no import runs inside a
web request, beyond the reach of the task time limit. A job is claimed with a conditional
UPDATE (whoever moves it to "running" owns it); it runs the one import service
(importing.import_catalogue) in a transaction that also records its end and clears its file,
so a worker killed half-way leaves nothing written and the job still "running": after the
task time limit it may be claimed again (by the redelivered message or the sweep).

That transaction begins by updating the job's row again, as the holder of that claim, which
keeps the row locked until it ends: a second claim of a job that only looks abandoned (a
worker slower than the time limit, a stalled machine) waits for the first run to end and then
finds it finished, or, if that run died, rolled back and claimable. A job never runs twice at
once.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import InterfaceError, OperationalError, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from curation import enqueue
from curation.models import ImportJob, ImportJobStatus
from curation.transfer.formats import parse_file
from curation.transfer.importing import import_catalogue
from curation.transfer.limits import FileRefused
from curation.transfer.report import ImportReport

logger = logging.getLogger(__name__)

# The options a job keeps, with their defaults (the entry points' forms name them the same).
OPTION_DEFAULTS: dict[str, Any] = {
    "format": "auto",
    "collection": None,
    "folders_as": "sections",
    "on_duplicate": "skip",
    "dry_run": False,
    "import_valid_rows": False,
    "with_history": False,
}
# A queued job still not started after this long lost its message (a broker outage): the
# sweep sends it again. Sending twice is harmless: only one claim succeeds.
QUEUED_RESEND_AFTER = timedelta(minutes=5)
# Beyond the task time limit a "running" job's worker is dead (its transaction rolled back).
RUNNING_GRACE = timedelta(seconds=60)


class PreviewExpired(Exception):
    """The preview is gone: confirmed already, expired, or someone else's."""


def job_options(**given: Any) -> dict[str, Any]:
    """The import options as a job stores them (JSON), unknown names refused."""
    unknown = set(given) - set(OPTION_DEFAULTS)
    if unknown:
        raise ValueError(f"unknown import options: {', '.join(sorted(unknown))}")
    return {**OPTION_DEFAULTS, **{k: v for k, v in given.items() if v is not None}}


def run_parsed(data: bytes, *, filename: str, options: dict[str, Any], user) -> ImportReport:
    """Parse `data` and import it with `options` (job_options); FileRefused if unreadable."""
    parsed = parse_file(
        data,
        name=filename,
        format=options["format"],
        collection=options["collection"],
        folders_as=options["folders_as"],
    )
    return import_catalogue(
        parsed,
        on_duplicate=options["on_duplicate"],
        dry_run=options["dry_run"],
        import_valid_rows=options["import_valid_rows"],
        with_history=options.get("with_history", False),
        user=user,
    )


# --- The admin's preview ---------------------------------------------------------------------


def preview_cutoff(now: datetime | None = None) -> datetime:
    return (now or timezone.now()) - timedelta(minutes=settings.IMPORT_PREVIEW_TTL_MINUTES)


def preview_upload(
    data: bytes, *, filename: str, options: dict[str, Any], user
) -> tuple[ImportJob | None, ImportReport]:
    """Dry-run the file and keep it as a preview awaiting confirmation; returns both.

    The job is None when there is nothing to confirm: the file has errors and the valid
    rows were not asked for. FileRefused when the file cannot be read at all (nothing is
    kept then). Previews older than IMPORT_PREVIEW_TTL_MINUTES are deleted on the way (the
    sweep deletes them too).
    """
    report = run_parsed(data, filename=filename, options={**options, "dry_run": True}, user=user)
    delete_expired_previews()
    if report.errors and not options["import_valid_rows"]:
        return None, report
    job = ImportJob.objects.create(
        status=ImportJobStatus.PREVIEW,
        filename=filename[:255],
        content=data,
        options={**options, "dry_run": False},
        report=report.as_dict(),
        created_by=user,
    )
    return job, report


def confirm_preview(job_id, *, user) -> ImportJob:
    """Queue the previewed bytes for a worker to import, once; returns the queued job.

    PreviewExpired when the preview is not there to confirm (already confirmed, expired, or
    not this user's). The job's report stays the preview's until the worker replaces it.
    """
    confirmed = ImportJob.objects.filter(
        pk=job_id,
        created_by=user,
        status=ImportJobStatus.PREVIEW,
        created_at__gte=preview_cutoff(),
    ).update(status=ImportJobStatus.QUEUED)
    if confirmed != 1:
        raise PreviewExpired("that preview has expired or was already confirmed")
    # A preview confirmed more than QUEUED_RESEND_AFTER after its upload may be sent once
    # more by the sweep before a worker takes it: harmless, only one claim succeeds.
    enqueue.send_on_commit(enqueue.RUN_IMPORT_JOB, job_id=str(job_id))
    return ImportJob.objects.defer("content").get(pk=job_id)


def delete_expired_previews(now: datetime | None = None) -> int:
    deleted, _ = ImportJob.objects.filter(
        status=ImportJobStatus.PREVIEW, created_at__lt=preview_cutoff(now)
    ).delete()
    return deleted


# --- Background jobs ---------------------------------------------------------------------------


def queue_import(data: bytes, *, filename: str, options: dict[str, Any], user) -> ImportJob:
    """Keep the file as a queued job and send it to a worker once the transaction commits."""
    job = ImportJob.objects.create(
        status=ImportJobStatus.QUEUED,
        filename=filename[:255],
        content=data,
        options=options,
        created_by=user,
    )
    enqueue.send_on_commit(enqueue.RUN_IMPORT_JOB, job_id=str(job.pk))
    return job


def _stale_running(now: datetime) -> Q:
    limit = timedelta(seconds=settings.CELERY_TASK_TIME_LIMIT) + RUNNING_GRACE
    return Q(status=ImportJobStatus.RUNNING, started_at__lt=now - limit)


def run_import_job(job_id) -> ImportJob | None:
    """Run a queued job (or one whose worker died) through the import service.

    Returns the finished job, or None when there is nothing for this caller to do: the job
    is gone, finished, or running elsewhere. Safe to call twice for one job.
    """
    now = timezone.now()
    claimed = (
        ImportJob.objects.filter(pk=job_id)
        .filter(Q(status=ImportJobStatus.QUEUED) | _stale_running(now))
        .update(status=ImportJobStatus.RUNNING, started_at=now)
    )
    if claimed != 1:
        return None
    return _execute(ImportJob.objects.get(pk=job_id))


def _claim_of(job: ImportJob) -> QuerySet[ImportJob]:
    """The job's row while `job` (as claimed) still holds it: claimed again since, it is gone."""
    return ImportJob.objects.filter(
        pk=job.pk, status=ImportJobStatus.RUNNING, started_at=job.started_at
    )


def _execute(job: ImportJob) -> ImportJob | None:
    """Import a claimed job's file and record how it ended, in one transaction; None when
    the claim was lost before the transaction began (the job was claimed again)."""
    try:
        with transaction.atomic():
            # The lease (module docstring): the row stays locked until this transaction ends.
            if _claim_of(job).update(status=ImportJobStatus.RUNNING) != 1:
                logger.warning("import job %s was claimed again before it began here", job.pk)
                return None
            try:
                report = run_parsed(
                    bytes(job.content),
                    filename=job.filename,
                    options=job.options,
                    user=job.created_by,
                )
            except FileRefused as exc:
                _finish(job, ImportJobStatus.FAILED, error=f"{exc}; nothing was imported")
            else:
                status, error = _outcome(report)
                _finish(job, status, error=error, report=report.as_dict())
    except (OperationalError, InterfaceError):
        # The database went away: the task retries; the job is claimable again after the
        # time limit (by the retry's redelivery or the sweep).
        raise
    except Exception as exc:
        # A bug, or the soft time limit: the import's transaction is rolled back; say so.
        logger.exception("import job %s failed", job.pk)
        _finish(job, ImportJobStatus.FAILED, error=f"the import failed ({type(exc).__name__}); "
                "nothing was imported")  # fmt: skip
    return job


def _outcome(report: ImportReport) -> tuple[str, str]:
    if report.applied or report.dry_run:
        return ImportJobStatus.DONE, ""
    return ImportJobStatus.FAILED, f"{len(report.errors)} errors: nothing was imported"


def _finish(job: ImportJob, status: str, *, error: str = "", report: dict | None = None) -> None:
    # Only while the claim is still this run's: after a failure has rolled the import back,
    # a second claim may already be running the job, and its outcome is the one to keep.
    ended = {"status": status, "error": error, "report": report or {}, "content": b""}
    ended["finished_at"] = timezone.now()
    _claim_of(job).update(**ended)
    for name, value in ended.items():
        setattr(job, name, value)


def delete_old_jobs(now: datetime | None = None) -> int:
    """Delete the jobs that ended more than IMPORT_JOB_RETENTION_DAYS ago; how many."""
    cutoff = (now or timezone.now()) - timedelta(days=settings.IMPORT_JOB_RETENTION_DAYS)
    ended = ImportJob.objects.filter(
        status__in=[ImportJobStatus.DONE, ImportJobStatus.FAILED], finished_at__lt=cutoff
    )
    return ended.delete()[0]


def sweep_import_jobs(now: datetime | None = None) -> dict[str, int]:
    """Delete expired previews and old finished jobs; send again the queued jobs whose message
    was lost and the running ones whose worker died. Returns what it did, by kind."""
    now = now or timezone.now()
    deleted = delete_expired_previews(now)
    old = delete_old_jobs(now)
    lost = ImportJob.objects.filter(
        Q(status=ImportJobStatus.QUEUED, created_at__lt=now - QUEUED_RESEND_AFTER)
        | _stale_running(now)
    )
    ids = [str(pk) for pk in lost.values_list("pk", flat=True)]
    for job_id in ids:
        enqueue.send_on_commit(enqueue.RUN_IMPORT_JOB, job_id=job_id)
    return {"previews_deleted": deleted, "jobs_deleted": old, "jobs_resent": len(ids)}


# --- Reading jobs --------------------------------------------------------------------------------


def jobs_visible_to(user) -> QuerySet[ImportJob]:
    """The jobs `user` may see, without their files: their own, or all for a superuser.

    Every curator is staff, so staff alone would show each curator's imports to the others.
    """
    jobs = ImportJob.objects.defer("content").select_related("created_by")
    return jobs if user.is_superuser else jobs.filter(created_by=user)


def job_for(job_id, *, user) -> ImportJob | None:
    """The job if `user` may see it (jobs_visible_to), else None (also when missing)."""
    return jobs_visible_to(user).filter(pk=job_id).first()


def job_as_dict(job: ImportJob) -> dict[str, Any]:
    """The job as the API shows it: status, times, and the import's report once it ran."""

    def iso(moment: datetime | None) -> str | None:
        return moment.isoformat() if moment else None

    return {
        "id": str(job.pk),
        "status": job.status,
        "filename": job.filename,
        "created_at": iso(job.created_at),
        "started_at": iso(job.started_at),
        "finished_at": iso(job.finished_at),
        "error": job.error,
        "report": (job.report or None) if job.finished_at else None,
    }
