"""The checker's HTTP client (urllib3 directly, no requests.Session): what it sends, what it
reuses, how its failures read. Real loopback servers throughout; no timing assertions."""

from __future__ import annotations

import base64
import socket
import threading
import time
import tracemalloc
import zlib
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from hypothesis import given, settings
from hypothesis import strategies as st
from urllib3.exceptions import (
    ConnectTimeoutError,
    NewConnectionError,
    ProtocolError,
    URLSchemeUnknown,
)

from curation.checker import guard as guard_module
from curation.checker.engine import check_url
from curation.checker.errors import (
    ConnectionFailure,
    DNSFailure,
    FetchTimeout,
    ForbiddenTarget,
    InvalidTarget,
)
from curation.checker.fetch import _translate, fetch, fetch_following_redirects
from curation.checker.guard import (
    ACCEPT,
    GuardedClient,
    _prepare_url,
    build_session,
)
from curation.checker.outcomes import Outcome
from tests.checker.conftest import FakeResolver, config_for
from tests.checker.servers import CountingListener, page

MIB = 1024 * 1024


def recording(store: list[dict[str, str]], body: bytes = b"<title>ok</title>"):
    def handler(h):
        store.append({name: value for name, value in h.headers.items()})
        h.reply(200, body)

    return handler


def get(session, url, config, **kwargs):
    kwargs.setdefault("max_bytes", MIB)
    return fetch(session, url, config=config, deadline=time.monotonic() + 5, **kwargs)


def test_build_session_returns_the_guarded_urllib3_client():
    config = config_for()
    session = build_session(config)
    try:
        assert isinstance(session, GuardedClient)
        assert not isinstance(session, requests.Session)
    finally:
        session.close()


def test_the_request_carries_the_honest_user_agent_and_the_encodings_we_decode(server):
    seen: list[dict[str, str]] = []
    server.routes["/"] = recording(seen)
    config = config_for(server, contact_url="https://example.org/contact")

    response = get(build_session(config), server.url("/"), config)

    assert response.status == 200
    headers = seen[0]
    assert headers["User-Agent"] == "SyllabusLinkChecker/0.1 (+https://example.org/contact)"
    assert headers["Accept-Encoding"] == "gzip, deflate"
    assert headers["Accept"] == ACCEPT
    assert headers["Host"] == server.host_port
    assert "Authorization" not in headers and "Cookie" not in headers


def test_a_caller_header_replaces_the_default_one(server):
    seen: list[dict[str, str]] = []
    server.routes["/"] = recording(seen)
    config = config_for(server)

    get(build_session(config), server.url("/"), config, headers={"accept": "application/json"})

    values = [v for k, v in seen[0].items() if k.lower() == "accept"]
    assert values == ["application/json"]


def test_credentials_in_the_url_are_sent_as_basic_auth_like_requests_did(server):
    seen: list[dict[str, str]] = []
    server.routes["/"] = recording(seen)
    config = config_for(server)

    get(build_session(config), f"http://alice:s%40cret@{server.host_port}/", config)

    assert seen[0]["Authorization"] == "Basic " + base64.b64encode(b"alice:s@cret").decode()


def test_a_deflate_body_is_decoded_and_capped_after_decoding(server):
    raw = b"<title>deflated</title>" + b"a" * 500_000
    compressed = zlib.compress(raw)
    server.routes["/"] = lambda h: h.reply(200, compressed, headers={"Content-Encoding": "deflate"})
    config = config_for(server)

    response = get(build_session(config), server.url("/"), config, max_bytes=100_000)

    assert len(compressed) < 100_000  # the cap bites on the decoded size, not the wire size
    assert response.truncated
    assert response.body == raw[:100_000]


def test_cookies_set_by_a_response_go_back_to_that_server(server):
    seen: list[dict[str, str]] = []

    def set_cookie(h):
        h.reply(302, b"", headers={"Location": "/next", "Set-Cookie": "seen=1; Path=/"})

    server.routes["/first"] = set_cookie
    server.routes["/next"] = recording(seen)
    config = config_for(server)

    chain = fetch_following_redirects(
        build_session(config), server.url("/first"), config=config, max_bytes=MIB,
        deadline=time.monotonic() + 5,
    )  # fmt: skip

    assert chain.response.status == 200
    assert seen[0].get("Cookie") == "seen=1"


def test_one_pool_is_shared_by_many_threads_and_reuses_connections(server, connections):
    server.routes["*"] = page()
    config = config_for(server, per_host_concurrency=4)
    session = build_session(config)
    barrier = threading.Barrier(4)

    def work(index: int) -> int:
        if index < 4:
            barrier.wait(timeout=5)  # the first four really overlap
        return get(session, server.url(f"/p{index}"), config).status

    with ThreadPoolExecutor(4) as pool:
        statuses = list(pool.map(work, range(40)))
    session.close()

    assert statuses == [200] * 40
    # Four threads at once need a handful of connections, not one per request.
    assert len(connections.attempts) <= 8


def test_a_head_leaves_the_connection_reusable(server, connections):
    server.routes["/"] = page()
    config = config_for(server)
    session = build_session(config)

    for method in ("HEAD", "GET", "HEAD", "GET"):
        assert get(session, server.url("/"), config, method=method).status == 200

    assert len(connections.attempts) == 1


def test_explicit_proxies_are_refused_before_anything_is_sent(server, connections):
    server.routes["/"] = page()
    proxy = CountingListener()
    try:
        session = build_session(config_for(server))
        with pytest.raises(ForbiddenTarget):
            session.open("GET", server.url("/"), proxies={"http": f"http://127.0.0.1:{proxy.port}"})
        assert proxy.connections == 0
        assert server.requests == []
        assert connections.attempts == []
    finally:
        proxy.stop()


def test_a_refused_connection_is_a_connection_failure(server):
    config = config_for(server)
    server.stop()  # nothing listens on that port any more

    with pytest.raises(ConnectionFailure) as caught:
        get(build_session(config), server.url("/"), config)

    assert caught.value.rule == "connection-error"


def test_a_reset_is_a_connection_failure_marked_as_a_reset(server):
    server.routes["/"] = lambda h: h.reset()
    config = config_for(server)

    with pytest.raises(ConnectionFailure) as caught:
        get(build_session(config), server.url("/"), config)

    assert caught.value.rule in {"connection-reset", "connection-error"}


def test_an_unknown_name_is_a_dns_failure(connections):
    config = config_for("nowhere.test", resolver=FakeResolver())

    with pytest.raises(DNSFailure):
        get(build_session(config), "http://nowhere.test/", config)

    assert connections.attempts == []


def test_silence_after_the_request_is_a_read_timeout(server):
    server.routes["/"] = lambda h: time.sleep(3)
    config = config_for(server, read_timeout=0.5)

    with pytest.raises(FetchTimeout) as caught:
        get(build_session(config), server.url("/"), config)

    assert caught.value.rule == "read-timeout"


def test_urllib3_errors_translate_to_the_checker_errors():
    refused = NewConnectionError(None, "Failed to establish a new connection: refused")
    assert type(_translate(refused)) is ConnectionFailure
    slow = ConnectTimeoutError(None, "Connection to x timed out")
    assert _translate(slow).rule == "connect-timeout"
    reset = ProtocolError("Connection aborted.", ConnectionResetError(104, "Connection reset"))
    assert _translate(reset).rule == "connection-reset"
    assert type(_translate(ValueError("bad"))) is InvalidTarget


def test_a_host_requests_called_an_invalid_label_is_an_invalid_target():
    with pytest.raises(InvalidTarget):
        _prepare_url("http://.example.com/")


URL_PARTS = st.lists(
    st.sampled_from([*"aZ09-._~%/?&=;:@!$'()*+,é中 #[]\\", "%7E", "%2f", "%zz", "..", "./"]),
    max_size=25,
).map("".join)


@settings(max_examples=300, deadline=None)
@given(path=URL_PARTS)
def test_the_request_line_is_the_one_requests_sent(path):
    url = "http://example.com/" + path
    try:
        expected = requests.Request("GET", url).prepare()
    except requests.exceptions.RequestException:
        return
    prepared, target, scheme, host, port, _ = _prepare_url(url)
    assert prepared == expected.url
    assert target == expected.path_url
    assert (scheme, host, port) == ("http", "example.com", None)


# The default trust: certifi's bundle, read once for every client, checked against the host name.


@pytest.fixture
def bundle_reads(monkeypatch, certificate) -> list[str]:
    """certifi's bundle is the test certificate here (so that a verified connection can be made
    at all), and every read of it is noted."""
    import certifi

    from curation.checker import guard

    reads: list[str] = []

    def where() -> str:
        reads.append(str(certificate[0]))
        return str(certificate[0])

    monkeypatch.setattr(certifi, "where", where)
    # Set-up, not an assertion: forget a bundle an earlier test had the clients load.
    monkeypatch.setattr(guard, "_default_tls_context", None)
    return reads


def tls_names(tls_server, *names: str):
    resolver = FakeResolver(dict.fromkeys(names, "127.0.0.1"))
    return config_for(*(f"{name}:{tls_server.port}" for name in names), resolver=resolver)


def test_the_default_trust_is_certifis_bundle_and_checks_the_host_name(tls_server, bundle_reads):
    config = tls_names(tls_server, "secure.test", "other.test")
    client = build_session(config)  # verify left as it is

    named = check_url(f"https://secure.test:{tls_server.port}/", config=config, session=client)
    misnamed = check_url(f"https://other.test:{tls_server.port}/", config=config, session=client)

    assert named.outcome == Outcome.OK
    assert (misnamed.outcome, misnamed.rule) == (Outcome.TLS_ERROR, "tls-error")
    assert bundle_reads  # the certificate was trusted because certifi's bundle named it


def test_the_bundle_is_read_once_for_every_client(tls_server, bundle_reads):
    config = tls_names(tls_server, "secure.test")
    url = f"https://secure.test:{tls_server.port}/"

    outcomes = [check_url(url, config=config, session=build_session(config)) for _ in range(3)]

    assert [result.outcome for result in outcomes] == [Outcome.OK] * 3
    assert len(bundle_reads) == 1


def test_plain_http_never_reads_the_bundle(server, bundle_reads):
    server.routes["/"] = page()
    config = config_for(server)

    assert get(build_session(config), server.url("/"), config).status == 200
    assert bundle_reads == []


def test_changing_verify_never_reuses_a_pool_made_under_the_old_setting(tls_server, certificate):
    config = tls_names(tls_server, "secure.test")
    url = f"https://secure.test:{tls_server.port}/"
    client = build_session(config)

    client.verify = False
    unverified = check_url(url, config=config, session=client)  # its connection is pooled now
    client.verify = True  # certifi's own bundle, which does not know the test certificate
    refused = check_url(url, config=config, session=client)
    client.verify = str(certificate[0])
    trusted = check_url(url, config=config, session=client)

    assert unverified.outcome == Outcome.OK
    assert refused.outcome == Outcome.TLS_ERROR
    assert trusted.outcome == Outcome.OK


def test_each_host_and_port_keeps_its_own_pool(make_server, connections):
    first, second = make_server(), make_server()
    first.routes["/"] = second.routes["/"] = page()
    config = config_for(first, second)
    client = build_session(config)

    for server in (first, second, first, second, first):
        assert get(client, server.url("/"), config).status == 200

    assert len(connections.attempts) == 2  # one connection each, found again every time
    assert (len(first.requests), len(second.requests)) == (3, 2)


def _blocks_held_by_the_client() -> int:
    """Memory blocks allocated while the client's code ran, and still alive."""
    snapshot = tracemalloc.take_snapshot().filter_traces(
        [tracemalloc.Filter(True, guard_module.__file__, all_frames=True)]
    )
    return sum(stat.count for stat in snapshot.statistics("filename"))


def test_what_a_client_remembers_per_host_stays_bounded_however_many_hosts_it_sees(
    connections, monkeypatch
):
    bound = 50  # MAX_POOL_KEYS, made small so that the test is quick
    monkeypatch.setattr("curation.checker.guard.MAX_POOL_KEYS", bound)

    def no_names(host: str, port: int) -> list:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    # Every name fails to resolve (after the client has found the host its pool): nothing is sent.
    config = config_for(resolver=no_names)
    client = build_session(config)

    def visit(hosts: range) -> None:
        for index in hosts:
            with pytest.raises(DNSFailure):
                client.open("GET", f"http://host{index}.example/")

    tracemalloc.start(4)
    try:
        # Past every bound there is (the pool keys, the URL cache), then four times as far.
        visit(range(6 * bound))
        full = _blocks_held_by_the_client()
        visit(range(6 * bound, 24 * bound))
        four_times_as_far = _blocks_held_by_the_client()
    finally:
        tracemalloc.stop()

    assert four_times_as_far < 1.2 * full
    assert connections.attempts == []


def test_a_scheme_other_than_http_and_https_is_refused_before_anything_is_sent(connections):
    client = build_session(config_for())

    with pytest.raises(URLSchemeUnknown):
        client.open("GET", "ftp://example.com/pub/")

    assert connections.attempts == []
