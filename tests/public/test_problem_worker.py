"""A learner's broken-link report, end to end with real processes: a gunicorn web server takes
the report, a real Celery worker on Redis checks the link against a loopback site, and the
report is in the curators' queue with the check that followed.

Nothing here is timed: each step is awaited with a polling helper and a generous timeout.
"""

from __future__ import annotations

import subprocess
import sys
import uuid

import pytest
import requests

from curation.models import CheckSource, HealthState, LinkCheck, ProblemReport
from tests.factories import ResourceFactory
from tests.integration.conftest import ROOT, Cluster, Site, free_port, wait_for

pytestmark = [pytest.mark.slow, pytest.mark.redis]

START_TIMEOUT = 120
CHECK_TIMEOUT = 120


@pytest.fixture
def cluster(redis_url, tmp_path, transactional_db):
    running = Cluster(redis_url, tmp_path)
    yield running
    running.close()


@pytest.fixture
def site():
    server = Site()
    yield server
    server.close()


class WebServer:
    """gunicorn serving the project on a loopback port, publishing to the cluster's queue, with
    a cache key prefix of its own (the throttle counts and re-check markers start empty)."""

    def __init__(self, cluster: Cluster) -> None:
        self.port = free_port()
        self.prefix = f"test-problems-{uuid.uuid4().hex[:10]}"
        self.redis_url = cluster.broker_url
        env = {**cluster.env(), "CACHE_KEY_PREFIX": self.prefix}
        self.log = (cluster.tmp_path / "gunicorn.log").open("wb")
        self.process = subprocess.Popen(
            [
                sys.executable, "-m", "gunicorn", "config.wsgi:application",
                "--bind", f"127.0.0.1:{self.port}", "--workers", "1",
            ],
            cwd=ROOT, env=env, stdout=self.log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        self.base = f"http://127.0.0.1:{self.port}"

    def wait_ready(self) -> None:
        def answers() -> bool:
            if self.process.poll() is not None:
                raise AssertionError("gunicorn exited before serving")
            try:
                # A loaded machine may take a while over the first request: no hurry here.
                return requests.get(self.base + "/", timeout=30).status_code == 200
            except requests.RequestException:
                return False

        wait_for(answers, timeout=START_TIMEOUT, what="gunicorn to serve the site")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=15)
        self.log.close()
        import redis

        client = redis.Redis.from_url(self.redis_url)
        for key in client.scan_iter(f"{self.prefix}:*"):
            client.delete(key)
        client.close()


@pytest.fixture
def web(cluster):
    server = WebServer(cluster)
    try:
        server.wait_ready()
        yield server
    finally:
        server.stop()


def test_a_learners_broken_link_report_is_checked_by_a_worker_and_queued_for_curators(
    cluster, site, web, admin_client
):
    cluster.allowed.add(site.host_port)
    # An address the site does not serve: it answers 404.
    resource = ResourceFactory(url=f"http://{site.host_port}/gone", health=HealthState.HEALTHY)
    cluster.start_worker()

    response = requests.post(
        f"{web.base}/api/v1/resources/{resource.pk}/problems/",
        json={"problem": "broken", "comment": "404 for me"},
        timeout=60,
    )
    assert response.status_code == 202, response.text
    assert response.json()["check_queued"] is True

    check = wait_for(
        lambda: LinkCheck.objects.filter(resource=resource).first(),
        timeout=CHECK_TIMEOUT,
        what="the worker to check the reported link",
    )
    assert (check.outcome, check.status_code, check.source) == (
        "not_found", 404, CheckSource.MANUAL,
    )  # fmt: skip
    assert site.hits["/gone"] >= 1
    report = ProblemReport.objects.get(resource=resource)
    assert report.check_queued_at is not None and check.checked_at >= report.created_at
    # A report is a reason to look, never evidence: one failed check breaks nothing.
    resource.refresh_from_db()
    assert resource.health != HealthState.BROKEN

    queue = admin_client.get("/admin/curation/problemreport/").content.decode()
    assert resource.title in queue and "404 for me" in queue
    assert "not_found" in queue  # the check that followed
