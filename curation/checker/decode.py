"""Turn fetched HTML bytes into text the way browsers choose an encoding, and clean values.

The order follows the HTML standard's encoding sniffing: byte order mark, the Content-Type
charset, a prescan of the first 1024 bytes, then a guess (UTF-8 when it decodes, else
windows-1252). Labels go through the WHATWG label table so that "latin1" decodes like a
browser would (as windows-1252), not like Python's strict ISO-8859-1.
"""

from __future__ import annotations

import codecs
import re
import unicodedata

PRESCAN_BYTES = 1024
FALLBACK_ENCODING = "windows-1252"

# WHATWG Encoding Standard label table: canonical name -> its labels. "replacement" is left out
# on purpose: those labels (iso-2022-kr, hz-gb-2312...) are treated as unknown, so the next step
# decides, which yields harmless text instead of a single U+FFFD.
_LABELS: dict[str, str] = {
    "utf-8": "unicode-1-1-utf-8 unicode11utf8 unicode20utf8 utf-8 utf8 x-unicode20utf8",
    "ibm866": "866 cp866 csibm866 ibm866",
    "iso-8859-2": "csisolatin2 iso-8859-2 iso-ir-101 iso8859-2 iso88592 iso_8859-2 "
    "iso_8859-2:1987 l2 latin2",
    "iso-8859-3": "csisolatin3 iso-8859-3 iso-ir-109 iso8859-3 iso88593 iso_8859-3 "
    "iso_8859-3:1988 l3 latin3",
    "iso-8859-4": "csisolatin4 iso-8859-4 iso-ir-110 iso8859-4 iso88594 iso_8859-4 "
    "iso_8859-4:1988 l4 latin4",
    "iso-8859-5": "csisolatincyrillic cyrillic iso-8859-5 iso-ir-144 iso8859-5 iso88595 "
    "iso_8859-5 iso_8859-5:1988",
    "iso-8859-6": "arabic asmo-708 csiso88596e csiso88596i csisolatinarabic ecma-114 "
    "iso-8859-6 iso-8859-6-e iso-8859-6-i iso-ir-127 iso8859-6 iso88596 iso_8859-6 "
    "iso_8859-6:1987",
    "iso-8859-7": "csisolatingreek ecma-118 elot_928 greek greek8 iso-8859-7 iso-ir-126 "
    "iso8859-7 iso88597 iso_8859-7 iso_8859-7:1987 sun_eu_greek",
    "iso-8859-8": "csiso88598e csisolatinhebrew hebrew iso-8859-8 iso-8859-8-e iso-ir-138 "
    "iso8859-8 iso88598 iso_8859-8 iso_8859-8:1988 visual",
    "iso-8859-8-i": "csiso88598i iso-8859-8-i logical",
    "iso-8859-10": "csisolatin6 iso-8859-10 iso-ir-157 iso8859-10 iso885910 l6 latin6",
    "iso-8859-13": "iso-8859-13 iso8859-13 iso885913",
    "iso-8859-14": "iso-8859-14 iso8859-14 iso885914",
    "iso-8859-15": "csisolatin9 iso-8859-15 iso8859-15 iso885915 iso_8859-15 l9",
    "iso-8859-16": "iso-8859-16",
    "koi8-r": "cskoi8r koi koi8 koi8-r koi8_r",
    "koi8-u": "koi8-ru koi8-u",
    "macintosh": "csmacintosh mac macintosh x-mac-roman",
    "windows-874": "dos-874 iso-8859-11 iso8859-11 iso885911 tis-620 windows-874",
    "windows-1250": "cp1250 windows-1250 x-cp1250",
    "windows-1251": "cp1251 windows-1251 x-cp1251",
    "windows-1252": "ansi_x3.4-1968 ascii cp1252 cp819 csisolatin1 ibm819 iso-8859-1 "
    "iso-ir-100 iso8859-1 iso88591 iso_8859-1 iso_8859-1:1987 l1 latin1 us-ascii "
    "windows-1252 x-cp1252",
    "windows-1253": "cp1253 windows-1253 x-cp1253",
    "windows-1254": "cp1254 csisolatin5 iso-8859-9 iso-ir-148 iso8859-9 iso88599 iso_8859-9 "
    "iso_8859-9:1989 l5 latin5 windows-1254 x-cp1254",
    "windows-1255": "cp1255 windows-1255 x-cp1255",
    "windows-1256": "cp1256 windows-1256 x-cp1256",
    "windows-1257": "cp1257 windows-1257 x-cp1257",
    "windows-1258": "cp1258 windows-1258 x-cp1258",
    "x-mac-cyrillic": "x-mac-cyrillic x-mac-ukrainian",
    "gbk": "chinese csgb2312 csiso58gb231280 gb2312 gb_2312 gb_2312-80 gbk iso-ir-58 x-gbk",
    "gb18030": "gb18030",
    "big5": "big5 big5-hkscs cn-big5 csbig5 x-x-big5",
    "euc-jp": "cseucpkdfmtjapanese euc-jp x-euc-jp",
    "iso-2022-jp": "csiso2022jp iso-2022-jp",
    "shift_jis": "csshiftjis ms932 ms_kanji shift-jis shift_jis sjis windows-31j x-sjis",
    "euc-kr": "cseuckr csksc56011987 euc-kr iso-ir-149 korean ks_c_5601-1987 ks_c_5601-1989 "
    "ksc5601 ksc_5601 windows-949",
    "utf-16be": "unicodefffe utf-16be",
    "utf-16le": "csunicode iso-10646-ucs-2 ucs-2 unicode unicodefeff utf-16 utf-16le",
    "x-user-defined": "x-user-defined",
}
LABEL_TO_ENCODING: dict[str, str] = {
    label: name for name, labels in _LABELS.items() for label in labels.split()
}

# Python codecs that decode like the WHATWG encodings. The standard's decoders are supersets of
# the legacy ones (gbk is decoded as gb18030, euc-kr as windows-949, Shift_JIS as windows-31j).
_PYTHON_CODEC: dict[str, str] = {
    "ibm866": "cp866",
    "iso-8859-8-i": "iso8859-8",
    "macintosh": "mac-roman",
    "windows-874": "cp874",
    "x-mac-cyrillic": "mac-cyrillic",
    "gbk": "gb18030",
    "big5": "big5hkscs",
    "shift_jis": "cp932",
    "euc-kr": "cp949",
}

_BOMS: tuple[tuple[bytes, str], ...] = (
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16le"),
    (codecs.BOM_UTF16_BE, "utf-16be"),
)

# Python's cp1252 leaves 0x81, 0x8D, 0x8F, 0x90 and 0x9D undefined; the WHATWG decoder maps them
# to the C1 control of the same number (which clean_text later strips). A full 256-entry charmap
# does that at C speed, even when a hostile body is made of nothing else.
_WINDOWS_1252_TABLE = "".join(
    bytes([byte]).decode("cp1252", "ignore") or chr(byte) for byte in range(256)
)

_COMMENT = re.compile(rb"<!--.*?(?:-->|\Z)", re.DOTALL)
_META_TAG = re.compile(rb"<meta[\s/]([^>]*)", re.IGNORECASE)
_ATTRIBUTE = re.compile(rb"""([^\s=/>]+)\s*(?:=\s*("[^"]*"|'[^']*'|[^\s>]*))?""")
_CHARSET_IN_CONTENT = re.compile(rb"""charset\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s;"']+))""", re.I)
_XML_DECLARATION = re.compile(rb"""\A<\?xml\s[^>]*?encoding\s*=\s*["']([^"']{1,40})["']""")
_CHARSET_PARAM = re.compile(r"""charset\s*=\s*["']?([^\s;"']+)""", re.IGNORECASE)


def lookup_label(label: str | bytes | None) -> str | None:
    """Return the WHATWG encoding name for a label, or None when the label is unknown."""
    if label is None:
        return None
    if isinstance(label, bytes):
        label = label.decode("ascii", "replace")
    key = label.strip(" \t\n\f\r\"'").lower()
    # Authors write "iso_8859_1" and "utf_8"; the table only knows some underscore spellings.
    return LABEL_TO_ENCODING.get(key) or LABEL_TO_ENCODING.get(key.replace("_", "-"))


def decode_html(body: bytes, content_type: str | None) -> tuple[str, str]:
    """Decode an HTML body; return (text, encoding name used). Never raises."""
    for bom, name in _BOMS:
        if body.startswith(bom):
            return _decode(body[len(bom) :], name), name

    encoding = _usable(lookup_label(_header_charset(content_type)))
    if encoding is None:
        encoding = _prescan(body[:PRESCAN_BYTES])
    if encoding is None:
        encoding = "utf-8" if _is_utf8(body) else FALLBACK_ENCODING
    return _decode(body, encoding), encoding


def _header_charset(content_type: str | None) -> str | None:
    if not content_type:
        return None
    match = _CHARSET_PARAM.search(content_type)
    return match.group(1) if match else None


def _usable(encoding: str | None) -> str | None:
    # x-user-defined only makes sense for binary XHR; a page declaring it reads as windows-1252.
    return FALLBACK_ENCODING if encoding == "x-user-defined" else encoding


def _prescan(head: bytes) -> str | None:
    head = _COMMENT.sub(b"", head)
    for tag in _META_TAG.finditer(head):
        encoding = _meta_encoding(tag.group(1))
        if encoding:
            return encoding
    declaration = _XML_DECLARATION.match(head.lstrip())
    if declaration:
        return _from_document(lookup_label(declaration.group(1)))
    return None


def _meta_encoding(attributes: bytes) -> str | None:
    found: dict[bytes, bytes] = {}
    for match in _ATTRIBUTE.finditer(attributes):
        name = match.group(1).lower()
        raw = match.group(2) or b""
        # Quoted values lose their quotes; unquoted ones their self-closing slash.
        value = raw[1:-1] if raw[:1] in (b'"', b"'") else raw.rstrip(b"/")
        found.setdefault(name, value)
    if b"charset" in found:
        return _from_document(lookup_label(found[b"charset"]))
    if found.get(b"http-equiv", b"").strip().lower() == b"content-type":
        charset = _CHARSET_IN_CONTENT.search(found.get(b"content", b""))
        if charset:
            label = next(group for group in charset.groups() if group is not None)
            return _from_document(lookup_label(label))
    return None


def _from_document(encoding: str | None) -> str | None:
    # A document that can be prescanned as ASCII cannot be UTF-16, so the HTML standard reads
    # an in-document "utf-16" declaration as UTF-8.
    if encoding in ("utf-16le", "utf-16be"):
        return "utf-8"
    return _usable(encoding)


def _is_utf8(body: bytes) -> bool:
    # final=False tolerates a multi-byte character cut off by the fetcher's size cap.
    try:
        codecs.getincrementaldecoder("utf-8")("strict").decode(body, final=False)
    except UnicodeDecodeError:
        return False
    return True


def _decode(body: bytes, encoding: str) -> str:
    if encoding == FALLBACK_ENCODING:
        return _decode_windows_1252(body)
    codec = _PYTHON_CODEC.get(encoding, encoding)
    try:
        return body.decode(codec, "replace")
    except LookupError:
        return _decode_windows_1252(body)


def _decode_windows_1252(body: bytes) -> str:
    return codecs.charmap_decode(body, "strict", _WINDOWS_1252_TABLE)[0]


# Formatting and control characters that make stored text lie about itself: bidirectional
# overrides and isolates (text spoofing), zero-width space and BOM. ZWJ/ZWNJ stay because
# emoji sequences and several scripts need them.
_INVISIBLE = frozenset(
    "\u200b\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\ufeff"
)
_DROP_CATEGORIES = frozenset({"Cc", "Cs"})


def clean_text(value: str, max_len: int) -> str:
    """Return inert one-line text: NFC, no control characters, single spaces, <= max_len chars."""
    if max_len <= 0 or not value:
        return ""
    # Bound the work on hostile input; whitespace collapsing rarely shrinks text fourfold.
    value = unicodedata.normalize("NFC", value[: max_len * 4 + 64])
    kept: list[str] = []
    for char in value:
        if char.isspace():
            if kept and kept[-1] != " ":
                kept.append(" ")
        elif not _is_dropped(char):
            kept.append(char)
    text = "".join(kept).strip()
    return text if len(text) <= max_len else _cut(text, max_len)


def _is_dropped(char: str) -> bool:
    if char in _INVISIBLE:
        return True
    code = ord(char)
    if 0xFDD0 <= code <= 0xFDEF or (code & 0xFFFE) == 0xFFFE:
        return True
    return unicodedata.category(char) in _DROP_CATEGORIES


def _cut(text: str, max_len: int) -> str:
    cut = max_len
    # Prefer a word boundary when one is near; otherwise cut hard.
    space = text.rfind(" ", 0, cut + 1)
    if space >= max_len * 0.7:
        cut = space
    # Never leave a base character without the combining marks that follow it.
    while cut > 0 and unicodedata.category(text[cut]).startswith("M"):
        cut -= 1
    return text[:cut].rstrip()
