"""Tasks in-process (eager): thin adapters, redelivery cap, enqueue after commit, schedules."""

from __future__ import annotations

import uuid

import pytest
from django.core.management import call_command
from django_celery_beat.models import IntervalSchedule, PeriodicTask

from config.celery import app
from curation import enqueue, tasks
from curation.health import dispatch
from curation.models import HealthState, LinkCheck
from curation.schedules import default_schedules, ensure_default_schedules
from tests.factories import ResourceFactory
from tests.integration.support import (
    allow_loopback,
    server_hosts,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _eager(monkeypatch, settings, tmp_path):
    settings.CELERY_BROKER_IS_REDIS = False
    settings.VAR_DIR = tmp_path
    saved = (app.conf.task_always_eager, app.conf.task_eager_propagates)
    app.conf.task_always_eager = app.conf.task_eager_propagates = True
    yield
    app.conf.task_always_eager, app.conf.task_eager_propagates = saved


@pytest.fixture
def site(settings, httpserver):
    httpserver.expect_request("/ok").respond_with_data("fine")
    allow_loopback(settings, *server_hosts(httpserver))
    return httpserver


def test_check_task_records_the_result(site):
    resource = ResourceFactory(url=site.url_for("/ok"), health=HealthState.UNKNOWN)
    tasks.check_resources_task.apply(kwargs={"items": [[resource.pk, "tok"]]})
    resource.refresh_from_db()
    assert resource.health == HealthState.HEALTHY
    assert LinkCheck.objects.get(resource=resource).dispatch_token == "tok"


def test_check_task_returns_quietly_when_the_resource_is_gone():
    outcome = tasks.check_resources_task.apply(kwargs={"items": [[424242, "tok"]]})
    assert outcome.successful()
    assert outcome.result == 0


def test_a_task_that_keeps_killing_its_worker_is_recorded_as_a_check_error(settings, site):
    settings.MONITOR_MAX_DELIVERIES = 3
    resource = ResourceFactory(url=site.url_for("/ok"), health=HealthState.SUSPECT)
    task_id = str(uuid.uuid4())
    for _ in range(3):  # three deliveries that died before recording anything
        dispatch.count_delivery(f"{task_id}:0")
    tasks.check_resources_task.apply(kwargs={"items": [[resource.pk, "tok"]]}, task_id=task_id)
    check = LinkCheck.objects.get(resource=resource)
    resource.refresh_from_db()
    assert check.outcome == "check_error"
    assert "interrupted 3 times" in check.error
    assert resource.health == HealthState.SUSPECT
    assert resource.check_lease_until is None
    assert resource.next_check_at is not None


def test_a_redelivered_batch_is_split_so_one_bad_url_cannot_sink_the_others(site):
    resources = [ResourceFactory(url=site.url_for(f"/ok?n={index}")) for index in range(3)]
    task_id = str(uuid.uuid4())
    dispatch.count_delivery(f"{task_id}:0")  # the first delivery died
    items = [[r.pk, f"tok-{r.pk}"] for r in resources]
    tasks.check_resources_task.apply(kwargs={"items": items}, task_id=task_id)
    assert LinkCheck.objects.filter(outcome="ok").count() == 3


def test_redelivery_after_a_recorded_batch_does_nothing(site):
    resource = ResourceFactory(url=site.url_for("/ok"))
    kwargs = {"items": [[resource.pk, "tok"]]}
    task_id = str(uuid.uuid4())
    tasks.check_resources_task.apply(kwargs=kwargs, task_id=task_id)
    tasks.check_resources_task.apply(kwargs=kwargs, task_id=task_id)
    assert LinkCheck.objects.filter(resource=resource).count() == 1


def test_check_now_enqueues_after_commit(site, django_capture_on_commit_callbacks):
    resource = ResourceFactory(url=site.url_for("/ok"))
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        assert enqueue.enqueue_checks([resource.pk, 999999]) == 1
    assert LinkCheck.objects.count() == 0  # nothing ran before the commit
    for callback in callbacks:
        callback()
    assert LinkCheck.objects.get(resource=resource).source == "manual"


def test_the_dispatcher_task_checks_what_is_due(site, django_capture_on_commit_callbacks):
    due = ResourceFactory(url=site.url_for("/ok"), next_check_at=None, health=HealthState.UNKNOWN)
    with django_capture_on_commit_callbacks(execute=True):
        assert tasks.dispatch_due_checks_task.apply().result == 1
    due.refresh_from_db()
    assert due.health == HealthState.HEALTHY
    assert due.checks.get().source == "scheduled"


def test_a_new_resource_gets_its_first_check_and_its_metadata(
    site, django_capture_on_commit_callbacks
):
    site.expect_request("/described").respond_with_data(
        "<html><head><title>Kernels, explained</title></head><body>hi</body></html>",
        content_type="text/html",
    )
    resource = ResourceFactory(url=site.url_for("/described"), title="", health=HealthState.UNKNOWN)
    with django_capture_on_commit_callbacks(execute=True):
        enqueue.enqueue_new_address_work(resource.pk)
    resource.refresh_from_db()
    assert resource.health == HealthState.HEALTHY
    assert resource.title == "Kernels, explained"
    assert resource.metadata_fetched_at is not None


def test_the_metadata_task_fills_blank_fields_through_the_service(site):
    site.expect_request("/page").respond_with_data(
        '<html lang="fr"><head><title>Les noyaux</title>'
        '<meta name="description" content="Un guide."></head><body>x</body></html>',
        content_type="text/html",
    )
    resource = ResourceFactory(url=site.url_for("/page"), title="Mine", description="")
    outcome = tasks.refresh_metadata_task.apply(args=[resource.pk])
    resource.refresh_from_db()
    assert outcome.result == ["description", "language"]
    assert (resource.title, resource.description, resource.language) == (
        "Mine",
        "Un guide.",
        "fr",
    )


def test_the_metadata_task_returns_quietly_when_the_resource_is_gone():
    outcome = tasks.refresh_metadata_task.apply(args=[424242])
    assert outcome.successful()
    assert outcome.result is None


def test_enqueue_metadata_refresh_counts_existing_resources(site):
    resource = ResourceFactory(url=site.url_for("/ok"))
    assert enqueue.enqueue_metadata_refresh([resource.pk, 999999]) == 1


# --- Delivery counting ---------------------------------------------------------------------------


def test_deliveries_are_counted_per_key():
    key = str(uuid.uuid4())
    assert [dispatch.count_delivery(key) for _ in range(3)] == [1, 2, 3]
    assert dispatch.count_delivery(key + "-other") == 1


@pytest.mark.redis
def test_deliveries_are_counted_in_redis_when_it_is_the_broker(settings, redis_url, redis_client):
    settings.CELERY_BROKER_IS_REDIS = True
    settings.REDIS_URL = redis_url
    key = str(uuid.uuid4())
    assert [dispatch.count_delivery(key) for _ in range(2)] == [1, 2]
    assert int(redis_client.get(dispatch.DELIVERY_KEY_PREFIX + key)) == 2
    assert redis_client.ttl(dispatch.DELIVERY_KEY_PREFIX + key) > 0
    redis_client.delete(dispatch.DELIVERY_KEY_PREFIX + key)


# --- Schedules and commands -------------------------------------------------------------------


def test_default_schedules_are_created_once_and_never_overwritten():
    assert ensure_default_schedules() == [s.name for s in default_schedules()]
    assert PeriodicTask.objects.count() == len(default_schedules())
    dispatcher = PeriodicTask.objects.get(task="curation.dispatch_due_checks")
    # A curator slows the dispatcher down and disables pruning in the admin.
    slower, _ = IntervalSchedule.objects.get_or_create(every=300, period=IntervalSchedule.SECONDS)
    dispatcher.interval = slower
    dispatcher.save()
    PeriodicTask.objects.filter(task="curation.prune_checks").update(enabled=False)
    assert ensure_default_schedules() == []
    dispatcher.refresh_from_db()
    assert dispatcher.interval.every == 300
    assert not PeriodicTask.objects.get(task="curation.prune_checks").enabled
    assert PeriodicTask.objects.filter(task__startswith="curation.").count() == len(
        default_schedules()
    )


def test_ensure_schedules_command_is_idempotent(capsys):
    call_command("ensure_schedules")
    call_command("ensure_schedules")
    out = capsys.readouterr().out
    assert "Created schedules: Dispatch due link checks" in out
    assert "Already exist, left untouched: Dispatch due link checks" in out
    assert PeriodicTask.objects.filter(task="curation.dispatch_due_checks").count() == 1


def test_prune_checks_command_reports(capsys):
    call_command("prune_checks", "--days", "30")
    assert "Deleted 0 old check(s)." in capsys.readouterr().out
