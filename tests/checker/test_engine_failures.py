"""check_url against real loopback servers, when things go wrong: bot walls, rate limits,
timeouts, dead hosts, loops and junk input. One test per outcome and per rule."""

from __future__ import annotations

import socket
import threading
import time

import pytest

from curation.checker.engine import check_url, parse_retry_after
from curation.checker.outcomes import Outcome
from curation.checker.politeness import LocalHostLimiter
from tests.checker.conftest import FakeResolver, config_for
from tests.checker.pages import HTML_OK, check, html
from tests.checker.servers import (
    drip,
    drip_headers,
    on_head,
    page,
    redirect,
    sequence,
    slow,
)

# ok, redirected -----------------------------------------------------------------------------


@pytest.mark.parametrize("status", [401, 403, 407, 999])
def test_an_auth_or_bot_status_is_blocked_not_broken(server, status):
    server.routes["/"] = page(status, body=b"<title>No</title>")

    result = check(server)

    assert (result.outcome, result.rule) == (Outcome.BLOCKED, f"status-{status}")


def test_a_cf_mitigated_challenge_header_is_blocked(server):
    server.routes["/"] = page(
        403, body=b"<title>Moment</title>", headers={"cf-mitigated": "challenge"}
    )

    result = check(server)

    assert (result.outcome, result.rule) == (Outcome.BLOCKED, "challenge-cf-mitigated")


def test_a_challenge_on_a_503_is_blocked_and_not_retried(server):
    server.routes["/"] = page(503, body=b"<title>x</title>", headers={"cf-mitigated": "challenge"})

    result = check(server, retries=2)

    assert result.outcome == Outcome.BLOCKED
    assert server.methods("/").count("GET") == 1


@pytest.mark.parametrize(
    "title", ["Just a moment...", "Attention Required! | Cloudflare", "Access denied"]
)
def test_a_challenge_page_title_is_blocked(server, title):
    server.routes["/"] = page(200, body=html(title=title, h1=""))

    result = check(server)

    assert (result.outcome, result.rule) == (Outcome.BLOCKED, "challenge-title")


@pytest.mark.parametrize(
    "marker",
    [
        b"<script>window._cf_chl_opt={cvId: '3'};</script>",
        b'<div id="px-captcha"></div>',
        b'<script src="/_Incapsula_Resource?SWJIYLWA=1"></script>',
    ],
)
def test_a_challenge_marker_in_the_body_is_blocked(server, marker):
    server.routes["/"] = page(200, body=b"<html><head><title>Example</title></head>" + marker)

    result = check(server)

    assert (result.outcome, result.rule) == (Outcome.BLOCKED, "challenge-marker")


def test_a_bare_captcha_page_is_blocked(server):
    server.routes["/"] = page(200, body=b'<title>Check</title><div class="g-captcha"></div>')

    assert check(server).rule == "challenge-captcha"


# other HTTP errors --------------------------------------------------------------------------


@pytest.mark.parametrize("status", [400, 418, 451])
def test_another_4xx_is_an_http_error(server, status):
    server.routes["/"] = page(status)

    result = check(server)

    assert (result.outcome, result.rule) == (Outcome.HTTP_ERROR, f"status-{status}")
    assert server.methods("/") == ["GET"]


def test_another_4xx_on_a_file_is_an_http_error_after_the_get_fallback(server):
    server.routes["/data.zip"] = page(418)

    result = check(server, "/data.zip")

    assert (result.outcome, result.rule) == (Outcome.HTTP_ERROR, "status-418")
    assert server.methods("/data.zip") == ["HEAD", "GET"]


# Retry-After --------------------------------------------------------------------------------


def test_a_429_with_retry_after_within_budget_is_waited_out_and_retried(server):
    seen: list[float] = []

    def limited(h):
        seen.append(time.monotonic())
        if len(seen) == 1:
            h.reply(429, headers={"Retry-After": "1"})
        else:
            h.reply(200, HTML_OK)

    server.routes["/"] = on_head(page(200), limited)

    result = check(server, retry_after_budget=5)

    assert result.outcome == Outcome.OK
    assert len(seen) == 2
    assert seen[1] - seen[0] >= 0.9  # the host's wish was honoured before asking again


def test_a_429_with_retry_after_over_budget_is_blocked_with_the_wait_recorded(server):
    server.routes["/"] = page(429, headers={"Retry-After": "120"})

    result = check(server, retry_after_budget=5)

    assert (result.outcome, result.rule) == (Outcome.BLOCKED, "retry-after-over-budget")
    assert result.retry_after == 120
    assert server.methods("/").count("GET") == 1


def test_a_429_without_retry_after_that_persists_is_blocked(server):
    server.routes["/"] = page(429)

    result = check(server, retries=1)

    assert (result.outcome, result.rule) == (Outcome.BLOCKED, "status-429")


def test_a_503_with_retry_after_within_budget_is_retried(server):
    server.routes["/"] = on_head(
        page(200), sequence(page(503, headers={"Retry-After": "0"}), page(body=HTML_OK))
    )

    assert check(server).outcome == Outcome.OK


def test_retry_after_accepts_seconds_and_http_dates():
    assert parse_retry_after("7") == 7.0
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0
    assert parse_retry_after("soon") is None
    assert parse_retry_after(None) is None


# network failures ---------------------------------------------------------------------------


def test_a_drip_server_times_out_at_the_deadline(server):
    dripping = drip(interval=0.5, total=60)  # the whole body would take 30 s
    server.routes["/"] = on_head(page(200), dripping)

    result = check(server, deadline=2.0, retries=1)

    assert result.outcome == Outcome.TIMEOUT
    # The read timeout (2 s) is never reached between two bytes: only the deadline cuts it.
    assert result.rule in {"deadline", "read-timeout"}
    # As the server saw it: the client hung up part way through the body, and did not retry
    # (no time was left for it).
    assert dripping.hung_up.wait(10)
    assert dripping.finished == 0
    assert len(dripping.hung_up_after) == 1 and dripping.hung_up_after[0] < 60
    assert server.methods("/") == ["GET"]


def test_a_header_tarpit_times_out_at_the_deadline(server):
    tarpit = server.routes["/"] = drip_headers(interval=0.3, count=100)

    result = check(server, deadline=2.0, read_timeout=5.0)

    assert (result.outcome, result.rule) == (Outcome.TIMEOUT, "deadline")
    assert tarpit.hung_up.wait(10) and tarpit.finished == 0  # the client hung up mid-headers


def test_a_server_that_never_answers_times_out(server):
    server.routes["/"] = slow(6, page(200))

    result = check(server, deadline=1.5, read_timeout=1.0)

    assert result.outcome == Outcome.TIMEOUT


def test_an_unknown_name_is_a_dns_error():
    result = check_url("https://no-such-host.example/x", config=config_for(resolver=FakeResolver()))

    assert (result.outcome, result.rule) == (Outcome.DNS_ERROR, "dns-error")


def test_a_refused_connection_is_a_connection_error():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    # Nothing listens on the port any more.
    result = check_url(f"http://127.0.0.1:{port}/", config=config_for(f"127.0.0.1:{port}"))

    assert result.outcome == Outcome.CONNECTION_ERROR


def test_a_redirect_loop_is_reported(server):
    server.routes["/a"] = redirect("/b", 302)
    server.routes["/b"] = redirect("/a", 302)

    result = check(server, "/a")

    assert (result.outcome, result.rule) == (Outcome.REDIRECT_LOOP, "redirect-loop")
    assert result.redirects


def test_more_redirects_than_allowed_is_a_redirect_loop(server):
    server.routes["*"] = lambda h: h.reply(302, headers={"Location": h.path + "x"})

    result = check(server, "/a", max_redirects=5)

    assert (result.outcome, result.rule) == (Outcome.REDIRECT_LOOP, "too-many-redirects")


@pytest.mark.parametrize(
    "url", ["", "not a url", "ftp://files.example/x", "javascript:alert(1)", "http://", "//x.org"]
)
def test_junk_is_an_invalid_url(url, connections):
    result = check_url(url, config=config_for())

    assert result.outcome == Outcome.INVALID_URL
    assert result.url == url
    assert connections.attempts == []


# politeness ---------------------------------------------------------------------------------


class CountingLimiter(LocalHostLimiter):
    def __init__(self) -> None:
        super().__init__(per_host_concurrency=1, per_host_interval=0)
        self.acquired: list[str] = []
        self.lock = threading.Lock()

    def try_acquire(self, host):
        token, wait = super().try_acquire(host)
        if token:
            with self.lock:
                self.acquired.append(host)
        return token, wait


def test_every_request_including_hops_and_retries_takes_a_limiter_slot(server):
    server.routes["/a"] = redirect("/b", 302)
    server.routes["/b"] = sequence(page(500), page(body=HTML_OK))
    limiter = CountingLimiter()

    result = check_url(server.url("/a"), config=config_for(server), limiter=limiter)

    assert result.outcome == Outcome.OK
    # GET /a, GET /b (500), then the retry: GET /a, GET /b; then the random-sibling probe
    # beside /b (a 200 deep link on a host not yet known), through the limiter too.
    assert len(limiter.acquired) == len(server.requests) == 5
