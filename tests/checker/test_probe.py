"""The random-sibling probe through the engine, against emulated sites that behave as real
sites do with unknown addresses: a soft-404 site serves its not-found page with 200 for every
one (some echo the path), an honest site answers 404, some send them to the home page.

Every page shares the site's layout (a long navigation, a footer with a per-request build id), as
pages of real documentation sites do: the probe must set that aside to compare what is left.
The other probe tests import the sites from here.
"""

from __future__ import annotations

import html
import secrets
import threading
import time
from dataclasses import replace

import pytest

from curation.checker import engine
from curation.checker.classify import PageVerdict
from curation.checker.engine import check_many, check_url
from curation.checker.outcomes import Outcome
from curation.checker.politeness import START_TOLERANCE, LocalHostLimiter
from curation.checker.probe import LocalProbeCache
from tests.checker.conftest import config_for
from tests.checker.servers import RequestHandler, ScriptedServer

CHAPTERS = [
    "Getting started", "Installing on Linux", "Installing on macOS", "Installing on Windows",
    "Your first project", "Configuration files", "Command line reference", "Environment",
    "Working with data", "Queries and filters", "Transactions", "Migrations", "Testing",
    "Deployment", "Monitoring", "Upgrading", "Frequently asked questions", "Glossary",
]  # fmt: skip
NAV = "".join(f"<li><a href='/docs/{i}'>{name}</a></li>" for i, name in enumerate(CHAPTERS))
FOOTER = (
    "<footer><p>Pocket Guides is written by volunteers.</p><p>Content licensed CC BY-SA 4.0.</p>"
    "<p>Built 2026-12-04 at 14:03:27 (build 8f3a2b1c9d).</p></footer>"
)
ARTICLE = (
    "<h1>Transactions</h1><p>A transaction groups several writes so that they happen together "
    "or not at all. Open one with the atomic block, write inside it, and the database keeps "
    "every change or none of them.</p><p>Savepoints let a part of a transaction fail without "
    "losing the rest: wrap the risky part in a nested block and catch its error.</p>"
    "<h2>Isolation</h2><p>Two transactions running at once may see each other's writes or not, "
    "depending on the isolation level; the default is read committed.</p>"
)
# A not-found page that the rules alone cannot recognise: no "404", no "not found" phrase.
NOTHING_HERE = (
    "<h1>Pocket Guides</h1><p>Nothing to read at this address yet.</p>"
    "<p>Try the search box, or pick a chapter from the list.</p>"
)


def layout(title: str, main: str, *, build: str = "") -> bytes:
    footer = FOOTER.replace("8f3a2b1c9d", build) if build else FOOTER
    return (
        f"<!doctype html><html><head><title>{title}</title>"
        "<script>window.analytics = {site: 'pocket'};</script></head>"
        f"<body><header><a href='/'>Pocket Guides</a><nav><ul>{NAV}</ul></nav></header>"
        f"<main>{main}</main>{footer}</body></html>"
    ).encode()


def not_found_page(path: str = "", *, echo: bool = False, build: str = "") -> bytes:
    said = f"<p>You asked for {html.escape(path)} on request 71{len(path)}.</p>" if echo else ""
    return layout("Pocket Guides", NOTHING_HERE + said, build=build)


class Site:
    """A ScriptedServer playing one kind of site, counting the unknown addresses asked for."""

    def __init__(self, server: ScriptedServer, kind: str, *, echo: bool = False) -> None:
        self.server = server
        self.kind = kind
        self.echo = echo
        self.unknown: list[str] = []
        self._lock = threading.Lock()
        server.routes["/"] = lambda h: h.reply(200, layout("Pocket Guides", "<h1>Welcome</h1>"))
        server.routes["*"] = self._unknown

    def add(self, path: str, body: bytes) -> str:
        self.server.routes[path] = lambda h: h.reply(200, body)
        return self.server.url(path)

    def _unknown(self, h: RequestHandler) -> None:
        with self._lock:
            self.unknown.append(h.path)
        if self.kind == "soft":
            h.reply(200, not_found_page(h.path, echo=self.echo, build=secrets.token_hex(5)))
        elif self.kind == "home":
            h.reply(302, b"", headers={"Location": "/"})
        elif self.kind == "refresh-home":
            h.reply(200, b'<meta http-equiv="refresh" content="0; url=/"><title>Moving</title>')
        elif self.kind == "broken":
            h.reply(500, b"<title>Internal error</title>")
        else:
            h.reply(404, layout("Not found | Pocket Guides", "<h1>Not found</h1>"))


@pytest.fixture
def cache() -> LocalProbeCache:
    # A cache of the test's own: the engine's default one lives as long as the process.
    return LocalProbeCache()


@pytest.fixture
def site_of(server):
    def make(kind: str, *, echo: bool = False) -> Site:
        return Site(server, kind, echo=echo)

    return make


def run(site: Site, url: str, cache: LocalProbeCache, **overrides):
    return check_url(url, config=config_for(site.server, probe_cache=cache, **overrides))


def ambiguous_for(monkeypatch, *paths: str) -> None:
    """The rules' verdict on these paths, marked ambiguous (as classify does for a page whose
    signals it cannot settle): the probe's decision is what these tests look at."""
    real = engine.page_verdict

    def verdict(url: str, chain) -> PageVerdict:
        found = real(url, chain)
        if any(url.endswith(path) for path in paths):
            return replace(found, ambiguous=True)
        return found

    monkeypatch.setattr(engine, "page_verdict", verdict)


# Soft-404 sites ----------------------------------------------------------------------------------


@pytest.mark.parametrize("echo", [False, True], ids=["plain", "echoing-the-path"])
def test_an_ordinary_looking_not_found_page_of_a_soft_site_is_a_soft_404(site_of, cache, echo):
    site = site_of("soft", echo=echo)

    result = run(site, site.server.url("/docs/old-chapter"), cache)

    assert (result.outcome, result.rule) == (Outcome.SOFT_404, "soft404-probe-same-page")
    assert "answers every unknown address with the same page" in result.evidence
    assert f"probed {site.unknown[-1][:20]}" in result.evidence
    assert site.unknown[-1].startswith("/docs/") and len(site.unknown) == 2


def test_the_rules_alone_take_that_page_for_a_real_one(site_of, cache):
    site = site_of("soft")

    result = run(site, site.server.url("/docs/old-chapter"), cache, probe=False)

    assert result.outcome == Outcome.OK
    assert site.unknown == ["/docs/old-chapter"]


def test_a_real_page_sharing_a_long_layout_with_the_not_found_page_is_ok(site_of, cache):
    site = site_of("soft")
    url = site.add("/docs/transactions", layout("Transactions | Pocket Guides", ARTICLE))

    result = run(site, url, cache)

    assert (result.outcome, result.rule) == (Outcome.OK, "status-200")
    assert "this page is not that one" in result.evidence
    assert len(site.unknown) == 1


def test_a_real_page_the_rules_doubt_on_a_soft_site_is_ok(site_of, cache, monkeypatch):
    site = site_of("soft")
    url = site.add("/docs/transactions", layout("Transactions | Pocket Guides", ARTICLE))
    ambiguous_for(monkeypatch, "/docs/transactions")

    result = run(site, url, cache)

    assert (result.outcome, result.rule) == (Outcome.OK, "probe-differs-from-not-found")


def test_a_strong_soft_404_verdict_stands_on_a_soft_site(site_of, cache):
    site = site_of("soft")
    url = site.add(
        "/docs/gone", layout("Page not found | Pocket Guides", "<h1>Page not found</h1>")
    )

    result = run(site, url, cache)

    assert (result.outcome, result.rule) == (Outcome.SOFT_404, "soft404-title")


# Honest sites and redirects home --------------------------------------------------------------


def test_an_ambiguous_page_on_an_honest_site_is_ok(site_of, cache, monkeypatch):
    site = site_of("honest")
    url = site.add("/docs/old-chapter", not_found_page())
    ambiguous_for(monkeypatch, "/docs/old-chapter")

    result = run(site, url, cache)

    assert (result.outcome, result.rule) == (Outcome.OK, "probe-honest-site")
    assert "answers unknown addresses with 404" in result.evidence
    assert "so this page is real" in result.evidence


def test_a_rule_verdict_that_is_not_ambiguous_stands_on_an_honest_site(site_of, cache):
    site = site_of("honest")
    url = site.add(
        "/docs/gone", layout("Page not found | Pocket Guides", "<h1>Page not found</h1>")
    )

    result = run(site, url, cache)

    assert (result.outcome, result.rule) == (Outcome.SOFT_404, "soft404-title")
    assert "itself says it is not found" in result.evidence


@pytest.mark.parametrize(
    ("page", "verdict"),
    [
        (not_found_page(), (Outcome.OK, "status-200")),
        (
            layout("Page not found | Pocket Guides", "<h1>Oops</h1>"),
            (Outcome.SOFT_404, "soft404-title"),
        ),
    ],
    ids=["rules-say-ok", "rules-say-soft-404"],
)
@pytest.mark.parametrize("kind", ["home", "refresh-home"], ids=["redirect", "meta-refresh"])
def test_a_site_that_sends_unknown_addresses_home_leaves_the_rules_verdict(
    site_of, cache, page, verdict, kind
):
    site = site_of(kind)
    url = site.add("/docs/old-chapter", page)

    result = run(site, url, cache)

    assert (result.outcome, result.rule) == verdict
    assert "sends unknown addresses to its home page" in result.evidence
    # One request for the probe: where the redirect points is the answer, not the home page.
    assert len(site.unknown) == 1 and ("GET", "/") not in site.server.requests


def test_a_site_failing_on_unknown_addresses_gives_no_verdict_and_no_evidence(site_of, cache):
    site = site_of("broken")
    url = site.add("/docs/chapter", not_found_page())

    first = run(site, url, cache)
    second = run(site, url, cache)

    assert (first.outcome, first.rule, first.evidence) == (Outcome.OK, "status-200", "")
    assert second.outcome == Outcome.OK
    # Kept briefly, so not asked again at once.
    assert len(site.unknown) == 1


# One probe per host and directory -----------------------------------------------------------


def test_many_checks_of_one_directory_send_one_probe(site_of, cache):
    site = site_of("soft")
    urls = [site.add(f"/docs/page-{i}", layout(f"Page {i}", ARTICLE)) for i in range(8)]
    urls += [site.server.url(f"/docs/missing-{i}") for i in range(4)]
    config = config_for(site.server, probe_cache=cache, per_host_concurrency=2)

    results = list(check_many(urls, config=config))
    again = list(check_many(urls, config=config))

    probes = [path for path in site.unknown if "missing" not in path]
    assert len(probes) == 1
    for batch in (results, again):
        outcomes = {r.url.rsplit("/", 1)[1]: r.outcome for r in batch}
        assert [o for page, o in outcomes.items() if "page-" in page] == [Outcome.OK] * 8
        assert [o for page, o in outcomes.items() if "missing" in page] == [Outcome.SOFT_404] * 4


def test_each_directory_gets_its_own_probe(site_of, cache):
    site = site_of("honest")
    urls = [site.add(path, layout("Page", ARTICLE)) for path in ("/docs/a", "/docs/b", "/blog/c")]

    for url in urls:
        run(site, url, cache)

    directories = sorted(path.rsplit("/", 1)[0] for path in site.unknown)
    assert directories == ["/blog", "/docs"]


def test_two_checks_at_once_in_one_directory_send_one_probe(site_of, cache):
    site = site_of("soft")
    both_asked = threading.Barrier(2, timeout=5)

    def together(body: bytes):
        def handler(h: RequestHandler) -> None:
            both_asked.wait()  # Both pages are in flight before either is judged.
            h.reply(200, body)

        return handler

    site.server.routes["/docs/a"] = together(layout("A", ARTICLE))
    site.server.routes["/docs/b"] = together(not_found_page("/docs/b"))
    results: dict[str, object] = {}

    def check(path: str) -> None:
        results[path] = run(site, site.server.url(path), cache)

    threads = [threading.Thread(target=check, args=(p,)) for p in ("/docs/a", "/docs/b")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(20)

    assert len(site.unknown) == 1
    assert results["/docs/a"].outcome == Outcome.OK
    assert results["/docs/b"].outcome == Outcome.SOFT_404


def test_a_known_honest_directory_is_checked_with_the_sniff_alone(site_of, cache):
    site = site_of("honest")
    url = site.add("/docs/a", layout("A", ARTICLE))
    run(site, url, cache)

    result = run(site, site.add("/docs/b", layout("B", ARTICLE)), cache)

    assert result.outcome == Outcome.OK and "404" in result.evidence
    assert [path for _, path in site.server.requests[-1:]] == ["/docs/b"]
    assert len(site.unknown) == 1


def test_the_home_page_alone_is_not_probed(site_of, cache):
    site = site_of("soft")

    result = run(site, site.server.url("/"), cache)

    assert (result.outcome, result.evidence) == (Outcome.OK, "")
    assert site.unknown == []


def test_with_the_probe_off_nothing_but_the_page_is_asked_for(site_of, cache):
    site = site_of("honest")
    url = site.add("/docs/a", layout("A", ARTICLE))

    result = run(site, url, cache, probe=False)

    assert (result.outcome, result.evidence) == (Outcome.OK, "")
    assert site.server.requests == [("GET", "/docs/a")]


def test_the_probe_waits_its_turn_under_the_per_host_interval(wire):
    # ArrivalServer answers every path with an empty 200, like a soft site whose pages are empty.
    config = config_for(wire, probe_cache=LocalProbeCache(), per_host_interval=0.2)
    limiter = LocalHostLimiter(per_host_concurrency=2, per_host_interval=0.2)

    check_url(wire.url("/docs/a"), config=config, limiter=limiter)

    assert wire.wait_for(2)
    page, probe = wire.paths()
    assert page == "/docs/a" and probe.startswith("/docs/") and probe != page
    assert wire.gap(page, probe) >= 0.2 - START_TOLERANCE - wire.precision


def test_a_page_dripping_after_its_heading_is_judged_on_its_heading_not_timed_out(site_of, cache):
    site = site_of("honest")

    def heading_then_drip(h: RequestHandler) -> None:
        head = layout("Transactions", "<h1>Transactions</h1>").split(b"<footer>")[0]
        h.send_response(200)
        h.send_header("Content-Type", "text/html")
        h.send_header("Content-Length", str(len(head) + 60))
        h.end_headers()
        h.wfile.write(head)
        h.wfile.flush()
        try:
            for _ in range(60):
                time.sleep(0.1)
                h.wfile.write(b" ")
                h.wfile.flush()
        except OSError:
            pass  # The checker hung up.

    site.server.routes["/docs/slow"] = heading_then_drip

    result = run(site, site.server.url("/docs/slow"), cache, deadline=4.0)

    # The whole read gave up within its share of the budget; the sniff asked again.
    assert (result.outcome, result.rule) == (Outcome.OK, "status-200")
    assert [path for _, path in site.server.requests].count("/docs/slow") == 2
