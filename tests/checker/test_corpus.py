"""A labelled corpus of awkward servers, checked in one check_many run: our regression net.

Every case is what a real site does (HEAD mishandled, redirect chains, soft-404s in several
languages, bot walls, drips, bombs, redirects into private space), labelled with the outcome a
curator would call the truth and, for redirects, the address to report. A trap server on another
loopback address, never allowed, must see no request at all.
"""

from __future__ import annotations

import email.utils
import gzip
import time
from collections.abc import Callable
from dataclasses import dataclass

import pytest

from curation.checker.engine import check_many
from curation.checker.outcomes import Outcome
from tests.checker.conftest import config_for
from tests.checker.servers import (
    RequestHandler,
    drip,
    drip_headers,
    gzip_bomb,
    on_head,
    page,
    redirect,
    reset_on_head,
    sequence,
    slow,
)

ARTICLE = "<p>" + "A long and useful explanation of the topic. " * 40 + "</p>"
CLOUDFLARE_JSD = "<script src='/cdn-cgi/challenge-platform/scripts/jsd/main.js'></script>"


def html(title: str, h1: str = "", body: str = ARTICLE) -> bytes:
    return (
        f"<!doctype html><html><head><meta charset='utf-8'><title>{title}</title></head>"
        f"<body><nav>Home Courses About</nav><h1>{h1}</h1>{body}</body></html>"
    ).encode()


def short(title: str, h1: str = "") -> bytes:
    return html(title, h1, body="<p>Try the search.</p>")


def retry_after_date(seconds: float, then_status: int = 429) -> Callable[[RequestHandler], None]:
    def handler(h: RequestHandler) -> None:
        when = email.utils.formatdate(time.time() + seconds, usegmt=True)
        h.reply(then_status, b"", headers={"Retry-After": when})

    return handler


def cut_headers(h: RequestHandler) -> None:
    h.wfile.write(b"HTTP/1.1 200 OK\r\nContent-Ty")
    h.close_connection = True


def http_10(h: RequestHandler) -> None:
    """An old server: no Content-Length, the body ends when the connection closes."""
    body = b"" if h.command == "HEAD" else html("Course", "Course")
    h.wfile.write(b"HTTP/1.0 200 OK\r\nContent-Type: text/html\r\n\r\n" + body)
    h.close_connection = True


def cookie_bounce(h: RequestHandler) -> None:
    if "seen=1" in (h.headers.get("Cookie") or ""):
        h.reply(200, html("Course", "Course"))
    else:
        h.reply(302, b"", headers={"Location": "/cookie", "Set-Cookie": "seen=1; Path=/"})


@dataclass
class Case:
    path: str
    outcome: Outcome
    final: str | None = None  # expected final_url path, for redirects


OK = page(body=html("Linear algebra", "Vectors"))
PDF = page(body=b"%PDF-1.7", content_type="application/pdf")


def endless_video(h: RequestHandler) -> None:
    """A download that never ends: only a checker that stops at the headers gets past it."""
    h.send_response(200)
    h.send_header("Content-Type", "video/mp4")
    h.end_headers()
    if h.command == "HEAD":
        return
    chunk = b"\0" * 65536
    try:
        for _ in range(10_000):
            h.wfile.write(chunk)
    except OSError:
        pass  # the checker hung up, as it should
    h.close_connection = True


ROUTES: dict[str, Callable[[RequestHandler], None]] = {
    "/ok": OK,
    "/target": OK,
    "/pdf": page(body=b"%PDF-1.7", content_type="application/pdf"),
    "/head-405": on_head(page(405, b""), OK),
    "/head-501": on_head(page(501, b""), OK),
    "/head-reset": reset_on_head(OK),
    "/head-hangs": on_head(slow(10, OK), OK),
    "/head-ok-get-404": on_head(OK, page(404, short("Not Found"))),
    "/moved-301": redirect("/target", 301),
    "/moved-308": redirect("/target", 308),
    "/temp-302": redirect("/target", 302),
    "/slash": redirect("/slash/", 301),
    "/slash/": OK,
    "/perm-then-temp": redirect("/pt-b", 301),
    "/pt-b": redirect("/target", 302),
    "/temp-then-perm": redirect("/tp-b", 302),
    "/tp-b": redirect("/target", 301),
    "/relative": redirect("target", 301),
    "/space": redirect("/with space", 301),
    "/with%20space": OK,
    "/loop-a": redirect("/loop-b"),
    "/loop-b": redirect("/loop-a"),
    "/cookie": cookie_bounce,
    "/to-404": redirect("/nowhere", 301),
    "/deep/to-root": redirect("/", 301),
    "/deep/to-login": redirect("/login?next=/deep/to-login", 302),
    "/deep/to-locale": redirect("/en/", 302),
    "/": page(body=html("Welcome", "Welcome")),
    "/login": page(body=short("Sign in", "Sign in")),
    "/en/": page(body=html("Welcome", "Welcome")),
    "/soft/en": page(body=short("Page Not Found | Example", "Oops")),
    "/soft/wordpress": page(body=short("Oops! That page can’t be found. – Example")),
    "/soft/fr": page(body=short("Page introuvable - Exemple")),
    "/soft/de": page(body=short("Seite nicht gefunden – Beispiel")),
    "/soft/es": page(body=short("Página no encontrada | Ejemplo")),
    "/soft/pt": page(body=short("Página não encontrada")),
    "/soft/it": page(body=short("Pagina non trovata")),
    "/soft/nl": page(body=short("Pagina niet gevonden")),
    "/soft/ja": page(body=short("お探しのページは見つかりませんでした")),
    "/soft/h1-404": page(body=short("Example", "404")),
    "/legit/http-404": page(body=html("HTTP 404 explained: a guide", "HTTP 404 explained")),
    "/legit/cf-script": page(
        body=b"<title>Notes</title>" + ARTICLE.encode() + CLOUDFLARE_JSD.encode()
    ),
    "/404": page(404, short("Not Found")),
    "/410": page(410, short("Gone")),
    "/418": page(418, b""),
    "/401": page(401, b""),
    "/403": page(403, b""),
    "/407": page(407, b""),
    "/999": page(999, b""),
    "/500-once": sequence(page(500, b""), page(500, b""), OK),
    "/500-always": page(500, b""),
    "/503-retry-after-1": sequence(page(503, b"", headers={"Retry-After": "1"}), OK),
    "/429-retry-after-3600": page(429, b"", headers={"Retry-After": "3600"}),
    "/429-http-date-far": retry_after_date(7200),
    "/cf-challenge": page(403, short("Just a moment..."), headers={"cf-mitigated": "challenge"}),
    "/cf-503": page(503, short("Just a moment...")),
    "/px-captcha": page(
        body=b"<title>Access to this page has been denied</title><div id='px-captcha'>"
    ),
    "/drip": drip(interval=0.5, total=60),
    "/drip-headers": drip_headers(),
    "/never-answers": slow(30, OK),
    "/bomb": gzip_bomb(),
    "/cut-headers": cut_headers,
    "/meta-refresh-home": page(body=b"<meta http-equiv='refresh' content='0; url=/'>"),
    "/unusable-location": redirect("http://127.0.0.1:99999/x", 301),
    "/shift-jis": page(
        body="<meta charset='shift_jis'><title>ページが見つかりません</title>".encode("shift_jis"),
        content_type="text/html",
    ),
    "/gzip-soft": lambda h: h.reply(
        200, gzip.compress(short("Page not found")), headers={"Content-Encoding": "gzip"}
    ),
    "/http-1.0": http_10,
    "/files/ok.pdf": PDF,
    "/files/head-405.pdf": on_head(page(405, b""), PDF),
    "/files/head-reset.pdf": reset_on_head(PDF),
    "/files/head-hangs.pdf": on_head(slow(10, PDF), PDF),
    "/files/gone.pdf": page(404, short("Not Found")),
    "/files/landing.pdf": page(body=short("Page not found")),
    "/watch": endless_video,
}
TRAP_ROUTES = ("/to-trap", "/to-metadata", "/to-ftp", "/to-hex")

CASES = [
    Case("/ok", Outcome.OK),
    Case("/pdf", Outcome.OK),
    Case("/head-405", Outcome.OK),
    Case("/head-501", Outcome.OK),
    Case("/head-reset", Outcome.OK),
    Case("/head-hangs", Outcome.OK),
    Case("/head-ok-get-404", Outcome.NOT_FOUND),
    Case("/moved-301", Outcome.REDIRECTED, "/target"),
    Case("/moved-308", Outcome.REDIRECTED, "/target"),
    Case("/temp-302", Outcome.OK, "/target"),
    Case("/slash", Outcome.OK, "/slash/"),
    Case("/perm-then-temp", Outcome.REDIRECTED, "/pt-b"),
    Case("/temp-then-perm", Outcome.OK, "/target"),
    Case("/relative", Outcome.REDIRECTED, "/target"),
    Case("/space", Outcome.REDIRECTED, "/with%20space"),
    Case("/loop-a", Outcome.REDIRECT_LOOP),
    Case("/cookie", Outcome.OK),
    Case("/to-404", Outcome.NOT_FOUND),
    Case("/deep/to-root", Outcome.SOFT_404),
    Case("/deep/to-login", Outcome.SOFT_404),
    Case("/deep/to-locale", Outcome.SOFT_404),
    Case("/soft/en", Outcome.SOFT_404),
    Case("/soft/wordpress", Outcome.SOFT_404),
    Case("/soft/fr", Outcome.SOFT_404),
    Case("/soft/de", Outcome.SOFT_404),
    Case("/soft/es", Outcome.SOFT_404),
    Case("/soft/pt", Outcome.SOFT_404),
    Case("/soft/it", Outcome.SOFT_404),
    Case("/soft/nl", Outcome.SOFT_404),
    Case("/soft/ja", Outcome.SOFT_404),
    Case("/soft/h1-404", Outcome.SOFT_404),
    Case("/legit/http-404", Outcome.OK),
    Case("/legit/cf-script", Outcome.OK),
    Case("/404", Outcome.NOT_FOUND),
    Case("/410", Outcome.NOT_FOUND),
    Case("/418", Outcome.HTTP_ERROR),
    Case("/401", Outcome.BLOCKED),
    Case("/403", Outcome.BLOCKED),
    Case("/407", Outcome.BLOCKED),
    Case("/999", Outcome.BLOCKED),
    Case("/500-once", Outcome.OK),
    Case("/500-always", Outcome.SERVER_ERROR),
    Case("/503-retry-after-1", Outcome.OK),
    Case("/429-retry-after-3600", Outcome.BLOCKED),
    Case("/429-http-date-far", Outcome.BLOCKED),
    Case("/cf-challenge", Outcome.BLOCKED),
    Case("/cf-503", Outcome.BLOCKED),
    Case("/px-captcha", Outcome.BLOCKED),
    Case("/drip", Outcome.TIMEOUT),
    Case("/drip-headers", Outcome.TIMEOUT),
    Case("/never-answers", Outcome.TIMEOUT),
    Case("/bomb", Outcome.OK),
    Case("/cut-headers", Outcome.CONNECTION_ERROR),
    Case("/meta-refresh-home", Outcome.SOFT_404),
    Case("/unusable-location", Outcome.HTTP_ERROR),
    Case("/shift-jis", Outcome.SOFT_404),
    Case("/gzip-soft", Outcome.SOFT_404),
    Case("/http-1.0", Outcome.OK),
    Case("/files/ok.pdf", Outcome.OK),
    Case("/files/head-405.pdf", Outcome.OK),
    Case("/files/head-reset.pdf", Outcome.OK),
    Case("/files/head-hangs.pdf", Outcome.OK),
    Case("/files/gone.pdf", Outcome.NOT_FOUND),
    Case("/files/landing.pdf", Outcome.SOFT_404),
    Case("/watch", Outcome.OK),
    *(Case(path, Outcome.FORBIDDEN_TARGET) for path in TRAP_ROUTES),
]


@pytest.fixture
def corpus(make_server):
    """Run the whole corpus once; returns (site, trap, expected, results)."""
    site, trap = make_server(), make_server(host="127.0.0.9")
    trap.routes["*"] = page()
    site.routes.update(ROUTES)
    site.routes["/to-trap"] = redirect(trap.url("/secret"), 302)
    site.routes["/to-metadata"] = redirect("http://169.254.169.254/latest/meta-data/", 301)
    site.routes["/to-ftp"] = redirect("ftp://127.0.0.1/file", 301)
    site.routes["/to-hex"] = redirect(f"http://0x7f000001:{site.port}/ok", 301)
    expected: dict[str, tuple[Outcome, str | None]] = {
        site.url(case.path): (case.outcome, case.final and site.url(case.final)) for case in CASES
    }
    for url, outcome in (
        (f"http://0x7f000001:{site.port}/ok", Outcome.FORBIDDEN_TARGET),
        (f"http://2130706433:{site.port}/ok", Outcome.FORBIDDEN_TARGET),
        (f"http://[::ffff:127.0.0.1]:{site.port}/ok", Outcome.FORBIDDEN_TARGET),
        (f"http://127.0.0.1:{site.port}\\@evil.example/", Outcome.FORBIDDEN_TARGET),
        (trap.url("/direct"), Outcome.FORBIDDEN_TARGET),
        ("http://169.254.169.254/", Outcome.FORBIDDEN_TARGET),
        ("ftp://x", Outcome.INVALID_URL),
        ("javascript:alert(1)", Outcome.INVALID_URL),
        ("not a url", Outcome.INVALID_URL),
    ):
        expected[url] = (outcome, None)
    config = config_for(
        site, deadline=2.5, read_timeout=2.0, concurrency=32, per_host_concurrency=32
    )
    results = {r.url: r for r in check_many(list(expected), config=config)}
    return site, trap, expected, results


def test_every_case_of_the_corpus_gets_its_label(corpus):
    _, _, expected, results = corpus

    wrong = {
        url: (r.outcome.value, r.final_url, r.rule, r.error[:80])
        for url, r in results.items()
        if r.outcome != expected[url][0] or expected[url][1] not in (None, r.final_url)
    }

    assert wrong == {}
    assert results.keys() == expected.keys()


def test_no_refused_address_of_the_corpus_is_ever_contacted(corpus, connections):
    _, trap, _, _ = corpus

    assert trap.requests == []
    assert connections.to("127.0.0.9") == []
    assert connections.to("169.254.169.254") == []
