"""The low-level fetcher: deadline, decompressed-size cap, early stop, redirects hop by hop."""

from __future__ import annotations

import time

import pytest

from curation.checker.errors import FetchTimeout, RedirectLoop
from curation.checker.fetch import fetch, fetch_following_redirects
from curation.checker.guard import build_session
from tests.checker.conftest import config_for
from tests.checker.servers import drip, drip_headers, gzip_bomb, page, redirect

MIB = 1024 * 1024


def test_a_drip_server_is_stopped_by_the_deadline(server):
    # 60 bytes at one byte per 0.5 s would take 30 s; the 2 s deadline must cut it short.
    dripping = server.routes["/drip"] = drip(interval=0.5, total=60)
    config = config_for(server)
    session = build_session(config)

    with pytest.raises(FetchTimeout) as caught:
        fetch(
            session,
            server.url("/drip"),
            config=config,
            max_bytes=MIB,
            deadline=time.monotonic() + 2.0,
        )

    assert caught.value.rule in {"deadline", "read-timeout"}
    # As the server saw it: the client hung up part way through the body, not at its end.
    assert dripping.hung_up.wait(10)
    assert dripping.finished == 0
    assert len(dripping.hung_up_after) == 1 and dripping.hung_up_after[0] < 60


def test_a_server_dripping_its_headers_is_stopped_by_the_deadline(server):
    # 100 header lines at one per 0.3 s would take 30 s; each read succeeds, so only the
    # deadline watch can stop it.
    tarpit = server.routes["/tarpit"] = drip_headers(interval=0.3, count=100)
    config = config_for(server, read_timeout=5.0)

    with pytest.raises(FetchTimeout) as caught:
        fetch(
            build_session(config),
            server.url("/tarpit"),
            config=config,
            max_bytes=MIB,
            deadline=time.monotonic() + 2.0,
        )

    assert caught.value.rule == "deadline"
    # As the server saw it: the client hung up in the middle of the headers.
    assert tarpit.hung_up.wait(10)
    assert tarpit.finished == 0
    assert len(tarpit.hung_up_after) == 1 and tarpit.hung_up_after[0] < 100


def test_a_gzip_bomb_is_stopped_by_the_cap_counted_after_decompression(server):
    server.routes["/bomb"] = gzip_bomb(50 * MIB)
    config = config_for(server)

    response = fetch(
        build_session(config),
        server.url("/bomb"),
        config=config,
        max_bytes=MIB,
        deadline=time.monotonic() + 10,
    )

    assert response.status == 200
    assert response.truncated
    assert len(response.body) == MIB
    assert response.body == bytes(MIB)


def test_reading_stops_at_the_marker(server):
    server.routes["/"] = page(body=b"<html><head><title>T</title></HEAD><body>" + b"x" * 200_000)
    config = config_for(server)

    response = fetch(
        build_session(config),
        server.url("/"),
        config=config,
        max_bytes=MIB,
        deadline=time.monotonic() + 5,
        stop_at=b"</head>",
    )

    assert response.stopped_at_marker
    assert b"</HEAD>" in response.body
    assert len(response.body) < 100_000


def test_a_small_body_is_read_whole_and_the_connection_reused(server, connections):
    server.routes["/"] = page(body=b"<title>hello</title>")
    config = config_for(server)
    session = build_session(config)

    for _ in range(3):
        response = fetch(
            session, server.url("/"), config=config, max_bytes=MIB, deadline=time.monotonic() + 5
        )
        assert response.body == b"<title>hello</title>" and not response.truncated

    assert len(connections.attempts) == 1


def test_fetch_does_not_follow_redirects(server):
    server.routes["/a"] = redirect("/b")
    config = config_for(server)

    response = fetch(
        build_session(config), server.url("/a"), config=config, max_bytes=0,
        deadline=time.monotonic() + 5,
    )  # fmt: skip

    assert response.status == 301 and response.location == "/b"
    assert server.methods("/b") == []


def test_redirects_are_followed_hop_by_hop_with_relative_locations(server):
    server.routes["/a"] = redirect("b", 302)
    server.routes["/b"] = redirect("//" + server.host_port + "/c?x=1", 307)
    server.routes["/c"] = page()
    config = config_for(server)

    chain = fetch_following_redirects(
        build_session(config), server.url("/a"), config=config, max_bytes=MIB,
        deadline=time.monotonic() + 5,
    )  # fmt: skip

    assert [(h.url, h.status) for h in chain.hops] == [
        (server.url("/a"), 302),
        (server.url("/b"), 307),
    ]
    assert chain.final_url == server.url("/c?x=1")
    assert chain.response.status == 200


def test_a_redirect_body_is_never_read(server):
    # requests reads a redirect's body in full even with allow_redirects=False unless prevented;
    # a dripping 301 body would then escape the deadline.
    def dripping_redirect(h):
        h.send_response(301)
        h.send_header("Location", "/done")
        h.send_header("Content-Length", "60")
        h.end_headers()
        try:
            for _ in range(60):
                h.wfile.write(b"x")
                h.wfile.flush()
                time.sleep(0.5)
        except OSError:
            pass  # We hung up, as we should.

    server.routes["/a"] = dripping_redirect
    server.routes["/done"] = page()
    config = config_for(server)

    chain = fetch_following_redirects(
        build_session(config), server.url("/a"), config=config, max_bytes=MIB,
        deadline=time.monotonic() + 3,
    )  # fmt: skip

    assert chain.response.status == 200


def test_a_redirect_loop_is_detected(server):
    server.routes["/a"] = redirect("/b")
    server.routes["/b"] = redirect("/a")
    config = config_for(server)

    with pytest.raises(RedirectLoop) as caught:
        fetch_following_redirects(
            build_session(config), server.url("/a"), config=config, max_bytes=0,
            deadline=time.monotonic() + 5,
        )  # fmt: skip

    assert caught.value.rule == "redirect-loop"
    assert len(server.requests) <= 4


def test_too_many_redirects_is_reported_as_a_loop(server):
    server.routes["*"] = lambda h: h.reply(302, headers={"Location": h.path + "x"})
    config = config_for(server, max_redirects=3)

    with pytest.raises(RedirectLoop) as caught:
        fetch_following_redirects(
            build_session(config), server.url("/a"), config=config, max_bytes=0,
            deadline=time.monotonic() + 5,
        )  # fmt: skip

    assert caught.value.rule == "too-many-redirects"
    assert len(caught.value.hops) == 4


def chunked(*parts: bytes, pause: float = 0.0):
    """A chunked 200 (no Content-Length), optionally stalling after the first part."""

    def handler(h):
        h.send_response(200)
        h.send_header("Content-Type", "text/html")
        h.send_header("Transfer-Encoding", "chunked")
        h.end_headers()
        try:
            for index, part in enumerate(parts):
                h.wfile.write(b"%x\r\n%s\r\n" % (len(part), part))
                h.wfile.flush()
                if index == 0 and pause:
                    time.sleep(pause)
            h.wfile.write(b"0\r\n\r\n")
        except OSError:
            pass  # The client stopped reading, as it should.

    return handler


def test_a_small_page_is_read_to_its_end_past_the_marker(server):
    server.routes["/"] = chunked(b"<h1>Oops</h1>", b"<p>We could not find that page.</p>")
    config = config_for(server)

    response = fetch(
        build_session(config),
        server.url("/"),
        config=config,
        max_bytes=MIB,
        deadline=time.monotonic() + 5,
        stop_at=b"</h1>",
    )

    assert not response.stopped_at_marker
    assert response.body.endswith(b"find that page.</p>")


def test_a_page_that_stalls_after_the_marker_is_not_waited_for(server):
    server.routes["/"] = chunked(b"<h1>Course</h1>", b"<p>rest</p>", pause=10)
    config = config_for(server)

    response = fetch(
        build_session(config),
        server.url("/"),
        config=config,
        max_bytes=MIB,
        deadline=time.monotonic() + 3,
        stop_at=b"</h1>",
    )

    assert response.stopped_at_marker
    assert response.body == b"<h1>Course</h1>"
