from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.provisional import urls

from curation.checker.urlnorm import InvalidURL, normalize_url


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("https://example.com/page?utm_source=x&utm_medium=y", "https://example.com/page"),
        ("https://example.com/page?fbclid=abc&gclid=def", "https://example.com/page"),
        ("https://example.com/page#section-2", "https://example.com/page"),
        ("https://EXAMPLE.com/page", "https://example.com/page"),
        ("HTTPS://example.com/page", "https://example.com/page"),
        ("https://example.com:443/page", "https://example.com/page"),
        ("http://example.com:80/page", "http://example.com/page"),
        ("https://user:secret@example.com/page", "https://example.com/page"),
        ("https://example.com/page/", "https://example.com/page"),
        ("https://example.com", "https://example.com/"),
        ("https://example.com/a?b=2&a=1", "https://example.com/a?a=1&b=2"),
        ("https://example.com/a/./b/../c", "https://example.com/a/c"),
        ("https://example.com/%7Euser", "https://example.com/~user"),
        ("https://bücher.example/", "https://xn--bcher-kva.example/"),
        ("https://example.com./x", "https://example.com/x"),
    ],
)
def test_it_makes_urls_that_differ_only_in_noise_collide(a, b):
    assert normalize_url(a) == normalize_url(b)


@pytest.mark.parametrize(
    "form",
    [
        "https://www.youtube.com/watch?v=dQw4w9WgXcQ",
        "https://youtu.be/dQw4w9WgXcQ",
        "https://youtu.be/dQw4w9WgXcQ?t=42",
        "https://m.youtube.com/watch?v=dQw4w9WgXcQ&feature=share",
        "https://www.youtube.com/shorts/dQw4w9WgXcQ",
        "https://youtube.com/watch?feature=youtu.be&v=dQw4w9WgXcQ&t=1m2s",
        "https://www.youtube.com/embed/dQw4w9WgXcQ",
        "http://www.youtube-nocookie.com/embed/dQw4w9WgXcQ?rel=0",
    ],
)
def test_it_maps_every_youtube_form_of_a_video_to_one_address(form):
    assert normalize_url(form) == "https://www.youtube.com/watch?v=dQw4w9WgXcQ"


def test_it_keeps_a_youtube_playlist_as_a_playlist():
    url = "https://www.youtube.com/playlist?list=PLZHQObOWTQDPD3MizzM2xVFitgF8hE_ab&si=x"
    assert normalize_url(url) == (
        "https://www.youtube.com/playlist?list=PLZHQObOWTQDPD3MizzM2xVFitgF8hE_ab"
    )


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("https://example.com/a", "http://example.com/a"),
        ("https://example.com/a?page=1", "https://example.com/a?page=2"),
        ("https://example.com:8443/a", "https://example.com/a"),
        ("https://example.com/A", "https://example.com/a"),
    ],
)
def test_it_keeps_addresses_apart_when_they_may_be_different_pages(a, b):
    assert normalize_url(a) != normalize_url(b)


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("", "empty"),
        ("ftp://example.com/file", "scheme"),
        ("javascript:alert(1)", "scheme"),
        ("example.com/page", "scheme"),
        ("https://", "no host"),
        ("https://exa mple.com/", "whitespace"),
        ("https://example.com:99999/", "parsed"),
        ("https://" + "a" * 2100 + ".com/", "longer"),
    ],
)
def test_it_rejects_what_is_not_an_http_url_and_says_why(url, message):
    with pytest.raises(InvalidURL, match=message):
        normalize_url(url)


@settings(max_examples=300, deadline=None)
@given(urls())
def test_normalizing_twice_changes_nothing(url):
    once = normalize_url(url)
    assert normalize_url(once) == once


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=200))
def test_any_text_is_normalized_or_rejected_with_invalid_url(text):
    try:
        once = normalize_url(text)
    except InvalidURL:
        return
    assert normalize_url(once) == once


@settings(max_examples=200, deadline=None)
@given(
    urls(),
    st.lists(
        st.sampled_from(["utm_source", "utm_campaign", "fbclid", "gclid", "mc_eid"]),
        min_size=1,
        max_size=3,
    ),
)
def test_tracking_parameters_never_change_the_normalized_address(url, params):
    base = url.split("#")[0]
    separator = "&" if "?" in base else "?"
    tracked = base + separator + "&".join(f"{p}=x" for p in params)
    assert normalize_url(tracked) == normalize_url(base)


def test_a_lone_surrogate_is_an_invalid_url_not_a_crash():
    with pytest.raises(InvalidURL, match="surrogate"):
        normalize_url("https://example.com/\ud800")
