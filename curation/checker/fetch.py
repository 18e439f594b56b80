"""One guarded HTTP request at a time, with a total deadline and a decompressed-size cap.

`fetch` never follows redirects; `fetch_following_redirects` walks them hop by hop so that every
hop goes through the guard, the politeness limiter and the same deadline.
"""

from __future__ import annotations

import contextlib
import ssl
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urldefrag, urljoin

import requests
from urllib3.exceptions import HTTPError as Urllib3HTTPError
from urllib3.exceptions import ProtocolError, ReadTimeoutError, SSLError

from .config import CheckerConfig
from .errors import (
    CheckerError,
    ConnectionFailure,
    DNSFailure,
    FetchTimeout,
    InvalidTarget,
    RedirectLoop,
    TLSFailure,
)
from .guard import AddressPolicy, parse_target
from .outcomes import Hop
from .politeness import HostLimiter
from .watchdog import watching

READ_CHUNK = 16 * 1024
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
# A URL may come back once (cookie-setting bounces do that); the third visit is a loop.
MAX_VISITS_PER_URL = 2


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


def fetch(
    session: requests.Session,
    url: str,
    *,
    method: str = "GET",
    config: CheckerConfig,
    max_bytes: int,
    deadline: float,
    stop_at: bytes | None = None,
    limiter: HostLimiter | None = None,
    headers: Mapping[str, str] | None = None,
    hop: bool = False,
    read_redirect_body: bool = False,
) -> FetchResponse:
    """Perform ONE request (no redirects followed) and read at most max_bytes of decoded body.

    A redirect's body is skipped unless read_redirect_body is set. `hop` marks a redirect target
    (a bad scheme there is forbidden_target rather than invalid_url).

    `deadline` is a time.monotonic() instant shared by everything done for one URL. Raises a
    CheckerError subclass for anything that is not an HTTP response.
    """
    target = parse_target(url, hop=hop)
    AddressPolicy(config).check_target(target)
    token = None
    if limiter is not None:
        token = limiter.acquire(target.host_key, deadline=deadline)
    try:
        return _fetch_once(
            session,
            url,
            method,
            config,
            max_bytes,
            deadline,
            stop_at,
            headers or {},
            read_redirect_body,
        )
    finally:
        if limiter is not None and token is not None:
            limiter.release(target.host_key, token)


def _fetch_once(
    session: requests.Session,
    url: str,
    method: str,
    config: CheckerConfig,
    max_bytes: int,
    deadline: float,
    stop_at: bytes | None,
    headers: Mapping[str, str],
    read_redirect_body: bool,
) -> FetchResponse:
    left = remaining(deadline)
    if left <= 0:
        raise FetchTimeout("deadline exceeded before the request", rule="deadline")
    with watching(deadline) as watch:
        try:
            response = session.request(
                method,
                url,
                headers=dict(headers),
                stream=True,
                allow_redirects=False,
                timeout=(min(config.connect_timeout, left), min(config.read_timeout, left)),
            )
        except CheckerError:
            raise
        except Exception as exc:
            if watch.fired:
                raise FetchTimeout(
                    "deadline exceeded waiting for the response headers", rule="deadline"
                ) from exc
            raise _translate(exc) from exc

    result = FetchResponse(url=url, status=response.status_code, headers=response.headers)
    if result.is_redirect and not read_redirect_body:
        # A redirect's body is noise, and a slow or huge one must not cost us anything.
        _finish(response, complete=False)
        return result
    if method.upper() == "HEAD" or max_bytes <= 0:
        # Nothing to read (HEAD) or nothing wanted: drop the connection rather than drain it.
        _finish(response, complete=method.upper() == "HEAD")
        return result
    complete = False
    try:
        complete = _read_body(response, result, max_bytes, deadline, stop_at, config)
    finally:
        _finish(response, complete=complete)
    return result


def _read_body(
    response: requests.Response,
    result: FetchResponse,
    max_bytes: int,
    deadline: float,
    stop_at: bytes | None,
    config: CheckerConfig,
) -> bool:
    """Fill result.body; True when the body was read to its end (connection reusable)."""
    raw = response.raw
    chunks = bytearray()
    marker = stop_at.lower() if stop_at else None
    while True:
        left = remaining(deadline)
        if left <= 0:
            raise FetchTimeout("deadline exceeded while reading the body", rule="deadline")
        # requests' timeout is per socket operation; shrink it to what is left of the deadline
        # so that one blocked read cannot outlive the check (iter_content would not stop a drip).
        _set_read_timeout(raw, min(config.read_timeout, left))
        try:
            chunk = raw.read1(min(READ_CHUNK, max_bytes - len(chunks) + 1), decode_content=True)
        except ReadTimeoutError as exc:
            raise FetchTimeout(f"read timed out: {exc}", rule="read-timeout") from exc
        except TimeoutError as exc:
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
        if len(chunks) > max_bytes:
            result.body = bytes(chunks[:max_bytes])
            result.truncated = True
            return False
        if marker and marker in chunks[search_from:].lower():
            result.body = bytes(chunks)
            result.stopped_at_marker = True
            return False


def _set_read_timeout(raw: Any, seconds: float) -> None:
    connection = getattr(raw, "connection", None)
    sock = getattr(connection, "sock", None)
    if sock is not None:
        # A socket already closed raises here; the next read reports that properly.
        with contextlib.suppress(OSError):
            sock.settimeout(max(seconds, 0.01))


def _finish(response: requests.Response, *, complete: bool) -> None:
    if complete:
        # Fully read: hand the connection back to the pool for reuse.
        response.raw.release_conn()
    else:
        # Never drain an unread body (it may be a bomb or a drip): drop the connection.
        response.close()


def _translate(exc: Exception) -> CheckerError:
    text = f"{type(exc).__name__}: {exc}"
    if isinstance(exc, requests.exceptions.SSLError | SSLError | ssl.SSLError):
        return TLSFailure(text)
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return FetchTimeout(text, rule="connect-timeout")
    if isinstance(exc, requests.exceptions.ReadTimeout | requests.exceptions.Timeout):
        return FetchTimeout(text, rule="read-timeout")
    if isinstance(exc, requests.exceptions.InvalidURL | requests.exceptions.InvalidSchema):
        return InvalidTarget(text)
    if isinstance(exc, requests.exceptions.MissingSchema | requests.exceptions.URLRequired):
        return InvalidTarget(text)
    if isinstance(exc, requests.exceptions.ConnectionError):
        cause: BaseException | None = exc
        while cause is not None:
            if isinstance(cause, ssl.SSLError | SSLError):
                return TLSFailure(text)
            cause = cause.__context__ or cause.__cause__ or _reason(cause)
        if isinstance(_reason(exc), ProtocolError) or "reset" in text.lower():
            return ConnectionFailure(text, rule="connection-reset")
        return ConnectionFailure(text)
    if isinstance(exc, UnicodeError | ValueError):
        return InvalidTarget(text)
    if isinstance(exc, DNSFailure):
        return exc
    return ConnectionFailure(text)


def _reason(exc: BaseException) -> BaseException | None:
    args = getattr(exc, "args", ())
    first = args[0] if args else None
    reason = getattr(first, "reason", None) if first is not None else None
    return reason if isinstance(reason, BaseException) else None


def redirect_target(current: str, location: str) -> str:
    """Resolve a Location header the way browsers do (relative, scheme-relative, latin-1 bytes)."""
    # Servers send raw UTF-8 bytes that http.client decoded as latin-1.
    with contextlib.suppress(UnicodeError):
        location = location.encode("latin-1").decode("utf-8")
    return urldefrag(urljoin(current, location.strip()))[0]


def fetch_following_redirects(
    session: requests.Session,
    url: str,
    *,
    method: str = "GET",
    config: CheckerConfig,
    max_bytes: int,
    deadline: float,
    stop_at: bytes | None = None,
    limiter: HostLimiter | None = None,
    headers: Mapping[str, str] | None = None,
) -> FetchChain:
    """Follow redirects hop by hop (each through the guard). Raises CheckerError with .hops set."""
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
                deadline=deadline,
                stop_at=stop_at,
                limiter=limiter,
                headers=headers,
                hop=bool(hops),
            )
            if not response.is_redirect:
                return FetchChain(url=url, final_url=current, response=response, hops=hops)
            hops.append(Hop(url=current, status=response.status))
            if len(hops) > config.max_redirects:
                raise RedirectLoop(
                    f"more than {config.max_redirects} redirects", rule="too-many-redirects"
                )
            current = redirect_target(current, response.location or "")
    except CheckerError as exc:
        exc.hops = hops
        exc.url = current
        raise
