"""A week of simulated checks through the monitoring engine, then the report a curator gets.

Time moves with time-machine; every check goes through curation.monitoring.record_check, so
health states and transitions are exactly what the engine writes.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from curation.checker.outcomes import CheckResult, Hop, Outcome
from curation.health.recording import record_check
from curation.models import HealthState, LinkReport, PublicationStatus
from curation.tasks import generate_link_report_task
from tests.factories import (
    CollectionFactory,
    CuratorFactory,
    ItemFactory,
    ResourceFactory,
    SectionFactory,
)

WEEK_START = datetime(2026, 11, 16, tzinfo=UTC)  # Monday
WEEK_END = WEEK_START + timedelta(days=7)
TICK = timedelta(hours=12)

pytestmark = [pytest.mark.django_db, pytest.mark.slow]


def ok(url):
    return CheckResult(url=url, outcome=Outcome.OK, status_code=200, final_url=url)


def scenario(name: str, url: str, tick: int) -> CheckResult:
    """What the link farm answers for each kind of resource at the n-th twelve-hour tick."""
    if name == "healthy":
        return ok(url)
    if name == "flaky":  # one 503 on the third tick, fine before and after
        if tick == 2:
            return CheckResult(url=url, outcome=Outcome.SERVER_ERROR, status_code=503, rule="5xx")
        return ok(url)
    if name == "dead_from_day_one":
        if tick == 0:
            return ok(url)
        return CheckResult(url=url, outcome=Outcome.NOT_FOUND, status_code=404, rule="status-404")
    if name == "dns_gone_midweek":
        if tick < 5:
            return ok(url)
        return CheckResult(url=url, outcome=Outcome.DNS_ERROR, error="NXDOMAIN", rule="dns")
    if name == "soft_404":
        if tick == 0:
            return ok(url)
        return CheckResult(
            url=url, outcome=Outcome.SOFT_404, status_code=200, final_url=url, rule="title-404"
        )
    if name == "moved":
        if tick == 0:
            return ok(url)
        new = url.replace("old.test", "new.test")
        return CheckResult(
            url=url,
            outcome=Outcome.REDIRECTED,
            status_code=200,
            final_url=new,
            redirects=[Hop(url=url, status=301), Hop(url=new, status=200)],
            rule="permanent-redirect",
        )
    if name == "bot_wall":
        return CheckResult(url=url, outcome=Outcome.BLOCKED, status_code=403, rule="cf-challenge")
    raise AssertionError(name)


def test_after_a_week_of_checks_the_report_names_what_broke_or_moved_and_nothing_else(
    time_machine, mailoutbox
):
    time_machine.move_to(WEEK_START, tick=False)
    CuratorFactory(email="curator@example.test")
    kinds = {
        "healthy": 8,
        "flaky": 1,
        "dead_from_day_one": 1,
        "dns_gone_midweek": 1,
        "soft_404": 1,
        "moved": 1,
        "bot_wall": 1,
    }
    resources = {}
    for kind, count in kinds.items():
        for n in range(count):
            host = "old.test" if kind == "moved" else f"{kind.replace('_', '-')}.test"
            resources[(kind, n)] = ResourceFactory(
                title=f"{kind} {n}", url=f"https://{host}/page-{n}", health=HealthState.UNKNOWN
            )
    dead = resources[("dead_from_day_one", 0)]
    gone = resources[("dns_gone_midweek", 0)]
    soft = resources[("soft_404", 0)]
    moved = resources[("moved", 0)]
    flaky = resources[("flaky", 0)]
    # "Deep learning" loses two required items; "Statistics" has one moved item; a draft list
    # with a dead item is nobody's problem yet.
    deep = SectionFactory(collection=CollectionFactory(title="Deep learning"))
    ItemFactory(section=deep, resource=dead, required=True)
    ItemFactory(section=deep, resource=gone, required=True)
    ItemFactory(section=deep, resource=resources[("healthy", 0)])
    stats = SectionFactory(collection=CollectionFactory(title="Statistics"))
    ItemFactory(section=stats, resource=moved)
    ItemFactory(section=stats, resource=flaky)
    draft = SectionFactory(
        collection=CollectionFactory(title="Draft list", status=PublicationStatus.DRAFT)
    )
    ItemFactory(section=draft, resource=soft)

    for tick in range(14):
        time_machine.move_to(WEEK_START + tick * TICK + timedelta(minutes=5), tick=False)
        for (kind, _), resource in resources.items():
            record_check(resource.pk, result=scenario(kind, resource.url, tick), source="scheduled")

    time_machine.move_to(WEEK_END + timedelta(hours=6), tick=False)
    generate_link_report_task.apply()
    generate_link_report_task.apply()  # the beat fired twice

    report = LinkReport.objects.get()
    data = report.data
    assert (report.period_start, report.period_end) == (WEEK_START, WEEK_END)
    broken_ids = {item["resource_id"] for item in data["newly_broken"]["items"]}
    assert broken_ids == {dead.pk, gone.pk, soft.pk}
    assert [item["resource_id"] for item in data["moved"]["items"]] == [moved.pk]
    assert data["moved"]["items"][0]["suggested_url"] == "https://new.test/page-0"
    assert [item["resource_id"] for item in data["unverifiable"]["items"]] == [
        resources[("bot_wall", 0)].pk
    ]
    assert [item["resource_id"] for item in data["soft_404"]["items"]] == [soft.pk]
    # No false alarm: the link that failed once is named nowhere.
    assert flaky.pk not in broken_ids
    assert flaky.pk not in {item["resource_id"] for item in data["recovered"]["items"]}
    assert [c["title"] for c in data["collections"]["items"]] == ["Deep learning", "Statistics"]
    every_broken_has_evidence = all(
        item["rule"].startswith("failure-confirmed") and len(item["evidence"]) == 5
        for item in data["newly_broken"]["items"]
    )
    assert every_broken_has_evidence
    assert data["checks"]["total"] == 14 * len(resources)
    assert data["changed"] is True

    [message] = mailoutbox
    for resource in (dead, gone, soft, moved):
        assert resource.title in message.body
        assert resource.url in message.body
    assert "https://new.test/page-0" in message.body
    assert message.body.index("1. Deep learning") < message.body.index("2. Statistics")
    assert flaky.title not in message.body
