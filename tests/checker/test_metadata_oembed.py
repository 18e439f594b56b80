from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from curation.checker.metadata import parse_oembed

YOUTUBE_LIKE = {
    "title": "How B-trees Work (Databases Explained)",
    "author_name": "Data Structures Daily",
    "author_url": "https://www.youtube.com/@datastructuresdaily",
    "type": "video",
    "height": 113,
    "width": 200,
    "version": "1.0",
    "provider_name": "YouTube",
    "provider_url": "https://www.youtube.com/",
    "thumbnail_height": 360,
    "thumbnail_width": 480,
    "thumbnail_url": "https://i.ytimg.com/vi/Xb7rT2kQ9aE/hqdefault.jpg",
    "html": '<iframe width="200" src="https://www.youtube.com/embed/Xb7rT2kQ9aE"></iframe>',
}


def test_it_reads_a_youtube_like_oembed_document():
    meta = parse_oembed(json.dumps(YOUTUBE_LIKE).encode())

    assert meta.title == "How B-trees Work (Databases Explained)"
    assert meta.author == "Data Structures Daily"
    assert meta.site_name == "YouTube"
    assert meta.image_url == "https://i.ytimg.com/vi/Xb7rT2kQ9aE/hqdefault.jpg"
    assert meta.kind_hint == "video"
    assert meta.duration_minutes is None
    assert set(meta.sources.values()) == {"oembed"}


def test_it_never_keeps_the_embed_html():
    meta = parse_oembed(json.dumps(YOUTUBE_LIKE).encode())

    assert "iframe" not in json.dumps(meta.to_dict())


def test_it_reads_a_vimeo_like_duration_in_seconds():
    meta = parse_oembed(json.dumps({"type": "video", "title": "Talk", "duration": 634}).encode())

    assert meta.duration_minutes == 11


def test_it_drops_a_non_http_thumbnail_and_ignores_non_string_fields():
    body = json.dumps({"title": ["x"], "thumbnail_url": "javascript:alert(1)", "duration": "soon"})

    meta = parse_oembed(body.encode())

    assert (meta.title, meta.image_url, meta.duration_minutes) == ("", "", None)


def test_it_returns_an_empty_record_for_non_objects_and_junk():
    for body in (b"[]", b"null", b"<html>", b"\xff\xfe", b'"string"', b"{" * 100_000):
        assert parse_oembed(body).to_dict() == parse_oembed(b"{}").to_dict()


@settings(max_examples=200, deadline=None)
@given(
    st.one_of(
        st.binary(max_size=500),
        st.dictionaries(
            st.sampled_from(
                [
                    "title",
                    "author_name",
                    "thumbnail_url",
                    "provider_name",
                    "duration",
                    "type",
                    "html",
                ]
            ),
            st.one_of(st.text(max_size=400), st.integers(), st.floats(), st.booleans(), st.none()),
        ).map(lambda d: json.dumps(d).encode()),
    )
)
def test_parse_oembed_never_raises_and_holds_its_caps(body):
    meta = parse_oembed(body)

    assert len(meta.title) <= 300 and len(meta.author) <= 200 and len(meta.site_name) <= 200
    assert meta.image_url == "" or meta.image_url.startswith(("http://", "https://"))
    assert meta.duration_minutes is None or meta.duration_minutes >= 1
