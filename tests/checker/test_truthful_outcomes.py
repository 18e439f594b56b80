"""Regressions found by running an awkward-server corpus through the checker.

Each test is one case where the checker used to tell a curator something untrue: a fast page
reported as a timeout, an article about HTTP 404 reported as a soft-404, a temporary address
suggested as a link's new home.
"""

from __future__ import annotations

import time

import pytest

from curation.checker.engine import check_url
from curation.checker.outcomes import Outcome
from curation.checker.politeness import LocalHostLimiter
from tests.checker.conftest import config_for
from tests.checker.servers import RequestHandler, on_head, page, redirect, slow

ARTICLE_TEXT = "A long and useful explanation. " * 100
# Enough markup after the heading that the checker's sniff stops before the page's end.
LONG_SCRIPT = "<script>" + "var x = 1;" * 3000 + "</script>"


def html(title: str, h1: str = "Notes", text: str = ARTICLE_TEXT, before_h1: str = "") -> bytes:
    return (
        f"<html><head><title>{title}</title></head><body>{before_h1}<h1>{h1}</h1>"
        f"<p>{text}</p></body></html>"
    ).encode()


def check(server, path="/", **overrides):
    return check_url(server.url(path), config=config_for(server, **overrides))


# Time limits ----------------------------------------------------------------------------------


def test_waiting_for_our_own_politeness_slot_does_not_count_against_the_deadline(server):
    # A redirect whose second request must wait a full per-host interval: longer than the
    # whole deadline.
    server.routes["/"] = redirect("/notes", 302)
    server.routes["/notes"] = page(body=html("Linear algebra"))
    config = config_for(server, deadline=0.6, per_host_interval=1.0)
    limiter = LocalHostLimiter(per_host_concurrency=1, per_host_interval=1.0)

    result = check_url(server.url("/"), config=config, limiter=limiter)

    assert (result.outcome, result.status_code) == (Outcome.OK, 200)


def test_the_politeness_allowance_is_bounded(server):
    # The redirect's second request to the host must wait 5 s for its slot; nothing may wait
    # beyond the deadline for a slot when there is no queue allowance left.
    server.routes["/"] = redirect("/notes", 302)
    server.routes["/notes"] = page(body=html("Linear algebra"))
    config = config_for(server, deadline=2.0, per_host_interval=5.0, max_queue_wait=0.0)
    limiter = LocalHostLimiter(per_host_concurrency=1, per_host_interval=5.0)

    result = check_url(server.url("/"), config=config, limiter=limiter)

    assert (result.outcome, result.rule) == (Outcome.TIMEOUT, "politeness-wait")


def test_a_server_that_hangs_on_head_leaves_time_for_the_get(server):
    server.routes["/"] = on_head(slow(10, page()), page(body=html("Linear algebra")))

    result = check(server, deadline=2.0, read_timeout=5.0, retries=0)

    assert (result.outcome, result.status_code) == (Outcome.OK, 200)


def test_a_connection_closed_in_the_middle_of_the_headers_is_a_connection_error(server):
    def cut(h: RequestHandler) -> None:
        h.wfile.write(b"HTTP/1.1 200 OK\r\nContent-Ty")
        h.close_connection = True

    server.routes["/"] = cut

    result = check(server, retries=0)

    assert (result.outcome, result.rule) == (Outcome.CONNECTION_ERROR, "bad-headers")


def _heading_then_drip(sent: list[int], close: bool, total: int = 40, interval: float = 0.05):
    """A page whose heading arrives at once and whose rest drips a byte at a time."""
    head = b"<html><head><title>Fine</title></head><body><h1>Fine</h1>"

    def handler(h: RequestHandler) -> None:
        h.send_response(200)
        h.send_header("Content-Type", "text/html")
        if close:
            h.send_header("Connection", "close")
        else:
            h.send_header("Content-Length", str(len(head) + total))
        h.end_headers()
        h.wfile.write(head)
        h.wfile.flush()
        try:
            for _ in range(total):
                time.sleep(interval)
                h.wfile.write(b"x")
                h.wfile.flush()
                sent[0] += 1
        except OSError:
            pass  # The checker hung up: what it read was enough.

    return handler


@pytest.mark.parametrize("close", [True, False], ids=["connection-close", "content-length"])
def test_a_page_dripping_after_its_heading_is_judged_without_waiting_for_the_rest(server, close):
    # Before: the bytes after </h1> were read for as long as they kept coming (a whole 2 s
    # here), and with "Connection: close" no read timeout applied to the body at all.
    sent = [0]
    server.routes["/x"] = _heading_then_drip(sent, close)

    # The probe off: with it, the first page of a directory is read whole (within half the
    # deadline) for the probe to compare, and this test is about the sniff.
    result = check(server, "/x", deadline=5.0, probe=False)
    time.sleep(0.3)  # Let the server find the connection gone.

    assert (result.outcome, result.rule) == (Outcome.OK, "status-200")
    assert sent[0] < 40


# Redirects --------------------------------------------------------------------------------------


def test_a_permanent_redirect_that_only_adds_a_trailing_slash_is_ok(server):
    server.routes["/docs"] = redirect("/docs/", 301)
    server.routes["/docs/"] = page(body=html("Docs"))

    result = check(server, "/docs")

    assert (result.outcome, result.final_url) == (Outcome.OK, server.url("/docs/"))


def test_a_permanent_redirect_that_only_adds_tracking_parameters_is_ok(server):
    server.routes["/course"] = lambda h: (
        h.reply(200, html("Course")) if "?" in h.path else redirect("/course?utm_source=x")(h)
    )

    assert check(server, "/course").outcome == Outcome.OK


def test_a_permanent_then_temporary_redirect_suggests_the_permanent_target(server):
    server.routes["/old"] = redirect("/new", 301)
    server.routes["/new"] = redirect("/new/session-1234", 302)
    server.routes["/new/session-1234"] = page(body=html("Course"))

    result = check(server, "/old")

    assert (result.outcome, result.final_url) == (Outcome.REDIRECTED, server.url("/new"))
    assert [hop.status for hop in result.redirects] == [301, 302]


def test_a_temporary_then_permanent_redirect_keeps_the_link(server):
    server.routes["/latest"] = redirect("/v2", 302)
    server.routes["/v2"] = redirect("/v2/intro", 301)
    server.routes["/v2/intro"] = page(body=html("Intro"))

    result = check(server, "/latest")

    assert (result.outcome, result.final_url) == (Outcome.OK, server.url("/v2/intro"))


def test_a_location_with_a_space_is_followed_percent_encoded(server):
    server.routes["/old"] = redirect("/new page", 301)
    server.routes["/new%20page"] = page(body=html("Course"))

    result = check(server, "/old")

    assert (result.outcome, result.final_url) == (Outcome.REDIRECTED, server.url("/new%20page"))


def test_a_deep_link_redirected_to_a_language_home_page_is_a_soft_404(server):
    server.routes["/courses/retired"] = redirect("/en/", 302)
    server.routes["/en/"] = page(body=html("Welcome"))

    result = check(server, "/courses/retired")

    assert (result.outcome, result.rule) == (Outcome.SOFT_404, "soft404-redirect-to-root")


def test_a_language_home_page_gaining_its_slash_is_not_a_soft_404(server):
    server.routes["/en"] = redirect("/en/", 301)
    server.routes["/en/"] = page(body=html("Welcome"))

    assert check(server, "/en").outcome == Outcome.OK


# Soft-404 wording -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "title",
    [
        "Oops! That page can’t be found. – Example",
        "The page you requested could not be found",
        "404: This page could not be found",
        "The page you were looking for doesn't exist (404)",
        "Erreur 404 - Exemple",
        "Fehler 404 | Beispiel",
        "お探しのページは見つかりませんでした",
    ],
)
def test_a_common_not_found_title_is_a_soft_404(server, title):
    server.routes["/x"] = page(body=html(title, h1="Sorry"))

    result = check(server, "/x")

    assert (result.outcome, result.rule) == (Outcome.SOFT_404, "soft404-title")


@pytest.mark.parametrize(
    "title",
    [
        "HTTP 404 explained: a guide",
        "404 Not Found Error: What It Is and How to Fix It",
        "Understanding the 404 Not Found error | MDN",
        "Serving custom 404 pages with nginx",
        "Events of the year 1404 in Europe",
    ],
)
def test_an_article_about_404_errors_is_not_a_soft_404(server, title):
    server.routes["/x"] = page(body=html(title, h1=title))

    assert check(server, "/x").outcome == Outcome.OK


# Error pages inside a full site layout: only the title or the heading says so, in the words
# real servers and sites use (navigation pads the page well past the short-body size).
SITE_NAVIGATION = "<nav>" + " ".join(f'<a href="/t/{i}">Topic {i}: guides</a>' for i in range(99))


@pytest.mark.parametrize(
    ("title", "h1"),
    [
        ("Error 404 (Not Found)!!1", "Example"),
        ("404 - File or directory not found.", "Server Error"),
        ("Example", "Die angeforderte Seite konnte nicht gefunden werden"),
        ("Example", "Diese Seite existiert nicht"),
        ("Example", "Esta página não existe"),
        ("Example", "La página que buscas no existe"),
        ("Example", "Ошибка 404"),
        ("Example", "Такой страницы не существует"),
        ("Example", "This page doesn't exist. Try search"),
        ("Example", "Strona nie istnieje"),
    ],
)
def test_an_error_title_or_heading_in_a_full_layout_is_a_soft_404(server, title, h1):
    body = html(title, h1=h1, before_h1=SITE_NAVIGATION, text=SITE_NAVIGATION)
    server.routes["/x"] = page(body=body)

    result = check(server, "/x")

    assert result.outcome == Outcome.SOFT_404
    assert result.rule == ("soft404-title" if title != "Example" else "soft404-h1")


def test_a_short_page_that_mentions_a_number_404_is_not_a_soft_404(server):
    body = b"<title>Room 404 - Conference Centre</title><p>Room 404 seats 30 people.</p>"
    server.routes["/x"] = page(body=body)

    assert check(server, "/x").outcome == Outcome.OK


def test_a_short_page_whose_only_message_is_a_bare_404_is_a_soft_404(server):
    body = b"<title>Example</title><nav>Home About</nav><div>404</div><a href=/>Back home</a>"
    server.routes["/x"] = page(body=body)

    assert check(server, "/x").rule == "soft404-short-body"


def test_a_404_heading_split_across_spans_is_a_soft_404(server):
    digits = "<span>4</span><span>0</span><span>4</span>"
    server.routes["/x"] = page(body=html("Example", h1=digits))

    assert check(server, "/x").rule == "soft404-h1"


def test_a_breadcrumb_mentioning_404_above_the_heading_is_not_a_soft_404(server):
    body = html("Status codes", before_h1="<nav>Guides &gt; HTTP 404</nav>", text=LONG_SCRIPT)
    server.routes["/x"] = page(body=body + ARTICLE_TEXT.encode())

    assert check(server, "/x").outcome == Outcome.OK


# Bot walls --------------------------------------------------------------------------------------


def test_cloudflares_detection_script_on_an_ordinary_page_is_not_a_challenge(server):
    script = (
        b"<script>var a=document.createElement('script');"
        b"a.src='/cdn-cgi/challenge-platform/scripts/jsd/main.js';</script>"
    )
    server.routes["/x"] = page(
        body=b"<title>Notes</title><p>" + ARTICLE_TEXT.encode() + b"</p>" + script
    )

    assert check(server, "/x").outcome == Outcome.OK


def test_a_404_page_carrying_cloudflares_detection_script_is_not_found(server):
    script = b"<script src='/cdn-cgi/challenge-platform/scripts/jsd/main.js'></script>"
    server.routes["/x"] = page(404, body=b"<title>Not Found</title><p>gone</p>" + script)

    assert check(server, "/x").outcome == Outcome.NOT_FOUND


def test_an_article_whose_title_starts_with_access_denied_is_not_a_challenge(server):
    server.routes["/x"] = page(body=html("Access denied errors in S3: a troubleshooting guide"))

    assert check(server, "/x").outcome == Outcome.OK


def test_an_article_about_recaptcha_is_not_a_challenge(server):
    body = html("How reCAPTCHA works", h1="How reCAPTCHA works", text=LONG_SCRIPT)
    server.routes["/x"] = page(body=body + ARTICLE_TEXT.encode())

    assert check(server, "/x").outcome == Outcome.OK


def test_cloudflares_block_page_title_is_a_challenge(server):
    title = "Access denied | example.com used Cloudflare to restrict access"
    server.routes["/x"] = page(403, body=html(title, h1="Error 1020"))

    assert check(server, "/x").rule == "challenge-title"


def test_a_redirect_to_a_location_nobody_can_follow_is_an_http_error(server):
    server.routes["/x"] = redirect("http://127.0.0.1:99999/x", 301)

    result = check(server, "/x")

    assert (result.outcome, result.status_code) == (Outcome.HTTP_ERROR, 301)
    assert "unusable Location" in result.error


def test_a_deep_link_redirected_to_the_home_page_with_tracking_parameters_is_a_soft_404(server):
    server.routes["/courses/retired"] = redirect("/?utm_source=old-site", 301)
    server.routes["/"] = page(body=html("Welcome"))

    assert check(server, "/courses/retired").rule == "soft404-redirect-to-root"


def test_a_deep_link_redirected_to_a_two_letter_section_is_not_a_soft_404(server):
    server.routes["/courses/python"] = redirect("/py/", 301)
    server.routes["/py/"] = page(body=html("Python"))

    assert check(server, "/courses/python").outcome == Outcome.REDIRECTED


def test_a_private_document_redirected_to_a_sign_in_service_is_a_soft_404(server):
    server.routes["/document/d/1abc/edit"] = redirect("/ServiceLogin?continue=/document", 302)
    server.routes["/ServiceLogin"] = page(body=html("Sign in"))

    assert check(server, "/document/d/1abc/edit").rule == "soft404-redirect-to-login"


def test_a_deep_link_whose_page_refreshes_at_once_to_the_home_page_is_a_soft_404(server):
    refresh = b"<meta http-equiv='refresh' content='0; url=/'><title>Redirecting</title>"
    server.routes["/courses/retired"] = page(body=refresh)

    result = check(server, "/courses/retired")

    assert (result.outcome, result.rule) == (Outcome.SOFT_404, "soft404-redirect-to-root")


def test_a_slow_refresh_to_the_home_page_is_not_a_soft_404(server):
    refresh = b"<meta http-equiv='refresh' content='600; url=/'><title>Live scores</title>"
    server.routes["/scores"] = page(body=refresh + ARTICLE_TEXT.encode())

    assert check(server, "/scores").outcome == Outcome.OK


def test_a_short_chunked_page_saying_not_found_below_its_heading_is_a_soft_404(server):
    def handler(h: RequestHandler) -> None:
        h.send_response(200)
        h.send_header("Content-Type", "text/html")
        h.send_header("Transfer-Encoding", "chunked")
        h.end_headers()
        for part in (b"<title>Example</title><h1>Oops</h1>", b"<p>That page was not found.</p>"):
            h.wfile.write(b"%x\r\n%s\r\n" % (len(part), part))
        h.wfile.write(b"0\r\n\r\n")

    server.routes["/x"] = handler

    assert check(server, "/x").rule == "soft404-short-body"
