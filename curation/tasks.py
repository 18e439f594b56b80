"""Celery tasks: thin adapters that take IDs, load, call one service, and own the retry policy.

Every task is acknowledged late and re-run when its worker dies (settings: acks_late,
reject_on_worker_lost, prefetch 1). Re-running is safe because the services are idempotent:
a check's dispatch token is recorded once, whatever the number of deliveries.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import datetime

from celery import shared_task
from django.conf import settings
from django.db import InterfaceError, OperationalError, transaction
from django.utils import timezone

from curation import monitoring
from curation.models import CheckSource, Resource

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
METADATA_SERVICE = "curation.metadata_service"


@shared_task(name="curation.dispatch_due_checks", **DB_RETRY)
def dispatch_due_checks_task() -> int:
    """Run by beat: claim what is due and enqueue it. Two at once, or a missed tick, is harmless."""
    return monitoring.dispatch_due_checks(enqueue=_publish_scheduled)


def _publish_scheduled(items: list[tuple[int, str]], dispatched_at: datetime) -> None:
    check_resources_task.apply_async(
        kwargs={
            "items": items,
            "dispatched_at": dispatched_at.isoformat(),
            "source": CheckSource.SCHEDULED,
        }
    )


@shared_task(name="curation.check_resources", bind=True, **DB_RETRY)
def check_resources_task(
    self, items: list[list], dispatched_at: str | None = None, source: str = CheckSource.SCHEDULED
) -> int:
    """Check a batch of (resource id, dispatch token) pairs concurrently and record them."""
    when = datetime.fromisoformat(dispatched_at) if dispatched_at else None
    pending = monitoring.unrecorded_items((int(pk), str(token)) for pk, token in items)
    if not pending:
        return 0
    # Retries of this task are new attempts with their own count; only a delivery that died
    # without finishing (a killed worker, a redelivered message) counts against the cap.
    deliveries = monitoring.count_delivery(f"{self.request.id}:{self.request.retries}")
    if deliveries > 1 and len(pending) > 1:
        # An earlier delivery of this batch died. Re-run each URL alone, so that one URL that
        # kills its worker takes only itself to the cap, not the whole batch.
        logger.warning("batch %s redelivered; splitting %d checks", self.request.id, len(pending))
        for item in pending:
            check_resources_task.apply_async(
                kwargs={"items": [item], "dispatched_at": dispatched_at, "source": source}
            )
        return 0
    if deliveries > settings.MONITOR_MAX_DELIVERIES:
        logger.error("check of %s abandoned after %d deliveries", pending, deliveries - 1)
        return monitoring.record_check_errors(
            pending,
            source=source,
            dispatched_at=when,
            error=f"the check was interrupted {deliveries - 1} times (worker lost)",
        )
    return monitoring.check_and_record(pending, source=source, dispatched_at=when)


@shared_task(name="curation.refresh_metadata", **DB_RETRY)
def refresh_metadata_task(resource_id: int) -> None:
    try:
        from curation import metadata_service
    except ModuleNotFoundError as exc:
        if exc.name != METADATA_SERVICE:
            raise
        logger.error(
            "metadata refresh of resource %s skipped: %s is not installed",
            resource_id,
            METADATA_SERVICE,
        )
        return
    metadata_service.refresh_metadata(resource_id)


@shared_task(name="curation.prune_checks", **DB_RETRY)
def prune_checks_task() -> int:
    return monitoring.prune_checks()


def _batches(ids: list[int], size: int) -> Iterable[list[int]]:
    for start in range(0, len(ids), size):
        yield ids[start : start + size]


def enqueue_checks(resource_ids: Iterable[int], *, source: str = CheckSource.MANUAL) -> int:
    """ "Check now": enqueue checks of these resources after the transaction commits."""
    ids = list(Resource.objects.filter(pk__in=list(resource_ids)).values_list("pk", flat=True))
    for batch in _batches(ids, settings.MONITOR_BATCH_SIZE):
        items = [(pk, monitoring.new_token()) for pk in batch]
        check_resources_task.delay_on_commit(items=items, dispatched_at=None, source=source)
    return len(ids)


def enqueue_new_resource_work(resource_id: int) -> None:
    """Called after a resource is committed: its first check and its metadata, right away.

    If the broker is unreachable nothing is lost: a resource never checked is due, and the
    dispatcher picks it up on its next run.
    """
    items = [(resource_id, monitoring.new_token())]
    dispatched_at = timezone.now().isoformat()

    def publish() -> None:
        try:
            check_resources_task.delay(
                items=items, dispatched_at=dispatched_at, source=CheckSource.SCHEDULED
            )
            refresh_metadata_task.delay(resource_id)
        except Exception:
            logger.exception("could not enqueue first check of resource %s", resource_id)

    transaction.on_commit(publish)


def enqueue_metadata_refresh(resource_ids: Iterable[int]) -> int:
    ids = list(Resource.objects.filter(pk__in=list(resource_ids)).values_list("pk", flat=True))
    for pk in ids:
        refresh_metadata_task.delay_on_commit(pk)
    return len(ids)
