"""Open-ended inputs: the engine and the HTML scan never raise, whatever they are fed."""

from __future__ import annotations

import ipaddress
import socket

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from curation.checker.addresses import (
    _CANONICAL_IPV4,
    _looks_like_numeric_ipv4,
    address_refusal,
)
from curation.checker.engine import check_url
from curation.checker.guard import build_session
from curation.checker.htmlscan import MAX_TEXT_CHARS, _Scanner, scan_html
from curation.checker.outcomes import CheckResult, Outcome
from tests.checker.conftest import FakeResolver, config_for

# Everything resolves to nothing and every connect is refused (by the suite's network guard,
# narrowed to no server at all), so a generated URL that happens to name a real public address
# still cannot leave the machine.
CONFIG = config_for(resolver=FakeResolver(), deadline=1.0, retries=0)
SESSION = build_session(CONFIG)

url_like = st.one_of(
    st.text(max_size=60),
    st.builds(
        lambda scheme, host, port, path: f"{scheme}{host}{port}{path}",
        st.sampled_from(["http://", "https://", "HTTP://", "ftp://", "", "http:/", "//"]),
        st.one_of(
            st.from_regex(r"[a-z0-9.\-]{0,20}", fullmatch=True),
            st.ip_addresses().map(lambda ip: f"[{ip}]" if ip.version == 6 else str(ip)),
            st.text(max_size=15),
            st.sampled_from(
                ["0x7f.1", "127.1", "2130706433", "[::ffff:7f00:1]", "a@b", "é.example"]
            ),
        ),
        st.one_of(st.just(""), st.integers(-5, 70000).map(lambda p: f":{p}"), st.text(max_size=6)),
        st.text(max_size=20),
    ),
)


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(url=url_like)
def test_check_url_always_returns_a_result_and_never_leaves_the_machine(url, connections):
    connections.only()  # no server: every connect is refused before it is made...
    connections.tolerate_refusals()  # ...and a public address is a fair input, not a failure
    before = len(connections.attempts)

    result = check_url(url, config=CONFIG, session=SESSION)

    tried = [address[0] for address in connections.attempts[before:]]
    # Only a public address may get as far as connect(): the guard refused every other one.
    assert [a for a in tried if address_refusal(ipaddress.ip_address(a)) is not None] == []
    assert isinstance(result, CheckResult)
    assert result.url == url
    assert result.rule != "unexpected-error", result.error
    assert result.outcome in {
        Outcome.INVALID_URL,
        Outcome.FORBIDDEN_TARGET,
        Outcome.DNS_ERROR,
        Outcome.CONNECTION_ERROR,
        Outcome.TIMEOUT,
    }


@settings(max_examples=300, deadline=None)
@given(body=st.one_of(st.binary(max_size=2000), st.text(max_size=2000).map(str.encode)))
def test_the_html_scan_never_raises_on_junk(body):
    summary = scan_html(body, "text/html")

    assert len(summary.title) <= 500 and len(summary.h1) <= 500


@settings(max_examples=100, deadline=None)
@given(
    title=st.text(max_size=80),
    junk=st.text(alphabet="<>/!-&;#x\"' =abchtiel", max_size=200),
)
def test_the_html_scan_finds_a_title_even_around_broken_markup(title, junk):
    clean = " ".join(title.replace("<", "").replace("&", "").split())
    body = f"<html><head><title>{clean}</title></head><body>{junk}".encode()

    assert scan_html(body, "text/html").title == clean[:500]


def _scan_in_one_piece(body: bytes) -> _Scanner:
    scanner = _Scanner()
    scanner.feed(body.decode())
    scanner.close()
    return scanner


html_piece = st.one_of(
    st.text(alphabet="abc def\n", max_size=300),
    st.sampled_from(
        ["<p>", "</p>", "<h1>", "</h1>", "<span>4</span>", "<title>T</title>", "<br>",
         "<script>var x = '<h1>';</script>", "&amp;", "&#52;", "<!-- c -->", "<div>"]
    ),
)  # fmt: skip


@settings(max_examples=200, deadline=None)
@given(pieces=st.lists(html_piece, max_size=120), padding=st.integers(0, 9000))
def test_the_piecewise_scan_that_stops_early_reads_what_a_whole_scan_reads(pieces, padding):
    body = "<html><head><title>Notes</title></head><body>" + "x" * padding + "".join(pieces)
    whole = _scan_in_one_piece(body.encode())

    summary = scan_html(body.encode(), "text/html; charset=utf-8")

    assert summary.title == " ".join("".join(whole.title).split())[:500]
    assert summary.h1 == " ".join("".join(whole.h1).split())[:500]
    assert summary.text == "\n".join(whole.text)[:MAX_TEXT_CHARS]
    # Stopping early only ever stops counting past the text sample's size.
    assert summary.text_length == whole.text_length or (
        MAX_TEXT_CHARS <= summary.text_length <= whole.text_length
    )


numeric_host = st.text(st.sampled_from(list("0123456789.xXabcdefABCDEF")), min_size=1, max_size=18)


@settings(max_examples=3000)
@given(numeric_host)
def test_every_host_the_resolver_reads_as_an_ipv4_number_is_a_numeric_host(host):
    # inet_aton is the reading getaddrinfo gives such hosts (0177.1, 0x7f.1, 2130706433 ...):
    # whatever it accepts must be caught as numeric, or a spelling could slip past the guard.
    try:
        socket.inet_aton(host)
    except OSError:
        return
    assert _looks_like_numeric_ipv4(host)


@settings(max_examples=3000)
@given(st.ip_addresses(v=4), st.sampled_from(["", "."]))
def test_only_the_canonical_dotted_quad_passes_as_itself(ip, suffix):
    host = f"{ip}{suffix}"
    # Not canonical: ipaddress does not print it back unchanged (a trailing dot, a leading zero).
    refused_spelling = f"{ip}".replace(".", ".0", 1)
    assert _looks_like_numeric_ipv4(host) and _looks_like_numeric_ipv4(refused_spelling)
    assert bool(_CANONICAL_IPV4.fullmatch(host)) == (not suffix)
    assert not _CANONICAL_IPV4.fullmatch(refused_spelling)
