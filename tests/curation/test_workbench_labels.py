"""Every health label and explanation in the workbench follows from the recorded checks.

Each test records real checks through the recording service (the workers' write path), then
reads the resource's change page and the list page as a curator and checks the wording
against the evidence. The thresholds are set here so the sentences can be stated exactly.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from bs4 import BeautifulSoup
from django.urls import reverse

from curation.checker.outcomes import CheckResult, Hop, Outcome
from curation.health.actions import snooze_resource
from curation.health.recording import CheckEntry, record_checks
from curation.models import HealthState, Resource
from tests.factories import ResourceFactory

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
NEW_URL = "https://example.test/new-home"


@pytest.fixture(autouse=True)
def policy(settings):
    settings.MONITOR_BROKEN_MIN_FAILURES = 3
    settings.MONITOR_BROKEN_MIN_HOURS = 48
    settings.MONITOR_MOVED_MIN_CHECKS = 2
    settings.MONITOR_UNVERIFIABLE_MIN_BLOCKED = 3
    settings.MONITOR_JITTER = 0


@pytest.fixture
def resource(time_machine) -> Resource:
    time_machine.move_to(T0 + timedelta(days=5), tick=False)
    # A new resource starts unknown, with nothing recorded.
    return ResourceFactory(health=HealthState.UNKNOWN, title="Under test")


def record(resource, outcome, status=None, *, at, final_url=None, offline=False) -> None:
    redirects = [Hop(url=resource.url, status=301)] if final_url else []
    result = CheckResult(
        url=resource.url,
        outcome=Outcome(outcome),
        status_code=status,
        final_url=final_url,
        redirects=redirects,
    )
    record_checks(
        [CheckEntry(resource_id=resource.pk, result=result, checked_at=at)], offline=offline
    )


def text_of(html: str) -> str:
    text = re.sub(r"\s+", " ", BeautifulSoup(html, "html.parser").get_text(" "))
    # get_text puts a space after every element, <time> included: "ago) ;" reads "ago);".
    return re.sub(r" ([;.,)])", r"\1", text)


def pages(client, resource) -> tuple[str, str]:
    """The change page and the list page, as text a curator reads."""
    change = client.get(reverse("admin:curation_resource_change", args=[resource.pk]))
    listing = client.get(reverse("admin:curation_resource_changelist"))
    assert change.status_code == listing.status_code == 200
    return text_of(change.content.decode()), text_of(listing.content.decode())


def assert_no_false_plural(page: str) -> None:
    assert not re.search(r"\b1 (failed checks|failures|checks|blocked checks|times)\b", page)


def test_a_resource_never_checked_says_so(curator_client, resource):
    page, listing = pages(curator_client, resource)

    assert "Unknown (never checked)" in page and "Unknown (never checked)" in listing
    assert "Never checked: no check of this address is on record yet" in page
    assert "Failure streak: 0 failed checks in a row; blocked streak: 0 blocked checks" in page


def test_a_resource_blocked_once_is_not_called_never_checked(curator_client, resource):
    record(resource, "blocked", 403, at=T0)

    page, listing = pages(curator_client, resource)

    assert "never checked" not in page.lower() and "never checked" not in listing.lower()
    assert "Unknown (blocked 1 of 3)" in page and "Unknown (blocked 1 of 3)" in listing
    assert (
        "Unknown: blocked by the site (HTTP 403) on 1 check; 2 more blocked in a row before it "
        "is called unverifiable." in page
    )
    assert "blocked streak: 1 blocked check in a row" in page
    assert_no_false_plural(page)


def test_one_failure_reads_in_the_singular_and_agrees_with_the_streak(curator_client, resource):
    record(resource, "not_found", 404, at=T0)

    page, listing = pages(curator_client, resource)

    assert "Suspect (1 failure)" in page and "Suspect (1 failure)" in listing
    assert (
        "Suspect: 1 failed check in a row, the last not_found 404, the first 1 Dec 2026, 09:00 UTC"
        in page
    )
    assert "Failure streak: 1 failed check in a row" in page
    assert_no_false_plural(page)


def test_failing_below_the_threshold_says_what_broken_still_needs(curator_client, resource):
    record(resource, "not_found", 404, at=T0)
    record(resource, "server_error", 503, at=T0 + timedelta(hours=12))

    page, listing = pages(curator_client, resource)

    assert "Suspect (2 failures)" in page and "Suspect (2 failures)" in listing
    assert (
        "2 failed checks in a row, the last server_error 503, the first 1 Dec 2026, 09:00 UTC "
        "(5 days ago)" in page
    )
    assert (
        "broken needs 3 failed checks spanning at least 48 h: 1 more, and not before "
        "3 Dec 2026, 09:00 UTC" in page
    )
    assert "Failure streak: 2 failed checks in a row" in page
    # The transition's own reason ("1 consecutive failure") is not repeated as the why.
    assert "consecutive failures" not in page


def test_a_blocked_check_after_failures_keeps_the_streak_and_says_the_wall(
    curator_client, resource
):
    record(resource, "not_found", 404, at=T0)
    record(resource, "not_found", 404, at=T0 + timedelta(hours=12))
    record(resource, "blocked", 403, at=T0 + timedelta(hours=24))

    page, _ = pages(curator_client, resource)

    assert (
        "Suspect: 2 failed checks in a row, the first 1 Dec 2026, 09:00 UTC (5 days ago);" in page
    )
    assert "Failure streak: 2 failed checks in a row" in page
    assert "The last 1 check was blocked by the site (HTTP 403)" in page
    assert "2 more in a row and it is called unverifiable" in page


def test_a_broken_link_shows_the_streak_that_broke_it(curator_client, resource):
    for hours in (0, 24, 49):
        record(resource, "not_found", 404, at=T0 + timedelta(hours=hours))

    page, listing = pages(curator_client, resource)

    assert "Broken" in listing
    assert (
        "Broken: 3 failed checks in a row, the last not_found 404, the first 1 Dec 2026, 09:00 UTC"
        in page
    )
    assert "Failure streak: 3 failed checks in a row" in page
    assert "Suspect" not in page.split("Last change")[0]


def test_a_moved_link_names_its_new_address_and_offers_it(curator_client, resource):
    record(resource, "redirected", 200, at=T0, final_url=NEW_URL)
    record(resource, "redirected", 200, at=T0 + timedelta(hours=12), final_url=NEW_URL)

    page, listing = pages(curator_client, resource)

    assert "Moved" in listing
    assert f"Moved: a permanent redirect to {NEW_URL} on 2 checks in a row (moved from 2)." in page
    assert "Apply the new address" in page


def test_a_redirect_seen_once_is_healthy_and_says_what_moved_needs(curator_client, resource):
    record(resource, "redirected", 200, at=T0, final_url=NEW_URL)

    page, _ = pages(curator_client, resource)

    assert (
        f"permanent redirect to {NEW_URL}, seen on 1 check in a row; it is called moved after 2"
        in page
    )


def test_repeated_bot_walls_make_a_link_unverifiable(curator_client, resource):
    for hours in (0, 12, 24):
        record(resource, "blocked", 403, at=T0 + timedelta(hours=hours))

    page, listing = pages(curator_client, resource)

    assert "Unverifiable (blocked 3 times)" in page and "Unverifiable (blocked 3 times)" in listing
    assert "Unverifiable: blocked by the site on 3 checks in a row (unverifiable from 3)" in page


def test_a_recovered_link_is_healthy_and_says_from_what(curator_client, resource):
    for hours in (0, 24, 49):
        record(resource, "not_found", 404, at=T0 + timedelta(hours=hours))
    record(resource, "ok", 200, at=T0 + timedelta(hours=60))

    page, listing = pages(curator_client, resource)

    assert "Healthy" in listing
    assert "Healthy: the link answered" in page
    assert "Recovered from Broken 3 Dec 2026, 21:00 UTC" in page
    assert "Failure streak: 0 failed checks in a row" in page


def test_a_snoozed_link_says_why_it_is_not_broken(curator_client, resource):
    record(resource, "not_found", 404, at=T0)
    record(resource, "not_found", 404, at=T0 + timedelta(hours=24))
    snooze_resource(resource.pk, until=T0 + timedelta(days=30))
    record(resource, "not_found", 404, at=T0 + timedelta(hours=49))

    page, listing = pages(curator_client, resource)

    assert "Suspect (3 failures, snoozed)" in page and "Suspect (3 failures, snoozed)" in listing
    assert "a curator marked it not broken until 31 Dec 2026, 09:00 UTC" in page
    assert "Failure streak: 3 failed checks in a row" in page


def test_checks_while_the_checker_was_offline_are_shown_as_not_counted(curator_client, resource):
    record(resource, "dns_error", at=T0, offline=True)
    record(resource, "dns_error", at=T0 + timedelta(minutes=15), offline=True)

    page, listing = pages(curator_client, resource)

    assert "never checked" not in page.lower() and "never checked" not in listing.lower()
    assert "Unknown (checks not counted)" in page and "Unknown (checks not counted)" in listing
    assert "Unknown: 2 checks on record, none counted (the checker was offline" in page


def test_uncounted_checks_after_a_verdict_do_not_change_its_wording(curator_client, resource):
    record(resource, "ok", 200, at=T0)
    record(resource, "dns_error", at=T0 + timedelta(hours=1), offline=True)

    page, listing = pages(curator_client, resource)

    assert "Healthy" in listing
    assert "Healthy: the link answered" in page
    assert "1 check since then was not counted" in page


def test_an_address_the_checker_may_not_contact_is_unverifiable_for_that_reason(
    curator_client, resource
):
    record(resource, "forbidden_target", at=T0)

    page, listing = pages(curator_client, resource)

    assert "Unverifiable (address not checkable)" in listing
    assert (
        "Unverifiable: the checker may not or cannot check this address (forbidden_target)" in page
    )


def test_a_check_error_on_a_new_resource_says_the_failure_was_ours(curator_client, resource):
    record(resource, "check_error", at=T0)

    page, listing = pages(curator_client, resource)

    assert "Unknown (the check itself failed)" in listing
    assert "Unknown: the last check failed on our side (check error)" in page
