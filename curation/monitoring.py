"""Link-health monitoring services: record checks, dispatch due ones, guard, snooze, prune.

The truth about what is due lives in the database (`Resource.next_check_at` plus a lease in
`check_lease_until`), never in the broker: a missed or doubled beat tick, a second dispatcher,
a lost message or a redelivered task all end in the same state.
"""

from __future__ import annotations

import hashlib
import logging
import os
import random
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F, Subquery, Window
from django.db.models.functions import RowNumber
from django.utils import timezone

from curation import health
from curation.models import (
    CheckerIncident,
    CheckSource,
    HealthState,
    HealthTransition,
    LinkCheck,
    Resource,
)

logger = logging.getLogger(__name__)

# Rows claimed per dispatcher transaction: bounds the dispatcher's memory whatever the
# catalogue size, and keeps each claim transaction short.
CLAIM_CHUNK = 500
PRUNE_CHUNK = 5000
DELIVERY_KEY_PREFIX = "syllabus:monitor:delivery:"
REASON_MAX = 200

RESOURCE_HEALTH_FIELDS = [
    "health", "health_changed_at", "last_checked_at", "last_outcome", "last_status_code",
    "next_check_at", "check_lease_until", "consecutive_failures", "first_failure_at",
    "consecutive_blocked", "consecutive_moves", "suggested_url", "updated_at",
]  # fmt: skip


class MonitoringError(Exception):
    """A curator action on link health that cannot be done (shown as a message)."""


# --- Policy and engine wiring --------------------------------------------------------------


def health_policy() -> health.HealthPolicy:
    return health.HealthPolicy(
        broken_min_failures=settings.MONITOR_BROKEN_MIN_FAILURES,
        broken_min_span=timedelta(hours=settings.MONITOR_BROKEN_MIN_HOURS),
        moved_min_checks=settings.MONITOR_MOVED_MIN_CHECKS,
        unverifiable_min_blocked=settings.MONITOR_UNVERIFIABLE_MIN_BLOCKED,
        healthy_interval=timedelta(hours=settings.MONITOR_HEALTHY_INTERVAL_HOURS),
        suspect_interval=timedelta(hours=settings.MONITOR_SUSPECT_INTERVAL_HOURS),
        broken_interval=timedelta(hours=settings.MONITOR_BROKEN_INTERVAL_HOURS),
        broken_max_interval=timedelta(hours=settings.MONITOR_BROKEN_MAX_INTERVAL_HOURS),
        unverifiable_interval=timedelta(hours=settings.MONITOR_UNVERIFIABLE_INTERVAL_HOURS),
        jitter=settings.MONITOR_JITTER,
    )


def checker_config(**overrides: Any):
    """The engine's configuration from the LINKCHECK_* settings (the same as `checklinks`)."""
    from curation.checker.config import config_from_settings

    names = (
        "LINKCHECK_ALLOWED_INTERNAL_HOSTS", "LINKCHECK_CONCURRENCY",
        "LINKCHECK_PER_HOST_CONCURRENCY", "LINKCHECK_PER_HOST_INTERVAL", "LINKCHECK_TIMEOUT",
    )  # fmt: skip
    values = {name: getattr(settings, name, None) for name in names}
    values["LINKCHECK_USER_AGENT_CONTACT"] = getattr(settings, "LINKCHECK_CONTACT_URL", None)
    return config_from_settings(values, **overrides)


def redis_client():
    """One client per process (workers fork: a client made before the fork is not reused)."""
    return _redis_client_for(os.getpid(), settings.REDIS_URL or settings.CELERY_BROKER_URL)


@lru_cache(maxsize=4)
def _redis_client_for(pid: int, url: str):
    import redis

    return redis.Redis.from_url(url, socket_timeout=10, socket_connect_timeout=5)


_local_limiters: dict[tuple[int, int, float], Any] = {}


def host_limiter(config):
    """Per-host politeness shared by every worker through Redis when Redis is the broker;
    otherwise one in-process limiter shared by the tasks of this process."""
    from curation.checker.politeness import LocalHostLimiter, RedisHostLimiter

    if settings.CELERY_BROKER_IS_REDIS:
        return RedisHostLimiter(
            redis_client(),
            per_host_concurrency=config.per_host_concurrency,
            per_host_interval=config.per_host_interval,
            # A slot outlives the longest request, so a killed worker's slot is freed, not leaked.
            lease_seconds=config.deadline + 30,
        )
    key = (os.getpid(), config.per_host_concurrency, config.per_host_interval)
    if key not in _local_limiters:
        _local_limiters[key] = LocalHostLimiter(
            per_host_concurrency=config.per_host_concurrency,
            per_host_interval=config.per_host_interval,
        )
    return _local_limiters[key]


# --- Recording checks ------------------------------------------------------------------------


@dataclass
class CheckEntry:
    """One check result waiting to be recorded."""

    resource_id: int
    result: Any  # curation.checker.outcomes.CheckResult
    source: str = CheckSource.SCHEDULED
    dispatch_token: str = ""
    # When the dispatcher asked for this check: a check recorded after that moment makes this
    # one a late duplicate (kept as evidence, never counted).
    dispatched_at: datetime | None = None
    checked_at: datetime = field(default_factory=timezone.now)


def snapshot_of(resource: Resource) -> health.HealthSnapshot:
    return health.HealthSnapshot(
        state=resource.health,
        consecutive_failures=resource.consecutive_failures,
        first_failure_at=resource.first_failure_at,
        consecutive_blocked=resource.consecutive_blocked,
        consecutive_moves=resource.consecutive_moves,
        suggested_url=resource.suggested_url,
        snoozed_until=resource.snoozed_until,
    )


def record_check(
    resource_id: int,
    *,
    result: Any,
    source: str,
    dispatch_token: str = "",
    dispatched_at: datetime | None = None,
    checked_at: datetime | None = None,
) -> LinkCheck | None:
    """Record one check of a resource and move its health state by the rules.

    Returns the LinkCheck, or None when the resource is gone or this dispatch was already
    recorded (a redelivered task). A late result (a newer check was recorded meanwhile) is
    stored as uncounted evidence and changes nothing on the resource.
    """
    entry = CheckEntry(
        resource_id=resource_id,
        result=result,
        source=source,
        dispatch_token=dispatch_token,
        dispatched_at=dispatched_at,
        checked_at=checked_at or timezone.now(),
    )
    return record_checks([entry])[0]


def record_checks(
    entries: Sequence[CheckEntry],
    *,
    offline: bool = False,
    policy: health.HealthPolicy | None = None,
    rng: random.Random | None = None,
) -> list[LinkCheck | None]:
    """Record many checks in one transaction with bulk writes; same rules as record_check.

    With `offline=True` (the checker itself had no network) every check is kept as uncounted
    evidence, no health state changes, and the resources are retried after
    MONITOR_OFFLINE_RETRY_MINUTES.
    """
    if not entries:
        return []
    policy = policy or health_policy()
    now = timezone.now()
    ids = sorted({e.resource_id for e in entries})
    with transaction.atomic():
        query = Resource.objects.filter(pk__in=ids).order_by("pk")
        if connection.features.has_select_for_update:
            # Locked in id order: two batches touching the same rows never deadlock.
            query = query.select_for_update()
        resources = {r.pk: r for r in query}
        tokens = [e.dispatch_token for e in entries if e.dispatch_token]
        seen = set(
            LinkCheck.objects.filter(resource_id__in=ids, dispatch_token__in=tokens).values_list(
                "resource_id", "dispatch_token"
            )
        ) if tokens else set()  # fmt: skip
        checks: list[LinkCheck | None] = []
        transitions: list[tuple[HealthTransition, LinkCheck]] = []
        touched: dict[int, Resource] = {}
        for entry in entries:
            resource = resources.get(entry.resource_id)
            key = (entry.resource_id, entry.dispatch_token)
            if resource is None or (entry.dispatch_token and key in seen):
                checks.append(None)
                continue
            if entry.dispatch_token:
                seen.add(key)
            stale = _is_stale(resource, entry)
            check = _link_check(entry, counted=not (offline or stale))
            checks.append(check)
            if stale:
                continue
            touched[resource.pk] = resource
            if offline:
                retry = timedelta(minutes=settings.MONITOR_OFFLINE_RETRY_MINUTES)
                resource.next_check_at = now + retry
                resource.check_lease_until = None
                continue
            transition = _apply_verdict(resource, entry, policy, rng)
            if transition is not None:
                transitions.append((transition, check))
        created = [c for c in checks if c is not None]
        LinkCheck.objects.bulk_create(created)
        for transition, check in transitions:
            transition.link_check = check
        HealthTransition.objects.bulk_create([t for t, _ in transitions])
        if touched:
            Resource.objects.bulk_update(list(touched.values()), RESOURCE_HEALTH_FIELDS)
    return checks


def _is_stale(resource: Resource, entry: CheckEntry) -> bool:
    last = resource.last_checked_at
    if last is None:
        return False
    if entry.checked_at < last:
        return True
    # Dispatched before the latest recorded check: another dispatch of the same due check
    # (a lease that expired while this task sat in the queue) already did the work.
    return entry.dispatched_at is not None and last > entry.dispatched_at


def _link_check(entry: CheckEntry, *, counted: bool) -> LinkCheck:
    result = entry.result
    return LinkCheck(
        resource_id=entry.resource_id,
        checked_at=entry.checked_at,
        url=(result.url or "")[:2048],
        outcome=str(result.outcome),
        status_code=result.status_code,
        final_url=result.final_url or "",
        redirect_chain=[{"url": hop.url, "status": hop.status} for hop in result.redirects],
        elapsed_ms=max(0, int(result.elapsed_ms or 0)),
        error=result.error or "",
        rule=(result.rule or "")[:60],
        source=entry.source,
        dispatch_token=entry.dispatch_token,
        counted=counted,
    )


def _apply_verdict(
    resource: Resource,
    entry: CheckEntry,
    policy: health.HealthPolicy,
    rng: random.Random | None,
) -> HealthTransition | None:
    result = entry.result
    verdict = health.evaluate(
        snapshot_of(resource),
        outcome=str(result.outcome),
        final_url=result.final_url,
        checked_at=entry.checked_at,
        policy=policy,
    )
    after = verdict.after
    resource.last_checked_at = entry.checked_at
    resource.last_outcome = str(result.outcome)[:20]
    resource.last_status_code = result.status_code
    resource.consecutive_failures = after.consecutive_failures
    resource.first_failure_at = after.first_failure_at
    resource.consecutive_blocked = after.consecutive_blocked
    resource.consecutive_moves = after.consecutive_moves
    resource.suggested_url = after.suggested_url[:2048]
    resource.check_lease_until = None
    resource.next_check_at = health.next_check_time(
        entry.checked_at, verdict.interval, jitter=policy.jitter, rng=rng
    )
    if not verdict.changed:
        return None
    resource.health = after.state
    resource.health_changed_at = entry.checked_at
    # The API shows health: a transition is a change of the resource as readers see it.
    resource.updated_at = timezone.now()
    return HealthTransition(
        resource_id=resource.pk,
        from_state=verdict.before.state,
        to_state=after.state,
        at=entry.checked_at,
        reason=f"{verdict.rule}: {verdict.reason}"[:REASON_MAX],
    )


# --- Dispatching ---------------------------------------------------------------------------------

ClaimedItem = tuple[int, str]
Enqueue = Callable[[list[ClaimedItem], datetime], None]


def new_token() -> str:
    return uuid.uuid4().hex


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
    enqueue: Enqueue,
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


# --- Checking a batch, with the offline guard ----------------------------------------------


@dataclass
class OfflineVerdict:
    offline: bool
    reason: str = ""
    detail: dict[str, Any] = field(default_factory=dict)
    reached_network: bool = False


def assess_network(
    results: Sequence[Any], *, canary_check: Callable[[], bool] | None
) -> OfflineVerdict:
    """Did this run lose the network? Judged on distinct hosts, not on URLs.

    Offline when at least MONITOR_OFFLINE_MIN_HOSTS hosts were tried and at least
    MONITOR_OFFLINE_HOST_RATIO of them failed at the network level on every URL, or when
    any URL failed at the network level and every canary URL failed too. A canary that
    answers proves the network works, so a run of genuinely dead hosts stays counted.
    """
    hosts: dict[str, bool] = {}
    for result in results:
        host = (urlsplit(result.url).hostname or "").lower()
        failed = str(result.outcome) in health.NETWORK_OUTCOMES
        hosts[host] = hosts.get(host, True) and failed
    failed_hosts = sorted(h for h, f in hosts.items() if f)
    reached = len(failed_hosts) < len(hosts)
    detail = {"hosts": len(hosts), "failed_hosts": len(failed_hosts), "sample": failed_hosts[:10]}
    if not failed_hosts:
        return OfflineVerdict(False, reached_network=reached)
    if canary_check is not None:
        if canary_check():
            return OfflineVerdict(False, reached_network=True)
        return OfflineVerdict(True, "every canary URL failed at the network level", detail)
    ratio = len(failed_hosts) / len(hosts)
    if (
        len(hosts) >= settings.MONITOR_OFFLINE_MIN_HOSTS
        and ratio >= settings.MONITOR_OFFLINE_HOST_RATIO
    ):
        reason = f"{len(failed_hosts)} of {len(hosts)} hosts failed at the network level"
        return OfflineVerdict(True, reason, detail)
    return OfflineVerdict(False, reached_network=reached)


def canaries_reachable(config, limiter) -> bool:
    """True when any MONITOR_CANARY_URLS answers at all (any outcome but a network failure)."""
    from curation.checker.engine import check_many

    for result in check_many(settings.MONITOR_CANARY_URLS, config=config, limiter=limiter):
        if str(result.outcome) not in health.NETWORK_OUTCOMES:
            return True
    return False


def check_and_record(
    items: Sequence[ClaimedItem],
    *,
    source: str = CheckSource.SCHEDULED,
    dispatched_at: datetime | None = None,
) -> int:
    """Check the resources of `items` concurrently through the engine and record the results.

    Returns how many checks were recorded. If the run is cut short (a soft time limit), what
    was checked is recorded, the rest is released to be dispatched again, and the error is
    re-raised for the task to report.
    """
    from curation.checker.engine import check_many_keyed

    urls = dict(Resource.objects.filter(pk__in=[pk for pk, _ in items]).values_list("pk", "url"))
    todo = [(item, urls[item[0]]) for item in items if item[0] in urls]
    config = checker_config()
    limiter = host_limiter(config)
    done: list[CheckEntry] = []
    interrupted: BaseException | None = None
    try:
        for (pk, token), result in check_many_keyed(todo, config=config, limiter=limiter):
            done.append(
                CheckEntry(
                    pk, result, source=source, dispatch_token=token, dispatched_at=dispatched_at
                )
            )
    except Exception as exc:  # e.g. SoftTimeLimitExceeded: keep what we have
        interrupted = exc
    canary = None
    if settings.MONITOR_CANARY_URLS:
        canary = lambda: canaries_reachable(config, limiter)  # noqa: E731
    verdict = assess_network([e.result for e in done], canary_check=canary)
    record_checks(done, offline=verdict.offline)
    if verdict.offline:
        note_checker_offline(verdict, discarded=len(done))
    elif verdict.reached_network:
        close_checker_incidents()
    if interrupted is not None:
        finished = {e.resource_id for e in done}
        release_claims([pk for (pk, _), _url in todo if pk not in finished])
        raise interrupted
    return len(done)


def record_check_errors(
    items: Sequence[ClaimedItem],
    *,
    source: str = CheckSource.SCHEDULED,
    dispatched_at: datetime | None = None,
    error: str,
) -> int:
    """Record a check error for each item: its task kept failing or killing its worker."""
    from curation.checker.outcomes import CheckResult

    urls = dict(Resource.objects.filter(pk__in=[pk for pk, _ in items]).values_list("pk", "url"))
    entries = [
        CheckEntry(
            pk,
            CheckResult(url=urls[pk], outcome=health.CHECK_ERROR, error=error, rule="check-error"),  # type: ignore[arg-type]
            source=source,
            dispatch_token=token,
            dispatched_at=dispatched_at,
        )
        for pk, token in items
        if pk in urls
    ]
    return sum(1 for c in record_checks(entries) if c is not None)


def note_checker_offline(verdict: OfflineVerdict, *, discarded: int) -> CheckerIncident:
    """Open an incident, or add to the one already open."""
    with transaction.atomic():
        query = CheckerIncident.objects.filter(ended_at__isnull=True).order_by("started_at")
        if connection.features.has_select_for_update:
            query = query.select_for_update()
        incident = query.first()
        if incident is None:
            incident = CheckerIncident.objects.create(
                started_at=timezone.now(),
                reason=verdict.reason[:200],
                detail=verdict.detail,
                checks_discarded=discarded,
            )
        else:
            CheckerIncident.objects.filter(pk=incident.pk).update(
                checks_discarded=F("checks_discarded") + discarded
            )
    logger.warning("checker offline: %s; %d checks not counted", verdict.reason, discarded)
    return incident


def close_checker_incidents() -> int:
    return CheckerIncident.objects.filter(ended_at__isnull=True).update(ended_at=timezone.now())


# --- Redelivery cap ------------------------------------------------------------------------------


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


# --- Curator actions -----------------------------------------------------------------------------


def snooze_resource(resource_id: int, *, until: datetime | None, by: Any = None) -> Resource:
    """Mark a resource "not broken" until `until` (None lifts the snooze).

    A broken resource becomes suspect at once (recorded as a transition); while snoozed no
    check can make it broken. When the snooze ends, the next failing check decides by the
    usual rules, with the failure streak it had.
    """
    now = timezone.now()
    with transaction.atomic():
        resource = Resource.objects.select_for_update().get(pk=resource_id)
        resource.snoozed_until = until
        fields = ["snoozed_until", "updated_at"]
        if until is not None and until > now and resource.health == HealthState.BROKEN:
            who = f" by {by}" if by is not None else ""
            HealthTransition.objects.create(
                resource=resource,
                from_state=HealthState.BROKEN,
                to_state=HealthState.SUSPECT,
                at=now,
                reason=f"snoozed{who} until {until:%Y-%m-%d %H:%M} UTC: marked not broken"[
                    :REASON_MAX
                ],
            )
            resource.health = HealthState.SUSPECT
            resource.health_changed_at = now
            fields += ["health", "health_changed_at"]
        resource.save(update_fields=fields)
    return resource


def apply_suggested_url(resource_id: int, *, by: Any = None) -> Resource:
    """Replace a moved resource's URL with the address it permanently redirects to.

    The old address stays in the history: the transition names it and points at the last
    check (which holds both addresses), and that check is never pruned. Raises
    MonitoringError when there is no confirmed move, and DuplicateResource when the new
    address is already another resource.
    """
    from curation.services import DuplicateResource, find_duplicate, normalized_or_error

    now = timezone.now()
    with transaction.atomic():
        resource = Resource.objects.select_for_update().get(pk=resource_id)
        new_url = resource.suggested_url
        if resource.health != HealthState.MOVED or not new_url:
            raise MonitoringError("This resource has no confirmed new address to apply.")
        existing = find_duplicate(new_url, exclude_id=resource.pk)
        if existing is not None:
            raise DuplicateResource(existing)
        old_url = resource.url
        evidence = resource.checks.filter(final_url=new_url).order_by("-checked_at", "-id").first()
        who = f" by {by}" if by is not None else ""
        HealthTransition.objects.create(
            resource=resource,
            from_state=resource.health,
            to_state=HealthState.HEALTHY,
            at=now,
            link_check=evidence,
            reason=f"new address applied{who}; was {old_url}"[:REASON_MAX],
        )
        resource.url = new_url
        resource.normalized_url = normalized_or_error(new_url)
        resource.health = HealthState.HEALTHY
        resource.health_changed_at = now
        resource.suggested_url = ""
        resource.consecutive_moves = 0
        resource.consecutive_failures = 0
        resource.first_failure_at = None
        resource.consecutive_blocked = 0
        # Check the new address soon: it is the one learners will follow now.
        resource.next_check_at = now
        resource.save()
    return resource


# --- Retention -----------------------------------------------------------------------------------


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


def due_count(now: datetime | None = None) -> int:
    return Resource.objects.due_for_check(now or timezone.now()).count()


__all__ = [
    "CheckEntry", "MonitoringError", "apply_suggested_url", "check_and_record",
    "claim_due_resources", "count_delivery", "dispatch_due_checks", "prune_checks",
    "record_check", "record_check_errors", "record_checks", "release_claims",
    "snooze_resource", "unrecorded_items",
]  # fmt: skip
