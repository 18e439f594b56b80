"""Recording checks: one transaction moves each resource's health by the rules.

`record_checks` is the one write path for check results, whatever ran the check (a scheduled
task, "check now", the `checklinks --all` command): it stores the evidence, skips a redelivered
or late result, and applies the state machine of `curation.health.rules`.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from curation import enqueue
from curation.checker.outcomes import CheckResult
from curation.health import rules
from curation.health.rowupdate import update_rows
from curation.models import CheckSource, HealthTransition, LinkCheck, Resource
from curation.webhooks import events as webhook_events

REASON_MAX = 200

RESOURCE_HEALTH_FIELDS = [
    "health", "health_changed_at", "last_checked_at", "last_outcome", "last_status_code",
    "next_check_at", "check_lease_until", "consecutive_failures", "first_failure_at",
    "consecutive_blocked", "consecutive_moves", "suggested_url", "updated_at",
]  # fmt: skip


def health_policy() -> rules.HealthPolicy:
    return rules.HealthPolicy(
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


@dataclass
class CheckEntry:
    """One check result waiting to be recorded."""

    resource_id: int
    result: CheckResult
    source: str = CheckSource.SCHEDULED
    dispatch_token: str = ""
    # When the dispatcher asked for this check: a check recorded after that moment makes this
    # one a late duplicate (kept as evidence, never counted).
    dispatched_at: datetime | None = None
    checked_at: datetime = field(default_factory=timezone.now)


def snapshot_of(resource: Resource) -> rules.HealthSnapshot:
    return rules.HealthSnapshot(
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
    result: CheckResult,
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
    policy: rules.HealthPolicy | None = None,
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
        resources = _locked_resources(ids)
        seen = _recorded_tokens(ids, entries)
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
        # Archived copies are looked up by a task, once per transition, after this commits.
        enqueue.enqueue_archive_lookups(t for t, _ in transitions)
        if touched:
            # One UPDATE ... FROM (VALUES ...) on PostgreSQL: bulk_update's CASE WHENs cost a
            # worker more CPU than checking the batch (issue 21).
            update_rows(list(touched.values()), RESOURCE_HEALTH_FIELDS)
        # One resource.health_changed per transition, in this transaction (a webhook outbox).
        webhook_events.emit_health_changes((resources[t.resource_id], t, c) for t, c in transitions)
    return checks


def _locked_resources(ids: list[int]) -> dict[int, Resource]:
    query = Resource.objects.filter(pk__in=ids).order_by("pk")
    if connection.features.has_select_for_update:
        # Locked in id order: two batches touching the same rows never deadlock.
        query = query.select_for_update()
    return {r.pk: r for r in query}


def _recorded_tokens(ids: list[int], entries: Sequence[CheckEntry]) -> set[tuple[int, str]]:
    """(resource id, dispatch token) pairs already recorded: a redelivered task's results."""
    tokens = [e.dispatch_token for e in entries if e.dispatch_token]
    if not tokens:
        return set()
    recorded = LinkCheck.objects.filter(resource_id__in=ids, dispatch_token__in=tokens)
    return set(recorded.values_list("resource_id", "dispatch_token"))


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
        evidence=result.evidence or "",
        source=entry.source,
        dispatch_token=entry.dispatch_token,
        counted=counted,
    )


def _apply_verdict(
    resource: Resource,
    entry: CheckEntry,
    policy: rules.HealthPolicy,
    rng: random.Random | None,
) -> HealthTransition | None:
    result = entry.result
    verdict = rules.evaluate(
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
    resource.next_check_at = rules.next_check_time(
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
