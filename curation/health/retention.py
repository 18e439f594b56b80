"""Retention: old checks are pruned, the evidence of every health change is kept.

Pruning walks the resources by id in keyset batches and deletes each batch's old checks in
one short transaction, so that at millions of checks no statement scans the whole table and
no lock is held for long: the API keeps answering while it runs (docs/benchmarks.md, "History
at scale"). The webhook delivery log is pruned in the same pass.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F, Subquery, Window
from django.db.models.functions import RowNumber
from django.utils import timezone

from curation.models import (
    DeliveryStatus,
    HealthTransition,
    LinkCheck,
    Resource,
    WebhookDelivery,
)

# Resources per batch: each batch is one short transaction deleting at most the old checks
# of this many resources.
PRUNE_RESOURCE_BATCH = 500
# Deliveries per transaction when pruning the webhook log.
WEBHOOK_PRUNE_BATCH = 1000


def prune_checks(
    *,
    now: datetime | None = None,
    older_than_days: int | None = None,
    keep_per_resource: int | None = None,
    batch: int = PRUNE_RESOURCE_BATCH,
    on_batch: Callable[[int, float], None] | None = None,
) -> int:
    """Delete old checks; returns how many.

    Kept whatever their age: every check a health transition points at (the evidence of
    each state change) and the newest `keep_per_resource` checks of each resource.
    `on_batch(deleted, seconds)` is called after each batch's transaction (benchmarks).
    """
    if batch < 1:
        raise ValueError(f"batch must be at least 1, not {batch}")
    now = now or timezone.now()
    days = settings.MONITOR_RETENTION_DAYS if older_than_days is None else older_than_days
    keep = (
        settings.MONITOR_RETENTION_KEEP_PER_RESOURCE
        if keep_per_resource is None
        else keep_per_resource
    )
    cutoff = now - timedelta(days=days)
    deleted = 0
    last_id = 0
    while True:
        ids = list(
            Resource.objects.filter(pk__gt=last_id)
            .order_by("pk")
            .values_list("pk", flat=True)[:batch]
        )
        if not ids:
            break
        last_id = ids[-1]
        started = timezone.now()
        with transaction.atomic():
            count = _prune_resources(ids, cutoff=cutoff, keep=keep)
        deleted += count
        if on_batch is not None:
            on_batch(count, (timezone.now() - started).total_seconds())
        if len(ids) < batch:
            break
    return deleted


def _prune_resources(resource_ids: list[int], *, cutoff: datetime, keep: int) -> int:
    """Delete the prunable checks of these resources (one transaction, the caller's)."""
    evidence = HealthTransition.objects.filter(
        resource_id__in=resource_ids, link_check__isnull=False
    ).values("link_check_id")
    candidates = LinkCheck.objects.filter(
        resource_id__in=resource_ids, checked_at__lt=cutoff
    ).exclude(pk__in=Subquery(evidence))
    if keep > 0:
        beyond_newest = (
            LinkCheck.objects.filter(resource_id__in=resource_ids)
            .annotate(
                rank=Window(
                    RowNumber(),
                    partition_by=[F("resource_id")],
                    order_by=[F("checked_at").desc(), F("id").desc()],
                )
            )
            .filter(rank__gt=keep)
            .values("pk")
        )
        candidates = candidates.filter(pk__in=Subquery(beyond_newest))
    doomed = list(candidates.values_list("pk", flat=True))
    if not doomed:
        return 0
    # Only the checks' own rows: evidence is excluded above, so no transition is touched.
    return LinkCheck.objects.filter(pk__in=doomed).delete()[1].get(LinkCheck._meta.label, 0)


def prune_webhook_log(
    *, now: datetime | None = None, older_than_days: int | None = None, batch: int = 0
) -> int:
    """Delete the deliveries (and their attempts) finished more than WEBHOOK_LOG_RETENTION_DAYS
    ago; returns how many deliveries. Finished: delivered or failed, created before the cutoff
    and with no delivery or attempt since. A pending delivery is never pruned."""
    batch = batch or WEBHOOK_PRUNE_BATCH
    now = now or timezone.now()
    days = settings.WEBHOOK_LOG_RETENTION_DAYS if older_than_days is None else older_than_days
    cutoff = now - timedelta(days=days)
    finished = (
        WebhookDelivery.objects.filter(
            status__in=[DeliveryStatus.DELIVERED, DeliveryStatus.FAILED], created_at__lt=cutoff
        )
        .exclude(delivered_at__gte=cutoff)
        .exclude(attempt_log__attempted_at__gte=cutoff)
        .order_by("pk")
    )
    deleted = 0
    while True:
        ids = list(finished.values_list("pk", flat=True)[:batch])
        if not ids:
            break
        with transaction.atomic():
            counts = WebhookDelivery.objects.filter(pk__in=ids).delete()[1]
        deleted += counts.get(WebhookDelivery._meta.label, 0)
        if len(ids) < batch:
            break
    return deleted
