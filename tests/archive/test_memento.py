"""The protocol's pieces: dates, link-format TimeMaps, the closest memento, availability JSON."""

from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import given, settings
from hypothesis import strategies as st

from curation.archive import memento

JAN = datetime(2025, 1, 10, 12, 0, tzinfo=UTC)


def test_accept_datetime_is_an_http_date_in_gmt():
    assert memento.http_date(JAN) == "Fri, 10 Jan 2025 12:00:00 GMT"
    assert memento.wayback_timestamp(JAN) == "20250110120000"


def test_a_timemap_in_link_format_gives_its_mementos_with_their_dates():
    text = (
        '<http://a.test/x>; rel="original",\n'
        '<http://arch.test/web/timemap/link/http://a.test/x>; rel="self"; '
        'type="application/link-format",\n'
        '<http://arch.test/web/20240101000000/http://a.test/x>; rel="first memento"; '
        'datetime="Mon, 01 Jan 2024 00:00:00 GMT",\n'
        '<http://arch.test/web/20250101000000/http://a.test/x>; rel="memento"; '
        'datetime="Wed, 01 Jan 2025 00:00:00 GMT",\n'
        '<http://arch.test/web/20250201000000/http://a.test/x>; rel="last memento"; '
        'datetime="Sat, 01 Feb 2025 00:00:00 GMT"\n'
    )
    found = memento.mementos_in(memento.parse_links(text))
    assert [m.url.split("/")[4] for m in found] == [
        "20240101000000",
        "20250101000000",
        "20250201000000",
    ]
    chosen = memento.closest_before(found, JAN)
    assert chosen.url == "http://arch.test/web/20250101000000/http://a.test/x"
    assert chosen.captured_at == datetime(2025, 1, 1, tzinfo=UTC)


def test_with_no_copy_before_the_moment_the_earliest_after_it_is_taken():
    found = [
        memento.Memento("http://arch.test/2", datetime(2025, 3, 1, tzinfo=UTC)),
        memento.Memento("http://arch.test/1", datetime(2025, 2, 1, tzinfo=UTC)),
    ]
    assert memento.closest_before(found, JAN).url == "http://arch.test/1"
    assert memento.closest_before([], JAN) is None


def test_garbled_link_text_gives_nothing_rather_than_an_error():
    assert memento.mementos_in(memento.parse_links("<<>>;;; rel=,, not a link")) == []
    assert memento.parse_links("") == []


def test_the_availability_answer_names_its_closest_snapshot():
    body = (
        b'{"archived_snapshots": {"closest": {"available": true, "status": "200", '
        b'"url": "http://arch.test/web/20250101000000/http://a.test/", '
        b'"timestamp": "20250101000000"}}}'
    )
    found = memento.parse_availability(body)
    assert found.url == "http://arch.test/web/20250101000000/http://a.test/"
    assert found.captured_at == datetime(2025, 1, 1, tzinfo=UTC)


def test_an_empty_or_odd_availability_answer_means_no_copy():
    assert memento.parse_availability(b'{"archived_snapshots": {}}') is None
    assert memento.parse_availability(b"") is None
    assert memento.parse_availability(b"[]") is None
    assert (
        memento.parse_availability(
            b'{"archived_snapshots": {"closest": {"available": false, "url": "http://x.test/"}}}'
        )
        is None
    )
    assert (
        memento.parse_availability(
            b'{"archived_snapshots": {"closest": {"url": "javascript:alert(1)"}}}'
        )
        is None
    )


def test_a_wayback_address_carries_its_capture_time():
    assert memento.timestamp_in_url("http://arch.test/web/20250101000000/http://a.test/") == (
        datetime(2025, 1, 1, tzinfo=UTC)
    )
    assert memento.timestamp_in_url("http://arch.test/other/http://a.test/") is None


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet='<>;,="/ abcdefhilmnortu:0123456789\n', max_size=300))
def test_any_link_text_parses_without_an_error(text):
    for uri, params in memento.parse_links(text):
        assert isinstance(uri, str)
        assert all(isinstance(k, str) and isinstance(v, str) for k, v in params.items())
    memento.mementos_in(memento.parse_links(text))
