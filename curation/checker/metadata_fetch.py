"""Fetch a page's metadata through the guarded client: the head of HTML, a JSON oEmbed.

Same guard, politeness, size cap and deadline as link checks. Only what is needed is read:
an HTML page up to `</head>` (or, for articles, up to the cap, for a reading time), an
oEmbed document up to its own small cap, and only the headers' worth of anything else.

Reading content is crawling, so robots.txt is asked first (robots.py), for the page and for
the oEmbed endpoint. Redirects are walked inside the fetcher, so a redirect's target is
asked once the chain ends: when it says no, what was read there is dropped unused.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from curation.checker.config import CheckerConfig
from curation.checker.errors import CheckerError
from curation.checker.fetch import fetch_following_redirects
from curation.checker.guard import GuardedClient, build_session
from curation.checker.metadata import extract_metadata
from curation.checker.metadata_oembed import MAX_OEMBED_BYTES, parse_oembed
from curation.checker.metadata_types import PageMetadata
from curation.checker.politeness import HostLimiter
from curation.checker.robots import (
    LocalRobotsCache,
    RobotsCache,
    RobotsVerdict,
    check_robots,
    product_token,
)

# An HTML head rarely passes 100 KiB; 512 KiB leaves room for inline scripts and styles.
HEAD_CAP_BYTES = 512 * 1024
HTML_ACCEPT = "text/html,application/xhtml+xml;q=0.9,*/*;q=0.5"
OEMBED_ACCEPT = "application/json"
# MetadataUnavailable.outcome when robots.txt says no (the others are the checker's outcomes).
ROBOTS_DISALLOWED = "robots_disallowed"


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
    session: GuardedClient | None = None,
    limiter: HostLimiter | None = None,
    robots_cache: RobotsCache | None = None,
) -> MetadataFetch:
    """Fetch `url` and extract its metadata; raises MetadataUnavailable with the reason.

    `want_body` reads past `</head>` (up to the cap) so that an article's reading time can
    be estimated; otherwise reading stops at the end of the head. A page robots.txt
    disallows for the checker's user agent is not read (outcome ROBOTS_DISALLOWED);
    `robots_cache` keeps what each host's robots.txt said (without one, nothing is kept).
    """
    own_session = session is None
    session = session or build_session(config)
    if robots_cache is None:
        robots_cache = LocalRobotsCache()
    robots = _Robots(config, session, limiter, robots_cache)
    cap = config.max_body_bytes if want_body else min(config.max_body_bytes, HEAD_CAP_BYTES)
    try:
        robots.require(url)
        # The page's own budget starts once robots.txt is settled (it has a budget of its own).
        deadline = time.monotonic() + config.deadline
        chain = _get(
            session, url, config=config, limiter=limiter, deadline=deadline, max_bytes=cap,
            stop_at=None if want_body else b"</head>", accept=HTML_ACCEPT,
        )  # fmt: skip
        if chain.final_url != url:
            robots.require(chain.final_url)
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
                    session,
                    metadata.oembed_url,
                    config=config,
                    limiter=limiter,
                    deadline=deadline,
                    robots=robots,
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


class _Robots:
    """One fetch's view of robots.txt: the checker's session, limiter and the shared cache."""

    def __init__(self, config, session, limiter, cache) -> None:
        self.config, self.session, self.limiter, self.cache = config, session, limiter, cache

    def allows(self, url: str) -> bool:
        return self._verdict(url).allowed

    def require(self, url: str) -> None:
        verdict = self._verdict(url)
        if not verdict.allowed:
            raise MetadataUnavailable(
                f"robots.txt disallows {url} for {product_token(self.config.user_agent)} "
                f"(rules at {verdict.robots.url}); its metadata is not fetched",
                outcome=ROBOTS_DISALLOWED,
            )

    def _verdict(self, url: str) -> RobotsVerdict:
        return check_robots(
            url, config=self.config, session=self.session, cache=self.cache, limiter=self.limiter
        )


def _oembed(session, url, *, config, limiter, deadline, robots: _Robots) -> PageMetadata:
    """The oEmbed document, when it can be had; a failure here never spoils the page's data."""
    try:
        if not robots.allows(url):
            return PageMetadata()
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
