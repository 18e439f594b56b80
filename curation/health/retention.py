"""Retention: old checks are pruned, the evidence of every health change is kept."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import F, Subquery, Window
from django.db.models.functions import RowNumber
from django.utils import timezone

from curation.models import HealthTransition, LinkCheck

PRUNE_CHUNK = 5000


def prune_checks(
    *,
    now: datetime | None = None,
    older_than_days: int | None = None,
    keep_per_resource: int | None = None,
    chunk: int = PRUNE_CHUNK,
) -> int:
    """Delete old checks; returns how many.

    Kept whatever their age: every check a health transition points at (the evidence of
    each state change) and the newest `keep_per_resource` checks of each resource.
    """
    now = now or timezone.now()
    days = settings.MONITOR_RETENTION_DAYS if older_than_days is None else older_than_days
    keep = (
        settings.MONITOR_RETENTION_KEEP_PER_RESOURCE
        if keep_per_resource is None
        else keep_per_resource
    )
    cutoff = now - timedelta(days=days)
    evidence = HealthTransition.objects.filter(link_check__isnull=False).values("link_check_id")
    candidates = LinkCheck.objects.filter(checked_at__lt=cutoff).exclude(pk__in=Subquery(evidence))
    if keep > 0:
        beyond_newest = (
            LinkCheck.objects.annotate(
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
    deleted = 0
    while True:
        ids = list(candidates.values_list("pk", flat=True)[:chunk])
        if not ids:
            break
        deleted += LinkCheck.objects.filter(pk__in=ids).delete()[0]
        if len(ids) < chunk:
            break
    return deleted
