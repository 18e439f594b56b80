"""The SSRF guard. Each refusal proves that the refused address was never contacted: the
autouse `connections` fixture fails any connect() that is not explicitly permitted."""

from __future__ import annotations

import ipaddress

import pytest
import requests

from curation.checker.addresses import address_refusal
from curation.checker.engine import check_url
from curation.checker.errors import ForbiddenTarget
from curation.checker.guard import build_session
from curation.checker.outcomes import Outcome
from tests.checker.conftest import FakeResolver, config_for
from tests.checker.servers import CountingListener, page, redirect

REFUSED_SPELLINGS = [
    "http://127.0.0.1/",
    "http://[::1]/",
    "http://0.0.0.0/",
    "http://[::]/",
    "http://[::ffff:127.0.0.1]/",
    "http://[::127.0.0.1]/",
    "http://[64:ff9b::7f00:1]/",
    "http://[64:ff9b:1::a00:1]/",
    "http://[2002:7f00:1::]/",
    "http://[2002:a9fe:a9fe::]/",
    "http://0x7f000001/",
    "http://2130706433/",
    "http://0177.1/",
    "http://0177.0.0.1/",
    "http://127.1/",
    "http://100.64.0.1/",
    "http://169.254.169.254/latest/meta-data/",
    "http://[fe80::1]/",
    "http://10.0.0.1/",
    "http://172.16.0.1/",
    "http://192.168.1.1/",
    "http://[fc00::1]/",
    "http://224.0.0.1/",
    "http://[ff02::1]/",
    "http://240.0.0.1/",
    "http://255.255.255.255/",
    "http://198.18.0.1/",
    "http://192.0.2.1/",
    "http://[2001:db8::1]/",
]


@pytest.mark.parametrize("url", REFUSED_SPELLINGS)
def test_it_refuses_a_non_public_address_without_connecting(url, connections):
    result = check_url(url, config=config_for())

    assert result.outcome == Outcome.FORBIDDEN_TARGET
    assert result.rule in {"guard-private-address", "guard-numeric-host"}
    assert connections.attempts == []


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "::1",
        "169.254.169.254",
        "::ffff:127.0.0.1",
        "::ffff:169.254.169.254",
        "64:ff9b::a9fe:a9fe",
        "2002:a9fe:a9fe::1",
        "100.64.0.1",
        "10.1.2.3",
    ],
)
def test_it_refuses_a_name_that_resolves_to_a_non_public_address(address, connections):
    resolver = FakeResolver({"sneaky.example": address})

    result = check_url("http://sneaky.example/page", config=config_for(resolver=resolver))

    assert result.outcome == Outcome.FORBIDDEN_TARGET
    assert result.rule == "guard-private-address"
    assert resolver.lookups == ["sneaky.example"]
    assert connections.attempts == []


def test_it_refuses_a_name_whose_answers_mix_public_and_private_addresses(connections):
    resolver = FakeResolver({"rebind.example": ["93.184.215.14", "127.0.0.1"]})

    result = check_url("http://rebind.example/", config=config_for(resolver=resolver))

    assert result.outcome == Outcome.FORBIDDEN_TARGET
    assert connections.attempts == []


def test_public_unicast_addresses_pass_the_address_check():
    for text in ("8.8.8.8", "93.184.215.14", "2606:4700::1111", "2a00:1450:4007:80e::200e"):
        assert address_refusal(ipaddress.ip_address(text)) is None


def test_the_connection_layer_refuses_even_when_the_url_check_is_bypassed(server, connections):
    server.routes["/"] = page()
    session = build_session(config_for())  # the server is NOT allowed

    with pytest.raises(ForbiddenTarget):
        session.get(server.url("/"), timeout=2)

    assert server.requests == []
    assert connections.attempts == []


def test_the_connection_layer_lets_an_allowed_internal_host_through(server):
    server.routes["/"] = page()
    session = build_session(config_for(server))

    assert session.get(server.url("/"), timeout=2).status_code == 200


def test_it_refuses_a_redirect_from_an_allowed_server_to_a_non_allowed_one(
    make_server, connections
):
    allowed, other = make_server(), make_server()
    other.routes["*"] = page()
    allowed.routes["/go"] = redirect(other.url("/secret"))
    connections.only(allowed)

    result = check_url(allowed.url("/go"), config=config_for(allowed))

    assert result.outcome == Outcome.FORBIDDEN_TARGET
    assert [hop.status for hop in result.redirects] == [301]
    assert result.final_url == other.url("/secret")
    assert other.requests == []
    assert connections.refused == []


def test_it_refuses_a_redirect_to_the_metadata_address(server, connections):
    server.routes["/go"] = redirect("http://169.254.169.254/latest/meta-data/iam/", 302)
    connections.only(server)

    result = check_url(server.url("/go"), config=config_for(server))

    assert result.outcome == Outcome.FORBIDDEN_TARGET
    assert result.rule == "guard-private-address"
    assert connections.to("169.254.169.254") == []
    assert connections.refused == []


def test_it_refuses_a_redirect_to_a_name_resolving_to_the_metadata_address(server, connections):
    server.routes["/go"] = redirect("http://metadata.example/latest/", 302)
    resolver = FakeResolver({"metadata.example": "169.254.169.254"})
    connections.only(server)

    result = check_url(server.url("/go"), config=config_for(server, resolver=resolver))

    assert result.outcome == Outcome.FORBIDDEN_TARGET
    assert resolver.lookups == ["metadata.example"]
    assert connections.refused == []


def test_it_refuses_a_redirect_to_another_scheme(server):
    server.routes["/go"] = redirect("ftp://files.example/pub/")

    result = check_url(server.url("/go"), config=config_for(server))

    assert result.outcome == Outcome.FORBIDDEN_TARGET
    assert result.rule == "guard-scheme"


def test_the_backslash_at_trick_is_refused_before_any_connection(server, connections):
    server.routes["*"] = page()
    config = config_for("evil.example", resolver=FakeResolver({"evil.example": "127.0.0.1"}))

    result = check_url(f"http://127.0.0.1:{server.port}\\@evil.example/", config=config)

    assert result.outcome == Outcome.FORBIDDEN_TARGET
    assert server.requests == []
    assert connections.attempts == []


def test_it_refuses_a_non_web_port_on_a_public_host(connections):
    resolver = FakeResolver({"public.example": "93.184.215.14"})

    result = check_url("http://public.example:6379/", config=config_for(resolver=resolver))

    assert result.outcome == Outcome.FORBIDDEN_TARGET
    assert result.rule == "guard-port"
    assert connections.attempts == []


def test_an_allowed_internal_host_name_bypasses_the_address_check(server):
    server.routes["/"] = page()
    resolver = FakeResolver({"intranet.test": "127.0.0.1"})
    config = config_for(f"intranet.test:{server.port}", resolver=resolver)

    result = check_url(f"http://intranet.test:{server.port}/", config=config)

    assert result.outcome == Outcome.OK


@pytest.mark.parametrize("variable", ["HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy"])
def test_proxy_environment_variables_are_ignored(server, monkeypatch, variable):
    server.routes["/"] = page()
    proxy = CountingListener()
    try:
        monkeypatch.setenv(variable, f"http://127.0.0.1:{proxy.port}")
        monkeypatch.setenv("NO_PROXY", "")

        result = check_url(server.url("/"), config=config_for(server))

        assert result.outcome == Outcome.OK
        assert proxy.connections == 0
        assert server.methods("/")  # the request went straight to the server
    finally:
        proxy.stop()


def test_a_session_refuses_explicit_proxies(server):
    server.routes["/"] = page()
    session = build_session(config_for(server))

    with pytest.raises(ForbiddenTarget):
        session.get(server.url("/"), proxies={"http": "http://127.0.0.1:9"}, timeout=2)


# TLS: the guard connects to the checked address, yet certificates are verified against the name.


def test_tls_verifies_the_hostname_and_sends_sni_through_the_guard(tls_server, certificate):
    resolver = FakeResolver({"secure.test": "127.0.0.1"})
    config = config_for(f"secure.test:{tls_server.port}", resolver=resolver)
    session = build_session(config)
    session.verify = str(certificate[0])

    result = check_url(f"https://secure.test:{tls_server.port}/", config=config, session=session)

    assert result.outcome == Outcome.OK
    assert "secure.test" in tls_server.sni


def test_a_certificate_for_another_name_is_a_tls_error(tls_server, certificate):
    resolver = FakeResolver({"other.test": "127.0.0.1"})
    config = config_for(f"other.test:{tls_server.port}", resolver=resolver)
    session = build_session(config)
    session.verify = str(certificate[0])

    result = check_url(f"https://other.test:{tls_server.port}/", config=config, session=session)

    assert result.outcome == Outcome.TLS_ERROR


def test_an_untrusted_certificate_is_a_tls_error(tls_server):
    result = check_url(tls_server.url("/"), config=config_for(tls_server))

    assert result.outcome == Outcome.TLS_ERROR
    assert result.rule == "tls-error"


def test_requests_itself_is_not_patched():
    assert requests.Session.request.__module__ == "requests.sessions"


def test_an_internationalized_host_name_is_looked_up_in_its_idna_form(connections):
    resolver = FakeResolver()

    result = check_url("http://bücher.example/", config=config_for(resolver=resolver))

    assert result.outcome == Outcome.DNS_ERROR
    assert resolver.lookups == ["xn--bcher-kva.example"]
    assert connections.attempts == []
