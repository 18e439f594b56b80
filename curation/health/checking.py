"""Checking a batch through the engine, with the offline guard.

A run in which the checker itself lost the network must not count as evidence against the
links it tried: such checks are kept, uncounted, and an incident is opened for operators. One
run is judged with the recent checks of every task (`network_window`), since a run of one
resource can never show an outage by itself.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

from curation.checker.config import CheckerConfig
from curation.checker.engine import check_many, check_many_keyed
from curation.checker.outcomes import CheckResult, Outcome
from curation.checker.politeness import HostLimiter
from curation.health import network_window
from curation.health.dispatch import ClaimedItem, release_claims
from curation.health.recording import CheckEntry, record_checks
from curation.models import CheckerIncident, CheckSource, Resource
from curation.outbound import checker_config, checker_session, host_limiter

logger = logging.getLogger(__name__)


@dataclass
class OfflineVerdict:
    offline: bool
    reason: str = ""
    detail: dict[str, Any] = field(default_factory=dict)
    reached_network: bool = False
    # Some host failed at the network level and nothing in the run settled why: the window
    # of recent checks from every task decides.
    undecided: bool = False


def assess_network(
    results: Sequence[Any], *, canary_check: Callable[[], bool] | None
) -> OfflineVerdict:
    """Did this run lose the network? Judged on distinct hosts, not on URLs.

    Offline when at least MONITOR_OFFLINE_MIN_HOSTS hosts were tried and at least
    MONITOR_OFFLINE_HOST_RATIO of them failed at the network level on every URL, or when
    any URL failed at the network level and every canary URL failed too. A canary that
    answers proves the network works, so a run of genuinely dead hosts stays counted. A run
    with failures that neither rule settles is `undecided`: the window decides.
    """
    hosts: dict[str, bool] = {}
    for result in results:
        outcome = str(result.outcome)
        if outcome in network_window.NO_SIGNAL:
            continue  # our own failure, or an address never tried: nothing about the network
        host = network_window.host_of(result.url)
        hosts[host] = hosts.get(host, True) and outcome in network_window.NETWORK
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
    return OfflineVerdict(False, reached_network=reached, undecided=not reached)


def judge_window(results: Sequence[Any] = ()) -> OfflineVerdict:
    """The verdict of the window of recent checks from every task, with `results` added."""
    reading = network_window.read_window(pending=results)
    if not reading.offline:
        return OfflineVerdict(False, undecided=True)
    hosts = sorted(reading.failed_hosts)
    detail = {
        "window_minutes": reading.minutes,
        "failed_hosts": len(hosts),
        "sample": hosts[:10],
    }
    return OfflineVerdict(True, reading.reason, detail)


def canaries_reachable(config: CheckerConfig, limiter: HostLimiter) -> bool:
    """True when any MONITOR_CANARY_URLS answers at all (any outcome but a network failure, or
    a refusal of our own such as a canary the SSRF guard does not allow)."""
    for result in check_many(settings.MONITOR_CANARY_URLS, config=config, limiter=limiter):
        outcome = str(result.outcome)
        if outcome not in network_window.NETWORK and outcome not in network_window.NO_SIGNAL:
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
    urls = dict(Resource.objects.filter(pk__in=[pk for pk, _ in items]).values_list("pk", "url"))
    todo = [(item, urls[item[0]]) for item in items if item[0] in urls]
    config = checker_config()
    limiter = host_limiter(config)
    done: list[CheckEntry] = []
    interrupted: BaseException | None = None
    try:
        checked = check_many_keyed(
            todo, config=config, limiter=limiter, session=checker_session(config)
        )
        for (pk, token), result in checked:
            done.append(
                CheckEntry(
                    pk, result, source=source, dispatch_token=token, dispatched_at=dispatched_at
                )
            )
    except Exception as exc:  # e.g. SoftTimeLimitExceeded: keep what we have
        interrupted = exc
    record_guarded(done, config=config, limiter=limiter)
    if interrupted is not None:
        finished = {e.resource_id for e in done}
        release_claims([pk for (pk, _), _url in todo if pk not in finished])
        raise interrupted
    return len(done)


def record_guarded(
    entries: Sequence[CheckEntry], *, config: CheckerConfig, limiter: HostLimiter
) -> OfflineVerdict:
    """Record checks behind the offline guard, whoever ran them (a worker, the command).

    When the run, or the window of recent checks from every task, shows that the checker lost
    the network, the run's checks are kept uncounted, the window's earlier counted network
    failures are undone, no health state changes and an incident is opened; a run that
    reached the network closes any.
    """
    canary = None
    if settings.MONITOR_CANARY_URLS:
        canary = lambda: canaries_reachable(config, limiter)  # noqa: E731
    results = [e.result for e in entries]
    verdict = assess_network(results, canary_check=canary)
    if verdict.undecided:
        verdict = judge_window(results)
    record_checks(entries, offline=verdict.offline)
    discarded = len(entries) if verdict.offline else 0
    if verdict.undecided:
        # Runs on other workers may have committed while this one was checking: the last run
        # to commit sees them all, so an outage seen only once everything landed is caught.
        verdict = judge_window()
    if verdict.offline:
        if canary is None:
            # Runs that came before the window filled were counted: their changes must not
            # stand. With canaries, each of those was proven by a canary that answered.
            discarded += network_window.discount_counted_failures()
        note_checker_offline(verdict, discarded=discarded)
    elif verdict.reached_network:
        close_checker_incidents()
    return verdict


def record_check_errors(
    items: Sequence[ClaimedItem],
    *,
    source: str = CheckSource.SCHEDULED,
    dispatched_at: datetime | None = None,
    error: str,
) -> int:
    """Record a check error for each item: its task kept failing or killing its worker."""
    urls = dict(Resource.objects.filter(pk__in=[pk for pk, _ in items]).values_list("pk", "url"))
    entries = [
        CheckEntry(
            pk,
            CheckResult(url=urls[pk], outcome=Outcome.CHECK_ERROR, error=error, rule="check-error"),
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
