"""The probe's parts on their own: sibling addresses, cache keys, the comparison, the decision
table and the in-process cache."""

from __future__ import annotations

import posixpath
from urllib.parse import urlsplit

import pytest
from hypothesis import given
from hypothesis import strategies as st

from curation.checker.classify import PageVerdict
from curation.checker.config import config_from_settings, read_environment
from curation.checker.outcomes import Outcome
from curation.checker.probe import (
    HOME,
    HONEST,
    SOFT,
    UNKNOWN,
    LocalProbeCache,
    SiteAnswer,
    decide,
    probe_key,
    sibling_url,
)


@pytest.mark.parametrize(
    ("url", "directory", "suffix", "slash"),
    [
        ("http://a.example/docs/intro", "/docs", "", False),
        ("http://a.example/docs/intro.html", "/docs", ".html", False),
        ("http://a.example/posts/my-post/", "/posts", "", True),
        ("http://a.example/guide?page=2#top", "/", "", False),
        ("http://a.example/", "/", "", False),
    ],
)
def test_a_sibling_is_a_random_name_in_the_same_directory(url, directory, suffix, slash):
    sibling = urlsplit(sibling_url(url))
    path = sibling.path

    assert posixpath.dirname(path.rstrip("/")) == directory
    assert path.endswith("/") == slash and path.rstrip("/").endswith(suffix)
    name = posixpath.basename(path.rstrip("/")).removesuffix(suffix)
    assert 16 <= len(name) <= 32 and name.isalnum() and name.isascii()
    assert (sibling.query, sibling.fragment, sibling.netloc) == ("", "", "a.example")


@given(st.text(alphabet="abcdefgh/.-_%", max_size=40))
def test_a_sibling_never_leaves_the_host_or_the_directory(path):
    url = "https://a.example/" + path
    sibling = sibling_url(url)

    assert sibling.startswith("https://a.example/")
    assert probe_key(sibling) == probe_key(url)


def test_sibling_addresses_differ_each_time():
    assert len({sibling_url("http://a.example/docs/x") for _ in range(20)}) == 20


def test_the_key_is_the_scheme_host_port_and_directory():
    assert probe_key("http://A.example/docs/intro?x=1") == "http://a.example:80/docs/"
    assert probe_key("https://a.example/docs/sub/") == "https://a.example:443/docs/"
    assert probe_key("https://a.example/intro") == "https://a.example:443/"


# The decision table ---------------------------------------------------------------------------

LAYOUT = {f"layout-{i}": 40 for i in range(50)}
NOT_FOUND = {**LAYOUT, "nothing here": 30}
SAME = {**LAYOUT, "nothing here": 30}
REAL = {**LAYOUT, "article-1": 300, "article-2": 200}
SHORT = {**LAYOUT, "a line": 60}
OK, SOFT404 = Outcome.OK, Outcome.SOFT_404


def answer(kind: str, lines=None, status=200) -> SiteAnswer:
    return SiteAnswer(
        kind, "/docs/x8fkq2", status, landed="/" if kind == HOME else "", lines=lines or {}
    )


@pytest.mark.parametrize(
    ("kind", "lines", "verdict", "page", "expected"),
    [
        # honest: an ambiguous verdict becomes ok; a strong one stands.
        (HONEST, None, PageVerdict(SOFT404, "weak", True), SAME, (OK, "probe-honest-site")),
        (HONEST, None, PageVerdict(OK, "weak", True), SAME, (OK, "probe-honest-site")),
        (HONEST, None, PageVerdict(SOFT404, "soft404-title"), SAME, (SOFT404, "soft404-title")),
        (HONEST, None, PageVerdict(OK, "status-200"), SAME, (OK, "status-200")),
        # soft, the same page: soft_404, even when the rules said ok.
        (
            SOFT,
            NOT_FOUND,
            PageVerdict(OK, "status-200"),
            SAME,
            (SOFT404, "soft404-probe-same-page"),
        ),
        (
            SOFT,
            NOT_FOUND,
            PageVerdict(OK, "weak", True),
            SAME,
            (SOFT404, "soft404-probe-same-page"),
        ),
        (SOFT, NOT_FOUND, PageVerdict(SOFT404, "soft404-h1"), SAME, (SOFT404, "soft404-h1")),
        # soft, clearly another page: ok, unless a strong rule said soft_404.
        (
            SOFT,
            NOT_FOUND,
            PageVerdict(SOFT404, "weak", True),
            REAL,
            (OK, "probe-differs-from-not-found"),
        ),
        (SOFT, NOT_FOUND, PageVerdict(OK, "status-200"), REAL, (OK, "status-200")),
        (SOFT, NOT_FOUND, PageVerdict(SOFT404, "soft404-title"), REAL, (SOFT404, "soft404-title")),
        # soft, too close to tell: the rules decide.
        (SOFT, NOT_FOUND, PageVerdict(SOFT404, "weak", True), SHORT, (SOFT404, "weak")),
        # soft, and the page has no text at all (nothing of its own): the rules decide.
        (SOFT, LAYOUT, PageVerdict(OK, "status-200"), {}, (OK, "status-200")),
        # home: the rules decide.
        (HOME, None, PageVerdict(SOFT404, "weak", True), SAME, (SOFT404, "weak")),
        (HOME, None, PageVerdict(OK, "status-200"), SAME, (OK, "status-200")),
        # unknown: the rules decide, and nothing is said.
        (UNKNOWN, None, PageVerdict(OK, "weak", True), SAME, (OK, "weak")),
    ],
)
def test_the_decision_table(kind, lines, verdict, page, expected):
    settled = decide(verdict, answer(kind, lines), page)

    assert (settled.outcome, settled.rule) == expected
    assert bool(settled.evidence) == (kind != UNKNOWN)


def test_a_shell_is_the_same_page_only_when_the_page_is_exactly_that_shell():
    shell = {"catatan kode": 12}
    verdict = PageVerdict(OK, "status-200")

    same = decide(verdict, answer(SOFT, shell), dict(shell))
    other = decide(verdict, answer(SOFT, shell), {"catatan kode": 12, "a short note": 12})
    blank = decide(verdict, answer(SOFT, {}), {})

    assert (same.outcome, same.rule) == (SOFT404, "soft404-probe-same-page")
    assert (other.outcome, other.rule) == (OK, "status-200")
    assert (blank.outcome, blank.rule) == (OK, "status-200")


def test_the_evidence_names_the_probe_and_its_answer():
    settled = decide(PageVerdict(OK, "status-200"), answer(SOFT, NOT_FOUND), SAME)

    assert settled.evidence == (
        "this site answers every unknown address with the same page "
        "(probed /docs/x8fkq2, 200), and this is that page"
    )


def test_an_answer_survives_the_cache_as_json():
    original = answer(SOFT, NOT_FOUND)

    assert SiteAnswer.from_value(original.to_value()) == original
    assert SiteAnswer.from_value({"something": "else"}) is None


# The in-process cache -------------------------------------------------------------------------


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_an_answer_is_kept_for_its_ttl_and_then_forgotten():
    clock = Clock()
    cache = LocalProbeCache(clock=clock)
    cache.set("k", {"kind": HONEST}, 24 * 3600)

    clock.now += 24 * 3600 - 1
    kept = cache.get("k")
    clock.now += 2

    assert kept == {"kind": HONEST} and cache.get("k") is None


def test_the_cache_is_bounded_oldest_first():
    cache = LocalProbeCache(max_entries=2)
    for key in "abc":
        cache.set(key, {"kind": HONEST}, 60)

    assert [cache.get(k) is not None for k in "abc"] == [False, True, True]


def test_a_claim_is_held_by_one_caller_until_released_or_expired():
    clock = Clock()
    cache = LocalProbeCache(clock=clock)

    first = cache.claim("k", 10)
    second = cache.claim("k", 10)
    cache.release("k", "not-the-token")
    third = cache.claim("k", 10)
    cache.release("k", first)
    fourth = cache.claim("k", 10)
    clock.now += 11
    fifth = cache.claim("k", 10)

    assert first and second is None and third is None and fourth and fifth


def test_an_operator_may_turn_the_probe_off():
    assert config_from_settings(read_environment({})).probe is True
    assert config_from_settings(read_environment({"LINKCHECK_PROBE": "false"})).probe is False
