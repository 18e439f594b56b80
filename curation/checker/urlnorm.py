"""URL normalization: the one function that decides when two addresses are the same resource.

Plain Python (no Django) so the checker, the API lookup, the importer and the model all
share it. The stored URL is always the curator's own; this form only detects duplicates.
"""

from __future__ import annotations

import posixpath
import re
from urllib.parse import parse_qsl, quote, unquote, urlencode, urlsplit, urlunsplit

import idna

MAX_URL_LENGTH = 2048
ALLOWED_SCHEMES = frozenset({"http", "https"})
DEFAULT_PORTS = {"http": 80, "https": 443}

# Parameters that only say where a click came from; the page is the same without them.
TRACKING_PARAMS = frozenset(
    {
        "fbclid", "gclid", "dclid", "gbraid", "wbraid", "msclkid", "yclid", "twclid",
        "mc_cid", "mc_eid", "igshid", "_ga", "_gl", "_hsenc", "_hsmi", "mkt_tok",
        "si", "spm", "vero_id", "oly_enc_id", "oly_anon_id", "rb_clickid", "s_cid",
    }
)  # fmt: skip
TRACKING_PREFIXES = ("utm_", "pk_", "mtm_", "hsa_")

YOUTUBE_HOSTS = frozenset(
    {"youtube.com", "www.youtube.com", "m.youtube.com", "music.youtube.com",
     "youtube-nocookie.com", "www.youtube-nocookie.com"}
)  # fmt: skip
YOUTUBE_ID = re.compile(r"^[A-Za-z0-9_-]{11}$")
YOUTUBE_PATH_FORMS = ("/shorts/", "/embed/", "/v/", "/live/", "/e/")

UNRESERVED = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
PERCENT_ESCAPE = re.compile(r"%([0-9A-Fa-f]{2})")
PATH_SAFE = "/:@!$&'()*+,;=-._~%"


class InvalidURL(ValueError):
    """The text is not an http(s) URL we can store; the message says why."""


def normalize_url(url: str) -> str:
    """Return the canonical form of an http(s) URL, or raise InvalidURL naming the problem.

    Lowercases scheme and host, converts the host to IDNA, drops userinfo, default ports,
    fragments and tracking parameters, sorts the query, removes dot segments, uses "/" for an
    empty path and no trailing slash elsewhere, and maps every YouTube form of a video to
    https://www.youtube.com/watch?v=ID. Normalizing a normalized URL changes nothing.
    """
    if not isinstance(url, str):
        raise InvalidURL("URL must be text")
    text = url.strip()
    if not text:
        raise InvalidURL("URL is empty")
    if len(text) > MAX_URL_LENGTH:
        raise InvalidURL(f"URL is longer than {MAX_URL_LENGTH} characters")
    if any(ord(ch) < 0x21 or ord(ch) == 0x7F for ch in text):
        raise InvalidURL("URL contains whitespace or control characters")
    if any(0xD800 <= ord(ch) <= 0xDFFF for ch in text):
        # A lone surrogate cannot be encoded as UTF-8, so no server could be asked for it.
        raise InvalidURL("URL contains an unpaired surrogate character")
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError as exc:
        raise InvalidURL(f"URL cannot be parsed: {exc}") from None
    scheme = parts.scheme.lower()
    if scheme not in ALLOWED_SCHEMES:
        raise InvalidURL(f"URL scheme must be http or https, not {parts.scheme or 'missing'!r}")
    host = _normalize_host(parts.hostname or "")
    youtube = _youtube_canonical(host, parts.path, parts.query)
    if youtube is not None:
        return youtube
    netloc = f"[{host}]" if ":" in host else host
    if port is not None and port != DEFAULT_PORTS[scheme]:
        netloc = f"{netloc}:{port}"
    path = _normalize_path(parts.path)
    query = _normalize_query(parts.query)
    normalized = urlunsplit((scheme, netloc, path, query, ""))
    if len(normalized) > MAX_URL_LENGTH:
        raise InvalidURL(f"URL is longer than {MAX_URL_LENGTH} characters once normalized")
    return normalized


def _normalize_host(host: str) -> str:
    host = host.rstrip(".").lower()
    if not host:
        raise InvalidURL("URL has no host")
    if ":" in host:  # an IPv6 literal: urlsplit already removed the brackets
        return host
    if host.isascii():
        if not re.fullmatch(r"[a-z0-9._~!$&'()*+,;=%-]+", host):
            raise InvalidURL(f"URL host {host!r} contains characters a host cannot have")
        labels = host.split(".")
        if any(label.startswith("xn--") for label in labels):
            try:
                idna.decode(host)
            except idna.IDNAError as exc:
                raise InvalidURL(f"URL host {host!r} is not valid IDNA: {exc}") from None
        return host
    try:
        return idna.encode(host, uts46=True).decode("ascii")
    except idna.IDNAError as exc:
        raise InvalidURL(
            f"URL host {host!r} is not a valid internationalized name: {exc}"
        ) from None


def _normalize_escapes(text: str) -> str:
    """Uppercase percent-escapes and decode the ones that stand for unreserved characters."""

    def fix(match: re.Match[str]) -> str:
        char = chr(int(match.group(1), 16))
        return char if char in UNRESERVED else f"%{match.group(1).upper()}"

    return PERCENT_ESCAPE.sub(fix, text)


def _normalize_path(path: str) -> str:
    path = quote(_normalize_escapes(path), safe=PATH_SAFE)
    if not path or path == "/":
        return "/"
    # Dot segments are resolved the way a browser would; posixpath keeps a leading "//".
    resolved = posixpath.normpath(path)
    if resolved.startswith("//"):
        resolved = "/" + resolved.lstrip("/")
    if not resolved.startswith("/"):
        resolved = "/" + resolved
    # One rule for trailing slashes: none, except for the root.
    return resolved.rstrip("/") or "/"


def _is_tracking(key: str) -> bool:
    lowered = key.lower()
    return lowered in TRACKING_PARAMS or lowered.startswith(TRACKING_PREFIXES)


def _normalize_query(query: str) -> str:
    if not query:
        return ""
    pairs = [(k, v) for k, v in parse_qsl(query, keep_blank_values=True) if not _is_tracking(k)]
    pairs.sort()
    return urlencode(pairs, quote_via=quote)


def _youtube_canonical(host: str, path: str, query: str) -> str | None:
    """One address per YouTube video (or playlist), whichever form the curator pasted."""
    params = dict(parse_qsl(query, keep_blank_values=True))
    video_id: str | None = None
    if host == "youtu.be":
        video_id = unquote(path.strip("/").split("/")[0]) if path.strip("/") else None
    elif host in YOUTUBE_HOSTS:
        if path.rstrip("/") == "/watch":
            video_id = params.get("v")
        elif path.rstrip("/") == "/playlist" and params.get("list"):
            return "https://www.youtube.com/playlist?" + urlencode({"list": params["list"]})
        else:
            for form in YOUTUBE_PATH_FORMS:
                if path.startswith(form):
                    video_id = path[len(form) :].split("/")[0]
                    break
    if video_id and YOUTUBE_ID.match(video_id):
        return f"https://www.youtube.com/watch?v={video_id}"
    return None
