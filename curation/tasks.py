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
from curation.health import checking, dispatch, retention
from curation.metadata import services as metadata
from curation.models import CheckSource
from curation.reports.delivery import generate_and_deliver
from curation.reports.periods import period_ending_at

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
    return retention.prune_checks()


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
