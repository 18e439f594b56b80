"""What the workbench says about a resource's health, derived from its recorded checks.

The stored state alone cannot say everything true: "unknown" covers a resource never checked
and one whose only checks were bot walls, and a transition's reason is true of the check that
caused it, not of the streak since. So the label and the "why this state" sentence are built
here from the state, the counters the rules keep and the checks on record, with the
thresholds of the policy the rules apply (curation.health.rules).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import SafeString

from curation.admin.display import plural, when
from curation.checker.outcomes import Outcome
from curation.health.recording import health_policy
from curation.health.rules import HealthPolicy, OutcomeClass, classify
from curation.models import HealthState, HealthTransition, Resource

UNCHECKABLE_OUTCOMES = (Outcome.FORBIDDEN_TARGET, Outcome.INVALID_URL)
FAILURE_CLASSES = (OutcomeClass.BROKEN, OutcomeClass.TRANSIENT)
HEALTHY = "Healthy: the link answered at the last check that reached the page."
CHECK_ERROR_UNKNOWN = (
    "Unknown: the last check failed on our side (check error), which moves no health state."
)
CHECK_ERROR_ASIDE = "The last check failed on our side (check error): nothing changed."


@dataclass(frozen=True)
class CheckTally:
    """The checks on record for one resource, as far as its health is concerned."""

    total: int
    # Kept as evidence without moving health (checker offline, or a late duplicate), recorded
    # after the last counted check: the counters do not include them.
    uncounted_since: int


def tally(resource: Resource) -> CheckTally:
    checks = resource.checks.all()
    uncounted = checks.filter(counted=False)
    if resource.last_checked_at is not None:
        uncounted = uncounted.filter(checked_at__gt=resource.last_checked_at)
    return CheckTally(total=checks.count(), uncounted_since=uncounted.count())


def _outcome(resource: Resource) -> str:
    status = f" {resource.last_status_code}" if resource.last_status_code else ""
    return f"{resource.last_outcome or 'no outcome'}{status}"


def _blocked_status(resource: Resource) -> str:
    code = resource.last_status_code
    return f"HTTP {code}" if code else "no status"


def _snoozed(resource: Resource, now: datetime) -> bool:
    return resource.snoozed_until is not None and resource.snoozed_until > now


def _blocked_left(resource: Resource, policy: HealthPolicy) -> int:
    return max(policy.unverifiable_min_blocked - resource.consecutive_blocked, 0)


def health_label(
    resource: Resource, *, has_checks: bool, policy: HealthPolicy | None = None
) -> str:
    """The state's name with what qualifies it (for the list page and the "health" field)."""
    policy = policy or health_policy()
    state = HealthState(resource.health)
    blocked = resource.consecutive_blocked
    if state == HealthState.UNKNOWN:
        if not has_checks and resource.last_checked_at is None:
            return "Unknown (never checked)"
        if blocked:
            return f"Unknown (blocked {blocked} of {policy.unverifiable_min_blocked})"
        if resource.last_outcome == Outcome.CHECK_ERROR:
            return "Unknown (the check itself failed)"
        return "Unknown (checks not counted)"
    if state == HealthState.SUSPECT:
        if _snoozed(resource, timezone.now()):
            return f"Suspect ({plural(resource.consecutive_failures, 'failure')}, snoozed)"
        return f"Suspect ({plural(resource.consecutive_failures, 'failure')})"
    if state == HealthState.UNVERIFIABLE and resource.last_outcome in UNCHECKABLE_OUTCOMES:
        return "Unverifiable (address not checkable)"
    if state == HealthState.UNVERIFIABLE:
        return f"Unverifiable (blocked {plural(blocked, 'time')})"
    if state == HealthState.HEALTHY and blocked:
        return f"Healthy (last {plural(blocked, 'check')} blocked)"
    return state.label


def _unknown(resource: Resource, tally_: CheckTally, policy: HealthPolicy) -> SafeString:
    if tally_.total == 0 and resource.last_checked_at is None:
        return format_html(
            "Never checked: no check of this address is on record yet; the first is due {}.",
            when(resource.next_check_at, empty="as soon as the dispatcher runs"),
        )
    if resource.consecutive_blocked:
        return format_html(
            "Unknown: blocked by the site ({}) on {}; {} more blocked in a row before it is "
            "called unverifiable. A bot wall says nothing about whether the page exists.",
            _blocked_status(resource),
            plural(resource.consecutive_blocked, "check"),
            _blocked_left(resource, policy),
        )
    if resource.last_outcome == Outcome.CHECK_ERROR:
        return format_html("{}", CHECK_ERROR_UNKNOWN)
    return format_html(
        "Unknown: {} on record, none counted (the checker was offline, or the result came "
        "late); health moves only on counted checks.",
        plural(tally_.total, "check"),
    )


def _failing(resource: Resource, policy: HealthPolicy, now: datetime) -> SafeString:
    failures = resource.consecutive_failures
    first = resource.first_failure_at
    hours = f"{policy.broken_min_span.total_seconds() / 3600:g}"
    # After a failure, a bot wall or a check error may be the last outcome: name the last
    # failure only when it is one.
    last = (
        format_html(", the last {}", _outcome(resource))
        if classify(resource.last_outcome) in FAILURE_CLASSES
        else ""
    )
    streak = format_html(
        "{} in a row{}, the first {}", plural(failures, "failed check"), last, when(first)
    )
    if resource.health == HealthState.BROKEN:
        return format_html(
            "Broken: {}; broken needs {} spanning at least {} h.",
            streak,
            plural(policy.broken_min_failures, "failed check"),
            hours,
        )
    left = max(policy.broken_min_failures - failures, 0)
    earliest = first + policy.broken_min_span if first else None
    need = format_html(
        "broken needs {} spanning at least {} h: {} more, and not before {}",
        plural(policy.broken_min_failures, "failed check"),
        hours,
        left,
        when(earliest),
    )
    if _snoozed(resource, now):
        need = format_html(
            "a curator marked it not broken until {}, so no check makes it broken before then",
            when(resource.snoozed_until),
        )
    return format_html("Suspect: {}; {}.", streak, need)


def _healthy(
    resource: Resource, recovered: HealthTransition | None, policy: HealthPolicy
) -> SafeString:
    text = format_html("{}", HEALTHY)
    if recovered is not None:
        text = format_html(
            "{} Recovered from {} {}.",
            text,
            HealthState(recovered.from_state).label,
            when(recovered.at),
        )
    if resource.consecutive_moves and resource.suggested_url:
        text = format_html(
            "{} It answers through a permanent redirect to {}, seen on {} in a row; it is called "
            "moved after {}.",
            text,
            resource.suggested_url,
            plural(resource.consecutive_moves, "check"),
            policy.moved_min_checks,
        )
    return text


def _unverifiable(resource: Resource, policy: HealthPolicy) -> SafeString:
    if resource.last_outcome in UNCHECKABLE_OUTCOMES:
        return format_html(
            "Unverifiable: the checker may not or cannot check this address ({}).",
            resource.last_outcome,
        )
    return format_html(
        "Unverifiable: blocked by the site on {} in a row (unverifiable from {}): needs a "
        "human look.",
        plural(resource.consecutive_blocked, "check"),
        policy.unverifiable_min_blocked,
    )


def _aside(resource: Resource, tally_: CheckTally, policy: HealthPolicy) -> list[SafeString]:
    """What the last checks added without changing the state (bot walls, our own failures)."""
    notes = []
    state = resource.health
    if resource.consecutive_blocked and state not in (
        HealthState.UNKNOWN,
        HealthState.UNVERIFIABLE,
    ):
        notes.append(
            format_html(
                "The last {} blocked by the site ({}), which changes nothing yet; {} more in a "
                "row and it is called unverifiable.",
                plural(resource.consecutive_blocked, "check was", "checks were"),
                _blocked_status(resource),
                _blocked_left(resource, policy),
            )
        )
    if resource.last_outcome == Outcome.CHECK_ERROR and state != HealthState.UNKNOWN:
        notes.append(format_html("{}", CHECK_ERROR_ASIDE))
    if tally_.uncounted_since and resource.last_checked_at is not None:
        notes.append(
            format_html(
                "{} since then {} not counted (the checker was offline, or the result came late).",
                plural(tally_.uncounted_since, "check"),
                "was" if tally_.uncounted_since == 1 else "were",
            )
        )
    return notes


def explanation(resource: Resource, *, policy: HealthPolicy | None = None) -> SafeString:
    """Why the resource is in its state, in one or two sentences, from the evidence on record."""
    policy = policy or health_policy()
    tally_ = tally(resource)
    state = resource.health
    if state == HealthState.UNKNOWN:
        main = _unknown(resource, tally_, policy)
    elif state in (HealthState.SUSPECT, HealthState.BROKEN):
        main = _failing(resource, policy, timezone.now())
    elif state == HealthState.MOVED:
        main = format_html(
            "Moved: a permanent redirect to {} on {} in a row (moved from {}).",
            resource.suggested_url,
            plural(resource.consecutive_moves, "check"),
            policy.moved_min_checks,
        )
    elif state == HealthState.UNVERIFIABLE:
        main = _unverifiable(resource, policy)
    else:
        main = _healthy(resource, _recovery(resource), policy)
    for note in _aside(resource, tally_, policy):
        main = format_html("{} {}", main, note)
    return main


def _recovery(resource: Resource) -> HealthTransition | None:
    """The transition that brought the resource back to healthy from broken or unverifiable."""
    last = resource.transitions.order_by("-at", "-id").first()
    recovered_from = (HealthState.BROKEN, HealthState.UNVERIFIABLE, HealthState.SUSPECT)
    if (
        last is None
        or last.to_state != HealthState.HEALTHY
        or last.from_state not in recovered_from
    ):
        return None
    return last
