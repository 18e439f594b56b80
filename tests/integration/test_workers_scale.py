"""Two worker nodes (issue 21): started as two separate `celery worker` processes with different
-n names, as on two machines, they share the due checks, each resource is checked once, and the
per-host limit holds across them (the shared limiter in Redis, curation/outbound.py)."""

from __future__ import annotations

import http.server
import threading
import time

import pytest

from curation.models import LinkCheck
from tests.factories import ResourceFactory
from tests.integration.conftest import wait_for

pytestmark = [pytest.mark.slow, pytest.mark.redis]

PER_HOST = 2
ANSWER_AFTER = 0.15


class CountingSite:
    """One host that answers its pages after ANSWER_AFTER seconds and notes the most requests
    it had in flight at once, from whichever process they came."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.in_flight = 0
        self.most_in_flight = 0
        self.requests = 0
        site = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args) -> None:
                pass

            def do_GET(self) -> None:
                with site.lock:
                    site.requests += 1
                    site.in_flight += 1
                    site.most_in_flight = max(site.most_in_flight, site.in_flight)
                try:
                    time.sleep(ANSWER_AFTER)
                    known = self.path.startswith("/page/") and self.path[6:].isdigit()
                    body = (
                        b"<html><head><title>A page</title></head><body><h1>A page</h1></body>"
                        if known
                        else b"not found"
                    )
                    self.send_response(200 if known else 404)
                    self.send_header("Content-Type", "text/html")
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                finally:
                    with site.lock:
                        site.in_flight -= 1

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.host_port = f"127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def counting_site():
    site = CountingSite()
    yield site
    site.close()


def test_two_worker_nodes_share_the_checks_and_never_exceed_the_per_host_limit_together(
    cluster, counting_site
):
    cluster.allowed.add(counting_site.host_port)
    cluster.extra_env.update(
        LINKCHECK_PER_HOST_CONCURRENCY=str(PER_HOST),
        LINKCHECK_CONCURRENCY="8",
        MONITOR_BATCH_SIZE="4",
    )
    due = [
        ResourceFactory(url=f"http://{counting_site.host_port}/page/{n}", next_check_at=None)
        for n in range(24)
    ]
    nodes = [cluster.start_worker("node-a"), cluster.start_worker("node-b")]

    cluster.send("curation.dispatch_due_checks")
    wait_for(
        lambda: LinkCheck.objects.filter(resource__in=due).count() >= len(due),
        timeout=120,
        what="every due resource to be checked",
    )

    checks = LinkCheck.objects.filter(resource__in=due)
    assert sorted(checks.values_list("resource_id", flat=True)) == sorted(r.pk for r in due)
    assert set(checks.values_list("outcome", flat=True)) == {"ok"}
    # Both nodes took batches, and together they never had more than the limit in flight.
    for node in nodes:
        assert "curation.check_resources" in node.output() and "succeeded" in node.output()
    assert counting_site.most_in_flight == PER_HOST
