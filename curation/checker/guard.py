"""The checker's HTTP client, whose every connection goes through the SSRF guard at connect time.

A URL pre-check alone is not a guard (parsers disagree, DNS changes between check and use), so the
authoritative check lives in the connection classes below: they resolve the host once, refuse any
forbidden address (the rules are addresses.py's AddressPolicy), and connect to exactly the address
that was checked, on every hop and retry. TLS still verifies the certificate against the hostname
and sends SNI, because urllib3 wraps the socket we return using the connection's host name, not
the address. build_session() is the way in.
"""

from __future__ import annotations

import functools
import os
import re
import socket
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit, urlunparse

from urllib3 import PoolManager
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import ConnectTimeoutError, LocationParseError, NewConnectionError
from urllib3.response import HTTPResponse
from urllib3.util import parse_url
from urllib3.util.retry import Retry
from urllib3.util.ssl_ import create_urllib3_context
from urllib3.util.timeout import _DEFAULT_TIMEOUT, Timeout

from .addresses import DEFAULT_PORTS, AddressPolicy
from .config import CheckerConfig
from .errors import ForbiddenTarget, InvalidTarget
from .politeness import mark_started, wait_for_start
from .watchdog import attach_current

# Pool keys remembered by a GuardedClient before it starts afresh (see GuardedClient._pool_for).
MAX_POOL_KEYS = 1024
# URLs made only of these characters come out of requests' requote_uri unchanged. Most URLs
# are like that, and requests costs 15 ms of start-up that a command-line check should not pay
# for them, so requests is imported only for the others (and for cookies and credentials).
_ALREADY_QUOTED = re.compile(r"[A-Za-z0-9_.\-~!#$&'()*+,/:;=?@\[\]]*")


class _GuardedConnectionMixin:
    """Overrides urllib3's _new_conn: resolve once, check, connect to the checked address.

    It also holds each request until its politeness start slot, at the last moment before the
    request goes out: a new connection is made first (urllib3 already does so for HTTPS), so
    that between the slot and the first byte on the socket there is nothing left to wait for.
    """

    policy: AddressPolicy
    # The socket of the last connect, TLS included. http.client forgets `sock` when an answer
    # says the connection will close (the response then owns the socket), but the body reader
    # still sets its timeouts on it.
    checker_sock: socket.socket | None = None

    def connect(self) -> None:
        super().connect()  # type: ignore[misc]
        self.checker_sock = self.sock  # type: ignore[attr-defined]

    def endheaders(self, *args: Any, **kwargs: Any) -> None:
        conn: Any = self
        if conn.sock is None:
            conn.connect()
        wait_for_start()
        try:
            super().endheaders(*args, **kwargs)  # type: ignore[misc]
        finally:
            # Once the send returned, not before it: the thread may wait for the GIL between
            # its last look at the clock and the write itself, never after the write.
            mark_started()

    def _new_conn(self) -> socket.socket:
        conn: Any = self
        infos = self.policy.resolve(conn._dns_host, conn.port)
        last_error: OSError | None = None
        for family, socktype, proto, _canon, sockaddr in infos:
            sock = socket.socket(family, socktype, proto)
            try:
                for option in conn.socket_options or ():
                    sock.setsockopt(*option)
                if conn.timeout is not _DEFAULT_TIMEOUT:
                    sock.settimeout(conn.timeout)
                if conn.source_address:
                    sock.bind(conn.source_address)
                sock.connect(sockaddr)
                return sock
            except TimeoutError as exc:
                sock.close()
                raise ConnectTimeoutError(
                    conn, f"Connection to {conn.host} timed out ({conn.timeout})"
                ) from exc
            except OSError as exc:
                sock.close()
                last_error = exc
        raise NewConnectionError(conn, f"Failed to establish a new connection: {last_error}")


def _pool_classes(policy: AddressPolicy) -> dict[str, type]:
    http_conn = type(
        "GuardedHTTPConnection", (_GuardedConnectionMixin, HTTPConnection), {"policy": policy}
    )
    https_conn = type(
        "GuardedHTTPSConnection", (_GuardedConnectionMixin, HTTPSConnection), {"policy": policy}
    )
    return {
        "http": type(
            "GuardedHTTPConnectionPool",
            (_WatchedPoolMixin, HTTPConnectionPool),
            {"ConnectionCls": http_conn},
        ),
        "https": type(
            "GuardedHTTPSConnectionPool",
            (_WatchedPoolMixin, _SharedTrustPoolMixin, HTTPSConnectionPool),
            {"ConnectionCls": https_conn},
        ),
    }


class _SharedTrustPoolMixin:
    """An HTTPS pool that verifies with the shared context unless given a CA bundle of its own."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        own_trust = kwargs.get("ssl_context") or kwargs.get("ca_certs") or kwargs.get("ca_cert_dir")
        if not own_trust and kwargs.get("cert_reqs") == "CERT_REQUIRED":
            kwargs["ssl_context"] = _shared_tls_context()
        super().__init__(*args, **kwargs)


class _WatchedPoolMixin:
    """Lets the fetcher's deadline watch see the connection each request uses (new or reused)."""

    def _get_conn(self, timeout: float | None = None) -> Any:
        connection = super()._get_conn(timeout)  # type: ignore[misc]
        attach_current(connection)
        return connection


ACCEPT = "text/html,application/xhtml+xml;q=0.9,*/*;q=0.8"
# What urllib3 makes of retries=False, redirect=False, made once: urllib3 would build (and log) a
# new one for every request. Never mutated: urllib3 derives new Retry objects from it.
NO_RETRIES = Retry(total=False, redirect=False)
# What requests sent by default when neither brotli nor zstandard is installed; the fetcher
# decodes exactly these (and counts the body cap after decoding).
ACCEPT_ENCODING = "gzip, deflate"


class _PreparedView:
    """The two attributes of a requests.PreparedRequest that its cookie helpers read."""

    __slots__ = ("headers", "url")

    def __init__(self, url: str, headers: Mapping[str, str]) -> None:
        self.url = url
        self.headers = headers


@dataclass
class PlainResponse:
    """What GuardedClient.get returns: a fully read response (requests-like names)."""

    url: str
    status_code: int
    headers: Mapping[str, str]
    content: bytes


_default_tls_context: Any = None
_default_tls_lock = threading.Lock()


def _shared_tls_context() -> Any:
    """One verifying SSLContext (certifi's bundle, like requests) for every connection.

    requests hands urllib3 the bundle's path, so each new TLS connection parses the whole bundle
    again; loading it once gives the same trust and the same hostname check for a fraction of
    the CPU. check_hostname stays on (urllib3's CERT_REQUIRED default) and SNI is the host name.
    """
    global _default_tls_context
    with _default_tls_lock:
        if _default_tls_context is None:
            import certifi

            context = create_urllib3_context()
            context.load_verify_locations(cafile=certifi.where())
            _default_tls_context = context
        return _default_tls_context


class GuardedClient:
    """The checker's HTTP client: urllib3 directly, every connection through the AddressPolicy.

    It replaces a requests.Session because requests cost 1.3-1.9 ms of CPU per request in the
    benchmark (GIL-bound on one core) against about half that for urllib3 alone. What requests did
    for us is kept, on purpose and cheaply: the same request line (requests' URL preparation),
    the same default headers, Basic auth from credentials in the URL, a cookie jar shared by the
    client's requests (cookie-setting bounces work), certifi's trust store. What it must never do
    is kept out: no proxies (environment or explicit), no retries, no redirects, no .netrc.

    One PoolManager, shared by all threads, keeps connections per scheme, host and port.
    """

    def __init__(self, config: CheckerConfig) -> None:
        self.config = config
        self.policy = AddressPolicy(config)
        self.headers: dict[str, str] = {
            "User-Agent": config.user_agent,
            "Accept-Encoding": ACCEPT_ENCODING,
            "Accept": ACCEPT,
            "Connection": "keep-alive",
        }
        # A requests cookie jar, made when the first cookie arrives (most runs see none).
        self.cookies: Any = None
        self._cookies_lock = threading.Lock()
        self.proxies: dict[str, str] = {}
        self.trust_env = False
        self._pools = PoolManager(
            num_pools=64,
            maxsize=max(4, config.per_host_concurrency * 2),
            block=False,
            retries=False,
        )
        # Only the guarded pools (and through them the guarded connections) exist.
        self._pools.pool_classes_by_scheme = _pool_classes(self.policy)
        self._verify: bool | str = True
        self._pools.connection_pool_kw.update(self._tls_kwargs(True))
        # (scheme, host, port) -> the pool's key and its settings. PoolManager works the key out
        # of some thirty settings on every request (about 10 µs); it changes only with them.
        self._pool_keys: dict[tuple[str, str, int], tuple[Any, dict[str, Any]]] = {}

    @property
    def verify(self) -> bool | str:
        return self._verify

    @verify.setter
    def verify(self, value: bool | str) -> None:
        """True (certifi's bundle), a CA bundle file or directory, or False, as in requests."""
        self._verify = value
        for key in ("ssl_context", "ca_certs", "ca_cert_dir", "cert_reqs"):
            self._pools.connection_pool_kw.pop(key, None)
        self._pools.connection_pool_kw.update(self._tls_kwargs(value))
        self._pool_keys.clear()
        self._pools.clear()

    @staticmethod
    def _tls_kwargs(verify: bool | str) -> dict[str, Any]:
        if verify is False:
            return {"cert_reqs": "CERT_NONE"}
        if isinstance(verify, str):
            key = "ca_cert_dir" if os.path.isdir(verify) else "ca_certs"
            return {"cert_reqs": "CERT_REQUIRED", key: verify}
        # No ssl_context here: the HTTPS pool takes the shared one when it is first needed, so a
        # run over plain-HTTP links never pays for loading the CA bundle (15 ms).
        return {"cert_reqs": "CERT_REQUIRED"}

    def open(
        self,
        method: str,
        url: str,
        *,
        headers: Mapping[str, str] | None = None,
        timeout: Timeout | float | tuple[float, float] | None = None,
        proxies: Mapping[str, str] | None = None,
        body: bytes | None = None,
    ) -> HTTPResponse:
        """Send one request; return the streaming response (body unread, decoded on read).

        `body` (a webhook's POST) goes with the caller's own Content-Length header.

        Raises urllib3's own exceptions (the fetcher translates them) and the guard's
        CheckerErrors (refused address, failed resolution) unchanged. Never follows a redirect.
        """
        if proxies:
            # A proxy would connect on our behalf to an address we never checked.
            raise ForbiddenTarget("proxies are not allowed", rule="guard-proxy")
        method = method.upper()
        prepared, target, scheme, host, port, auth = _prepare_url(url)
        request_headers = self._request_headers(method, prepared, headers, auth=auth)
        pool = self._pool_for(scheme, host, port)
        if not isinstance(timeout, Timeout):
            connect, read = timeout if isinstance(timeout, tuple) else (timeout, timeout)
            timeout = Timeout(connect=connect, read=read)
        response = pool.urlopen(
            method,
            target,
            body=body,
            headers=request_headers,
            retries=NO_RETRIES,
            redirect=False,
            assert_same_host=False,
            preload_content=False,
            decode_content=True,
            timeout=timeout,
            release_conn=False,
        )
        self._keep_cookies(response, prepared, request_headers)
        return response

    def _request_headers(
        self, method: str, prepared: str, extra: Mapping[str, str] | None, *, auth: bool
    ) -> dict[str, str]:
        """The headers requests would send: defaults, the caller's, credentials, cookies."""
        request_headers = self._merge_headers(extra)
        if auth:
            from requests.auth import _basic_auth_str
            from requests.utils import get_auth_from_url

            user, password = get_auth_from_url(prepared)
            if user or password:
                request_headers["Authorization"] = _basic_auth_str(user, password)
        if method not in ("GET", "HEAD") and not _has(request_headers, "Content-Length"):
            request_headers["Content-Length"] = "0"
        if self.cookies is not None:
            from requests.cookies import MockRequest

            view = _PreparedView(prepared, request_headers)
            mock = MockRequest(view)  # type: ignore[arg-type]
            self.cookies.add_cookie_header(mock)  # type: ignore[arg-type]
            cookie = mock.get_new_headers().get("Cookie")
            if cookie is not None:
                request_headers["Cookie"] = cookie
        return request_headers

    def _keep_cookies(
        self, response: HTTPResponse, prepared: str, request_headers: dict[str, str]
    ) -> None:
        """Put the cookies an answer sets in the client's jar (made on the first one)."""
        original = response._original_response
        if original is None or (
            "Set-Cookie" not in response.headers and "Set-Cookie2" not in response.headers
        ):
            return
        from requests.cookies import MockRequest, MockResponse, RequestsCookieJar

        with self._cookies_lock:
            if self.cookies is None:
                self.cookies = RequestsCookieJar()
        self.cookies.extract_cookies(
            MockResponse(original.msg),  # type: ignore[arg-type]
            MockRequest(_PreparedView(prepared, request_headers)),  # type: ignore[arg-type]
        )

    def request(self, method: str, url: str, **kwargs: Any) -> PlainResponse:
        """Send one request and read the whole body (for tests and tools, not the checker)."""
        response = self.open(
            method,
            url,
            headers=kwargs.get("headers"),
            timeout=kwargs.get("timeout"),
            proxies=kwargs.get("proxies"),
        )
        try:
            content = response.read()
        finally:
            response.release_conn()
        return PlainResponse(
            url=url, status_code=response.status, headers=response.headers, content=content
        )

    def get(self, url: str, **kwargs: Any) -> PlainResponse:
        return self.request("GET", url, **kwargs)

    def head(self, url: str, **kwargs: Any) -> PlainResponse:
        return self.request("HEAD", url, **kwargs)

    def _pool_for(self, scheme: str, host: str, port: int | None) -> HTTPConnectionPool:
        """PoolManager.connection_from_host, with the pool's key remembered per host."""
        make_key = self._pools.key_fn_by_scheme.get(scheme)
        if make_key is None:
            # Not a scheme the pools serve: urllib3 refuses it, as it always did.
            return self._pools.connection_from_host(host, port, scheme)
        where = (scheme, host, port or DEFAULT_PORTS[scheme])
        known = self._pool_keys.get(where)
        if known is None:
            if len(self._pool_keys) >= MAX_POOL_KEYS:
                self._pool_keys.clear()  # Memory stays flat over any number of hosts.
            settings = dict(self._pools.connection_pool_kw)
            settings.update(scheme=scheme, host=host, port=where[2])
            known = self._pool_keys[where] = (make_key(settings), settings)
        key, settings = known
        # A copy: making a new pool takes entries out of the settings it is given.
        return self._pools.connection_from_pool_key(key, request_context=dict(settings))

    def forget_cookies(self) -> None:
        """Start a new run with an empty jar; the open connections are kept."""
        with self._cookies_lock:
            self.cookies = None

    def close(self) -> None:
        self._pool_keys.clear()
        self._pools.clear()

    def __enter__(self) -> GuardedClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __getstate__(self) -> dict[str, Any]:
        raise TypeError("GuardedClient cannot be pickled")

    def _merge_headers(self, extra: Mapping[str, str] | None) -> dict[str, str]:
        """Defaults, then the caller's headers case-insensitively on top (None removes one)."""
        merged = dict(self.headers)
        if not extra:
            return merged
        for name, value in extra.items():
            lower = name.lower()
            for existing in list(merged):
                if existing.lower() == lower:
                    if value is None:
                        del merged[existing]
                    else:
                        # Keep the default's position, take the caller's spelling (as requests).
                        merged = {
                            (name if k == existing else k): (value if k == existing else v)
                            for k, v in merged.items()
                        }
                    break
            else:
                if value is not None:
                    merged[name] = value
        return merged


def _has(headers: Mapping[str, str], name: str) -> bool:
    lower = name.lower()
    return any(key.lower() == lower for key in headers)


@functools.lru_cache(maxsize=256)
def _prepare_url(url: str) -> tuple[str, str, str, str, int | None, bool]:
    """requests' PreparedRequest.prepare_url and path_url, without the rest of requests.

    Returns the prepared URL, the request target (path and query), the scheme, the host as the
    pool sees it, the port (None: the scheme's default) and whether the URL carries credentials.
    The guard's parse_target has already refused what no request should be made for; what is
    left to refuse here is what requests refused. Cached: HEAD and GET prepare the same URL.
    """
    url = url.lstrip()
    try:
        scheme, auth, host, port, path, query, fragment = parse_url(url)
    except LocationParseError as exc:
        raise InvalidTarget(f"InvalidURL: {exc}") from exc
    if not scheme:
        raise InvalidTarget(f"MissingSchema: invalid URL {url!r}: no scheme supplied")
    if not host:
        raise InvalidTarget(f"InvalidURL: invalid URL {url!r}: no host supplied")
    if not host.isascii():
        # parse_url IDNA-encodes names; what is left is not a host name.
        raise InvalidTarget("InvalidURL: URL has an invalid label.")
    if host.startswith(("*", ".")):
        raise InvalidTarget("InvalidURL: URL has an invalid label.")
    netloc = f"{auth}@{host}" if auth else host
    if port:
        netloc += f":{port}"
    prepared = requote(urlunparse([scheme, netloc, path or "/", None, query, fragment]))
    split = urlsplit(prepared)
    target = split.path or "/"
    if split.query:
        target += "?" + split.query
    try:
        pool_port = split.port
    except ValueError as exc:
        raise InvalidTarget(f"InvalidURL: {exc}") from exc
    return prepared, target, split.scheme.lower(), split.hostname or "", pool_port, bool(auth)


def requote(uri: str) -> str:
    """requests' requote_uri: percent-encode what must be, leave valid escapes alone."""
    if _ALREADY_QUOTED.fullmatch(uri):
        return uri
    from requests.utils import requote_uri

    return requote_uri(uri)


def build_session(config: CheckerConfig) -> GuardedClient:
    """The checker's HTTP client: it only ever connects to addresses the guard accepted.

    Callers pass it to fetch() / fetch_following_redirects() and close() it when done.
    """
    return GuardedClient(config)
