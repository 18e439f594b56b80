"""One guarded HTTP request at a time, with a total deadline and a decompressed-size cap.

`fetch` never follows redirects; `fetch_following_redirects` walks them hop by hop so that every
hop goes through the guard, the politeness limiter and the same deadline.
"""

from __future__ import annotations

import contextlib
import logging
import ssl
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from email.errors import MissingHeaderBodySeparatorDefect
from typing import Any
from urllib.parse import urldefrag, urljoin, urlsplit, urlunsplit

from urllib3.exceptions import (
    ConnectTimeoutError,
    InvalidHeader,
    LocationValueError,
    NewConnectionError,
    ReadTimeoutError,
    SSLError,
)
from urllib3.exceptions import HTTPError as Urllib3HTTPError
from urllib3.response import HTTPResponse
from urllib3.util.ssl_match_hostname import CertificateError
from urllib3.util.timeout import Timeout

from .addresses import AddressPolicy, Target, parse_target
from .config import CheckerConfig
from .errors import (
    CheckerError,
    ConnectionFailure,
    DNSFailure,
    FetchTimeout,
    ForbiddenTarget,
    InvalidTarget,
    RedirectLoop,
    TLSFailure,
)
from .guard import GuardedClient, requote
from .outcomes import Hop
from .politeness import HostLimiter, starting
from .watchdog import watching

READ_CHUNK = 16 * 1024
# After the stop marker: how much more to read, and how long to wait for it in all, at most
# (a server dripping the rest byte by byte gets no more time than one that sends nothing).
MARKER_TAIL_BYTES = 16 * 1024
MARKER_TAIL_WAIT = 0.25
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
# Media types read as HTML; no Content-Type at all is treated as HTML too (browsers sniff it).
HTML_TYPES = frozenset({"", "text/html", "application/xhtml+xml"})
# How much of a text/plain body an html_only read takes (its start: a short error message).
PLAIN_TEXT = "text/plain"
PLAIN_TEXT_BYTES = 4096
# A URL may come back once (cookie-setting bounces do that); the third visit is a loop.
MAX_VISITS_PER_URL = 2


class _DropHeaderParsingWarnings(logging.Filter):
    """urllib3 logs a traceback for malformed headers; the fetcher reports them itself."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not record.getMessage().startswith("Failed to parse headers")


logging.getLogger("urllib3.connection").addFilter(_DropHeaderParsingWarnings())


@dataclass
class FetchResponse:
    url: str
    status: int
    headers: Mapping[str, str]
    body: bytes = b""
    # The cap stopped the read: the body is the first max_bytes bytes (after decompression).
    truncated: bool = False
    # The stop_at marker was seen and reading stopped there.
    stopped_at_marker: bool = False
    # Set when the body could not be read or decoded (e.g. corrupt gzip); body is what we had.
    body_error: str = ""

    @property
    def final_url(self) -> str:
        """fetch() follows no redirects, so the final URL is the one requested."""
        return self.url

    @property
    def location(self) -> str | None:
        return self.headers.get("Location")

    @property
    def content_type(self) -> str:
        return self.headers.get("Content-Type", "").split(";")[0].strip().lower()

    @property
    def is_html(self) -> bool:
        return self.content_type in HTML_TYPES

    @property
    def is_redirect(self) -> bool:
        return self.status in REDIRECT_STATUSES and bool(self.location)


@dataclass
class FetchChain:
    """The outcome of following redirects: every redirect hop and the final response."""

    url: str
    final_url: str
    response: FetchResponse
    hops: list[Hop] = field(default_factory=list)


def remaining(deadline: float) -> float:
    return deadline - time.monotonic()


class Deadline:
    """The time budget of one URL, shared by every hop, retry and body read.

    Time spent queueing for our own politeness slot is not the server's doing, so it does not
    count: each wait pushes the deadline back, up to `queue_allowance` seconds in all. Without
    that, a polite run (one request per second per host) reports fast pages as timeouts.
    """

    def __init__(
        self, at: float, *, queue_allowance: float = 0.0, parent: Deadline | None = None
    ) -> None:
        self.at = at
        self.queue_allowance = queue_allowance
        self.parent = parent

    @classmethod
    def within(cls, seconds: float, *, queue_allowance: float = 0.0) -> Deadline:
        return cls(time.monotonic() + seconds, queue_allowance=queue_allowance)

    def remaining(self) -> float:
        return remaining(self.at)

    def share(self, fraction: float) -> Deadline:
        """A sub-budget for one step (HEAD), so that a hang there leaves time for what follows."""
        at = time.monotonic() + max(0.0, self.remaining()) * fraction
        return Deadline(at, queue_allowance=self.queue_allowance, parent=self)

    def queued(self, seconds: float) -> None:
        excused = min(max(0.0, seconds), self.queue_allowance)
        self.at += excused
        self.queue_allowance -= excused
        if self.parent is not None:
            self.parent.queued(excused)


def as_deadline(deadline: float | Deadline, config: CheckerConfig) -> Deadline:
    if isinstance(deadline, Deadline):
        return deadline
    return Deadline(deadline, queue_allowance=config.max_queue_wait)


def fetch(
    session: GuardedClient,
    url: str,
    *,
    method: str = "GET",
    config: CheckerConfig,
    max_bytes: int,
    deadline: float | Deadline,
    stop_at: bytes | None = None,
    limiter: HostLimiter | None = None,
    headers: Mapping[str, str] | None = None,
    hop: bool = False,
    read_redirect_body: bool = False,
    html_only: bool = False,
    target: Target | None = None,
) -> FetchResponse:
    """Perform ONE request (no redirects followed) and read at most max_bytes of decoded body.

    A redirect's body is skipped unless read_redirect_body is set; with html_only, so is any
    body that is not HTML, except the first PLAIN_TEXT_BYTES of a text/plain one. `hop` marks
    a redirect target (a bad scheme there is forbidden_target rather than invalid_url).
    `target`, when given, is parse_target(url) as the caller already worked it out.

    `deadline` is a time.monotonic() instant (or a Deadline) shared by everything done for one
    URL. Raises a CheckerError subclass for anything that is not an HTTP response.
    """
    budget = as_deadline(deadline, config)
    if target is None:
        target = parse_target(url, hop=hop)
    AddressPolicy(config).check_target(target)
    token = None
    if limiter is not None:
        queued_from = time.monotonic()
        token = limiter.acquire(target.host_key, deadline=budget.at + budget.queue_allowance)
        budget.queued(time.monotonic() - queued_from)
    try:
        if limiter is None:
            return _fetch_once(
                session, url, method, config, max_bytes, budget.at, stop_at, headers or {},
                read_redirect_body, html_only,
            )  # fmt: skip
        with starting(limiter, target.host_key, token):
            return _fetch_once(
                session, url, method, config, max_bytes, budget.at, stop_at, headers or {},
                read_redirect_body, html_only,
            )  # fmt: skip
    finally:
        if limiter is not None and token is not None:
            limiter.release(target.host_key, token)


def _fetch_once(
    session: GuardedClient,
    url: str,
    method: str,
    config: CheckerConfig,
    max_bytes: int,
    deadline: float,
    stop_at: bytes | None,
    headers: Mapping[str, str],
    read_redirect_body: bool,
    html_only: bool,
) -> FetchResponse:
    left = remaining(deadline)
    if left <= 0:
        raise FetchTimeout("deadline exceeded before the request", rule="deadline")
    with watching(deadline) as watch:
        try:
            response = session.open(
                method,
                url,
                headers=headers,
                timeout=Timeout(
                    connect=min(config.connect_timeout, left), read=min(config.read_timeout, left)
                ),
            )
        except CheckerError:
            raise
        except Exception as exc:
            if watch.fired:
                raise FetchTimeout(
                    "deadline exceeded waiting for the response headers", rule="deadline"
                ) from exc
            raise _translate(exc) from exc
        if watch.fired:
            # The watch shut the socket mid-headers; http.client took the EOF for their end.
            _finish(response, complete=False)
            raise FetchTimeout(
                "deadline exceeded waiting for the response headers", rule="deadline"
            )

    result = FetchResponse(url=url, status=response.status, headers=response.headers)
    cut_short = _headers_cut_short(response)
    if cut_short and (method.upper() == "HEAD" or max_bytes <= 0):
        _finish(response, complete=False)
        raise ConnectionFailure("malformed or incomplete response headers", rule="bad-headers")
    if result.is_redirect and not read_redirect_body:
        # A redirect's body is noise, and a slow or huge one must not cost us anything.
        _finish(response, complete=False)
        return result
    max_bytes = _wanted_bytes(result, max_bytes, html_only)
    if method.upper() == "HEAD" or max_bytes <= 0:
        # Nothing to read (HEAD) or nothing wanted (a PDF, a video): drop the connection rather
        # than drain it.
        _finish(response, complete=method.upper() == "HEAD")
        return result
    complete = False
    try:
        complete = _read_body(response, result, max_bytes, deadline, stop_at, config)
    finally:
        _finish(response, complete=complete)
    if cut_short and not result.body:
        # The connection closed in the middle of the headers: http.client takes what it got
        # for a complete response, but there is no page here.
        raise ConnectionFailure("connection closed in the response headers", rule="bad-headers")
    return result


def _wanted_bytes(result: FetchResponse, max_bytes: int, html_only: bool) -> int:
    if not html_only or result.is_html:
        return max_bytes
    # A plain-text answer may be a whole error page ("404 not found" with a 200): read its start,
    # enough to tell a short message from a document. Other bodies (a PDF, a video) are not read.
    return min(max_bytes, PLAIN_TEXT_BYTES) if result.content_type == PLAIN_TEXT else 0


def _headers_cut_short(response: HTTPResponse) -> bool:
    """http.client saw a header block that did not end with a blank line."""
    message = getattr(getattr(response, "_original_response", None), "msg", None)
    defects = getattr(message, "defects", ())
    return any(isinstance(defect, MissingHeaderBodySeparatorDefect) for defect in defects)


def _read_body(
    raw: HTTPResponse,
    result: FetchResponse,
    max_bytes: int,
    deadline: float,
    stop_at: bytes | None,
    config: CheckerConfig,
) -> bool:
    """Fill result.body; True when the body was read to its end (connection reusable)."""
    chunks = bytearray()
    marker = stop_at.lower() if stop_at else None
    # Once the marker is seen, read on only while the rest is already at hand: a small page then
    # arrives whole (so "this page is short" can be judged), a big or slow one is left unread.
    tail_until: int | None = None
    tail_ends = 0.0
    while True:
        left = remaining(deadline)
        if tail_until is not None:
            left = min(left, tail_ends - time.monotonic())
            if left <= 0:
                return _stopped_at_marker(result, chunks, max_bytes)
        if left <= 0:
            raise FetchTimeout("deadline exceeded while reading the body", rule="deadline")
        # urllib3's read timeout is per socket operation; shrink it to what is left of the deadline
        # so that one blocked read cannot outlive the check (iter_content would not stop a drip).
        _set_read_timeout(raw, min(config.read_timeout, left))
        try:
            chunk = raw.read1(min(READ_CHUNK, max_bytes - len(chunks) + 1), decode_content=True)
        except (ReadTimeoutError, TimeoutError) as exc:
            if tail_until is not None:
                return _stopped_at_marker(result, chunks, max_bytes)
            raise FetchTimeout(f"read timed out: {exc}", rule="read-timeout") from exc
        except (Urllib3HTTPError, OSError) as exc:
            # Corrupt gzip, truncated chunked encoding, a reset mid-body: the server answered,
            # so keep the status and what we have, and say what went wrong.
            result.body = bytes(chunks[:max_bytes])
            result.body_error = f"{type(exc).__name__}: {exc}"
            return False
        if not chunk:
            result.body = bytes(chunks)
            return True
        search_from = max(0, len(chunks) - len(marker) + 1) if marker else 0
        chunks += chunk
        if tail_until is not None:
            if len(chunks) >= tail_until or len(chunks) > max_bytes:
                return _stopped_at_marker(result, chunks, max_bytes)
            continue
        if len(chunks) > max_bytes:
            result.body = bytes(chunks[:max_bytes])
            result.truncated = True
            return False
        if marker and marker in chunks[search_from:].lower():
            tail_until = len(chunks) + MARKER_TAIL_BYTES
            tail_ends = time.monotonic() + MARKER_TAIL_WAIT


def _stopped_at_marker(result: FetchResponse, chunks: bytearray, max_bytes: int) -> bool:
    result.body = bytes(chunks[:max_bytes])
    result.stopped_at_marker = True
    return False


def _set_read_timeout(raw: Any, seconds: float) -> None:
    connection = getattr(raw, "connection", None)
    # `sock` is None once http.client handed the socket to a response that ends the connection.
    sock = getattr(connection, "sock", None) or getattr(connection, "checker_sock", None)
    if sock is not None:
        # A socket already closed raises here; the next read reports that properly.
        with contextlib.suppress(OSError):
            sock.settimeout(max(seconds, 0.01))


def _finish(response: HTTPResponse, *, complete: bool) -> None:
    if not complete:
        # Never drain an unread body (it may be a bomb or a drip): drop the connection.
        response.close()
    # Hand the connection (or, closed, its pool slot) back to the pool.
    response.release_conn()


def _translate(exc: Exception) -> CheckerError:
    """urllib3's exceptions (raised directly: retries are off) as the checker's errors."""
    text = f"{type(exc).__name__}: {exc}"
    tls_errors = SSLError | ssl.SSLError | CertificateError
    if isinstance(exc, DNSFailure):
        return exc
    if isinstance(exc, tls_errors):
        return TLSFailure(text)
    # NewConnectionError subclasses ConnectTimeoutError: a refused connection is no timeout.
    if isinstance(exc, ConnectTimeoutError) and not isinstance(exc, NewConnectionError):
        return FetchTimeout(text, rule="connect-timeout")
    if isinstance(exc, ReadTimeoutError | TimeoutError):
        return FetchTimeout(text, rule="read-timeout")
    if isinstance(exc, LocationValueError | InvalidHeader | UnicodeError | ValueError):
        return InvalidTarget(text)
    chain = _chain(exc)
    if any(isinstance(e, tls_errors) for e in chain):
        # A TLS failure wrapped as a protocol or connection error.
        return TLSFailure(text)
    if any(isinstance(e, ConnectionResetError) for e in chain) or "reset" in text.lower():
        return ConnectionFailure(text, rule="connection-reset")
    return ConnectionFailure(text)


def _chain(exc: BaseException) -> list[BaseException]:
    """The exception, what it wraps (urllib3's .reason, ProtocolError's args) and its context."""
    found: list[BaseException] = []
    pending: list[BaseException] = [exc]
    while pending and len(found) < 16:
        current = pending.pop()
        if any(current is seen for seen in found):
            continue
        found.append(current)
        reason = getattr(current, "reason", None)
        linked = [reason, current.__cause__, current.__context__, *getattr(current, "args", ())]
        pending.extend(e for e in linked if isinstance(e, BaseException))
    return found


def redirect_target(current: str, location: str) -> str:
    """Resolve a Location header the way browsers do (relative, scheme-relative, latin-1 bytes)."""
    # Servers send raw UTF-8 bytes that http.client decoded as latin-1.
    with contextlib.suppress(UnicodeError):
        location = location.encode("latin-1").decode("utf-8")
    target = urlsplit(urldefrag(urljoin(current, location.strip()))[0])
    # Browsers percent-encode spaces and non-ASCII in a Location's path and query (a host
    # stays as it is: it is IDNA-encoded on connect).
    return urlunsplit(target._replace(path=requote(target.path), query=requote(target.query)))


def fetch_following_redirects(
    session: GuardedClient,
    url: str,
    *,
    method: str = "GET",
    config: CheckerConfig,
    max_bytes: int,
    deadline: float | Deadline,
    stop_at: bytes | None = None,
    limiter: HostLimiter | None = None,
    headers: Mapping[str, str] | None = None,
    html_only: bool = False,
    target: Target | None = None,
) -> FetchChain:
    """Follow redirects hop by hop (each through the guard). Raises CheckerError with .hops set.

    `target`, when given, is parse_target(url): the first hop need not parse it again.
    """
    budget = as_deadline(deadline, config)
    hops: list[Hop] = []
    visits: dict[str, int] = {}
    current = url
    try:
        while True:
            visits[current] = visits.get(current, 0) + 1
            if visits[current] > MAX_VISITS_PER_URL:
                raise RedirectLoop(f"redirect loop back to {current}", rule="redirect-loop")
            response = fetch(
                session,
                current,
                method=method,
                config=config,
                max_bytes=max_bytes,
                deadline=budget,
                stop_at=stop_at,
                limiter=limiter,
                headers=headers,
                hop=bool(hops),
                html_only=html_only,
                target=None if hops else target,
            )
            if not response.is_redirect:
                return FetchChain(url=url, final_url=current, response=response, hops=hops)
            hops.append(Hop(url=current, status=response.status))
            if len(hops) > config.max_redirects:
                raise RedirectLoop(
                    f"more than {config.max_redirects} redirects", rule="too-many-redirects"
                )
            try:
                following = redirect_target(current, response.location or "")
                parse_target(following, hop=True)
            except (InvalidTarget, ValueError) as exc:
                # A Location nobody can follow ("http://", a bad port): the server's error, so the
                # redirect itself is the answer, not an invalid_url that would blame the input.
                hops.pop()
                response.body_error = f"unusable Location {response.location!r}: {exc}"
                return FetchChain(url=url, final_url=current, response=response, hops=hops)
            except ForbiddenTarget:
                pass  # fetch() refuses it on the next hop, with the hop recorded.
            current = following
    except CheckerError as exc:
        exc.hops = hops
        exc.url = current
        raise
