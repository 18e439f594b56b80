"""The offline guard's memory: recent network-level outcomes of every task, on every worker.

One run of the checker rarely sees enough hosts to tell "these links are dead" from "we have
no network" (new resources are checked one task each). So the guard also reads a sliding
window of recent checks, whoever ran them: the LinkCheck table. It is the store every worker
already writes to in the transaction that moves health, so the window can never disagree with
the evidence, needs no second copy to expire or lose, and is shared by all processes and
machines that share the database. A Redis copy would be a second truth, and the undoing of
counted checks below needs the LinkCheck rows anyway.

A host that answered in the window (any outcome but a network-level failure or one that never
left the machine) proves the network worked: the window shows an outage only when enough hosts
failed at the network level and none answered.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Max
from django.utils import timezone

from curation.checker.outcomes import CheckResult, Outcome
from curation.health import rules
from curation.health.recording import health_policy
from curation.models import HealthTransition, LinkCheck, Resource

logger = logging.getLogger(__name__)

NETWORK = sorted(str(o) for o in rules.NETWORK_OUTCOMES)
# Outcomes that say nothing about the network: our own failure, or an address the checker
# refused (the SSRF guard, a malformed URL) without any answer from the other side.
NO_SIGNAL = sorted(
    str(o) for o in (Outcome.CHECK_ERROR, Outcome.FORBIDDEN_TARGET, Outcome.INVALID_URL)
)
# A window on a busy fleet holds thousands of checks; this many distinct failing URLs are
# plenty to name the failing hosts, whatever the outage.
MAX_FAILED_URLS = 2000
# How far back a resource's history is replayed to restore its move and bot-wall streaks.
REPLAY_LIMIT = 50

FIELDS_RESTORED = [
    "health", "health_changed_at", "last_checked_at", "last_outcome", "last_status_code",
    "next_check_at", "consecutive_failures", "first_failure_at", "consecutive_blocked",
    "consecutive_moves", "suggested_url", "updated_at",
]  # fmt: skip


def host_of(url: str) -> str:
    return (urlsplit(url).hostname or "").lower()


@dataclass(frozen=True)
class WindowReading:
    """The hosts that failed at the network level in the window, and whether any answered."""

    failed_hosts: frozenset[str]
    answered: bool
    minutes: float

    @property
    def offline(self) -> bool:
        # One answer anywhere in the window proves the network: a few genuinely dead links
        # checked after an answer stay counted, however they were batched.
        return not self.answered and len(self.failed_hosts) >= settings.MONITOR_OFFLINE_MIN_HOSTS

    @property
    def reason(self) -> str:
        return (
            f"{len(self.failed_hosts)} hosts failed at the network level in the last "
            f"{self.minutes:g} minutes and none answered"
        )


def window_start(now: datetime) -> datetime:
    return now - timedelta(minutes=settings.MONITOR_OFFLINE_WINDOW_MINUTES)


def last_answer_since(start: datetime) -> datetime | None:
    """When a check after `start` last reached its host (any answer), or None."""
    return (
        LinkCheck.objects.filter(checked_at__gte=start)
        .exclude(outcome__in=NETWORK + NO_SIGNAL)
        .aggregate(at=Max("checked_at"))["at"]
    )


def read_window(
    *, pending: Sequence[CheckResult] = (), now: datetime | None = None
) -> WindowReading:
    """The window as every worker sees it, plus `pending` (this run's results, not yet recorded).

    Uncounted checks are read too: a check kept aside during an outage is still a sign of it.
    """
    now = now or timezone.now()
    start = window_start(now)
    answered = last_answer_since(start) is not None
    answered |= any(
        str(r.outcome) not in NETWORK and str(r.outcome) not in NO_SIGNAL for r in pending
    )
    urls = (
        LinkCheck.objects.filter(checked_at__gte=start, outcome__in=NETWORK)
        .order_by()
        .values_list("url", flat=True)
        .distinct()[:MAX_FAILED_URLS]
    )
    hosts = {host_of(url) for url in urls}
    hosts |= {host_of(r.url) for r in pending if str(r.outcome) in NETWORK}
    minutes = settings.MONITOR_OFFLINE_WINDOW_MINUTES
    return WindowReading(frozenset(hosts), answered, minutes)


def discount_counted_failures(*, now: datetime | None = None) -> int:
    """Undo the counted network-level failures of the window: the checker was offline then.

    Each resource's trailing run of such checks is marked uncounted, their health transitions
    are removed, and the resource is put back as it was before them, due again after
    MONITOR_OFFLINE_RETRY_MINUTES. Returns how many checks were discounted. A resource with a
    newer counted answer is left alone: that answer superseded the failures.
    """
    now = now or timezone.now()
    start = window_start(now)
    # An answer that landed since the verdict (another worker) proves the network up to then.
    since = max(start, last_answer_since(start) or start)
    ids = sorted(
        set(
            LinkCheck.objects.filter(checked_at__gt=since, counted=True, outcome__in=NETWORK)
            .order_by()
            .values_list("resource_id", flat=True)
        )
    )
    if not ids:
        return 0
    discounted = 0
    with transaction.atomic():
        query = Resource.objects.filter(pk__in=ids).order_by("pk")
        if connection.features.has_select_for_update:
            # Locked in id order, like record_checks: the two never deadlock.
            query = query.select_for_update()
        for resource in query:
            discounted += _discount(resource, since=since, now=now)
    if discounted:
        logger.warning("checker offline: %d earlier checks no longer counted", discounted)
    return discounted


def _discount(resource: Resource, *, since: datetime, now: datetime) -> int:
    tail = _trailing_failures(resource, since)
    if not tail:
        return 0
    tail_ids = [c.pk for c in tail]
    LinkCheck.objects.filter(pk__in=tail_ids).update(counted=False)
    undone = list(HealthTransition.objects.filter(link_check_id__in=tail_ids).order_by("at", "id"))
    if undone:
        HealthTransition.objects.filter(pk__in=[t.pk for t in undone]).delete()
        resource.health = undone[0].from_state
        earlier = resource.transitions.order_by("-at", "-id").first()
        resource.health_changed_at = earlier.at if earlier else None
    # Every network failure added one to the streak and reset the move and bot-wall streaks
    # (rules._failed): the streak is counted back, the others are replayed from the history.
    resource.consecutive_failures = max(0, resource.consecutive_failures - len(tail))
    if resource.consecutive_failures == 0:
        resource.first_failure_at = None
    before = _replayed_streaks(resource, tail[0])
    resource.consecutive_blocked = before.consecutive_blocked
    resource.consecutive_moves = before.consecutive_moves
    resource.suggested_url = before.suggested_url
    previous = resource.checks.filter(counted=True).order_by("-checked_at", "-id").first()
    resource.last_checked_at = previous.checked_at if previous else None
    resource.last_outcome = previous.outcome if previous else ""
    resource.last_status_code = previous.status_code if previous else None
    # As for a run recorded offline: look again soon, when the network may be back.
    resource.next_check_at = now + timedelta(minutes=settings.MONITOR_OFFLINE_RETRY_MINUTES)
    resource.updated_at = now
    resource.save(update_fields=FIELDS_RESTORED)
    return len(tail)


def _trailing_failures(resource: Resource, since: datetime) -> list[LinkCheck]:
    """The resource's newest counted checks after `since` that failed at the network level,
    back to the first counted check that said anything else (a check error says nothing)."""
    recent = resource.checks.filter(counted=True, checked_at__gt=since).exclude(
        outcome__in=NO_SIGNAL
    )
    tail: list[LinkCheck] = []
    for check in recent.order_by("-checked_at", "-id"):
        if check.outcome not in NETWORK:
            break
        tail.append(check)
    tail.reverse()
    return tail


def _replayed_streaks(resource: Resource, first: LinkCheck) -> rules.HealthSnapshot:
    """The move and bot-wall streaks as they were before `first`, by replaying the rules over
    the counted checks of the current address since the last check that reset them (a success
    or a failure). Checks of an address the curator replaced do not count."""
    history = resource.checks.filter(counted=True, url=resource.url[:2048]).exclude(pk=first.pk)
    older = history.filter(checked_at__lte=first.checked_at).order_by("-checked_at", "-id")
    replay: list[LinkCheck] = []
    for check in older[:REPLAY_LIMIT]:
        if (check.checked_at, check.pk) > (first.checked_at, first.pk):
            continue
        kind = rules.classify(check.outcome)
        if kind in _RESETS:
            break
        replay.append(check)
    return _replay(reversed(replay))


_RESETS = (rules.OutcomeClass.SUCCESS, rules.OutcomeClass.BROKEN, rules.OutcomeClass.TRANSIENT)


def _replay(checks: Iterable[LinkCheck]) -> rules.HealthSnapshot:
    policy = health_policy()
    snapshot = rules.HealthSnapshot()
    for check in checks:
        snapshot = rules.evaluate(
            snapshot,
            outcome=check.outcome,
            final_url=check.final_url,
            checked_at=check.checked_at,
            policy=policy,
        ).after
    return snapshot
