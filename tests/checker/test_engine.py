"""check_url against real loopback servers: one test per outcome and per rule."""

from __future__ import annotations

import socket
import threading
import time

import pytest

from curation.checker.engine import check_url, names_a_file, parse_retry_after
from curation.checker.outcomes import Outcome
from curation.checker.politeness import LocalHostLimiter
from tests.checker.conftest import FakeResolver, config_for
from tests.checker.servers import (
    drip,
    drip_headers,
    on_head,
    page,
    redirect,
    reset_on_head,
    sequence,
    slow,
)

HTML_OK = b"<html><head><title>Linear algebra notes</title></head><body><h1>Vectors</h1></body>"


def html(title: str = "Linear algebra notes", h1: str = "Vectors", text: str = "") -> bytes:
    return (
        f"<html><head><title>{title}</title></head><body><h1>{h1}</h1><p>{text}</p></body></html>"
    ).encode()


def check(server, path="/", **overrides):
    return check_url(server.url(path), config=config_for(server, **overrides))


# ok, redirected -----------------------------------------------------------------------------


def test_a_page_is_checked_with_one_short_get(server):
    server.routes["/"] = page(body=HTML_OK)

    result = check(server)

    assert (result.outcome, result.status_code, result.rule) == (Outcome.OK, 200, "status-200")
    assert result.final_url == server.url("/")
    assert server.methods("/") == ["GET"]


def test_it_trusts_a_2xx_head_for_a_url_naming_a_file(server):
    server.routes["/notes.pdf"] = page(body=b"%PDF-1.7", content_type="application/pdf")

    result = check(server, "/notes.pdf")

    assert result.outcome == Outcome.OK
    assert server.methods("/notes.pdf") == ["HEAD"]


def test_a_file_url_that_turns_out_to_be_a_page_gets_the_get(server):
    server.routes["/paper.pdf"] = page(body=html("Page not found", "Page not found"))

    result = check(server, "/paper.pdf")

    assert (result.outcome, result.rule) == (Outcome.SOFT_404, "soft404-title")
    assert server.methods("/paper.pdf") == ["HEAD", "GET"]


def test_a_page_answering_with_a_download_is_judged_by_its_status_alone(server):
    server.routes["/download"] = page(body=b"%PDF-1.7 " * 200_000, content_type="application/pdf")

    result = check(server, "/download")

    assert (result.outcome, result.status_code) == (Outcome.OK, 200)
    assert server.methods("/download") == ["GET"]


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://site.example/notes.PDF", True),
        ("https://site.example/talk.mp4?t=30", True),
        ("https://site.example/dist/book.tar.gz", True),
        ("https://site.example/notes", False),
        ("https://site.example/pdf/", False),
        ("https://site.example/guide.html", False),
        ("https://site.example/", False),
    ],
)
def test_only_urls_naming_a_file_go_head_first(url, expected):
    assert names_a_file(url) is expected


@pytest.mark.parametrize("status", [301, 308])
def test_it_reports_redirected_with_the_final_url_for_a_permanent_redirect(server, status):
    server.routes["/old"] = redirect("/new", status)
    server.routes["/new"] = page(body=HTML_OK)

    result = check(server, "/old")

    assert result.outcome == Outcome.REDIRECTED
    assert result.rule == "redirect-permanent"
    assert result.final_url == server.url("/new")
    assert [(h.url, h.status) for h in result.redirects] == [(server.url("/old"), status)]


@pytest.mark.parametrize("status", [302, 303, 307])
def test_a_temporary_redirect_to_a_live_page_is_ok(server, status):
    server.routes["/short"] = redirect("/docs/page", status)
    server.routes["/docs/page"] = page(body=HTML_OK)

    result = check(server, "/short")

    assert result.outcome == Outcome.OK
    assert result.final_url == server.url("/docs/page")
    assert [h.status for h in result.redirects] == [status]


def test_a_relative_location_is_resolved_against_the_current_url(server):
    server.routes["/a/b"] = redirect("../c/d", 302)
    server.routes["/c/d"] = page(body=HTML_OK)

    result = check(server, "/a/b")

    assert result.outcome == Outcome.OK
    assert result.final_url == server.url("/c/d")


# not found, soft 404 ------------------------------------------------------------------------


@pytest.mark.parametrize("status", [404, 410])
def test_it_reports_not_found_for_a_404_or_a_410(server, status):
    server.routes["/gone"] = page(status, body=b"<title>Gone</title>")

    result = check(server, "/gone")

    assert (result.outcome, result.status_code, result.rule) == (
        Outcome.NOT_FOUND,
        status,
        f"status-{status}",
    )


@pytest.mark.parametrize(
    "title",
    [
        "Page not found – Example University",
        "404 | Example",
        "Page introuvable",
        "Seite nicht gefunden",
        "Página no encontrada",
        "Página não encontrada",
        "Pagina non trovata",
        "Pagina niet gevonden",
    ],
)
def test_a_200_whose_title_says_not_found_is_a_soft_404(server, title):
    server.routes["/course/42"] = page(body=html(title=title, h1="Oops", text="x " * 500))

    result = check(server, "/course/42")

    assert (result.outcome, result.rule) == (Outcome.SOFT_404, "soft404-title")
    assert result.status_code == 200


def test_a_200_whose_first_h1_says_not_found_is_a_soft_404(server):
    server.routes["/x"] = page(body=html(title="Example", h1="Sorry, page not found"))

    result = check(server, "/x")

    assert (result.outcome, result.rule) == (Outcome.SOFT_404, "soft404-h1")


def test_a_short_200_body_saying_not_found_is_a_soft_404(server):
    server.routes["/x"] = page(body=b"<p>Error 404: the document you asked for does not exist</p>")

    result = check(server, "/x")

    assert (result.outcome, result.rule) == (Outcome.SOFT_404, "soft404-short-body")


def test_a_long_article_that_mentions_not_found_is_ok(server):
    text = "Handling a not found error in HTTP clients. " + "More detail. " * 200
    server.routes["/x"] = page(body=html(title="HTTP clients", h1="Errors", text=text))

    assert check(server, "/x").outcome == Outcome.OK


def test_a_deep_link_redirected_to_the_site_root_is_a_soft_404(server):
    server.routes["/courses/old-course"] = redirect("/", 302)
    server.routes["/"] = page(body=HTML_OK)

    result = check(server, "/courses/old-course")

    assert (result.outcome, result.rule) == (Outcome.SOFT_404, "soft404-redirect-to-root")
    assert result.final_url == server.url("/")


@pytest.mark.parametrize(
    "location", ["/accounts/login/?next=/private/doc", "/login", "/users/sign_in"]
)
def test_a_deep_link_redirected_to_a_login_page_is_a_soft_404(server, location):
    server.routes["/private/doc"] = redirect(location, 302)
    server.routes["*"] = page(body=html(title="Sign in"))

    result = check(server, "/private/doc")

    assert (result.outcome, result.rule) == (Outcome.SOFT_404, "soft404-redirect-to-login")


def test_the_root_redirecting_to_itself_with_a_slash_is_not_a_soft_404(server):
    server.routes["/"] = page(body=HTML_OK)

    assert check(server, "/").outcome == Outcome.OK


# server errors and retries ------------------------------------------------------------------


def test_a_5xx_that_persists_through_retries_is_a_server_error(server):
    server.routes["/"] = page(500, body=b"<title>Internal error</title>")

    result = check(server, retries=2)

    assert (result.outcome, result.status_code, result.rule) == (
        Outcome.SERVER_ERROR,
        500,
        "status-500",
    )
    assert server.methods("/").count("GET") == 3


def test_a_5xx_that_clears_on_retry_is_ok(server):
    server.routes["/"] = sequence(page(502), page(body=HTML_OK))

    result = check(server, retries=2)

    assert result.outcome == Outcome.OK
    assert server.methods("/") == ["GET", "GET"]


def test_a_server_that_hangs_once_is_retried_within_the_budget_a_timeout_derives(server):
    # The budget alone, as --timeout and LINKCHECK_TIMEOUT give it: each wait gets half of it,
    # so the hang costs one read timeout and the retry gets the answer.
    from curation.checker.config import config_from_settings

    server.routes["/"] = sequence(slow(1.5, page(body=HTML_OK)), page(body=HTML_OK))
    base = config_for(server)
    config = config_from_settings(
        {"LINKCHECK_TIMEOUT": 2.4},
        allowed_internal_hosts=base.allowed_internal_hosts,
        resolver=base.resolver,
        per_host_interval=0.0,
        backoff=0.01,
    )

    result = check_url(server.url("/"), config=config)

    assert (config.read_timeout, config.connect_timeout) == (1.2, 1.2)
    assert (result.outcome, result.status_code) == (Outcome.OK, 200)
    assert server.methods("/") == ["GET", "GET"]


def test_a_reset_on_get_is_retried(server):
    server.routes["/"] = sequence(page(body=HTML_OK))
    resets = {"n": 0}

    def flaky(h):
        if h.command == "GET" and resets["n"] == 0:
            resets["n"] += 1
            h.reset()
        else:
            h.reply(200, HTML_OK)

    server.routes["/"] = flaky

    assert check(server).outcome == Outcome.OK


# HEAD rejected in each way (for a file, the one case HEAD is sent): the GET decides -----------

PDF = page(body=b"%PDF-1.7", content_type="application/pdf")


@pytest.mark.parametrize("status", [403, 404, 405, 501, 500])
def test_a_head_rejected_with_a_status_falls_back_to_get(server, status):
    server.routes["/slides.pdf"] = on_head(page(status), PDF)

    result = check(server, "/slides.pdf")

    assert result.outcome == Outcome.OK
    assert server.methods("/slides.pdf") == ["HEAD", "GET"]


def test_a_connection_reset_on_head_falls_back_to_get(server):
    server.routes["/slides.pdf"] = reset_on_head(PDF)

    result = check(server, "/slides.pdf")

    assert result.outcome == Outcome.OK
    assert server.methods("/slides.pdf") == ["HEAD", "GET"]


def test_a_head_that_hangs_leaves_the_get_time_to_answer(server):
    server.routes["/slides.pdf"] = on_head(slow(10, PDF), PDF)

    result = check(server, "/slides.pdf", deadline=2.0, read_timeout=5.0, retries=0)

    assert (result.outcome, result.status_code) == (Outcome.OK, 200)
    assert server.methods("/slides.pdf") == ["HEAD", "GET"]


def test_a_head_that_lies_about_a_file_is_overruled_by_the_get(server):
    server.routes["/slides.pdf"] = on_head(page(404), page(404))

    result = check(server, "/slides.pdf")

    assert (result.outcome, result.rule) == (Outcome.NOT_FOUND, "status-404")
    assert server.methods("/slides.pdf") == ["HEAD", "GET"]


def test_a_404_on_head_and_get_is_not_found(server):
    server.routes["/"] = page(404)

    assert check(server).outcome == Outcome.NOT_FOUND


# blocked ------------------------------------------------------------------------------------


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
    # GET /a, GET /b (500), then the retry: GET /a, GET /b.
    assert len(limiter.acquired) == len(server.requests) == 4
