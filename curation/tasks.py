"""Celery tasks: thin adapters that take IDs, load, call one service, and own the retry policy.

Every task is acknowledged late and re-run when its worker dies (settings: acks_late,
reject_on_worker_lost, prefetch 1). Re-running is safe because the services are idempotent:
a check's dispatch token is recorded once, whatever the number of deliveries. The names are
those of curation.enqueue, which django-celery-beat's schedules point at.
"""

from __future__ import annotations

import logging
from datetime import datetime

from celery import shared_task
from django.conf import settings
from django.db import InterfaceError, OperationalError
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from curation import enqueue
from curation.archive import services as archive
from curation.archive.lookup import ArchiveBusy
from curation.health import checking, dispatch, retention
from curation.metadata import services as metadata
from curation.models import CheckSource
from curation.reports.delivery import generate_and_deliver
from curation.reports.periods import period_ending_at
from curation.transfer import jobs as import_jobs
from curation.webhooks import delivery as webhook_delivery

logger = logging.getLogger(__name__)

# A lost database connection (a restart, a failover, a killed backend) is worth a retry;
# backoff stays far below the broker's visibility timeout (FIELD-NOTES).
DB_ERRORS = (OperationalError, InterfaceError)
DB_RETRY = {
    "autoretry_for": DB_ERRORS,
    "max_retries": 5,
    "retry_backoff": 2,
    "retry_backoff_max": 60,
    "retry_jitter": True,
}


@shared_task(name=enqueue.DISPATCH_DUE_CHECKS, **DB_RETRY)
def dispatch_due_checks_task() -> int:
    """Run by beat: claim what is due and enqueue it. Two at once, or a missed tick, is harmless."""
    return dispatch.dispatch_due_checks()


@shared_task(name=enqueue.CHECK_RESOURCES, bind=True, **DB_RETRY)
def check_resources_task(
    self, items: list[list], dispatched_at: str | None = None, source: str = CheckSource.SCHEDULED
) -> int:
    """Check a batch of (resource id, dispatch token) pairs concurrently and record them."""
    when = datetime.fromisoformat(dispatched_at) if dispatched_at else None
    pending = dispatch.unrecorded_items((int(pk), str(token)) for pk, token in items)
    if not pending:
        return 0
    # Retries of this task are new attempts with their own count; only a delivery that died
    # without finishing (a killed worker, a redelivered message) counts against the cap.
    deliveries = dispatch.count_delivery(f"{self.request.id}:{self.request.retries}")
    if deliveries > 1 and len(pending) > 1:
        # An earlier delivery of this batch died. Re-run each URL alone, so that one URL that
        # kills its worker takes only itself to the cap, not the whole batch.
        logger.warning("batch %s redelivered; splitting %d checks", self.request.id, len(pending))
        for item in pending:
            enqueue.check_batch([item], source=source, dispatched_at=dispatched_at)
        return 0
    if deliveries > settings.MONITOR_MAX_DELIVERIES:
        logger.error("check of %s abandoned after %d deliveries", pending, deliveries - 1)
        return checking.record_check_errors(
            pending,
            source=source,
            dispatched_at=when,
            error=f"the check was interrupted {deliveries - 1} times (worker lost)",
        )
    return checking.check_and_record(pending, source=source, dispatched_at=when)


@shared_task(name=enqueue.PRUNE_CHECKS, **DB_RETRY)
def prune_checks_task() -> int:
    deleted = retention.prune_checks()
    retention.prune_webhook_log()
    return deleted


@shared_task(name=enqueue.REFRESH_METADATA, **DB_RETRY)
def refresh_metadata_task(resource_id: int) -> list[str] | None:
    return metadata.refresh_metadata(resource_id)


@shared_task(name=enqueue.DISPATCH_DUE_METADATA, **DB_RETRY)
def dispatch_due_metadata_task() -> int:
    """Run by beat: claim the resources whose metadata is due and enqueue their refresh."""
    claimed = metadata.claim_due_metadata(
        now=timezone.now(), limit=settings.METADATA_DISPATCH_BATCH
    )
    for resource_id in claimed:
        enqueue.send(enqueue.REFRESH_METADATA, resource_id=resource_id)
    return len(claimed)


@shared_task(name=enqueue.GENERATE_LINK_REPORT, bind=True, max_retries=3, default_retry_delay=300)
def generate_link_report_task(
    self, period_end: str | None = None, email: bool = True
) -> int | None:
    """Generate and email the current period's report (or the one ending at `period_end`).

    A duplicate tick or a redelivered message finds the report claimed or ready and does
    nothing; a failure retries a few times, the row's claim deciding who does the work.
    """
    period = None
    if period_end:
        parsed = parse_datetime(period_end)
        if parsed is None:
            logger.error("generate_link_report_task: bad period_end %r", period_end)
            return None
        period = period_ending_at(parsed)
    try:
        generation, delivery = generate_and_deliver(period=period, email=email)
    except Exception as exc:
        raise self.retry(exc=exc) from exc
    logger.info(
        "link report %s %s; emailed to %s",
        generation.report.pk,
        "generated" if generation.created else "already existed",
        delivery.sent if delivery else 0,
    )
    return generation.report.pk


# A webhook retry due sooner than this is sent with a countdown; a later one is left to the
# sweep (countdowns must stay well below the broker's visibility timeout, FIELD-NOTES).
WEBHOOK_COUNTDOWN_MAX = 300


@shared_task(name=enqueue.DELIVER_WEBHOOK, **DB_RETRY)
def deliver_webhook_task(delivery_id: int) -> str:
    """Make one attempt of a webhook delivery; schedule a near retry, leave later ones to the
    sweep. A redelivered message finds the delivery claimed or done and does nothing."""
    outcome = webhook_delivery.deliver(delivery_id)
    countdown_max = min(WEBHOOK_COUNTDOWN_MAX, settings.CELERY_VISIBILITY_TIMEOUT // 2)
    if outcome.retry_in is not None and outcome.retry_in <= countdown_max:
        deliver_webhook_task.apply_async(
            kwargs={"delivery_id": delivery_id}, countdown=outcome.retry_in
        )
    return outcome.status


@shared_task(name=enqueue.SWEEP_WEBHOOK_DELIVERIES, **DB_RETRY)
def sweep_webhook_deliveries_task() -> int:
    """Run by beat: send again the pending deliveries whose worker died or whose retry is due."""
    return webhook_delivery.sweep_deliveries()


@shared_task(name=enqueue.LOOK_UP_ARCHIVED_COPY, bind=True, **DB_RETRY)
def look_up_archived_copy_task(self, transition_id: int) -> int | None:
    """Look up the archived copy for one health transition. An archive that answers 429 or
    503 is asked again later (its Retry-After honoured); the last attempt records the
    constructed address instead, so the lookup is never lost."""
    limit = settings.ARCHIVE_LOOKUP_MAX_RETRIES
    final = self.request.retries >= limit
    try:
        snapshot = archive.look_up_archived_copy(transition_id, final_attempt=final)
    except ArchiveBusy as exc:
        countdown = archive.retry_countdown(self.request.retries, exc.retry_after)
        logger.info(
            "archive busy for transition %s, retry in %.0f s: %s", transition_id, countdown, exc
        )
        raise self.retry(exc=exc, countdown=countdown, max_retries=limit) from exc
    return snapshot.pk if snapshot is not None else None


@shared_task(name=enqueue.CAPTURE_IN_ARCHIVE, bind=True, **DB_RETRY)
def capture_in_archive_task(self, resource_id: int) -> bool:
    """ARCHIVE_SAVE_ON_CREATE: ask the archive to capture a newly added resource's page."""
    try:
        return archive.capture_in_archive(resource_id)
    except ArchiveBusy as exc:
        if self.request.retries >= settings.ARCHIVE_LOOKUP_MAX_RETRIES:
            logger.warning("archive capture of resource %s given up: %s", resource_id, exc)
            return False
        countdown = archive.retry_countdown(self.request.retries, exc.retry_after)
        raise self.retry(exc=exc, countdown=countdown) from exc


@shared_task(name=enqueue.RUN_IMPORT_JOB, **DB_RETRY)
def run_import_job_task(job_id: str) -> str | None:
    """Run a queued import (an API upload, a confirmed admin preview); a job taken, finished
    or gone is left."""
    job = import_jobs.run_import_job(job_id)
    return job.status if job is not None else None


@shared_task(name=enqueue.SWEEP_IMPORT_JOBS, **DB_RETRY)
def sweep_import_jobs_task() -> dict[str, int]:
    """Run by beat: delete expired import previews, send lost or orphaned import jobs again."""
    return import_jobs.sweep_import_jobs()
