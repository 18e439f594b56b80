"""Each section of the link report holds exactly what a constructed history says it should."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from curation.checker.outcomes import Outcome
from curation.models import HealthState, PublicationStatus
from curation.reports.build import build_report_data
from curation.reports.periods import Period, current_period, period_ending_at
from tests.factories import (
    CheckerIncidentFactory,
    CollectionFactory,
    HealthTransitionFactory,
    ItemFactory,
    LinkCheckFactory,
    LinkReportFactory,
    ResourceFactory,
    SectionFactory,
)

END = datetime(2026, 11, 23, tzinfo=UTC)  # a Monday
START = END - timedelta(days=7)
PERIOD = Period(start=START, end=END)
DURING = START + timedelta(days=3)
NOW = END + timedelta(hours=6)

pytestmark = pytest.mark.django_db


def build() -> dict:
    return build_report_data(PERIOD, now=NOW)


def ids(section: dict) -> list[int]:
    return [item["resource_id"] for item in section["items"]]


def break_resource(resource, *, at=DURING, failures=3, outcome="not_found", status=404):
    """What the monitoring engine leaves behind when it confirms a resource broken."""
    first = at - timedelta(hours=50)
    checks = [
        LinkCheckFactory(
            resource=resource,
            checked_at=first + timedelta(hours=25 * i),
            outcome=outcome,
            status_code=status,
            rule=f"status-{status}",
        )
        for i in range(failures - 1)
    ]
    last = LinkCheckFactory(
        resource=resource,
        checked_at=at,
        outcome=outcome,
        status_code=status,
        rule=f"status-{status}",
    )
    checks.append(last)
    HealthTransitionFactory(
        resource=resource, from_state=HealthState.HEALTHY, to_state=HealthState.SUSPECT, at=first
    )
    HealthTransitionFactory(
        resource=resource,
        from_state=HealthState.SUSPECT,
        to_state=HealthState.BROKEN,
        at=at,
        link_check=last,
        reason=f"failure-confirmed: {failures} consecutive failures over 50.0 h",
    )
    resource.health = HealthState.BROKEN
    resource.health_changed_at = at
    resource.first_failure_at = first
    resource.consecutive_failures = failures
    resource.last_outcome = outcome
    resource.last_status_code = status
    resource.last_checked_at = at
    resource.save()
    return checks


def test_current_period_is_the_last_complete_week_ending_monday_midnight():
    wednesday = datetime(2026, 11, 25, 14, 30, tzinfo=UTC)
    assert current_period(wednesday) == Period(start=START, end=END)
    # Exactly on the boundary the week that just ended is the current one.
    assert current_period(END) == Period(start=START, end=END)
    assert current_period(END - timedelta(microseconds=1)).end == START


def test_a_period_ending_at_a_given_instant_is_one_period_long(settings):
    settings.REPORT_PERIOD_DAYS = 14
    period = period_ending_at(END)
    assert period.start == END - timedelta(days=14)


def test_totals_count_live_resources_per_state_with_the_change_since_the_previous_report():
    ResourceFactory.create_batch(3, health=HealthState.HEALTHY)
    ResourceFactory(health=HealthState.BROKEN)
    ResourceFactory(health=HealthState.BROKEN, status=PublicationStatus.ARCHIVED)
    ResourceFactory(health=HealthState.UNKNOWN, status=PublicationStatus.DRAFT)
    LinkReportFactory(
        period_end=START,
        data={
            "totals": {
                "states": [{"state": "healthy", "count": 5}, {"state": "broken", "count": 0}]
            }
        },
    )

    totals = {row["state"]: row for row in build()["totals"]["states"]}

    assert totals["healthy"]["count"] == 3
    assert totals["healthy"]["change"] == -2
    assert totals["broken"]["count"] == 1  # the archived one is out of every count
    assert totals["broken"]["change"] == 1
    assert totals["unknown"]["count"] == 1
    assert totals["unknown"]["change"] == 1
    assert build()["totals"]["total"] == 5


def test_totals_have_no_change_without_a_previous_report():
    ResourceFactory()
    assert all(row["change"] is None for row in build()["totals"]["states"])


def test_newly_broken_names_the_resources_that_broke_in_the_period_with_their_evidence():
    broken = ResourceFactory(title="Dead tutorial")
    break_resource(broken)
    before = ResourceFactory(title="Broke last month")
    break_resource(before, at=START - timedelta(days=20))
    ResourceFactory(title="Fine")

    section = build()["newly_broken"]

    assert section["total"] == 1
    [item] = section["items"]
    assert item["resource_id"] == broken.pk
    assert item["title"] == "Dead tutorial"
    assert item["broken_at"] == DURING.isoformat()
    assert item["first_failure_at"] == (DURING - timedelta(hours=50)).isoformat()
    assert item["consecutive_failures"] == 3
    assert item["last_outcome"] == "not_found"
    assert item["last_status_code"] == 404
    assert item["rule"].startswith("failure-confirmed")
    assert item["check_rule"] == "status-404"
    assert item["current_health"] == "broken"
    assert [e["outcome"] for e in item["evidence"]] == ["not_found"] * 3
    assert item["evidence"][0]["checked_at"] == DURING.isoformat()


def test_newly_broken_evidence_is_capped_at_the_last_five_checks_before_the_period_end():
    resource = ResourceFactory()
    break_resource(resource, failures=7)
    LinkCheckFactory(resource=resource, checked_at=END + timedelta(hours=1), outcome="ok")

    [item] = build()["newly_broken"]["items"]

    assert len(item["evidence"]) == 5
    assert all(e["outcome"] == "not_found" for e in item["evidence"])


def test_newly_broken_puts_the_resource_on_most_published_lists_first():
    lonely = ResourceFactory(title="On no list")
    popular = ResourceFactory(title="On two lists")
    break_resource(lonely, at=DURING - timedelta(days=1))
    break_resource(popular, at=DURING)
    ItemFactory(resource=popular)
    ItemFactory(resource=popular)

    items = build()["newly_broken"]["items"]

    assert [i["resource_id"] for i in items] == [popular.pk, lonely.pk]
    assert items[0]["published_lists"] == 2


def test_a_link_that_failed_once_raises_no_alarm():
    flaky = ResourceFactory()
    LinkCheckFactory(resource=flaky, checked_at=DURING, outcome="server_error", status_code=503)
    HealthTransitionFactory(
        resource=flaky, from_state=HealthState.HEALTHY, to_state=HealthState.SUSPECT, at=DURING
    )
    LinkCheckFactory(resource=flaky, checked_at=DURING + timedelta(hours=12), outcome="ok")
    HealthTransitionFactory(
        resource=flaky,
        from_state=HealthState.SUSPECT,
        to_state=HealthState.HEALTHY,
        at=DURING + timedelta(hours=12),
    )

    data = build()

    assert data["newly_broken"]["total"] == 0
    assert data["recovered"]["total"] == 0
    assert data["changed"] is False
    assert data["summary"].startswith("Nothing changed")


def test_recovered_lists_resources_back_to_healthy_from_broken_or_unverifiable():
    back = ResourceFactory()
    HealthTransitionFactory(
        resource=back, from_state=HealthState.BROKEN, to_state=HealthState.HEALTHY, at=DURING
    )
    unwalled = ResourceFactory()
    HealthTransitionFactory(
        resource=unwalled,
        from_state=HealthState.UNVERIFIABLE,
        to_state=HealthState.HEALTHY,
        at=DURING,
    )
    old = ResourceFactory()
    HealthTransitionFactory(
        resource=old,
        from_state=HealthState.BROKEN,
        to_state=HealthState.HEALTHY,
        at=START - timedelta(seconds=1),
    )

    section = build()["recovered"]

    assert section["total"] == 2
    assert sorted(ids(section)) == sorted([back.pk, unwalled.pk])
    assert {i["was"] for i in section["items"]} == {"broken", "unverifiable"}


def test_moved_lists_every_pending_move_with_its_suggested_address_new_ones_first():
    old_move = ResourceFactory(
        health=HealthState.MOVED,
        suggested_url="https://new.example.test/old",
        health_changed_at=START - timedelta(days=10),
    )
    new_move = ResourceFactory(
        health=HealthState.MOVED,
        suggested_url="https://new.example.test/page",
        health_changed_at=DURING,
    )
    HealthTransitionFactory(
        resource=new_move, from_state=HealthState.HEALTHY, to_state=HealthState.MOVED, at=DURING
    )

    section = build()["moved"]

    assert section["total"] == 2
    assert section["new_in_period"] == 1
    assert ids(section) == [new_move.pk, old_move.pk]
    assert section["items"][0]["suggested_url"] == "https://new.example.test/page"
    assert section["items"][0]["new_in_period"] is True
    assert section["items"][1]["new_in_period"] is False


def test_unverifiable_and_soft_404_sections_list_what_they_say():
    walled = ResourceFactory(health=HealthState.UNVERIFIABLE, last_outcome="blocked")
    soft = ResourceFactory(
        health=HealthState.SUSPECT, last_outcome="soft_404", last_status_code=200
    )
    ResourceFactory(health=HealthState.HEALTHY, last_outcome="ok")

    data = build()

    assert ids(data["unverifiable"]) == [walled.pk]
    assert ids(data["soft_404"]) == [soft.pk]
    assert data["soft_404"]["items"][0]["current_health"] == "suspect"


def test_long_sections_are_capped_but_state_their_true_total(settings):
    settings.REPORT_LIST_LIMIT = 2
    ResourceFactory.create_batch(5, health=HealthState.UNVERIFIABLE)

    section = build()["unverifiable"]

    assert section["total"] == 5
    assert len(section["items"]) == 2


def test_domains_rank_hosts_by_failing_resources_and_ignore_healthy_ones():
    for n in range(3):
        ResourceFactory(url=f"https://www.rotten.test/{n}", health=HealthState.BROKEN)
    ResourceFactory(url="https://rotten.test/suspect", health=HealthState.SUSPECT)
    ResourceFactory(url="https://walled.test/a", health=HealthState.UNVERIFIABLE)
    ResourceFactory(url="https://walled.test/b", health=HealthState.UNVERIFIABLE)
    ResourceFactory.create_batch(5, health=HealthState.HEALTHY)

    items = build()["domains"]["items"]

    assert items == [
        {"domain": "rotten.test", "total": 4, "broken": 3, "suspect": 1, "unverifiable": 0},
        {"domain": "walled.test", "total": 2, "broken": 0, "suspect": 0, "unverifiable": 2},
    ]


def test_collections_lists_published_lists_with_broken_or_moved_items_most_affected_first():
    mild = CollectionFactory(title="Mildly hurt")
    worst = CollectionFactory(title="Badly hurt")
    draft = CollectionFactory(title="Draft list", status=PublicationStatus.DRAFT)
    ItemFactory(section=SectionFactory(collection=draft), resource=ResourceFactory(health="broken"))
    ItemFactory(section=SectionFactory(collection=mild), resource=ResourceFactory(health="moved"))
    ItemFactory(section=SectionFactory(collection=mild), resource=ResourceFactory())
    section = SectionFactory(collection=worst, title="Start here")
    dead = ResourceFactory(health="broken", title="Dead one")
    ItemFactory(section=section, resource=dead, required=True)
    ItemFactory(section=section, resource=ResourceFactory(health="broken"), required=False)
    ItemFactory(section=section, resource=ResourceFactory())
    CollectionFactory(title="Healthy list")

    lists = build()["collections"]

    assert lists["total"] == 2
    assert [c["title"] for c in lists["items"]] == ["Badly hurt", "Mildly hurt"]
    top = lists["items"][0]
    assert (top["broken"], top["required_broken"], top["moved"], top["items_total"]) == (2, 1, 0, 3)
    assert top["affected"][0]["title"] == "Dead one"
    assert top["affected"][0]["section"] == "Start here"
    assert lists["items"][1]["moved"] == 1


def test_incidents_in_the_period_and_the_checks_that_ran_are_counted():
    CheckerIncidentFactory(
        started_at=DURING, ended_at=DURING + timedelta(hours=1), checks_discarded=40
    )
    CheckerIncidentFactory(
        started_at=START - timedelta(days=1), ended_at=START + timedelta(hours=1)
    )
    CheckerIncidentFactory(started_at=START - timedelta(days=3), ended_at=START - timedelta(days=2))
    resource = ResourceFactory()
    LinkCheckFactory.create_batch(3, resource=resource, checked_at=DURING, outcome="ok")
    LinkCheckFactory(resource=resource, checked_at=DURING, outcome="timeout", counted=False)
    LinkCheckFactory(resource=resource, checked_at=END, outcome="ok")  # the next period's

    data = build()

    assert data["incidents"]["total"] == 2
    assert data["incidents"]["items"][1]["checks_discarded"] == 40
    assert data["checks"]["total"] == 4
    assert data["checks"]["counted"] == 3
    assert data["checks"]["not_counted"] == 1
    assert data["checks"]["failing"] == 1
    assert data["changed"] is True


def test_a_period_with_check_errors_reports_how_many_there_were():
    resource = ResourceFactory()
    LinkCheckFactory.create_batch(
        2, resource=resource, checked_at=DURING, outcome=Outcome.CHECK_ERROR, counted=False
    )
    LinkCheckFactory(resource=resource, checked_at=DURING, outcome=Outcome.OK)
    LinkCheckFactory(  # the next period's
        resource=resource, checked_at=END, outcome=Outcome.CHECK_ERROR, counted=False
    )

    checks = build()["checks"]

    assert checks["check_errors"] == 2
    assert checks["total"] == 3
    assert checks["failing"] == 0  # our failure is not the link's


def test_a_period_without_check_errors_reports_zero():
    resource = ResourceFactory()
    LinkCheckFactory(resource=resource, checked_at=DURING, outcome=Outcome.TIMEOUT)

    assert build()["checks"]["check_errors"] == 0


def test_an_empty_period_honestly_says_nothing_changed_and_that_nothing_was_checked():
    ResourceFactory.create_batch(2)

    data = build()

    assert data["changed"] is False
    assert "Nothing changed" in data["summary"]
    assert "no checks ran" in data["summary"]
    for section in ("newly_broken", "recovered", "unverifiable", "soft_404", "collections"):
        assert data[section]["total"] == 0, section


def test_a_quiet_period_with_checks_says_nothing_changed_and_how_many_checks_ran():
    resource = ResourceFactory()
    LinkCheckFactory.create_batch(4, resource=resource, checked_at=DURING)

    data = build()

    assert data["changed"] is False
    assert data["summary"].startswith("Nothing changed")
    assert "4 checks ran" in data["summary"]


def test_the_summary_counts_what_changed():
    break_resource(ResourceFactory())
    ItemFactory(resource=ResourceFactory(health=HealthState.MOVED))

    data = build()

    assert data["changed"] is True
    assert "1 link broke" in data["summary"]


def test_history_walks_back_from_todays_totals_through_the_transitions():
    resource = ResourceFactory(health=HealthState.BROKEN)
    HealthTransitionFactory(
        resource=resource,
        from_state=HealthState.HEALTHY,
        to_state=HealthState.BROKEN,
        at=END - timedelta(days=2, hours=12),
    )
    ResourceFactory(health=HealthState.HEALTHY)

    history = build()["history"]

    assert len(history) == 28
    assert history[-1]["at"] == END.isoformat()
    by_day = {point["at"][:10]: point["counts"] for point in history}
    assert by_day["2026-11-20"]["broken"] == 0
    assert by_day["2026-11-20"]["healthy"] == 2
    assert by_day["2026-11-21"]["broken"] == 1
    assert by_day["2026-11-21"]["healthy"] == 1


def test_history_leaves_out_resources_added_later():
    with_created = ResourceFactory(health=HealthState.UNKNOWN)
    type(with_created).objects.filter(pk=with_created.pk).update(created_at=END - timedelta(days=1))

    history = build()["history"]

    by_day = {point["at"][:10]: point["counts"] for point in history}
    assert by_day["2026-11-21"]["unknown"] == 0
    assert by_day["2026-11-23"]["unknown"] == 1
