"""Dispatch: claim due resources with a lease, hand them to the queue, count redeliveries.

The truth about what is due lives in the database (`Resource.next_check_at` plus a lease in
`check_lease_until`), never in the broker: a missed or doubled beat tick, a second dispatcher,
a lost message or a redelivered task all end in the same state.
"""

from __future__ import annotations

import hashlib
import logging
import os
from array import array
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from curation.enqueue import check_batch, new_token
from curation.models import CheckSource, LinkCheck, PublicationStatus, Resource
from curation.outbound import checker_config, redis_client

logger = logging.getLogger(__name__)

# Rows examined per claim statement: bounds the dispatcher's memory whatever the catalogue
# size, and keeps each claim transaction short (a few tens of milliseconds).
CLAIM_CHUNK = 5000
DELIVERY_KEY_PREFIX = "syllabus:monitor:delivery:"
# Share of a host's polite capacity (one request per interval) that one dispatch period may
# fill: a check can cost more than one request (a redirect's next hop, the soft-404 probe),
# and a host's claimed checks must all be sent well before their lease runs out.
HOST_SHARE = 0.5
# Per-host counts of one dispatch run live in a fixed table of counters indexed by a hash of
# the host: memory does not grow with the number of hosts. Two hosts sharing a counter can
# only make the dispatcher defer a check by one period, never exceed a host's cap.
HOST_COUNTERS = 1 << 20

ClaimedItem = tuple[int, str]
Enqueue = Callable[[list[ClaimedItem], datetime], None]


def publish_batch(items: list[ClaimedItem], dispatched_at: datetime) -> None:
    """The dispatcher's default hand-off: one scheduled check task per batch."""
    check_batch(items, source=CheckSource.SCHEDULED, dispatched_at=dispatched_at.isoformat())


def host_cap(*, period_seconds: float | None = None) -> int | None:
    """Most checks of one host a dispatch run claims (None: no cap).

    What the host's politeness lets through in one dispatch period, halved for headroom:
    with the defaults (1 s between requests to a host, a run every 60 s) 30 checks.
    The per-host in-flight limit is not the bound for a host that answers within
    in-flight x interval (2 s by default); a slower host only takes longer per check.
    """
    interval = checker_config().per_host_interval
    if interval <= 0:
        return None
    period = period_seconds or settings.MONITOR_DISPATCH_EVERY_SECONDS
    return max(1, int(HOST_SHARE * period / interval))


NEVER_CHECKED, OVERDUE, DONE = "never checked", "overdue", "done"


@dataclass
class DispatchRun:
    """One dispatcher run: its time, where its keyset cursor stands, its per-host counts.

    The run walks the due rows once, in two ordered passes on the index resource_due_order:
    never-checked rows by id, then overdue rows by (next_check_at, id). Each chunk starts
    after the last row of the one before, so the due set is never read or sorted again.
    """

    now: datetime
    cap: int | None = None
    period: timedelta = timedelta(0)
    phase: str = NEVER_CHECKED
    cursor: tuple[Any, int] | None = None
    counters: array = field(default_factory=lambda: array("I"))

    def seen(self, url: str) -> int:
        """How many rows of this URL's host the run has met before this one."""
        if not self.counters:
            self.counters = array("I", bytes(4 * HOST_COUNTERS))
        slot = hash((urlsplit(url).hostname or "").lower()) % HOST_COUNTERS
        count = self.counters[slot]
        self.counters[slot] = count + 1
        return count

    def advance(self, rows: list[tuple[int, Any, str]], asked: int) -> None:
        if len(rows) < asked:  # the pass is over: SKIP LOCKED skips rows but fills the limit
            self.phase = OVERDUE if self.phase == NEVER_CHECKED else DONE
            self.cursor = None
        else:
            pk, next_check_at, _url = rows[-1]
            self.cursor = (next_check_at, pk)


def _lease_next(run: DispatchRun, limit: int) -> list[tuple[int, Any, str]]:
    """Lease the run's next `limit` due rows after its cursor, in one statement; returns
    them as (id, next_check_at, url) in due order.

    On PostgreSQL the rows are picked with FOR UPDATE SKIP LOCKED (rows another dispatcher
    holds are skipped, not waited for). On SQLite the statement runs under the database's
    write lock, and the due condition is asked again on the row it updates: whoever updates
    a row owns it.
    """
    adapt = connection.ops.adapt_datetimefield_value
    now = adapt(run.now)
    due = "status <> %s AND (check_lease_until IS NULL OR check_lease_until <= %s)"
    where, params = due, [PublicationStatus.ARCHIVED, now]
    if run.phase == NEVER_CHECKED:
        where += " AND next_check_at IS NULL"
        order = "id"
        if run.cursor is not None:
            where += " AND id > %s"
            params.append(run.cursor[1])
    else:
        where += " AND next_check_at <= %s"
        order = "next_check_at, id"
        params.append(now)
        if run.cursor is not None:
            where += " AND (next_check_at, id) > (%s, %s)"
            params.extend([adapt(run.cursor[0]), run.cursor[1]])
    if connection.vendor == "postgresql":
        # = ANY(ARRAY(...)): primary-key lookups, never a join plan that scans the table.
        lock, chosen = " FOR UPDATE SKIP LOCKED", "id = ANY(ARRAY(SELECT id FROM picked))"
    else:
        lock, chosen = "", "id IN (SELECT id FROM picked)"
    lease_until = run.now + timedelta(seconds=settings.MONITOR_LEASE_SECONDS)
    sql = (
        f"WITH picked AS (SELECT id FROM curation_resource WHERE {where}"  # noqa: S608
        f" ORDER BY {order} LIMIT %s{lock})"
        " UPDATE curation_resource SET check_lease_until = %s"
        f" WHERE {chosen} AND {due}"
        " RETURNING id, next_check_at, url"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, limit, adapt(lease_until), PublicationStatus.ARCHIVED, now])
        rows = cursor.fetchall()
    # RETURNING keeps no order: sort into the walk's (next_check_at NULLS FIRST, id).
    rows.sort(key=lambda row: (row[1] is not None, row[1] or 0, row[0]))
    return rows


def _claim_chunk(run: DispatchRun, limit: int) -> list[int]:
    """Claim up to `limit` of the run's next due rows; returns the ids kept, in due order.

    A host's rows beyond the run's cap are given back at once: no lease, and their next
    check spread over the coming dispatch periods (the cap's worth per period), so a big
    host's checks reach the queue at the pace the host can be checked, not all at once.
    """
    rows = _lease_next(run, limit)
    run.advance(rows, limit)
    take: list[int] = []
    later: dict[int, list[int]] = defaultdict(list)
    for pk, _next_check_at, url in rows:
        seen = 0 if run.cap is None else run.seen(url)
        if run.cap is None or seen < run.cap:
            take.append(pk)
        else:
            later[seen // run.cap].append(pk)
    for periods, pks in later.items():
        Resource.objects.filter(pk__in=pks).update(
            check_lease_until=None, next_check_at=run.now + periods * run.period
        )
    return take


def claim_due_resources(*, now: datetime | None = None, limit: int) -> list[ClaimedItem]:
    """Claim up to `limit` due resources by setting their lease; returns (id, token) pairs.

    Never-checked resources first, then the most overdue; no per-host cap (that is the
    dispatcher's, see `dispatch_due_checks`). On PostgreSQL the rows are chosen with
    SELECT ... FOR UPDATE SKIP LOCKED, so concurrent dispatchers take disjoint sets without
    waiting on each other; elsewhere a conditional UPDATE sets the lease: whoever updates
    the row owns it. Call inside a transaction to publish with `on_commit`.
    """
    run = DispatchRun(now=now or timezone.now())
    won: list[int] = []
    with transaction.atomic():
        while len(won) < limit and run.phase != DONE:
            won.extend(_claim_chunk(run, min(CLAIM_CHUNK, limit - len(won))))
    return [(pk, new_token()) for pk in won]


def dispatch_due_checks(
    *,
    enqueue: Enqueue = publish_batch,
    now: datetime | None = None,
    limit: int | None = None,
    batch_size: int | None = None,
    spread_hosts: bool = True,
) -> int:
    """Claim due resources chunk by chunk and enqueue their checks; returns how many.

    One walk over the due rows (see DispatchRun), CLAIM_CHUNK rows per transaction. Each
    chunk is claimed and committed before its batches are published (on commit), so a
    message never names a claim that was rolled back; a message lost after the commit is
    covered by the lease, which expires and makes the resource due again. With
    `spread_hosts`, each host gets at most `host_cap()` checks per run; its other due rows
    are rescheduled over the following periods (docs/workers.md has the arithmetic).
    """
    limit = settings.MONITOR_DISPATCH_LIMIT if limit is None else limit
    batch_size = batch_size or settings.MONITOR_BATCH_SIZE
    period = settings.MONITOR_DISPATCH_EVERY_SECONDS
    when = now or timezone.now()
    run = DispatchRun(
        now=when,
        cap=host_cap(period_seconds=period) if spread_hosts else None,
        period=timedelta(seconds=period),
    )
    total = 0
    while total < limit and run.phase != DONE:
        with transaction.atomic():
            ids = _claim_chunk(run, min(CLAIM_CHUNK, limit - total))
            claimed = [(pk, new_token()) for pk in ids]
            for start in range(0, len(claimed), batch_size):
                batch = claimed[start : start + batch_size]
                transaction.on_commit(lambda b=batch, w=when: enqueue(b, w))
        total += len(ids)
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
