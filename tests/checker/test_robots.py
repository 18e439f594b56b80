"""robots.txt before a page's metadata is read: rules, absence, cache, guard and politeness.

Every case runs against real loopback servers; what robots.txt allowed is read from what the
server was asked, not from the fetcher's own account.
"""

from __future__ import annotations

import json

import pytest

from curation.checker.guard import build_session
from curation.checker.metadata_fetch import (
    ROBOTS_DISALLOWED,
    MetadataUnavailable,
    fetch_page_metadata,
)
from curation.checker.politeness import LocalHostLimiter
from curation.checker.robots import (
    ROBOTS_CAP_BYTES,
    ROBOTS_RETRY_TTL,
    ROBOTS_TTL,
    LocalRobotsCache,
    check_robots,
)
from tests.checker.conftest import config_for
from tests.checker.servers import ArrivalServer, page, redirect

PAGE = b"<html><head><title>Backprop, slowly</title></head><body>...</body></html>"
PRIVATE_ONLY = b"User-agent: *\nDisallow: /private\n"


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def robots(body: bytes, status: int = 200):
    return page(status, body, content_type="text/plain")


def paths(server) -> list[str]:
    return [path for _method, path in server.requests]


def test_a_page_robots_txt_allows_is_read_after_robots_txt(server):
    server.routes["/robots.txt"] = robots(PRIVATE_ONLY)
    server.routes["/public"] = page(200, PAGE)

    fetched = fetch_page_metadata(server.url("/public"), config=config_for(server))

    assert fetched.metadata.title == "Backprop, slowly"
    assert paths(server) == ["/robots.txt", "/public"]


def test_a_page_robots_txt_disallows_is_never_requested(server):
    server.routes["/robots.txt"] = robots(PRIVATE_ONLY)
    server.routes["/private/notes"] = page(200, PAGE)

    with pytest.raises(MetadataUnavailable) as caught:
        fetch_page_metadata(server.url("/private/notes"), config=config_for(server))

    assert caught.value.outcome == ROBOTS_DISALLOWED
    assert str(caught.value).startswith(
        f"robots.txt disallows {server.url('/private/notes')} for SyllabusLinkChecker"
    )
    assert paths(server) == ["/robots.txt"]


@pytest.mark.parametrize(
    ("rules", "allowed"),
    [
        (b"User-agent: SyllabusLinkChecker\nDisallow: /\n\nUser-agent: *\nAllow: /\n", False),
        (b"User-agent: *\nDisallow: /\n\nUser-agent: SyllabusLinkChecker\nAllow: /\n", True),
        (b"User-agent: Googlebot\nDisallow: /\n", True),
    ],
)
def test_the_group_for_the_checkers_user_agent_decides(server, rules, allowed):
    server.routes["/robots.txt"] = robots(rules)
    config = config_for(server)

    verdict = check_robots(
        server.url("/page"), config=config, session=build_session(config), cache=LocalRobotsCache()
    )

    assert verdict.allowed is allowed


@pytest.mark.parametrize("status", [404, 401, 403, 410])
def test_a_missing_or_forbidden_robots_txt_allows_everything(server, status):
    server.routes["/robots.txt"] = robots(b"User-agent: *\nDisallow: /\n", status=status)
    server.routes["/page"] = page(200, PAGE)

    fetched = fetch_page_metadata(server.url("/page"), config=config_for(server))

    assert fetched.metadata.title == "Backprop, slowly"
    assert paths(server) == ["/robots.txt", "/page"]


def test_a_robots_txt_that_fails_with_5xx_allows_and_is_asked_again_soon(server):
    server.routes["/robots.txt"] = robots(b"", status=503)
    server.routes["/page"] = page(200, PAGE)
    clock = Clock()
    cache = LocalRobotsCache(clock=clock)
    config = config_for(server)

    fetch_page_metadata(server.url("/page"), config=config, robots_cache=cache)
    fetch_page_metadata(server.url("/page"), config=config, robots_cache=cache)
    clock.now += ROBOTS_RETRY_TTL + 1
    fetch_page_metadata(server.url("/page"), config=config, robots_cache=cache)

    assert paths(server) == ["/robots.txt", "/page", "/page", "/robots.txt", "/page"]


def test_robots_txt_is_asked_once_per_host_while_it_is_kept(server):
    server.routes["/robots.txt"] = robots(PRIVATE_ONLY)
    server.routes["/a"] = server.routes["/b"] = page(200, PAGE)
    clock = Clock()
    cache = LocalRobotsCache(clock=clock)
    config = config_for(server)

    fetch_page_metadata(server.url("/a"), config=config, robots_cache=cache)
    with pytest.raises(MetadataUnavailable):
        fetch_page_metadata(server.url("/private/x"), config=config, robots_cache=cache)
    fetch_page_metadata(server.url("/b"), config=config, robots_cache=cache)
    clock.now += ROBOTS_TTL + 1
    fetch_page_metadata(server.url("/a"), config=config, robots_cache=cache)

    assert paths(server) == ["/robots.txt", "/a", "/b", "/robots.txt", "/a"]


def test_each_origin_has_its_own_robots_txt(make_server):
    closed, open_ = make_server(), make_server()
    closed.routes["/robots.txt"] = robots(b"User-agent: *\nDisallow: /\n")
    open_.routes["/page"] = page(200, PAGE)
    cache = LocalRobotsCache()
    config = config_for(closed, open_)

    with pytest.raises(MetadataUnavailable):
        fetch_page_metadata(closed.url("/page"), config=config, robots_cache=cache)
    fetched = fetch_page_metadata(open_.url("/page"), config=config, robots_cache=cache)

    assert fetched.metadata.title == "Backprop, slowly"
    assert paths(open_) == ["/robots.txt", "/page"]


def test_robots_txt_is_read_up_to_its_cap(server):
    filler = b"# a comment line to pad the file out\n" * (ROBOTS_CAP_BYTES // 30)
    server.routes["/robots.txt"] = robots(
        b"User-agent: *\nDisallow: /early\n" + filler + b"Disallow: /late\n"
    )
    config = config_for(server)
    cache = LocalRobotsCache()
    session = build_session(config)

    early = check_robots(server.url("/early"), config=config, session=session, cache=cache)
    late = check_robots(server.url("/late"), config=config, session=session, cache=cache)

    assert (early.allowed, late.allowed) == (False, True)


def test_a_redirect_to_a_disallowed_page_gives_no_metadata(server):
    server.routes["/robots.txt"] = robots(PRIVATE_ONLY)
    server.routes["/old"] = redirect("/private/new")
    server.routes["/private/new"] = page(200, PAGE)

    with pytest.raises(MetadataUnavailable) as caught:
        fetch_page_metadata(server.url("/old"), config=config_for(server))

    assert caught.value.outcome == ROBOTS_DISALLOWED


def test_an_oembed_endpoint_robots_txt_disallows_is_not_asked(server):
    oembed = server.url("/oembed?url=x")
    server.routes["/robots.txt"] = robots(b"User-agent: *\nDisallow: /oembed\n")
    server.routes["/watch"] = page(
        200,
        b"<html><head><title>A video</title><link rel='alternate' "
        b"type='application/json+oembed' href='" + oembed.encode() + b"'></head></html>",
    )
    server.routes["/oembed"] = page(
        200, json.dumps({"author_name": "Someone"}).encode(), content_type="application/json"
    )

    fetched = fetch_page_metadata(server.url("/watch"), config=config_for(server))

    assert fetched.metadata.title == "A video"
    assert fetched.metadata.author == ""
    assert "/oembed?url=x" not in paths(server)


def test_robots_txt_goes_through_the_guard(server, connections):
    # A robots.txt redirecting into a private network is not followed (the guard refuses the
    # hop before any connection is made), and counts as no robots.txt to be had.
    connections.only(server)
    server.routes["/robots.txt"] = redirect("http://10.0.0.1/robots.txt", status=302)
    server.routes["/page"] = page(200, PAGE)

    fetched = fetch_page_metadata(server.url("/page"), config=config_for(server))

    assert fetched.metadata.title == "Backprop, slowly"
    assert paths(server) == ["/robots.txt", "/page"]


def test_robots_txt_waits_on_the_host_limiter_like_every_request(server):
    # The host is held (a Retry-After): robots.txt is not asked either, and nothing is cached.
    server.routes["/robots.txt"] = robots(PRIVATE_ONLY)
    server.routes["/page"] = page(200, PAGE)
    config = config_for(server, deadline=0.5, max_queue_wait=0.0)
    limiter = LocalHostLimiter(per_host_concurrency=2, per_host_interval=0)
    limiter.defer(server.host_port, 60)
    cache = LocalRobotsCache()

    with pytest.raises(MetadataUnavailable) as caught:
        fetch_page_metadata(server.url("/page"), config=config, limiter=limiter, robots_cache=cache)

    assert caught.value.outcome == "timeout"
    assert paths(server) == []
    assert cache.get(f"http://{server.host_port}") is None


def test_robots_txt_and_the_page_are_spaced_by_the_host_interval():
    wire = ArrivalServer()
    try:
        config = config_for(wire.host_port)
        limiter = LocalHostLimiter(per_host_concurrency=2, per_host_interval=0.3)

        fetch_page_metadata(wire.url("/page"), config=config, limiter=limiter)

        assert wire.paths() == ["/robots.txt", "/page"]
        assert wire.gap("/robots.txt", "/page") >= 0.3 * 0.98 - wire.precision
    finally:
        wire.stop()


def test_the_local_cache_forgets_expired_and_oldest_entries():
    clock = Clock()
    cache = LocalRobotsCache(max_entries=2, clock=clock)
    cache.set("a", "1", ttl=10)
    cache.set("b", "2", ttl=100)
    cache.set("c", "3", ttl=100)

    assert cache.get("a") is None
    clock.now += 50
    assert (cache.get("b"), cache.get("c")) == ("2", "3")
    clock.now += 51
    assert cache.get("b") is None
