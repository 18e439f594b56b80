"""Fetch a page's metadata through the guarded client: the head of HTML, a JSON oEmbed.

Same guard, politeness, size cap and deadline as link checks. Only what is needed is read:
an HTML page up to `</head>` (or, for articles, up to the cap, for a reading time), an
oEmbed document up to its own small cap, and only the headers' worth of anything else.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import requests

from curation.checker.config import CheckerConfig
from curation.checker.errors import CheckerError
from curation.checker.fetch import fetch_following_redirects
from curation.checker.guard import build_session
from curation.checker.metadata import extract_metadata
from curation.checker.metadata_oembed import MAX_OEMBED_BYTES, parse_oembed
from curation.checker.metadata_types import PageMetadata
from curation.checker.politeness import HostLimiter

# An HTML head rarely passes 100 KiB; 512 KiB leaves room for inline scripts and styles.
HEAD_CAP_BYTES = 512 * 1024
HTML_ACCEPT = "text/html,application/xhtml+xml;q=0.9,*/*;q=0.5"
OEMBED_ACCEPT = "application/json"


@dataclass
class MetadataFetch:
    """What a fetch found: the metadata (possibly rejected) and where the page really is."""

    url: str
    final_url: str
    status: int
    metadata: PageMetadata


class MetadataUnavailable(Exception):
    """The page could not be read, or answered with something other than success."""

    def __init__(self, message: str, *, outcome: str = "", status: int | None = None) -> None:
        super().__init__(message)
        self.outcome = outcome
        self.status = status


def fetch_page_metadata(
    url: str,
    *,
    config: CheckerConfig,
    want_body: bool = False,
    session: requests.Session | None = None,
    limiter: HostLimiter | None = None,
) -> MetadataFetch:
    """Fetch `url` and extract its metadata; raises MetadataUnavailable with the reason.

    `want_body` reads past `</head>` (up to the cap) so that an article's reading time can
    be estimated; otherwise reading stops at the end of the head.
    """
    own_session = session is None
    session = session or build_session(config)
    deadline = time.monotonic() + config.deadline
    cap = config.max_body_bytes if want_body else min(config.max_body_bytes, HEAD_CAP_BYTES)
    try:
        chain = _get(
            session, url, config=config, limiter=limiter, deadline=deadline, max_bytes=cap,
            stop_at=None if want_body else b"</head>", accept=HTML_ACCEPT,
        )  # fmt: skip
        response = chain.response
        if not 200 <= response.status < 300:
            raise MetadataUnavailable(
                f"the page answered HTTP {response.status}", outcome="http", status=response.status
            )
        metadata = extract_metadata(
            response.body,
            content_type=response.headers.get("Content-Type"),
            final_url=chain.final_url,
            body_truncated=response.truncated or response.stopped_at_marker,
        )
        if metadata.oembed_url and not metadata.rejected:
            metadata.fill_missing(
                _oembed(
                    session, metadata.oembed_url, config=config, limiter=limiter, deadline=deadline
                )
            )
        return MetadataFetch(
            url=url, final_url=chain.final_url, status=response.status, metadata=metadata
        )
    except CheckerError as exc:
        raise MetadataUnavailable(str(exc), outcome=exc.outcome.value) from None
    finally:
        if own_session:
            session.close()


def _get(session, url, *, config, limiter, deadline, max_bytes, stop_at, accept):
    return fetch_following_redirects(
        session,
        url,
        method="GET",
        config=config,
        max_bytes=max_bytes,
        deadline=deadline,
        stop_at=stop_at,
        limiter=limiter,
        headers={"Accept": accept},
    )


def _oembed(session, url, *, config, limiter, deadline) -> PageMetadata:
    """The oEmbed document, when it can be had; a failure here never spoils the page's data."""
    try:
        chain = _get(
            session, url, config=config, limiter=limiter, deadline=deadline,
            max_bytes=MAX_OEMBED_BYTES, stop_at=None, accept=OEMBED_ACCEPT,
        )  # fmt: skip
    except CheckerError:
        return PageMetadata()
    response = chain.response
    if not 200 <= response.status < 300 or response.truncated:
        return PageMetadata()
    return parse_oembed(response.body)
