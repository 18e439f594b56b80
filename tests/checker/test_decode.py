from __future__ import annotations

import codecs
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from curation.checker.decode import clean_text, decode_html, lookup_label

FIXTURES = Path(__file__).parent / "fixtures" / "metadata"


def test_it_trusts_a_utf8_byte_order_mark_over_the_header():
    body = codecs.BOM_UTF8 + "<title>Ünïcode</title>".encode()

    assert decode_html(body, "text/html; charset=windows-1251") == (
        "<title>Ünïcode</title>",
        "utf-8",
    )


@pytest.mark.parametrize(
    ("bom", "codec", "name"),
    [
        (codecs.BOM_UTF16_LE, "utf-16-le", "utf-16le"),
        (codecs.BOM_UTF16_BE, "utf-16-be", "utf-16be"),
    ],
)
def test_it_decodes_utf16_from_its_byte_order_mark(bom, codec, name):
    body = bom + "<title>Grüße</title>".encode(codec)

    assert decode_html(body, None) == ("<title>Grüße</title>", name)


def test_it_uses_the_content_type_charset():
    body = "<title>Привет</title>".encode("cp1251")

    assert decode_html(body, 'text/html; charset="Windows-1251"') == (
        "<title>Привет</title>",
        "windows-1251",
    )


def test_it_reads_a_latin1_label_as_windows_1252_like_browsers_do():
    text, encoding = decode_html(b"caf\xe9 \x96 ok", "text/html; charset=ISO-8859-1")

    assert (text, encoding) == ("café – ok", "windows-1252")


def test_it_falls_back_to_the_meta_prescan_when_the_header_label_is_unknown():
    body = b'<meta charset="koi8-r"><title>\xf0\xd2\xc9\xd7\xc5\xd4</title>'

    assert decode_html(body, "text/html; charset=x-made-up") == (
        '<meta charset="koi8-r"><title>Привет</title>',
        "koi8-r",
    )


def test_it_skips_an_unknown_meta_label_and_takes_the_next_meta():
    body = (FIXTURES / "shift_jis_unknown_label.html").read_bytes()

    text, encoding = decode_html(body, "text/html")

    assert encoding == "shift_jis"
    assert "<title>統計学入門</title>" in text


@pytest.mark.parametrize(
    ("label", "expected"),
    [
        ("iso_8859_1", "windows-1252"),
        ("ISO_8859-15", "iso-8859-15"),
        ("utf_8", "utf-8"),
        ("Shift_JIS", "shift_jis"),
        (" UTF8 ", "utf-8"),
        ("ascii", "windows-1252"),
        ("klingon", None),
        ("", None),
    ],
)
def test_it_maps_labels_through_the_whatwg_table_with_underscores_tolerated(label, expected):
    assert lookup_label(label) == expected


def test_it_reads_a_meta_http_equiv_content_type():
    body = b'<meta http-equiv="Content-Type" content="text/html; charset=iso_8859_2">\xb1'

    text, encoding = decode_html(body, None)

    assert (text[-1], encoding) == ("ą", "iso-8859-2")


def test_it_treats_a_utf16_meta_in_an_ascii_document_as_utf8():
    body = '<meta charset="utf-16"><title>naïve</title>'.encode()

    assert decode_html(body, None)[1] == "utf-8"


def test_it_ignores_a_meta_charset_inside_a_comment():
    body = '<!-- <meta charset="koi8-r"> --><title>naïve</title>'.encode()

    assert decode_html(body, None) == (
        '<!-- <meta charset="koi8-r"> --><title>naïve</title>',
        "utf-8",
    )


def test_it_only_prescans_the_first_1024_bytes():
    body = b"<!-- " + b"x" * 1100 + b' --><meta charset="koi8-r"><p>caf\xe9</p>'

    assert decode_html(body, None)[1] == "windows-1252"


def test_it_reads_an_xml_declaration_encoding():
    body = (FIXTURES / "xml_declaration_latin9.html").read_bytes()

    text, encoding = decode_html(body, "text/html")

    assert encoding == "iso-8859-15"
    assert "20 € für" in text


def test_it_guesses_windows_1252_for_an_undeclared_non_utf8_page():
    body = (FIXTURES / "windows1252_no_charset.html").read_bytes()

    text, encoding = decode_html(body, "text/html")

    assert encoding == "windows-1252"
    assert "<title>Café – naïve</title>" in text


def test_it_keeps_utf8_when_the_body_was_cut_inside_a_character():
    body = "<p>日本語</p>".encode()[:-6]

    text, encoding = decode_html(body, None)

    assert encoding == "utf-8"
    assert text.startswith("<p>日本")


def test_it_keeps_bytes_undefined_in_cp1252_as_c1_controls():
    assert decode_html(b"a\x81b", None) == ("a\x81b", "windows-1252")


@settings(max_examples=200, deadline=None)
@given(body=st.binary(max_size=2048), content_type=st.one_of(st.none(), st.text(max_size=60)))
def test_it_never_raises_on_any_bytes_and_header(body, content_type):
    text, encoding = decode_html(body, content_type)

    assert isinstance(text, str)
    assert encoding


def test_it_normalises_text_to_nfc():
    assert clean_text("cafe\u0301", 50) == "café"


def test_it_strips_control_and_bidi_characters_and_collapses_whitespace():
    value = "  Hello\x00\x07 \n\t wor\u202eld\u200b \x85 again  "

    assert clean_text(value, 100) == "Hello world again"


def test_it_caps_length_at_a_word_boundary_when_one_is_near():
    assert clean_text("alpha beta gamma delta", 13) == "alpha beta"


def test_it_cuts_hard_when_there_is_no_space_nearby():
    assert clean_text("x" * 50, 10) == "x" * 10


def test_it_does_not_split_a_combining_mark_from_its_letter():
    # NFC folds e + U+0301 into "é", but U+0302 stays a separate combining mark.
    value = "ab" + "e\u0301\u0302" * 3

    result = clean_text(value, 3)

    assert result == "ab"


def test_it_returns_nothing_for_a_zero_cap():
    assert clean_text("anything", 0) == ""


@settings(max_examples=200, deadline=None)
@given(value=st.text(max_size=500), max_len=st.integers(min_value=0, max_value=120))
def test_clean_text_always_holds_its_cap_and_leaves_no_controls(value, max_len):
    result = clean_text(value, max_len)

    assert len(result) <= max_len
    assert result == result.strip()
    assert "  " not in result
    assert not any(ord(c) < 0x20 or 0x7F <= ord(c) < 0xA0 for c in result)
