"""Chaos with real processes: killed workers, a poison URL, a lost database connection, a
restarted Redis. Nothing lost, nothing counted twice."""

from __future__ import annotations

import contextlib
import os
import signal
import threading
import time

import pytest
from django.db import connection

from curation.models import HealthState, LinkCheck
from tests.factories import ResourceFactory
from tests.integration.conftest import VISIBILITY_TIMEOUT, Cluster, wait_for

pytestmark = [pytest.mark.slow, pytest.mark.redis]
CHECK = "curation.check_resources"


def checks_per_resource(resources) -> dict[int, int]:
    return {r.pk: LinkCheck.objects.filter(resource=r).count() for r in resources}


def test_a_worker_killed_mid_check_is_finished_by_another_none_lost_none_doubled(cluster, site):
    cluster.allowed.add(site.host_port)
    hold = threading.Event()
    # The first request to /slow hangs: that is where worker A dies.
    site.hooks["/slow"] = lambda hit: hold.wait(30) if hit == 1 else None
    slow = ResourceFactory(url=site.url("/slow"), health=HealthState.UNKNOWN)
    others = [
        ResourceFactory(url=site.url(f"/page/{i}"), health=HealthState.UNKNOWN) for i in range(3)
    ]
    first = cluster.start_worker()
    cluster.send(CHECK, items=[[slow.pk, "t-slow"], [others[0].pk, "t-0"]])
    wait_for(lambda: site.hits["/slow"] >= 1, timeout=60, what="worker A to start the slow check")
    cluster.send(CHECK, items=[[others[1].pk, "t-1"], [others[2].pk, "t-2"]])
    first.kill9()
    hold.set()
    cluster.start_worker()
    everything = [slow, *others]
    wait_for(
        lambda: all(n >= 1 for n in checks_per_resource(everything).values()),
        timeout=90,
        what="every check to be recorded after the redelivery",
    )
    # Give a stray duplicate delivery the chance to show up before counting.
    time.sleep(VISIBILITY_TIMEOUT / 2)
    assert set(checks_per_resource(everything).values()) == {1}
    assert set(LinkCheck.objects.values_list("outcome", flat=True)) == {"ok"}
    assert site.hits["/slow"] >= 2  # checked again by the second worker


def test_a_url_that_kills_its_worker_is_recorded_as_a_check_error(cluster, site):
    cluster.allowed.add(site.host_port)
    cluster.extra_env["MONITOR_MAX_DELIVERIES"] = "2"
    # Nothing here waits on a redelivery by timeout: keep the time limits roomy on a busy box.
    cluster.extra_env["TEST_VISIBILITY_TIMEOUT"] = "40"
    poison = ResourceFactory(url=site.url("/poison"), health=HealthState.HEALTHY)
    worker = cluster.start_worker()

    def kill_the_pool(hit: int) -> None:
        # Mid-check, once the pool has told its main process it started the job (a process
        # killed before that is not reported lost by billiard; the visibility timeout covers it).
        time.sleep(1)
        for pid in worker.children():
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)

    site.hooks["/poison"] = kill_the_pool
    cluster.send(CHECK, items=[[poison.pk, "t-poison"]])
    check = wait_for(
        lambda: LinkCheck.objects.filter(resource=poison).first(),
        timeout=90,
        what="the poison URL to be given up on",
    )
    poison.refresh_from_db()
    assert check.outcome == "check_error"
    assert "interrupted 2 times" in check.error
    assert poison.health == HealthState.HEALTHY  # our failure, not the link's
    assert site.hits["/poison"] == 2
    assert worker.process.poll() is None  # the worker itself lives on


@pytest.mark.postgres
def test_killing_the_workers_database_connection_mid_task_retries_the_task(cluster, site):
    import psycopg

    cluster.allowed.add(site.host_port)
    cluster.extra_env["TEST_VISIBILITY_TIMEOUT"] = "40"
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid(), current_database()")
        own_pid, database = cursor.fetchone()
    cfg = connection.settings_dict

    def terminate_worker_connections(hit: int) -> None:
        if hit != 1:
            return
        with psycopg.connect(
            host=cfg.get("HOST") or "127.0.0.1",
            port=cfg.get("PORT") or 5432,
            user=cfg.get("USER") or "postgres",
            dbname=database,
            autocommit=True,
        ) as admin:
            admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = %s AND pid NOT IN (pg_backend_pid(), %s)",
                [database, own_pid],
            )

    site.hooks["/page"] = terminate_worker_connections
    resource = ResourceFactory(url=site.url("/page"), health=HealthState.UNKNOWN)
    worker = cluster.start_worker()
    cluster.send(CHECK, items=[[resource.pk, "t-db"]])
    check = wait_for(
        lambda: LinkCheck.objects.filter(resource=resource).first(),
        timeout=90,
        what="the retried task to record the check",
    )
    assert check.outcome == "ok"
    assert LinkCheck.objects.filter(resource=resource).count() == 1
    assert "Retry in" in worker.output()


def test_workers_resume_after_redis_restarts(private_redis, site, tmp_path, transactional_db):
    running = Cluster(private_redis.url, tmp_path)
    try:
        running.allowed.add(site.host_port)
        before, after = (ResourceFactory(url=site.url(f"/r/{i}")) for i in range(2))
        running.start_worker()
        running.send(CHECK, items=[[before.pk, "t-before"]])
        wait_for(lambda: before.checks.exists(), timeout=60, what="the check before the restart")
        private_redis.stop()
        time.sleep(1)
        private_redis.start()
        running.send(CHECK, items=[[after.pk, "t-after"]])
        wait_for(lambda: after.checks.exists(), timeout=90, what="the check after the restart")
        assert before.checks.count() == 1 and after.checks.count() == 1
    finally:
        running.close()
