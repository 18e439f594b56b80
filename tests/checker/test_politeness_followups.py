"""Follow-up requests under the per-host policy (issue 21): a redirect's next hop, the GET after a
HEAD refused with 405 and the probe take the host's next slot, one slot each, ahead of new URLs;
and on the wire no two requests to one host ever come closer than the interval."""

from __future__ import annotations

import itertools
import sys
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from curation.checker.engine import check_many
from curation.checker.outcomes import Outcome
from curation.checker.politeness import LocalHostLimiter
from curation.checker.probe import LocalProbeCache
from tests.checker.conftest import config_for
from tests.conftest import service_missing

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"
sys.path.insert(0, str(BENCHMARKS))

import linkfarm  # noqa: E402
import wirecap  # noqa: E402

HOST = "a.test:80"


def _wait_until(condition, timeout: float = 5.0) -> None:
    until = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > until:
            raise AssertionError("the condition never came true")
        time.sleep(0.001)


def _followup_waiting(limiter: LocalHostLimiter):
    """Start a request to HOST, then a follow-up waiting (in a thread) for the next slot."""
    first, _ = limiter.reserve(HOST, 0.0)
    limiter.wait_for_start(HOST, first)
    limiter.started(HOST, first)
    got: list[object] = []
    thread = threading.Thread(
        target=lambda: got.append(limiter.acquire(HOST, deadline=None, priority=True))
    )
    thread.start()
    _wait_until(lambda: limiter._hosts[HOST].followups == 1)
    return thread, got


def test_new_work_is_told_to_wait_for_the_slot_after_a_waiting_followup():
    limiter = LocalHostLimiter(per_host_concurrency=10, per_host_interval=0.5)
    thread, got = _followup_waiting(limiter)

    token, wait = limiter.reserve(HOST, 0.0)
    thread.join()

    # The follow-up's slot is the next one (about 0.5 s away); new work gets the one after.
    assert token is None
    assert wait > 0.6
    assert got and got[0] is not None


def test_other_callers_of_the_limiter_wait_behind_a_followup_too():
    limiter = LocalHostLimiter(per_host_concurrency=10, per_host_interval=0.5)
    thread, _ = _followup_waiting(limiter)

    token, wait = limiter.try_acquire(HOST)
    delay = limiter.delay(HOST)
    thread.join()

    assert token is None
    assert wait > 0.6
    assert delay > 0.6


class _Site(BaseHTTPRequestHandler):
    """One host: /moved answers 301 to /page/0 after the latency, /page/<n> a page, else 404.
    Every request's path is noted as it arrives."""

    protocol_version = "HTTP/1.1"
    latency = 0.3
    arrivals: list[str] = []
    lock = threading.Lock()

    def do_GET(self) -> None:
        with self.lock:
            self.arrivals.append(self.path)
        time.sleep(self.latency)
        if self.path == "/moved":
            self._answer(301, b"", {"Location": "/page/0"})
        elif self.path.startswith("/page/") and self.path[6:].isdigit():
            body = (
                b"<html><head><title>A page</title></head><body><h1>A page</h1>"
                + (b"<p>Plenty of words about one thing and another.</p>" * 5)
                + b"</body></html>"
            )
            self._answer(200, body, {"Content-Type": "text/html; charset=utf-8"})
        else:
            self._answer(404, b"not here", {"Content-Type": "text/plain"})

    def _answer(self, status: int, body: bytes, headers: dict[str, str]) -> None:
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def site():
    _Site.arrivals = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Site)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server
    server.shutdown()
    server.server_close()


def test_a_redirects_next_hop_takes_the_hosts_next_free_slot_not_a_place_behind_its_queue(site):
    host_port = f"127.0.0.1:{site.server_address[1]}"
    urls = [f"http://{host_port}/moved"] + [f"http://{host_port}/page/{n}" for n in range(1, 8)]
    config = config_for(
        host_port, per_host_interval=0.1, per_host_concurrency=10, probe_cache=LocalProbeCache()
    )

    results = {r.url: r for r in check_many(urls, config=config)}

    assert results[urls[0]].outcome == Outcome.REDIRECTED
    assert all(results[u].outcome == Outcome.OK for u in urls[1:])
    order = _Site.arrivals
    # /moved leaves first and is answered 0.3 s later, when /page/1..3 have taken the slots up
    # to then: its next hop takes the next slot, ahead of the URLs still queued for the host
    # (the code before sent it behind /page/4 or later).
    assert order[0] == "/moved"
    assert order.index("/page/0") < order.index("/page/4")


@pytest.fixture
def farm():
    with linkfarm.FarmProcess(hosts=3, latency_ms=30) as running:
        yield running


def _mixed_urls(farm: linkfarm.FarmProcess, per_host: int) -> list[str]:
    """Mostly follow-ups: a third redirect, a third are files that refuse HEAD, a third pages."""
    urls = []
    kinds = ("moved/301/{n}", "file/{n}.pdf", "page/{n}", "moved/302/{n}", "missing/{n}")
    for n in range(per_host * len(farm.addresses)):
        address = farm.addresses[n % len(farm.addresses)]
        urls.append(f"http://{address}:{farm.port}/" + kinds[n % len(kinds)].format(n=n))
    return urls


def test_no_two_requests_to_one_host_are_closer_than_the_interval_on_the_wire(farm, tmp_path):
    if not wirecap.available():
        service_missing("the wire capture needs a packet socket (Linux, root or CAP_NET_RAW)")
    interval = 0.05
    urls = _mixed_urls(farm, per_host=15)
    config = config_for(
        *farm.host_ports,
        per_host_interval=interval,
        per_host_concurrency=10,
        concurrency=32,
        probe_cache=LocalProbeCache(),
    )
    capture = wirecap.WireCapture(farm.port, tmp_path / "wire.json", starts=True)
    capture.start()
    try:
        outcomes = Counter(r.outcome for r in check_many(urls, config=config))
    finally:
        wire = capture.stop()

    assert outcomes == {Outcome.OK: 27, Outcome.REDIRECTED: 9, Outcome.NOT_FOUND: 9}
    assert wire is not None and wire["dropped"] == 0
    # One request per URL, one more per redirect (18) and per file (a GET after the HEAD: 9),
    # one probe per host's /page/ directory (3).
    assert wire["requests"] == 45 + 18 + 9 + 3
    for host, seen in wire["hosts"].items():
        starts = seen["starts"]
        gaps = [b - a for a, b in itertools.pairwise(starts)]
        assert min(gaps) >= interval, (host, min(gaps))


def test_a_slot_reserved_for_a_url_the_guard_refuses_is_given_back():
    limiter = LocalHostLimiter(per_host_concurrency=1, per_host_interval=0.0)
    # Loopback, not allowed: refused before any request, after the scheduler reserved its slot.
    urls = ["http://127.0.0.1:9/refused", "http://127.0.0.1:9/refused-too"]

    results = list(check_many(urls, config=config_for(), limiter=limiter))

    assert {r.outcome for r in results} == {Outcome.FORBIDDEN_TARGET}
    state = limiter._hosts.get("127.0.0.1:9")
    assert state is None or state.in_flight == 0
