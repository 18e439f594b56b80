"""The offline guard judges across tasks: a machine without network changes no health state,
however its first checks are batched, and a network that works still counts dead links."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from curation import outbound
from curation.health import checking, network_window, recording
from curation.models import CheckerIncident, HealthState, HealthTransition, LinkCheck, Resource
from tests.factories import ResourceFactory
from tests.integration.support import allow_loopback, result, server_hosts

pytestmark = pytest.mark.django_db

# Nothing listens on port 9 of these loopback addresses: every connect is refused at once,
# which is what a checker without network sees for every host.
DEAD_HOSTS = [f"127.0.0.{i}:9" for i in range(11, 19)]
DEAD_CANARY = "127.0.0.30:9"

SNAPSHOT = [
    "health", "health_changed_at", "consecutive_failures", "first_failure_at",
    "consecutive_blocked", "consecutive_moves", "suggested_url", "last_checked_at",
    "last_outcome", "last_status_code",
]  # fmt: skip


@pytest.fixture(autouse=True)
def _local_only(settings, tmp_path, monkeypatch):
    # A refused connection is refused on every attempt: without the engine's retries and their
    # backoff the same outcomes come back at once.
    monkeypatch.setattr(checking, "checker_config", lambda: outbound.checker_config(retries=0))
    settings.CELERY_BROKER_IS_REDIS = False
    settings.VAR_DIR = tmp_path
    settings.MONITOR_JITTER = 0.0
    settings.MONITOR_CANARY_URLS = []
    settings.MONITOR_OFFLINE_MIN_HOSTS = 5
    settings.MONITOR_OFFLINE_WINDOW_MINUTES = 30.0
    allow_loopback(settings, *DEAD_HOSTS, DEAD_CANARY)


def snapshot(resource: Resource) -> dict:
    resource.refresh_from_db()
    return {name: getattr(resource, name) for name in SNAPSHOT}


def dead(host: str, **fields) -> Resource:
    return ResourceFactory(url=f"http://{host}/page", **fields)


def recorded_earlier(resource: Resource, outcome: str, *, days: int, **kwargs) -> None:
    """A counted check from before the outage, so that the resource has a past to restore."""
    recording.record_check(
        resource.pk,
        result=result(outcome, url=resource.url, **kwargs),
        source="scheduled",
        checked_at=timezone.now() - timedelta(days=days),
    )


def catalogue() -> list[Resource]:
    """Healthy, new and half-way resources, as a demo catalogue is after a first good day."""
    healthy = [dead(h, health=HealthState.HEALTHY) for h in DEAD_HOSTS[:3]]
    new = [dead(h) for h in DEAD_HOSTS[3:5]]
    moving = dead(DEAD_HOSTS[5])
    recorded_earlier(moving, "redirected", days=2, status=301, final_url="http://moved.test/p")
    failing = dead(DEAD_HOSTS[6])
    recorded_earlier(failing, "not_found", days=1, status=404)
    walled = dead(DEAD_HOSTS[7])
    recorded_earlier(walled, "ok", days=3, status=200)
    recorded_earlier(walled, "blocked", days=2, status=403)
    # The resources with a past go first: their checks are counted before the window fills,
    # so restoring them is what is tested.
    return [moving, failing, walled, *healthy, *new]


def check_in_tasks(resources: list[Resource], size: int) -> None:
    """Check the resources as the workers would, `size` resources per task."""
    for start in range(0, len(resources), size):
        batch = resources[start : start + size]
        checking.check_and_record(
            [(r.pk, uuid.uuid4().hex) for r in batch], dispatched_at=timezone.now()
        )


@pytest.mark.parametrize("size", [1, 2, len(DEAD_HOSTS)], ids=["one-per-task", "pairs", "all"])
@pytest.mark.parametrize("canaries", [[], [f"http://{DEAD_CANARY}/"]], ids=["none", "dead"])
def test_the_offline_guard_holds_every_state_without_network_however_checks_are_batched(
    settings, size, canaries
):
    settings.MONITOR_CANARY_URLS = canaries
    resources = catalogue()
    before = {r.pk: snapshot(r) for r in resources}
    transitions = HealthTransition.objects.count()
    check_in_tasks(resources, size)
    assert {r.pk: snapshot(r) for r in resources} == before
    assert HealthTransition.objects.count() == transitions
    outage = LinkCheck.objects.filter(outcome="connection_error")
    assert outage.count() == len(resources)
    assert not outage.filter(counted=True).exists()  # kept as evidence, never counted
    incident = CheckerIncident.objects.get()
    assert incident.ended_at is None
    assert incident.checks_discarded == len(resources)
    for resource in Resource.objects.filter(pk__in=before):
        # Looked at again soon, when the network may be back, not a week later.
        assert resource.next_check_at < timezone.now() + timedelta(minutes=16)


def test_when_the_network_returns_the_incident_closes_and_checks_count_again(settings, httpserver):
    httpserver.expect_request("/alive").respond_with_data("fine")
    allow_loopback(settings, *DEAD_HOSTS, *server_hosts(httpserver))
    resources = [dead(h, health=HealthState.HEALTHY) for h in DEAD_HOSTS[:5]]
    check_in_tasks(resources, 1)
    assert CheckerIncident.objects.get().ended_at is None
    alive = ResourceFactory(url=httpserver.url_for("/alive"), health=HealthState.UNKNOWN)
    check_in_tasks([alive], 1)
    alive.refresh_from_db()
    assert alive.health == HealthState.HEALTHY
    assert LinkCheck.objects.get(resource=alive).counted
    assert CheckerIncident.objects.get().ended_at is not None
    # The answer proves the network: a dead link checked after it counts as one.
    check_in_tasks(resources[:1], 1)
    assert LinkCheck.objects.filter(resource=resources[0], counted=True).count() == 1
    resources[0].refresh_from_db()
    assert resources[0].health == HealthState.SUSPECT


def test_dead_hosts_count_while_another_host_answered_in_the_window(settings, httpserver):
    httpserver.expect_request("/alive").respond_with_data("fine")
    allow_loopback(settings, *DEAD_HOSTS, *server_hosts(httpserver))
    alive = ResourceFactory(url=httpserver.url_for("/alive"))
    resources = [dead(h, health=HealthState.HEALTHY) for h in DEAD_HOSTS]
    check_in_tasks([alive], 1)
    check_in_tasks(resources, 1)
    assert set(Resource.objects.filter(pk__in=[r.pk for r in resources]).values_list(
        "health", flat=True
    )) == {HealthState.SUSPECT}  # fmt: skip
    assert not LinkCheck.objects.filter(counted=False).exists()
    assert not CheckerIncident.objects.exists()


def test_dead_hosts_count_one_task_each_while_a_canary_answers(settings, httpserver):
    httpserver.expect_request("/canary").respond_with_data("ok")
    allow_loopback(settings, *DEAD_HOSTS, *server_hosts(httpserver))
    settings.MONITOR_CANARY_URLS = [httpserver.url_for("/canary")]
    resources = [dead(h, health=HealthState.HEALTHY) for h in DEAD_HOSTS]
    check_in_tasks(resources, 1)
    assert set(Resource.objects.values_list("health", flat=True)) == {HealthState.SUSPECT}
    assert LinkCheck.objects.filter(counted=True).count() == len(DEAD_HOSTS)
    assert not CheckerIncident.objects.exists()


def test_a_few_dead_hosts_alone_in_the_window_still_count(settings):
    resources = [dead(h, health=HealthState.HEALTHY) for h in DEAD_HOSTS[:4]]
    check_in_tasks(resources, 1)
    assert set(Resource.objects.values_list("health", flat=True)) == {HealthState.SUSPECT}
    assert not CheckerIncident.objects.exists()


def test_failures_older_than_the_window_are_left_as_they_were_counted(settings):
    early = dead(DEAD_HOSTS[0], health=HealthState.HEALTHY)
    with time_machine.travel(timezone.now() - timedelta(minutes=45)):
        check_in_tasks([early], 1)
    early.refresh_from_db()
    assert early.health == HealthState.SUSPECT
    check_in_tasks([dead(h, health=HealthState.HEALTHY) for h in DEAD_HOSTS[1:6]], 1)
    assert CheckerIncident.objects.get().ended_at is None
    early.refresh_from_db()
    assert early.health == HealthState.SUSPECT
    assert LinkCheck.objects.get(resource=early).counted


def test_a_failure_after_a_newer_answer_of_the_same_resource_is_not_undone(settings, httpserver):
    httpserver.expect_request("/alive").respond_with_data("fine")
    allow_loopback(settings, *DEAD_HOSTS, *server_hosts(httpserver))
    resources = [dead(h, health=HealthState.HEALTHY) for h in DEAD_HOSTS[:4]]
    check_in_tasks(resources, 1)
    # One of them answers again (a flaky host): the network worked then, so the failures
    # before that answer stay counted, and only what follows can show an outage.
    recording.record_check(
        resources[0].pk, result=result("ok", url=resources[0].url, status=200), source="manual"
    )
    check_in_tasks([dead(h, health=HealthState.HEALTHY) for h in DEAD_HOSTS[4:]], 1)
    assert not CheckerIncident.objects.exists()
    assert LinkCheck.objects.filter(outcome="connection_error", counted=True).count() == 8


def test_the_window_reads_every_task_and_an_answer_in_it_proves_the_network():
    failing = [dead(h) for h in DEAD_HOSTS[:4]]
    for resource in failing:
        recording.record_check(
            resource.pk, result=result("dns_error", url=resource.url), source="scheduled"
        )
    pending = [result("timeout", url="http://127.0.0.15:9/x"), result("check_error")]
    reading = network_window.read_window(pending=pending)
    assert reading.failed_hosts == {f"127.0.0.{i}" for i in range(11, 16)}
    assert reading.offline
    recording.record_check(
        failing[0].pk, result=result("not_found", url=failing[0].url, status=404), source="manual"
    )
    reading = network_window.read_window(pending=pending)
    assert reading.answered
    assert not reading.offline
