"""Dispatch: claim due resources with a lease, hand them to the queue, count redeliveries.

The truth about what is due lives in the database (`Resource.next_check_at` plus a lease in
`check_lease_until`), never in the broker: a missed or doubled beat tick, a second dispatcher,
a lost message or a redelivered task all end in the same state.
"""

from __future__ import annotations

import hashlib
import logging
import os
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from pathlib import Path

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F, Subquery
from django.utils import timezone

from curation.enqueue import check_batch, new_token
from curation.models import CheckSource, LinkCheck, Resource
from curation.outbound import redis_client

logger = logging.getLogger(__name__)

# Rows claimed per dispatcher transaction: bounds the dispatcher's memory whatever the
# catalogue size, and keeps each claim transaction short.
CLAIM_CHUNK = 500
DELIVERY_KEY_PREFIX = "syllabus:monitor:delivery:"

ClaimedItem = tuple[int, str]
Enqueue = Callable[[list[ClaimedItem], datetime], None]


def publish_batch(items: list[ClaimedItem], dispatched_at: datetime) -> None:
    """The dispatcher's default hand-off: one scheduled check task per batch."""
    check_batch(items, source=CheckSource.SCHEDULED, dispatched_at=dispatched_at.isoformat())


def claim_due_resources(*, now: datetime | None = None, limit: int) -> list[ClaimedItem]:
    """Claim up to `limit` due resources by setting their lease; returns (id, token) pairs.

    On PostgreSQL the rows are chosen with SELECT ... FOR UPDATE SKIP LOCKED, so concurrent
    dispatchers take disjoint sets without waiting on each other. Elsewhere each row is taken
    with a conditional UPDATE on the lease it was read with: whoever updates it owns it.
    Call inside a transaction to publish with `on_commit`.
    """
    now = now or timezone.now()
    lease_until = now + timedelta(seconds=settings.MONITOR_LEASE_SECONDS)
    due = Resource.objects.due_for_check(now).order_by(
        F("next_check_at").asc(nulls_first=True), "pk"
    )
    with transaction.atomic():
        if connection.vendor == "postgresql":
            # Pick the most overdue candidates (a top-N sort), then lock those still due,
            # skipping rows another dispatcher holds. FOR UPDATE on the ordered query itself
            # sorts every due row on each chunk (measured: an external merge on 100,000 rows).
            candidates = due.values("pk")[:limit]
            ids = list(
                Resource.objects.due_for_check(now)
                .filter(pk__in=Subquery(candidates))
                .select_for_update(skip_locked=True, of=("self",))
                .values_list("pk", flat=True)
            )
            Resource.objects.filter(pk__in=ids).update(check_lease_until=lease_until)
        else:
            ids = []
            for pk, lease in due.values_list("pk", "check_lease_until")[:limit]:
                won = Resource.objects.filter(pk=pk, check_lease_until=lease).update(
                    check_lease_until=lease_until
                )
                if won == 1:
                    ids.append(pk)
    return [(pk, new_token()) for pk in ids]


def dispatch_due_checks(
    *,
    enqueue: Enqueue = publish_batch,
    now: datetime | None = None,
    limit: int | None = None,
    batch_size: int | None = None,
) -> int:
    """Claim due resources chunk by chunk and enqueue their checks; returns how many.

    Each chunk is claimed and committed before its batches are published (on commit), so a
    message never names a claim that was rolled back; a message lost after the commit is
    covered by the lease, which expires and makes the resource due again.
    """
    limit = settings.MONITOR_DISPATCH_LIMIT if limit is None else limit
    batch_size = batch_size or settings.MONITOR_BATCH_SIZE
    total = 0
    while total < limit:
        when = now or timezone.now()
        with transaction.atomic():
            claimed = claim_due_resources(now=when, limit=min(CLAIM_CHUNK, limit - total))
            for start in range(0, len(claimed), batch_size):
                batch = claimed[start : start + batch_size]
                transaction.on_commit(lambda b=batch, w=when: enqueue(b, w))
        if not claimed:
            break
        total += len(claimed)
    if total:
        logger.info("dispatched %d due link checks", total)
    return total


def release_claims(resource_ids: Iterable[int], *, retry_at: datetime | None = None) -> int:
    """Give claimed resources back, due at `retry_at` (now by default)."""
    return Resource.objects.filter(pk__in=list(resource_ids)).update(
        check_lease_until=None, next_check_at=retry_at or timezone.now()
    )


def unrecorded_items(items: Iterable[ClaimedItem]) -> list[ClaimedItem]:
    """The items of a task still to do: resources that exist and whose token is unrecorded."""
    items = list(items)
    ids = {pk for pk, _ in items}
    existing = set(Resource.objects.filter(pk__in=ids).values_list("pk", flat=True))
    done = set(
        LinkCheck.objects.filter(
            resource_id__in=ids, dispatch_token__in=[t for _, t in items if t]
        ).values_list("resource_id", "dispatch_token")
    )
    return [(pk, t) for pk, t in items if pk in existing and (pk, t) not in done]


def count_delivery(key: str) -> int:
    """Count one more delivery of a task message and return the count (1 on the first).

    Kept in Redis when Redis is the broker (all workers see it); otherwise in a file under
    SYLLABUS_VAR_DIR, which every process of the single-machine embedded setup shares.
    """
    ttl = settings.CELERY_VISIBILITY_TIMEOUT * 4
    if settings.CELERY_BROKER_IS_REDIS:
        client = redis_client()
        name = DELIVERY_KEY_PREFIX + key
        pipe = client.pipeline()
        pipe.incr(name)
        pipe.expire(name, ttl)
        return int(pipe.execute()[0])
    folder = Path(settings.VAR_DIR) / "deliveries"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / hashlib.sha256(key.encode()).hexdigest()
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        os.write(fd, b".")  # one byte per delivery: append is atomic, the size is the count
    finally:
        os.close(fd)
    return path.stat().st_size
