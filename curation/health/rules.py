"""The link-health state machine: pure functions, no I/O, no Django.

A resource's health is derived from its run of recent outcomes, never from one check alone.
`evaluate` takes what we know about a resource (a `HealthSnapshot`), one new outcome and the
policy, and returns the new snapshot with the rule that decided and when to look again.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum

from curation.checker.outcomes import Outcome

# States, spelled as curation.models.HealthState stores them (no Django import here).
UNKNOWN = "unknown"
HEALTHY = "healthy"
MOVED = "moved"
SUSPECT = "suspect"
BROKEN = "broken"
UNVERIFIABLE = "unverifiable"


class OutcomeClass(StrEnum):
    SUCCESS = "success"
    MOVED = "moved"
    # Strong evidence that the link is dead.
    BROKEN = "broken"
    # Failures that are often transient (5xx, timeouts, odd 4xx): they count toward "broken"
    # through the same policy, so only persistence across checks and hours breaks a link.
    TRANSIENT = "transient"
    BLOCKED = "blocked"
    # Our guard or the stored URL refuses the check: repeating it will never tell us more.
    UNCHECKABLE = "uncheckable"
    # Our failure, not the link's (an engine bug, a task that kept killing its worker).
    CHECK_ERROR = "check_error"


OUTCOME_CLASSES: dict[Outcome, OutcomeClass] = {
    Outcome.OK: OutcomeClass.SUCCESS,
    Outcome.REDIRECTED: OutcomeClass.MOVED,
    Outcome.NOT_FOUND: OutcomeClass.BROKEN,
    Outcome.SOFT_404: OutcomeClass.BROKEN,
    Outcome.DNS_ERROR: OutcomeClass.BROKEN,
    Outcome.CONNECTION_ERROR: OutcomeClass.BROKEN,
    Outcome.TLS_ERROR: OutcomeClass.BROKEN,
    Outcome.REDIRECT_LOOP: OutcomeClass.BROKEN,
    Outcome.SERVER_ERROR: OutcomeClass.TRANSIENT,
    Outcome.TIMEOUT: OutcomeClass.TRANSIENT,
    Outcome.HTTP_ERROR: OutcomeClass.TRANSIENT,
    Outcome.BLOCKED: OutcomeClass.BLOCKED,
    Outcome.FORBIDDEN_TARGET: OutcomeClass.UNCHECKABLE,
    Outcome.INVALID_URL: OutcomeClass.UNCHECKABLE,
    Outcome.CHECK_ERROR: OutcomeClass.CHECK_ERROR,
}

# Outcomes that say "the checker could not reach the network", used by the offline guard.
NETWORK_OUTCOMES = frozenset({Outcome.DNS_ERROR, Outcome.CONNECTION_ERROR, Outcome.TIMEOUT})


def classify(outcome: str) -> OutcomeClass:
    """The class of an engine outcome; anything unrecognised is treated as a check error."""
    return OUTCOME_CLASSES.get(outcome, OutcomeClass.CHECK_ERROR)  # type: ignore[call-overload]


@dataclass(frozen=True)
class HealthPolicy:
    """The thresholds and intervals of the state machine (from the MONITOR_* settings, whose
    defaults README's configuration table states)."""

    broken_min_failures: int
    broken_min_span: timedelta
    moved_min_checks: int
    unverifiable_min_blocked: int
    healthy_interval: timedelta
    suspect_interval: timedelta
    broken_interval: timedelta
    broken_max_interval: timedelta
    unverifiable_interval: timedelta
    # Fraction of an interval added or removed at random, so that a catalogue imported in
    # one afternoon does not come due in one minute every week forever.
    jitter: float

    def __post_init__(self) -> None:
        if self.broken_min_failures < 1 or self.moved_min_checks < 1:
            raise ValueError("thresholds must be at least 1")
        if self.unverifiable_min_blocked < 1:
            raise ValueError("unverifiable_min_blocked must be at least 1")
        if not 0 <= self.jitter < 1:
            raise ValueError("jitter must be in [0, 1)")


@dataclass(frozen=True)
class HealthSnapshot:
    """The part of a resource the state machine reads and writes."""

    state: str = UNKNOWN
    consecutive_failures: int = 0
    first_failure_at: datetime | None = None
    consecutive_blocked: int = 0
    consecutive_moves: int = 0
    suggested_url: str = ""
    snoozed_until: datetime | None = None

    def snoozed_at(self, when: datetime) -> bool:
        return self.snoozed_until is not None and self.snoozed_until > when


@dataclass(frozen=True)
class Verdict:
    before: HealthSnapshot
    after: HealthSnapshot
    rule: str
    reason: str
    interval: timedelta

    @property
    def changed(self) -> bool:
        return self.before.state != self.after.state


def evaluate(
    snapshot: HealthSnapshot,
    *,
    outcome: str,
    final_url: str | None,
    checked_at: datetime,
    policy: HealthPolicy,
) -> Verdict:
    """Apply one counted check to a resource's health.

    Returns the new snapshot, the name of the rule that decided (shown to curators), a
    human reason, and the interval before the next check (jitter is applied by the caller
    through `next_check_time`, so this function stays deterministic).
    """
    kind = classify(outcome)
    if kind is OutcomeClass.SUCCESS:
        after = HealthSnapshot(state=HEALTHY, snoozed_until=snapshot.snoozed_until)
        return Verdict(snapshot, after, "success", "the link answered", policy.healthy_interval)

    if kind is OutcomeClass.MOVED:
        return _moved(snapshot, final_url or "", policy)

    if kind in (OutcomeClass.BROKEN, OutcomeClass.TRANSIENT):
        return _failed(snapshot, kind, outcome, checked_at, policy)

    if kind is OutcomeClass.BLOCKED:
        blocked = snapshot.consecutive_blocked + 1
        if blocked >= policy.unverifiable_min_blocked:
            after = replace(snapshot, state=UNVERIFIABLE, consecutive_blocked=blocked)
            reason = f"blocked on {_count(blocked, 'consecutive check')}: needs a human look"
            return Verdict(
                snapshot, after, "blocked-repeated", reason, policy.unverifiable_interval
            )
        # A bot wall says nothing about whether the page exists: keep the state and the
        # failure streak as they are, and look again soon.
        after = replace(snapshot, consecutive_blocked=blocked)
        reason = f"blocked ({blocked} of {policy.unverifiable_min_blocked} before unverifiable)"
        interval = (
            policy.unverifiable_interval
            if snapshot.state == UNVERIFIABLE
            else (policy.suspect_interval)
        )
        return Verdict(snapshot, after, "blocked-unconfirmed", reason, interval)

    if kind is OutcomeClass.UNCHECKABLE:
        after = replace(snapshot, state=UNVERIFIABLE, consecutive_moves=0, suggested_url="")
        reason = f"{outcome}: the checker may not or cannot check this address"
        return Verdict(snapshot, after, "uncheckable-target", reason, policy.unverifiable_interval)

    # A check error is our failure, not the link's: nothing about health changes, and the
    # resource is not retried soon (it may be what killed the worker).
    reason = "the check itself failed repeatedly; health unchanged"
    return Verdict(snapshot, snapshot, "check-error", reason, policy.unverifiable_interval)


def _moved(snapshot: HealthSnapshot, final_url: str, policy: HealthPolicy) -> Verdict:
    same_target = bool(final_url) and final_url == snapshot.suggested_url
    moves = snapshot.consecutive_moves + 1 if same_target else 1
    base = HealthSnapshot(
        consecutive_moves=moves, suggested_url=final_url, snoozed_until=snapshot.snoozed_until
    )
    if moves >= policy.moved_min_checks:
        after = replace(base, state=MOVED)
        reason = f"permanent redirect to the same address on {_count(moves, 'consecutive check')}"
        return Verdict(snapshot, after, "redirect-confirmed", reason, policy.healthy_interval)
    # The link works (the redirect ends 2xx); confirm the move soon before offering it.
    after = replace(base, state=HEALTHY)
    reason = f"permanent redirect seen {moves} of {policy.moved_min_checks} times"
    return Verdict(snapshot, after, "redirect-unconfirmed", reason, policy.suspect_interval)


def _failed(
    snapshot: HealthSnapshot,
    kind: OutcomeClass,
    outcome: str,
    checked_at: datetime,
    policy: HealthPolicy,
) -> Verdict:
    failures = snapshot.consecutive_failures + 1
    first = snapshot.first_failure_at or checked_at
    span = checked_at - first
    base = replace(
        snapshot,
        consecutive_failures=failures,
        first_failure_at=first,
        consecutive_blocked=0,
        consecutive_moves=0,
        suggested_url="",
    )
    confirmed = failures >= policy.broken_min_failures and span >= policy.broken_min_span
    hours = span.total_seconds() / 3600
    evidence = f"{_count(failures, 'consecutive failure')} over {hours:.1f} h (last: {outcome})"
    if confirmed and snapshot.snoozed_at(checked_at):
        after = replace(base, state=SUSPECT)
        reason = f"{evidence}; snoozed by a curator until {snapshot.snoozed_until:%Y-%m-%d %H:%M}"
        return Verdict(snapshot, after, "failure-snoozed", reason, policy.suspect_interval)
    if confirmed:
        after = replace(base, state=BROKEN)
        return Verdict(
            snapshot, after, "failure-confirmed", evidence, _broken_interval(failures, policy)
        )
    rule = "failure-unconfirmed" if kind is OutcomeClass.BROKEN else "transient-unconfirmed"
    need = (
        f"broken needs {_count(policy.broken_min_failures, 'failure')} over "
        f"{policy.broken_min_span.total_seconds() / 3600:g} h"
    )
    after = replace(base, state=SUSPECT)
    return Verdict(snapshot, after, rule, f"{evidence}; {need}", policy.suspect_interval)


def _count(count: int, noun: str) -> str:
    # Reasons are read by curators: "1 consecutive failure", never "1 consecutive failures".
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def _broken_interval(failures: int, policy: HealthPolicy) -> timedelta:
    # Double the wait with every further failure, so dead links cost little, but keep
    # looking: a site may come back, and a curator wants to know.
    extra = min(failures - policy.broken_min_failures, 30)
    return min(policy.broken_interval * (2**extra), policy.broken_max_interval)


def next_check_time(
    checked_at: datetime, interval: timedelta, *, jitter: float, rng: random.Random | None = None
) -> datetime:
    """When to check again: `interval` after `checked_at`, spread by +/- `jitter`."""
    if jitter <= 0:
        return checked_at + interval
    factor = 1 + (rng or random).uniform(-jitter, jitter)
    return checked_at + interval * factor
