"""Monitoring services: recording, idempotency, dispatch and lease, guard, snooze, retention."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from curation.catalog.services import DuplicateResource
from curation.checker.outcomes import Hop
from curation.health import actions, checking, dispatch, recording, retention
from curation.models import (
    CheckerIncident,
    HealthState,
    HealthTransition,
    LinkCheck,
    PublicationStatus,
    Resource,
)
from tests.factories import LinkCheckFactory, ResourceFactory
from tests.integration.support import (
    allow_loopback,
    result,
    server_hosts,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _local_only(monkeypatch, settings, tmp_path):
    settings.CELERY_BROKER_IS_REDIS = False
    settings.VAR_DIR = tmp_path
    settings.MONITOR_JITTER = 0.0


def record(resource, outcome, **kwargs):
    token = kwargs.pop("token", "")
    dispatched_at = kwargs.pop("dispatched_at", None)
    return recording.record_check(
        resource.pk,
        result=result(outcome, url=resource.url, **kwargs),
        source="scheduled",
        dispatch_token=token,
        dispatched_at=dispatched_at,
    )


# --- Recording ---------------------------------------------------------------------------------


def test_it_records_a_check_and_its_transition():
    resource = ResourceFactory(health=HealthState.UNKNOWN)
    check = record(resource, "ok", status=200)
    resource.refresh_from_db()
    assert resource.health == HealthState.HEALTHY
    assert resource.last_outcome == "ok"
    assert resource.last_status_code == 200
    assert resource.last_checked_at == check.checked_at
    assert resource.next_check_at == check.checked_at + timedelta(days=7)
    transition = HealthTransition.objects.get(resource=resource)
    assert (transition.from_state, transition.to_state) == ("unknown", "healthy")
    assert transition.link_check == check


def test_it_marks_a_link_broken_after_three_failures_over_two_days():
    resource = ResourceFactory()
    with time_machine.travel("2026-01-01 00:00Z", tick=False) as traveller:
        for _ in range(3):
            record(resource, "not_found", status=404)
            traveller.shift(timedelta(hours=24))
    resource.refresh_from_db()
    assert resource.health == HealthState.BROKEN
    assert resource.consecutive_failures == 3
    states = list(
        HealthTransition.objects.filter(resource=resource)
        .order_by("at")
        .values_list("from_state", "to_state")
    )
    assert states == [("healthy", "suspect"), ("suspect", "broken")]


def test_a_redelivered_result_is_not_counted_twice():
    resource = ResourceFactory()
    first = record(resource, "not_found", token="tok-1")
    again = record(resource, "not_found", token="tok-1")
    resource.refresh_from_db()
    assert first is not None and again is None
    assert resource.consecutive_failures == 1
    assert LinkCheck.objects.filter(resource=resource).count() == 1


def test_a_late_duplicate_dispatch_is_kept_as_evidence_but_not_counted():
    resource = ResourceFactory()
    with time_machine.travel("2026-01-01 00:00Z", tick=False) as traveller:
        dispatched_early = timezone.now()
        traveller.shift(timedelta(minutes=40))
        record(resource, "ok", token="second-dispatch", dispatched_at=timezone.now())
        traveller.shift(timedelta(minutes=5))
        late = record(resource, "not_found", token="first-dispatch", dispatched_at=dispatched_early)
    resource.refresh_from_db()
    assert late.counted is False
    assert resource.health == HealthState.HEALTHY
    assert resource.consecutive_failures == 0


def test_an_older_result_never_overwrites_a_newer_one():
    resource = ResourceFactory()
    now = timezone.now()
    record(resource, "ok")
    old = recording.record_check(
        resource.pk,
        result=result("not_found", url=resource.url),
        source="command",
        checked_at=now - timedelta(hours=1),
    )
    resource.refresh_from_db()
    assert old.counted is False
    assert resource.last_outcome == "ok"


def test_it_returns_none_when_the_resource_is_gone():
    assert recording.record_check(987654, result=result("ok"), source="command") is None


def test_bulk_recording_handles_two_results_for_one_resource_in_order():
    resource = ResourceFactory()
    base = timezone.now()
    entries = [
        recording.CheckEntry(resource.pk, result("not_found"), dispatch_token="a", checked_at=base),
        recording.CheckEntry(
            resource.pk, result("ok"), dispatch_token="b", checked_at=base + timedelta(seconds=1)
        ),
    ]
    checks = recording.record_checks(entries)
    resource.refresh_from_db()
    assert all(c.counted for c in checks)
    assert resource.health == HealthState.HEALTHY
    assert HealthTransition.objects.filter(resource=resource).count() == 2


def test_redirect_evidence_is_stored_and_a_confirmed_move_suggests_the_address():
    resource = ResourceFactory(url="https://old.example/page")
    hops = [Hop("https://old.example/page", 301), Hop("https://new.example/page", 200)]
    for _ in range(2):
        record(resource, "redirected", final_url="https://new.example/page", redirects=hops)
    resource.refresh_from_db()
    assert resource.health == HealthState.MOVED
    assert resource.suggested_url == "https://new.example/page"
    check = resource.checks.first()
    assert check.redirect_chain == [
        {"url": "https://old.example/page", "status": 301},
        {"url": "https://new.example/page", "status": 200},
    ]


# --- Claiming and dispatch -----------------------------------------------------------------------


def test_due_resources_are_claimed_once():
    due = ResourceFactory.create_batch(3, next_check_at=None)
    ResourceFactory(next_check_at=timezone.now() + timedelta(days=1))
    ResourceFactory(next_check_at=None, status=PublicationStatus.ARCHIVED)
    first = dispatch.claim_due_resources(limit=10)
    second = dispatch.claim_due_resources(limit=10)
    assert sorted(pk for pk, _ in first) == sorted(r.pk for r in due)
    assert second == []


def test_an_expired_lease_makes_the_resource_due_again():
    resource = ResourceFactory(next_check_at=None)
    with time_machine.travel("2026-01-01 00:00Z", tick=False) as traveller:
        assert [pk for pk, _ in dispatch.claim_due_resources(limit=5)] == [resource.pk]
        # The message was lost between the commit and the broker: nobody records a result.
        traveller.shift(timedelta(seconds=60))
        assert dispatch.claim_due_resources(limit=5) == []
        traveller.shift(timedelta(minutes=31))
        assert [pk for pk, _ in dispatch.claim_due_resources(limit=5)] == [resource.pk]


def test_dispatch_enqueues_each_due_resource_once_in_batches(
    settings, django_capture_on_commit_callbacks
):
    settings.MONITOR_BATCH_SIZE = 4
    ResourceFactory.create_batch(10, next_check_at=None)
    batches = []
    with django_capture_on_commit_callbacks(execute=True):
        count = dispatch.dispatch_due_checks(enqueue=lambda items, at: batches.append(items))
    # A doubled tick right after: nothing is due any more.
    with django_capture_on_commit_callbacks(execute=True):
        again = dispatch.dispatch_due_checks(enqueue=lambda items, at: batches.append(items))
    ids = [pk for batch in batches for pk, _ in batch]
    assert count == 10 and again == 0
    assert [len(b) for b in batches] == [4, 4, 2]
    assert len(set(ids)) == 10
    assert len({token for batch in batches for _, token in batch}) == 10


def test_dispatch_respects_its_limit_and_leaves_the_rest_due(django_capture_on_commit_callbacks):
    ResourceFactory.create_batch(7, next_check_at=None)
    with django_capture_on_commit_callbacks(execute=True):
        count = dispatch.dispatch_due_checks(enqueue=lambda items, at: None, limit=5)
    assert count == 5
    assert Resource.objects.due_for_check(timezone.now()).count() == 2


def test_recording_a_scheduled_check_releases_the_lease_and_reschedules():
    resource = ResourceFactory(next_check_at=None)
    [(_pk, token)] = dispatch.claim_due_resources(limit=1)
    record(resource, "ok", token=token)
    resource.refresh_from_db()
    assert resource.check_lease_until is None
    assert resource.next_check_at > timezone.now() + timedelta(days=6)


def test_unrecorded_items_skip_done_tokens_and_deleted_rows():
    kept, done, gone = ResourceFactory.create_batch(3)
    record(done, "ok", token="t-done")
    gone_id = gone.pk
    gone.delete()
    items = [(kept.pk, "t-kept"), (done.pk, "t-done"), (gone_id, "t-gone")]
    assert dispatch.unrecorded_items(items) == [(kept.pk, "t-kept")]


# --- Checking through the engine, and the offline guard ---------------------------------------


def test_check_and_record_checks_real_urls(settings, httpserver):
    httpserver.expect_request("/alive").respond_with_data(
        "<title>hi</title>", content_type="text/html"
    )
    httpserver.expect_request("/gone").respond_with_data("nope", status=404)
    allow_loopback(settings, *server_hosts(httpserver))
    alive = ResourceFactory(url=httpserver.url_for("/alive"), health=HealthState.UNKNOWN)
    gone = ResourceFactory(url=httpserver.url_for("/gone"), health=HealthState.HEALTHY)
    count = checking.check_and_record([(alive.pk, "a"), (gone.pk, "b")])
    alive.refresh_from_db()
    gone.refresh_from_db()
    assert count == 2
    assert alive.health == HealthState.HEALTHY
    assert gone.health == HealthState.SUSPECT
    assert gone.last_status_code == 404


def engine_bug(monkeypatch) -> None:
    """Make the engine fail from the inside, the way a bug of ours would, on every page."""
    from curation.checker import engine

    def broken_classifier(*args, **kwargs):
        raise RuntimeError("bug in the classifier")

    monkeypatch.setattr(engine, "classify", broken_classifier)
    # The page GET is judged by page_verdict (classify with its confidence, for the probe).
    monkeypatch.setattr(engine, "page_verdict", broken_classifier)


def test_an_engine_bug_is_a_check_error_that_leaves_health_unchanged(
    settings, httpserver, monkeypatch, caplog
):
    httpserver.expect_request("/page").respond_with_data("fine", content_type="text/html")
    allow_loopback(settings, *server_hosts(httpserver))
    resource = ResourceFactory(url=httpserver.url_for("/page"), health=HealthState.SUSPECT)
    first_failure = timezone.now() - timedelta(days=3)
    Resource.objects.filter(pk=resource.pk).update(
        consecutive_failures=2, first_failure_at=first_failure
    )
    engine_bug(monkeypatch)
    assert checking.check_and_record([(resource.pk, "tok")]) == 1
    resource.refresh_from_db()
    check = LinkCheck.objects.get(resource=resource)
    assert (check.outcome, check.rule) == ("check_error", "unexpected-error")
    assert "RuntimeError: bug in the classifier" in check.error
    assert resource.health == HealthState.SUSPECT
    assert resource.consecutive_failures == 2
    assert resource.first_failure_at == first_failure
    assert HealthTransition.objects.count() == 0
    assert "unexpected error checking" in caplog.text


def test_check_errors_say_nothing_about_the_network():
    from curation.checker.outcomes import CheckResult, Outcome

    errors = [
        CheckResult(url=f"https://host{i}.example/", outcome=Outcome.CHECK_ERROR) for i in range(6)
    ]
    dead = [CheckResult(url="https://dead.example/", outcome=Outcome.CONNECTION_ERROR)]
    verdict = checking.assess_network([*errors, *dead], canary_check=None)
    assert not verdict.offline
    assert not verdict.reached_network  # so an open incident is not closed by them either


def dead_hosts(settings, count: int) -> list[Resource]:
    # Nothing listens on port 9 of these loopback addresses: every connect is refused, which
    # is what a checker without network sees for every host.
    hosts = [f"127.0.0.{i}:9" for i in range(11, 11 + count)]
    allow_loopback(settings, *hosts)
    return [
        ResourceFactory(url=f"http://{host}/page", health=HealthState.HEALTHY, next_check_at=None)
        for host in hosts
    ]


def test_with_the_network_to_every_host_failing_no_state_changes(settings):
    resources = dead_hosts(settings, 6)
    items = dispatch.claim_due_resources(limit=10)
    checking.check_and_record(items, dispatched_at=timezone.now())
    for resource in resources:
        resource.refresh_from_db()
        assert resource.health == HealthState.HEALTHY
        assert resource.consecutive_failures == 0
        assert resource.check_lease_until is None
        # Retried later, not a week later.
        assert resource.next_check_at < timezone.now() + timedelta(minutes=16)
    assert HealthTransition.objects.count() == 0
    assert LinkCheck.objects.filter(counted=False).count() == 6
    incident = CheckerIncident.objects.get()
    assert incident.ended_at is None
    assert incident.checks_discarded == 6
    assert "6 of 6 hosts" in incident.reason


def test_a_few_dead_hosts_are_not_an_outage(settings):
    resources = dead_hosts(settings, 2)
    checking.check_and_record([(r.pk, f"t{r.pk}") for r in resources])
    assert CheckerIncident.objects.count() == 0
    assert set(Resource.objects.values_list("health", flat=True)) == {HealthState.SUSPECT}


def test_a_canary_that_answers_proves_the_network_works(settings, httpserver):
    httpserver.expect_request("/canary").respond_with_data("ok")
    resources = dead_hosts(settings, 6)
    settings.LINKCHECK_ALLOWED_INTERNAL_HOSTS |= server_hosts(httpserver)
    settings.MONITOR_CANARY_URLS = [httpserver.url_for("/canary")]
    checking.check_and_record([(r.pk, f"t{r.pk}") for r in resources])
    assert CheckerIncident.objects.count() == 0
    assert set(Resource.objects.values_list("health", flat=True)) == {HealthState.SUSPECT}


def test_dead_canaries_mark_the_run_offline_and_a_good_run_ends_the_incident(settings, httpserver):
    httpserver.expect_request("/alive").respond_with_data("fine")
    resources = dead_hosts(settings, 1)
    settings.MONITOR_CANARY_URLS = ["http://127.0.0.20:9/canary"]
    settings.LINKCHECK_ALLOWED_INTERNAL_HOSTS |= {"127.0.0.20:9", *server_hosts(httpserver)}
    checking.check_and_record([(resources[0].pk, "t1")])
    resources[0].refresh_from_db()
    assert resources[0].health == HealthState.HEALTHY
    assert CheckerIncident.objects.get().ended_at is None
    alive = ResourceFactory(url=httpserver.url_for("/alive"))
    checking.check_and_record([(alive.pk, "t2")])
    assert CheckerIncident.objects.get().ended_at is not None


# --- Curator actions ---------------------------------------------------------------------------


def test_snoozing_a_broken_link_marks_it_not_broken_and_keeps_it_so():
    resource = ResourceFactory(
        health=HealthState.BROKEN,
        consecutive_failures=5,
        first_failure_at=timezone.now() - timedelta(days=10),
    )
    actions.snooze_resource(resource.pk, until=timezone.now() + timedelta(days=30))
    record(resource, "not_found")
    resource.refresh_from_db()
    assert resource.health == HealthState.SUSPECT
    transition = HealthTransition.objects.filter(resource=resource).first()
    assert transition.to_state == HealthState.SUSPECT
    assert "snoozed" in transition.reason or "snoozed" in transition.reason.lower()


def test_applying_a_moved_address_keeps_the_old_one_in_history():
    resource = ResourceFactory(url="https://old.example/page")
    for _ in range(2):
        record(resource, "redirected", final_url="https://new.example/page")
    actions.apply_suggested_url(resource.pk, by="curator1")
    resource.refresh_from_db()
    assert resource.url == "https://new.example/page"
    assert resource.normalized_url.startswith("https://new.example/")
    assert resource.health == HealthState.HEALTHY
    assert resource.suggested_url == ""
    transition = HealthTransition.objects.filter(resource=resource).first()
    assert "https://old.example/page" in transition.reason
    assert transition.link_check.url == "https://old.example/page"


def test_applying_a_move_onto_an_existing_resource_is_refused():
    ResourceFactory(url="https://new.example/page")
    resource = ResourceFactory(url="https://old.example/page")
    for _ in range(2):
        record(resource, "redirected", final_url="https://new.example/page")
    with pytest.raises(DuplicateResource):
        actions.apply_suggested_url(resource.pk)


def test_applying_without_a_confirmed_move_is_refused():
    resource = ResourceFactory()
    with pytest.raises(actions.MonitoringError):
        actions.apply_suggested_url(resource.pk)


# --- Retention ------------------------------------------------------------------------------


def test_pruning_keeps_transition_evidence_and_the_newest_checks():
    resource = ResourceFactory()
    now = timezone.now()
    old = [
        LinkCheckFactory(resource=resource, checked_at=now - timedelta(days=200 + i))
        for i in range(5)
    ]
    evidence = old[4]
    HealthTransition.objects.create(
        resource=resource, from_state="healthy", to_state="suspect", at=evidence.checked_at,
        link_check=evidence,
    )  # fmt: skip
    recent = LinkCheckFactory(resource=resource, checked_at=now)
    deleted = retention.prune_checks(older_than_days=90, keep_per_resource=2)
    remaining = set(LinkCheck.objects.values_list("pk", flat=True))
    # Newest two are `recent` and old[0]; evidence survives whatever its age.
    assert remaining == {recent.pk, old[0].pk, evidence.pk}
    assert deleted == 3


def test_pruning_with_no_per_resource_floor_deletes_every_old_unreferenced_check():
    resource = ResourceFactory()
    LinkCheckFactory.create_batch(
        3, resource=resource, checked_at=timezone.now() - timedelta(days=100)
    )
    assert retention.prune_checks(older_than_days=90, keep_per_resource=0) == 3
