"""check_url against real loopback servers: one test per outcome and per rule."""

from __future__ import annotations

import pytest

from curation.checker.engine import check_url, names_a_file
from curation.checker.outcomes import Outcome
from tests.checker.conftest import config_for
from tests.checker.pages import HTML_OK, check, html
from tests.checker.servers import (
    on_head,
    page,
    redirect,
    reset_on_head,
    sequence,
    slow,
)

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
