from __future__ import annotations

import random
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from curation.checker.metadata import extract_metadata
from curation.checker.metadata_types import TEXT_CAPS, URL_FIELDS, PageMetadata

FIXTURES = Path(__file__).parent / "fixtures" / "metadata"


def page(head: str, body: str = "", final_url: str = "https://site.example/a/b") -> PageMetadata:
    html = f"<!doctype html><html><head>{head}</head><body>{body}</body></html>"
    return extract_metadata(html.encode(), content_type="text/html", final_url=final_url)


def assert_inert(meta: PageMetadata) -> None:
    for name, cap in TEXT_CAPS.items():
        value = getattr(meta, name)
        assert isinstance(value, str)
        assert len(value) <= cap, name
        assert not any(ord(c) < 0x20 for c in value), name
    for name in URL_FIELDS:
        value = getattr(meta, name)
        assert value == "" or value.startswith(("http://", "https://")), name
    for name in ("duration_minutes", "reading_minutes"):
        value = getattr(meta, name)
        assert value is None or 0 < value <= 600_000
    assert set(meta.sources) <= set(meta.to_dict())


def test_it_rejects_a_page_with_a_hundred_og_tags():
    body = (FIXTURES / "og_flood.html").read_bytes()

    meta = extract_metadata(body, content_type="text/html", final_url="https://spam.example/")

    assert meta.rejected_reason == "too-many-og-tags"
    assert (meta.title, meta.image_url, meta.sources) == ("", "", {})


def test_it_does_not_count_youtube_video_tags_as_a_flood():
    tags = "".join(f'<meta property="og:video:tag" content="t{i}">' for i in range(80))

    assert page(tags + '<meta property="og:title" content="Fine">').title == "Fine"


def test_it_rejects_a_cloudflare_challenge_page():
    body = (FIXTURES / "challenge_cloudflare.html").read_bytes()

    meta = extract_metadata(
        body, content_type="text/html", final_url="https://rust.example/learn/rust"
    )

    assert meta.rejected_reason == "challenge-page"
    assert meta.title == ""


@pytest.mark.parametrize(
    ("head", "body"),
    [
        ("<title>Attention Required! | Cloudflare</title>", ""),
        ("<title>Access denied</title>", ""),
        ("<title>Access denied | docs.example used Cloudflare to restrict access</title>", ""),
        ("<title>Shop</title>", '<div id="px-captcha"></div>'),
        ("<title>Shop</title>", '<iframe src="/_Incapsula_Resource?SWUDNSAI=9"></iframe>'),
    ],
)
def test_it_rejects_other_bot_walls(head, body):
    assert page(head, body).rejected_reason == "challenge-page"


def test_it_keeps_an_article_that_only_quotes_a_challenge_marker_in_text():
    meta = page(
        "<title>Access denied: debugging 403s</title>",
        "<pre><code>window._cf_chl_opt = {}</code></pre>",
    )

    assert (meta.rejected_reason, meta.title) == ("", "Access denied: debugging 403s")


@pytest.mark.parametrize(
    "href",
    [
        "javascript:alert(1)",
        " JaVaScRiPt:alert(1)",
        "java\tscript:alert(1)",
        "data:text/html,<script>alert(1)</script>",
        "vbscript:msgbox",
        "mailto:a@example.com",
        "ftp://files.example/x",
        "http://user:pw@site.example/",
        "http://127.0.0.1:8000\\@evil.example/",
        "https://site.example/" + "a" * 2100,
        "http://",
        "http://site.example:99999/",
    ],
)
def test_it_drops_a_canonical_that_is_not_a_plain_http_url(href):
    meta = page(f'<link rel="canonical" href="{href}">')

    assert meta.canonical_url == ""


def test_it_falls_back_to_og_url_when_the_canonical_is_javascript():
    meta = page(
        '<link rel="canonical" href="javascript:alert(1)"><meta property="og:url" content="/real">'
    )

    assert (meta.canonical_url, meta.sources["canonical_url"]) == (
        "https://site.example/real",
        "og:url",
    )


def test_it_drops_relative_urls_when_the_final_url_is_not_http():
    meta = page('<meta property="og:image" content="/img.png">', final_url="file:///etc/passwd")

    assert meta.image_url == ""


def test_it_drops_a_non_http_oembed_link():
    meta = page('<link rel="alternate" type="application/json+oembed" href="file:///etc/passwd">')

    assert meta.oembed_url == ""


def test_it_caps_every_value_on_a_five_megabyte_head():
    filler = "<meta name='x' content='" + "y" * 1000 + "'>"
    head = (
        "<title>" + "T " * 5000 + "</title>"
        + '<meta property="og:description" content="' + "d" * 50_000 + '">'
        + '<meta name="author" content="' + "a " * 10_000 + '">'
        + '<meta property="og:image" content="https://img.example/' + "p" * 5000 + '">'
        + filler * 5000
    )  # fmt: skip
    body = f"<html><head>{head}</head><body>end</body></html>".encode()
    assert len(body) > 5_000_000

    meta = extract_metadata(body, content_type="text/html", final_url="https://big.example/")

    assert len(meta.title) == 299  # cut at the last space before 300
    assert len(meta.description) == 1000
    assert len(meta.author) <= 200
    assert meta.image_url == ""  # longer than 2048
    assert_inert(meta)


def test_it_survives_binary_content_served_as_html():
    junk = random.Random(5).randbytes(200_000)

    meta = extract_metadata(junk, content_type="text/html", final_url="https://bin.example/")

    assert_inert(meta)
    assert meta.content_type == "text/html"


def test_it_survives_nul_bytes_and_an_empty_body():
    for body in (b"", b"\x00" * 100, b"<title>a\x00b</title>"):
        assert_inert(
            extract_metadata(body, content_type="text/html", final_url="https://x.example/")
        )


def test_it_keeps_text_values_as_plain_text():
    meta = page('<meta property="og:title" content="&lt;script&gt;x&lt;/script&gt;\x1b[31m red">')

    assert meta.title == "<script>x</script>[31m red"


HTML_PIECES = st.sampled_from(
    [
        b"<html>", b"<head>", b"</head>", b"<body>", b"<title>", b"</title>", b"<meta charset=",
        b'<meta property="og:title" content="', b'<meta property="og:image" content="',
        b'<link rel="canonical" href="', b'<link rel="icon" href="', b'">', b"'", b'"',
        b'<script type="application/ld+json">', b"</script>", b'{"@type":"Course","name":',
        b'{"@graph":[', b"]}", b'"duration":"PT', b"H", b"M", b'"', b"javascript:", b"//",
        b"http://", b"\x00", b"\xff\xfe", b"\xef\xbb\xbf", b"<!--", b"-->", b"<?xml encoding='",
        b"<base href=", b"<svg><title>", b"\x96", "é".encode(), "日本".encode("cp932"),
    ]
)  # fmt: skip
PAGES = st.one_of(
    st.binary(max_size=3000),
    st.lists(st.one_of(HTML_PIECES, st.binary(max_size=20)), max_size=60).map(b"".join),
)
CONTENT_TYPES = st.one_of(
    st.none(),
    st.sampled_from(
        ["text/html", "text/html; charset=utf-16", "text/html; charset=klingon",
         "application/xhtml+xml", "application/pdf", "image/png", "", "application/octet-stream"]
    ),
    st.text(max_size=40),
)  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(
    body=PAGES,
    content_type=CONTENT_TYPES,
    final_url=st.sampled_from(["https://x.example/a/", "", "junk"]),
)
def test_extract_metadata_never_raises_and_every_cap_holds(body, content_type, final_url):
    meta = extract_metadata(body, content_type=content_type, final_url=final_url)

    assert_inert(meta)
