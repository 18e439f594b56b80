"""The health state machine, transition by transition (pure: no database)."""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from curation.checker.outcomes import Outcome
from curation.health import rules
from curation.health.recording import health_policy
from curation.health.rules import (
    BROKEN,
    HEALTHY,
    MOVED,
    SUSPECT,
    UNKNOWN,
    UNVERIFIABLE,
    HealthSnapshot,
    evaluate,
)

T0 = datetime(2026, 1, 1, tzinfo=UTC)
POLICY = health_policy()  # the defaults of the MONITOR_* settings
H = timedelta(hours=1)


def run(
    outcomes, *, start=HealthSnapshot(), every=timedelta(hours=24), final_url="https://new.example/"
):
    """Feed outcomes one per `every`; returns the list of verdicts."""
    snapshot, verdicts = start, []
    for i, outcome in enumerate(outcomes):
        verdict = evaluate(
            snapshot, outcome=outcome, final_url=final_url, checked_at=T0 + i * every, policy=POLICY
        )
        verdicts.append(verdict)
        snapshot = verdict.after
    return verdicts


# (case, start state, outcomes fed one per 24 h, expected states after each, rule of the last)
TABLE = [
    ("first success", UNKNOWN, ["ok"], [HEALTHY], "success"),
    ("one 404 is only suspect", HEALTHY, ["not_found"], [SUSPECT], "failure-unconfirmed"),
    (
        "three 404s over 48 h break it",
        HEALTHY,
        ["not_found", "not_found", "not_found"],
        [SUSPECT, SUSPECT, BROKEN],
        "failure-confirmed",
    ),
    (
        "mixed broken-class outcomes count together",
        HEALTHY,
        ["dns_error", "soft_404", "tls_error"],
        [SUSPECT, SUSPECT, BROKEN],
        "failure-confirmed",
    ),
    (
        "a success in between resets the streak",
        HEALTHY,
        ["not_found", "not_found", "ok", "not_found", "not_found"],
        [SUSPECT, SUSPECT, HEALTHY, SUSPECT, SUSPECT],
        "failure-unconfirmed",
    ),
    (
        "server errors break only when they persist past the policy",
        HEALTHY,
        ["server_error", "server_error", "server_error"],
        [SUSPECT, SUSPECT, BROKEN],
        "failure-confirmed",
    ),
    (
        "one timeout is only suspect",
        HEALTHY,
        ["timeout"],
        [SUSPECT],
        "transient-unconfirmed",
    ),
    ("broken comes back", BROKEN, ["ok"], [HEALTHY], "success"),
    (
        "blocked never breaks, repeated blocked is unverifiable",
        HEALTHY,
        ["blocked", "blocked", "blocked", "blocked"],
        [HEALTHY, HEALTHY, UNVERIFIABLE, UNVERIFIABLE],
        "blocked-repeated",
    ),
    (
        "blocked leaves a suspect link suspect",
        HEALTHY,
        ["not_found", "blocked"],
        [SUSPECT, SUSPECT],
        "blocked-unconfirmed",
    ),
    ("unverifiable answers again", UNVERIFIABLE, ["ok"], [HEALTHY], "success"),
    (
        "one permanent redirect is not yet a move",
        HEALTHY,
        ["redirected"],
        [HEALTHY],
        "redirect-unconfirmed",
    ),
    (
        "consecutive permanent redirects are a move",
        HEALTHY,
        ["redirected", "redirected"],
        [HEALTHY, MOVED],
        "redirect-confirmed",
    ),
    ("a moved link that stops redirecting is healthy", MOVED, ["ok"], [HEALTHY], "success"),
    (
        "a moved link that fails is suspect",
        MOVED,
        ["not_found"],
        [SUSPECT],
        "failure-unconfirmed",
    ),
    (
        "a refused target needs a human look",
        HEALTHY,
        ["forbidden_target"],
        [UNVERIFIABLE],
        "uncheckable-target",
    ),
    (
        "an invalid url needs a human look",
        UNKNOWN,
        ["invalid_url"],
        [UNVERIFIABLE],
        "uncheckable-target",
    ),
    ("a check error changes nothing", SUSPECT, [Outcome.CHECK_ERROR], [SUSPECT], "check-error"),
    ("an unknown outcome is a check error", HEALTHY, ["martian"], [HEALTHY], "check-error"),
]


@pytest.mark.parametrize(
    ("start", "outcomes", "states", "rule"),
    [case[1:] for case in TABLE],
    ids=[case[0] for case in TABLE],
)
def test_state_machine_table(start, outcomes, states, rule):
    verdicts = run(outcomes, start=HealthSnapshot(state=start))
    assert [v.after.state for v in verdicts] == states
    assert verdicts[-1].rule == rule


def test_it_needs_the_time_span_as_well_as_the_count():
    # Five 404s within 10 hours: enough failures, not enough time.
    verdicts = run(["not_found"] * 5, every=2 * H)
    assert [v.after.state for v in verdicts] == [SUSPECT] * 5
    assert verdicts[-1].after.consecutive_failures == 5


def test_it_breaks_once_the_span_is_reached():
    verdicts = run(["not_found"] * 5, every=12 * H)
    # checks at 0, 12, 24, 36, 48 h: the fifth spans 48 h.
    assert [v.after.state for v in verdicts] == [SUSPECT] * 4 + [BROKEN]


def test_blocked_does_not_interrupt_a_failure_streak():
    verdicts = run(["not_found", "blocked", "not_found", "not_found"])
    assert verdicts[-1].after.state == BROKEN
    assert verdicts[-1].after.consecutive_failures == 3


def test_a_snoozed_link_is_never_broken_while_snoozed():
    start = HealthSnapshot(state=HEALTHY, snoozed_until=T0 + timedelta(days=30))
    verdicts = run(["not_found"] * 6, start=start)
    assert {v.after.state for v in verdicts} == {SUSPECT}
    assert verdicts[-1].rule == "failure-snoozed"


def test_when_the_snooze_ends_the_streak_decides():
    start = HealthSnapshot(state=HEALTHY, snoozed_until=T0 + timedelta(days=3))
    # Checks at 0, 24, 48 (snoozed: suspect although confirmed), 72 h (snooze over).
    verdicts = run(["not_found"] * 4, start=start)
    assert [v.after.state for v in verdicts] == [SUSPECT, SUSPECT, SUSPECT, BROKEN]
    assert verdicts[2].rule == "failure-snoozed"


def test_a_move_to_a_different_address_starts_counting_again():
    snapshot = HealthSnapshot(state=HEALTHY)
    first = evaluate(
        snapshot, outcome="redirected", final_url="https://a.example/", checked_at=T0, policy=POLICY
    )
    second = evaluate(
        first.after,
        outcome="redirected",
        final_url="https://b.example/",
        checked_at=T0 + H,
        policy=POLICY,
    )
    assert second.after.state == HEALTHY
    assert second.after.consecutive_moves == 1
    third = evaluate(
        second.after,
        outcome="redirected",
        final_url="https://b.example/",
        checked_at=T0 + 2 * H,
        policy=POLICY,
    )
    assert third.after.state == MOVED
    assert third.after.suggested_url == "https://b.example/"


def test_success_clears_the_suggestion_and_counters():
    moved = HealthSnapshot(state=MOVED, consecutive_moves=2, suggested_url="https://b.example/")
    verdict = evaluate(moved, outcome="ok", final_url=None, checked_at=T0, policy=POLICY)
    assert verdict.after == HealthSnapshot(state=HEALTHY)


def test_intervals_follow_the_state():
    assert run(["ok"])[-1].interval == timedelta(days=7)
    assert run(["not_found"])[-1].interval == timedelta(hours=12)
    assert run(["blocked"] * 3)[-1].interval == timedelta(days=7)


def test_broken_backoff_grows_up_to_the_cap():
    verdicts = run(["not_found"] * 12)
    broken = [v.interval for v in verdicts if v.after.state == BROKEN]
    assert broken[:4] == [
        timedelta(days=1),
        timedelta(days=2),
        timedelta(days=4),
        timedelta(days=8),
    ]
    assert broken[-1] == timedelta(days=30)
    assert broken == sorted(broken)


def test_thresholds_come_from_the_policy():
    policy = replace(POLICY, broken_min_failures=1, broken_min_span=timedelta(0))
    verdict = evaluate(
        HealthSnapshot(state=HEALTHY),
        outcome="not_found",
        final_url=None,
        checked_at=T0,
        policy=policy,
    )
    assert verdict.after.state == BROKEN


def test_jitter_spreads_within_bounds():
    rng = random.Random(4)
    times = {rules.next_check_time(T0, timedelta(days=10), jitter=0.1, rng=rng) for _ in range(50)}
    assert len(times) > 40
    assert all(T0 + timedelta(days=9) <= t <= T0 + timedelta(days=11) for t in times)


@given(st.lists(st.sampled_from(sorted(rules.OUTCOME_CLASSES)), min_size=1, max_size=30))
def test_blocked_never_causes_broken(outcomes):
    verdicts = run(outcomes)
    for verdict, outcome in zip(verdicts, outcomes, strict=True):
        if outcome in ("blocked", Outcome.CHECK_ERROR) and verdict.changed:
            assert verdict.after.state != BROKEN
        if verdict.after.state == BROKEN:
            assert verdict.after.consecutive_failures >= POLICY.broken_min_failures


@given(st.lists(st.sampled_from(sorted(rules.OUTCOME_CLASSES)), min_size=1, max_size=30))
def test_a_success_always_means_healthy(outcomes):
    for verdict, outcome in zip(run(outcomes), outcomes, strict=True):
        if outcome == "ok":
            assert verdict.after.state == HEALTHY


def test_the_rules_spell_the_states_as_the_database_stores_them():
    from curation.models import HealthState

    spelled = {rules.UNKNOWN, rules.HEALTHY, rules.MOVED, rules.SUSPECT, rules.BROKEN}
    assert spelled | {rules.UNVERIFIABLE} == set(HealthState.values)


def test_every_engine_outcome_has_a_class():
    assert set(rules.OUTCOME_CLASSES) == set(Outcome)
