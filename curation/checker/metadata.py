"""Page metadata from fetched bytes: which source wins for each field, and when to refuse.

Parsing is pure: the bytes were fetched elsewhere (through the guarded client), and nothing
here touches the network. Every value comes out as capped plain text; every address as an
absolute http(s) URL or not at all.
"""

from __future__ import annotations

from collections.abc import Iterable

from curation.checker.decode import clean_text, decode_html
from curation.checker.metadata_html import HtmlFacts, parse_html
from curation.checker.metadata_jsonld import JsonLdFacts, extract_jsonld
from curation.checker.metadata_oembed import parse_oembed
from curation.checker.metadata_types import (
    REJECTED_CHALLENGE,
    REJECTED_TOO_MANY_TAGS,
    TEXT_CAPS,
    PageMetadata,
)
from curation.checker.metadata_values import (
    normalize_date,
    normalize_language,
    parse_iso8601_duration,
    safe_http_url,
    seconds_to_minutes,
)

__all__ = ["PageMetadata", "extract_metadata", "parse_iso8601_duration", "parse_oembed"]

# The fetcher hands over a few hundred KB at most; this cap holds even if it does not.
MAX_PARSE_BYTES = 1024 * 1024
MAX_SOCIAL_TAGS = 50
WORDS_PER_MINUTE = 230
# Below this, the "article" is a teaser or a script shell and a reading time would mislead.
MIN_WORDS_FOR_READING_TIME = 100
SNIFF_BYTES = 512

HTML_TYPES = frozenset({"text/html", "application/xhtml+xml"})
PDF_TYPES = frozenset({"application/pdf", "application/x-pdf"})
# Servers often send PDFs as generic binary; the magic number is then the better witness.
GENERIC_TYPES = frozenset({"", "application/octet-stream", "binary/octet-stream"})
_HTML_STARTS = (b"<!doctype html", b"<html", b"<head", b"<title", b"<meta", b"<body", b"<!--")

CHALLENGE_TITLES = frozenset(
    {
        "just a moment...",
        "just a moment\u2026",
        "attention required! | cloudflare",
        "access denied",
        "pardon our interruption",
    }
)

_KIND_BY_OG_TYPE = {"article": "article", "book": "book", "books": "book", "video": "video"}


def extract_metadata(
    body: bytes, *, content_type: str | None, final_url: str, body_truncated: bool = False
) -> PageMetadata:
    """Metadata of a fetched resource; never raises.

    `final_url` is the address after redirects: relative URLs resolve against it (or the
    page's <base href>). `body_truncated` says the fetcher stopped at its size cap, which
    rules out a reading-time estimate. Rejected pages (tag floods, bot challenges) come back
    empty with `rejected_reason` set.
    """
    media_type = _media_type(content_type)
    meta = PageMetadata(content_type=clean_text(media_type, TEXT_CAPS["content_type"]))
    if media_type in PDF_TYPES or (media_type in GENERIC_TYPES and body.startswith(b"%PDF-")):
        _set(meta, "kind_hint", "paper", "content-type" if media_type in PDF_TYPES else "sniffed")
        return meta
    if not (media_type in HTML_TYPES or (not media_type and _looks_like_html(body))):
        return meta

    text, _ = decode_html(body[:MAX_PARSE_BYTES], content_type)
    page = parse_html(text)
    if page is None:
        return meta
    if page.social_tag_count > MAX_SOCIAL_TAGS:
        return _rejected(meta, REJECTED_TOO_MANY_TAGS)
    if page.challenge_marker or _is_challenge_title(page.title):
        return _rejected(meta, REJECTED_CHALLENGE)

    ld = extract_jsonld(page.jsonld) or JsonLdFacts()
    base = _base_url(page.base_href, final_url)
    _fill_text(meta, page, ld)
    _fill_urls(meta, page, ld, base)
    _fill_typed(meta, page, ld)
    truncated = body_truncated or len(body) > MAX_PARSE_BYTES
    if meta.kind_hint == "article" and not truncated:
        _set_reading_time(meta, page.word_count)
    return meta


# Candidate lists are in priority order: the first source with a usable value wins.
Candidates = list[tuple[str, str]]


def _fill_text(meta: PageMetadata, page: HtmlFacts, ld: JsonLdFacts) -> None:
    _pick(meta, "title", _title_candidates(page, ld))
    _pick(meta, "description", _description_candidates(page, ld))
    _pick(meta, "site_name", _site_name_candidates(page, ld))
    _pick(meta, "og_type", [("og:type", page.first_meta("og:type").lower())])
    _pick(meta, "author", _author_candidates(page, ld))
    _pick(meta, "educational_level", [("json-ld", ld.educational_level)])
    _pick(meta, "language", _language_candidates(page, ld))
    _pick(meta, "published", _published_candidates(page, ld))


def _title_candidates(page: HtmlFacts, ld: JsonLdFacts) -> Candidates:
    m = page.first_meta
    return [
        ("og:title", m("og:title")),
        ("twitter:title", m("twitter:title")),
        ("json-ld", ld.title),
        ("citation_title", m("citation_title")),
        ("title-tag", page.title),
    ]


def _description_candidates(page: HtmlFacts, ld: JsonLdFacts) -> Candidates:
    m = page.first_meta
    return [
        ("og:description", m("og:description")),
        ("twitter:description", m("twitter:description")),
        ("json-ld", ld.description),
        ("meta-description", m("description")),
    ]


def _site_name_candidates(page: HtmlFacts, ld: JsonLdFacts) -> Candidates:
    m = page.first_meta
    return [
        ("og:site_name", m("og:site_name")),
        ("json-ld", ld.site_name),
        ("application-name", m("application-name")),
    ]


def _author_candidates(page: HtmlFacts, ld: JsonLdFacts) -> Candidates:
    m = page.first_meta
    # article:author is usually a profile URL, not a name.
    article_author = m("article:author")
    return [
        ("json-ld", ld.author),
        ("meta-author", m("author")),
        ("article:author", "" if "://" in article_author else article_author),
        # Scholar tags write "Last, First", so a comma cannot separate the authors.
        ("citation_author", "; ".join(page.meta.get("citation_author", [])[:10])),
    ]


def _language_candidates(page: HtmlFacts, ld: JsonLdFacts) -> Candidates:
    m = page.first_meta
    return [
        ("html-lang", normalize_language(page.lang)),
        ("content-language", normalize_language(m("content-language").split(",")[0])),
        ("og:locale", normalize_language(m("og:locale"))),
        ("json-ld", ld.language),
    ]


def _published_candidates(page: HtmlFacts, ld: JsonLdFacts) -> Candidates:
    m = page.first_meta
    return [
        ("json-ld", ld.published),
        ("article:published_time", normalize_date(m("article:published_time"))),
        ("citation_publication_date", normalize_date(m("citation_publication_date"))),
        ("citation_date", normalize_date(m("citation_date"))),
        ("microdata", normalize_date(page.itemprops.get("datePublished"))),
        ("microdata", normalize_date(page.itemprops.get("uploadDate"))),
        ("dc.date", normalize_date(m("dc.date") or m("dcterms.date"))),
    ]


def _fill_urls(meta: PageMetadata, page: HtmlFacts, ld: JsonLdFacts, base: str) -> None:
    m = page.first_meta
    canonical = page.link_hrefs("canonical")
    _pick_url(
        meta,
        "canonical_url",
        base,
        [
            ("link-canonical", canonical[0] if canonical else ""),
            ("og:url", m("og:url")),
        ],
    )
    _pick_url(
        meta,
        "image_url",
        base,
        [
            ("og:image", m("og:image")),
            ("og:image", m("og:image:secure_url")),
            ("og:image", m("og:image:url")),
            ("twitter:image", m("twitter:image")),
            ("twitter:image", m("twitter:image:src")),
            ("json-ld", ld.image),
            *(("link-image_src", href) for href in page.link_hrefs("image_src")[:3]),
        ],
    )
    _pick_url(
        meta,
        "favicon_url",
        base,
        [
            *(("link-icon", href) for href in page.link_hrefs("icon")[:5]),
            *(("link-apple-touch-icon", href) for href in page.link_hrefs("apple-touch-icon")[:5]),
        ],
    )
    oembed = page.link_hrefs("alternate", ("application/json+oembed", "text/json+oembed"))
    _pick_url(meta, "oembed_url", base, [("oembed-link", href) for href in oembed[:3]])


def _fill_typed(meta: PageMetadata, page: HtmlFacts, ld: JsonLdFacts) -> None:
    for source, minutes in (
        ("json-ld", ld.duration_minutes),
        ("microdata", parse_iso8601_duration(page.itemprops.get("duration"))),
        ("video:duration", seconds_to_minutes(page.first_meta("video:duration") or None)),
    ):
        if minutes is not None:
            meta.duration_minutes = minutes
            meta.sources["duration_minutes"] = source
            break
    if ld.is_free is not None:
        meta.is_free = ld.is_free
        meta.sources["is_free"] = "json-ld"
    og_kind = _KIND_BY_OG_TYPE.get(meta.og_type.split(".")[0], "")
    _pick(
        meta,
        "kind_hint",
        [
            ("json-ld", ld.kind_hint),
            # Journals tag papers og:type "article"; Google Scholar tags are the surer sign.
            ("citation-meta", "paper" if page.first_meta("citation_title") else ""),
            ("og:type", og_kind),
        ],
    )


def _set_reading_time(meta: PageMetadata, words: float) -> None:
    if words >= MIN_WORDS_FOR_READING_TIME:
        meta.reading_minutes = max(1, int(words / WORDS_PER_MINUTE + 0.5))
        meta.sources["reading_minutes"] = "visible-text"


def _pick(meta: PageMetadata, name: str, candidates: Iterable[tuple[str, str]]) -> None:
    for source, raw in candidates:
        value = clean_text(raw, TEXT_CAPS[name]) if raw else ""
        if value:
            _set(meta, name, value, source)
            return


def _pick_url(
    meta: PageMetadata, name: str, base: str, candidates: Iterable[tuple[str, str]]
) -> None:
    for source, raw in candidates:
        value = safe_http_url(raw, base)
        if value:
            _set(meta, name, value, source)
            return


def _set(meta: PageMetadata, name: str, value: str, source: str) -> None:
    setattr(meta, name, value)
    meta.sources[name] = source


def _rejected(meta: PageMetadata, reason: str) -> PageMetadata:
    return PageMetadata(content_type=meta.content_type, rejected_reason=reason)


def _is_challenge_title(title: str) -> bool:
    lowered = clean_text(title, 200).casefold()
    # Cloudflare's block page reads "Access denied | example.com used Cloudflare to restrict
    # access"; a plain prefix match would also catch real articles about access control.
    return lowered in CHALLENGE_TITLES or (
        lowered.startswith("access denied |") and "cloudflare" in lowered
    )


def _media_type(content_type: str | None) -> str:
    return (content_type or "").split(";")[0].strip().lower()


def _looks_like_html(body: bytes) -> bool:
    start = body[:SNIFF_BYTES].lstrip(b"\xef\xbb\xbf \t\r\n\x0c").lower()
    return start.startswith(_HTML_STARTS)


def _base_url(base_href: str, final_url: str) -> str:
    # <base href> changes how the browser resolves relative URLs; honour it only when it is
    # itself an absolute http(s) URL once resolved against the page address.
    resolved = safe_http_url(base_href, final_url) if base_href else ""
    if resolved:
        return resolved
    return safe_http_url(final_url)
