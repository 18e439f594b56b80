"""check_url and check_many: one streamed GET per page, HEAD first for files, bounded retries.

Method policy. A page's verdict lives in its body: a 200 can be a soft 404 or a bot wall, so a
HEAD can never settle a page, and HEAD-then-GET would cost every site two requests per link
(and, under a per-host interval, halve what a polite run can check). So a page gets one GET
that reads only what the verdict needs: the first `sniff_bytes` of an HTML body, stopping soon
after the first </h1>; a response that is not HTML is judged by its status and its body is
never read. A URL that names a file (a PDF, a video, an archive: see FILE_SUFFIXES) is checked
with HEAD first, as link checkers do, because a 2xx HEAD settles it without a download; when
the HEAD answers anything but a clear 2xx for a non-HTML resource (403, 404, 405, 501, 5xx, a
reset or a hang: servers mishandle HEAD), the GET decides.

A 2xx page may then be settled by the random-sibling probe (probe.py): one request per host and
directory per day (cached), which tells whether the site answers unknown addresses honestly.
Where a probe may compare the page with the site's not-found page, the GET reads the page whole
(up to probe_body_bytes) instead of stopping at </h1>.
"""

from __future__ import annotations

import logging
import posixpath
import random
import time
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any, TypeVar
from urllib.parse import urlsplit

from .addresses import Target, parse_target
from .classify import PageVerdict, classify, moved_to, page_verdict
from .config import CheckerConfig
from .errors import CheckerError, ConnectionFailure, FetchTimeout
from .fetch import Deadline, FetchChain, FetchResponse, fetch, fetch_following_redirects
from .guard import GuardedClient, build_session
from .outcomes import CheckResult, Outcome
from .politeness import HostLimiter, LocalHostLimiter
from .probe import DEFAULT_CACHE, SiblingProbe
from .scheduler import DISPATCH_LEAD, schedule

logger = logging.getLogger(__name__)
K = TypeVar("K")
SNIFF_STOP_MARKER = b"</h1>"
# The most of a URL's remaining budget that HEAD may use: a server that hangs on HEAD only must
# leave the GET fallback time to give the real answer.
HEAD_SHARE = 0.5
# The most of it a whole-page read (for the probe to compare) may use before the sniff takes over:
# enough for a slow server's headers, and a quarter left for the sniff after a page that drips.
WHOLE_SHARE = 0.75
TRANSIENT_ERRORS = (ConnectionFailure, FetchTimeout)
# What the scheduler hands a check whose URL names no host (it is refused without a request).
_NO_SLOT = object()
# What a path ends with when it names a download rather than a page.
FILE_SUFFIXES = frozenset(
    {
        ".pdf", ".epub", ".mobi", ".djvu", ".ps", ".zip", ".gz", ".tgz", ".bz2", ".xz",
        ".7z", ".rar", ".tar", ".iso", ".dmg", ".exe", ".msi", ".deb", ".rpm", ".apk",
        ".jar", ".whl", ".mp4", ".m4v", ".mov", ".webm", ".mkv", ".avi", ".mp3", ".m4a",
        ".ogg", ".oga", ".wav", ".flac", ".ppt", ".pptx", ".doc", ".docx", ".xls", ".xlsx",
        ".odt", ".odp", ".ods", ".png", ".jpg", ".jpeg", ".gif", ".webp", ".tif", ".tiff",
    }
)  # fmt: skip


def names_a_file(url: str) -> bool:
    """Whether the URL's path ends in a file suffix (FILE_SUFFIXES): HEAD first for those."""
    if "." not in url.partition("#")[0].partition("?")[0].rpartition("/")[2]:
        return False  # The last path segment has no suffix at all (most pages): no need to parse.
    try:
        path = urlsplit(url).path
    except ValueError:
        return False
    return posixpath.splitext(path)[1].lower() in FILE_SUFFIXES


def parse_retry_after(value: str | None) -> float | None:
    """Retry-After as seconds from now (delta-seconds or an HTTP date), None if absent/garbled."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


class _ReservedSlot:
    """The limiter as one check sees it when the scheduler reserved its first slot: the first
    request to the check's host takes that slot; every later one (a redirect's next hop, the GET
    after a HEAD, a retry, the probe) is a follow-up, which takes the host's next slot ahead of
    new URLs (see LocalHostLimiter) rather than queueing behind them or racing them."""

    def __init__(self, limiter: HostLimiter, host: str, token: Any) -> None:
        self.limiter, self.host, self.token = limiter, host, token

    def acquire(self, host: str, *, deadline: float | None = None, priority: bool = False) -> Any:
        if self.token is not None and host == self.host:
            token, self.token = self.token, None
            return token
        return self.limiter.acquire(host, deadline=deadline, priority=True)

    def close(self) -> None:
        """Give back a slot no request took (the guard refused the URL before its request)."""
        if self.token is not None:
            token, self.token = self.token, None
            self.limiter.release(self.host, token)

    def try_acquire(self, host: str) -> tuple[Any, float]:
        return self.limiter.try_acquire(host)

    def release(self, host: str, token: Any) -> None:
        self.limiter.release(host, token)

    def defer(self, host: str, seconds: float) -> None:
        self.limiter.defer(host, seconds)

    def delay(self, host: str) -> float:
        return self.limiter.delay(host)

    def wait_for_start(self, host: str, token: Any) -> None:
        self.limiter.wait_for_start(host, token)

    def started(self, host: str, token: Any) -> None:
        self.limiter.started(host, token)


def _result_from_chain(url: str, chain: FetchChain, outcome: Outcome, rule: str) -> CheckResult:
    # For a permanent move, the address to report is where the permanent redirects lead, which
    # is not where a temporary redirect after them happens to land.
    final_url = (moved_to(url, chain) if outcome == Outcome.REDIRECTED else None) or chain.final_url
    return CheckResult(
        url=url,
        outcome=outcome,
        status_code=chain.response.status,
        final_url=final_url,
        redirects=list(chain.hops),
        rule=rule,
        error=chain.response.body_error,
    )


def _result_from_error(url: str, exc: CheckerError) -> CheckResult:
    return CheckResult(
        url=url,
        outcome=exc.outcome,
        final_url=exc.url if exc.hops else None,
        redirects=list(exc.hops),
        error=str(exc),
        rule=exc.rule,
    )


class _Check:
    def __init__(
        self,
        url: str,
        config: CheckerConfig,
        session: GuardedClient,
        limiter: HostLimiter | None,
        target: Target | None = None,
    ) -> None:
        self.url = url
        self.target = target
        self.config = config
        self.session = session
        self.limiter = limiter
        self.deadline = Deadline.within(config.deadline, queue_allowance=config.max_queue_wait)
        self.whole = False  # Whether the page's GET reads the whole page (for the probe).

    def run(self) -> CheckResult:
        if self.target is None:
            self.target = parse_target(self.url)
        # The guard's checks of the address and port are fetch()'s, before each request.
        if names_a_file(self.url):
            head = self._head()
            if head is not None and 200 <= head.response.status < 300 and not head.response.is_html:
                return _result_from_chain(self.url, head, *classify(self.url, head))
        return self._get_with_retries()

    def _head(self) -> FetchChain | None:
        try:
            chain = fetch_following_redirects(
                self.session,
                self.url,
                method="HEAD",
                config=self.config,
                max_bytes=0,
                deadline=self.deadline.share(HEAD_SHARE),
                limiter=self.limiter,
                target=self.target,
            )
        except TRANSIENT_ERRORS:
            # Some servers reset or hang on HEAD only; the GET decides.
            return None
        if chain.response.status in (429, 503):
            # Asking again at once would be rude and pointless: wait as told (within budget).
            delay = parse_retry_after(chain.response.headers.get("Retry-After"))
            if delay is not None and delay <= self.config.retry_after_budget:
                self._wait(delay, chain)
        return chain

    def _backoff(self, attempt: int) -> float:
        base = min(self.config.max_backoff, self.config.backoff * (2**attempt))
        return base * random.uniform(0.5, 1.0)

    def _wait(self, seconds: float, chain: FetchChain | None) -> bool:
        """Sleep before a retry if the deadline allows it; False when there is no time left."""
        if time.monotonic() + seconds >= self.deadline.at:
            return False
        if self.limiter is not None and chain is not None:
            # The limiter holds the next request to this host; no need to sleep here too.
            self.limiter.defer(parse_target(chain.final_url).host_key, seconds)
        else:
            time.sleep(seconds)
        return True

    def _sibling_probe(self) -> SiblingProbe:
        cache = (self.config.probe_cache or DEFAULT_CACHE) if self.config.probe else None
        return SiblingProbe(
            self.url,
            target=self.target,
            cache=cache,
            ttl=self.config.probe_ttl,
            fetch_one=self._fetch_sibling,
            fetch_chain=self._follow_sibling,
            time_left=lambda: self.deadline.remaining() + self.deadline.queue_allowance,
        )

    def _fetch_sibling(self, url: str) -> FetchResponse:
        """The probe's one request: the check's session, guard, limits, limiter and deadline."""
        return fetch(
            self.session,
            url,
            method="GET",
            config=self.config,
            max_bytes=self.config.probe_body_bytes,
            deadline=self.deadline,
            limiter=self.limiter,
            html_only=True,
        )

    def _follow_sibling(self, url: str) -> FetchChain:
        """Where the probe's redirect leads, when it only adds a slash or changes the scheme."""
        return fetch_following_redirects(
            self.session,
            url,
            method="GET",
            config=self.config,
            max_bytes=self.config.probe_body_bytes,
            deadline=self.deadline,
            limiter=self.limiter,
            html_only=True,
        )

    def _settle(self, chain: FetchChain, verdict: PageVerdict, probe: SiblingProbe) -> CheckResult:
        settled = probe.settle(chain, verdict)
        result = _result_from_chain(self.url, chain, settled.outcome, settled.rule)
        result.evidence = settled.evidence
        return result

    def _fetch_page(self) -> FetchChain:
        """The page's GET: the sniff (up to </h1>), or the whole page (capped) for a probe to
        compare. A whole read that runs out of its share of the budget (a page that drips after
        its heading) gives way to the sniff, so the probe never turns a slow page into a timeout."""
        if self.whole:
            try:
                return self._get(
                    self.config.probe_body_bytes, None, self.deadline.share(WHOLE_SHARE)
                )
            except FetchTimeout as exc:
                if exc.rule == "politeness-wait":
                    raise
                self.whole = False  # And for the retries too: this page is read the cheap way.
        return self._get(self.config.sniff_bytes, SNIFF_STOP_MARKER, self.deadline)

    def _get(self, max_bytes: int, stop_at: bytes | None, deadline: Deadline) -> FetchChain:
        return fetch_following_redirects(
            self.session,
            self.url,
            method="GET",
            config=self.config,
            max_bytes=max(max_bytes, self.config.sniff_bytes),
            deadline=deadline,
            stop_at=stop_at,
            limiter=self.limiter,
            html_only=True,
            target=self.target,
        )

    def _get_with_retries(self) -> CheckResult:
        probe = self._sibling_probe()
        self.whole = probe.reads_whole_page()
        attempts = self.config.retries + 1
        for attempt in range(attempts):
            last = attempt == attempts - 1
            try:
                chain = self._fetch_page()
            except TRANSIENT_ERRORS as exc:
                if (
                    last
                    or exc.rule == "politeness-wait"
                    or not self._wait(self._backoff(attempt), None)
                ):
                    raise
                continue
            verdict = page_verdict(self.url, chain)
            outcome, rule = verdict.outcome, verdict.rule
            status = chain.response.status
            transient = outcome == Outcome.SERVER_ERROR or (
                outcome == Outcome.BLOCKED and rule == "status-429"
            )
            if not transient:
                return self._settle(chain, verdict, probe)
            retry_after = parse_retry_after(chain.response.headers.get("Retry-After"))
            result = _result_from_chain(self.url, chain, outcome, rule)
            result.retry_after = retry_after
            if retry_after is not None and retry_after > self.config.retry_after_budget:
                if status == 429:
                    result.rule = "retry-after-over-budget"
                return result
            wait = retry_after if retry_after is not None else self._backoff(attempt)
            if last or not self._wait(wait, chain):
                return result
        raise AssertionError("unreachable: the last attempt always returns or raises")


def check_url(
    url: str,
    *,
    config: CheckerConfig,
    session: GuardedClient | None = None,
    limiter: HostLimiter | None = None,
    target: Target | None = None,
) -> CheckResult:
    """Check one URL. Never raises: every failure is a CheckResult with an outcome and a rule.

    `target` is parse_target(url) when the caller has already worked it out (the scheduler
    has, to know the URL's host): parsing is a fair share of a check's CPU.
    """
    started = time.monotonic()
    own_session = session is None
    if session is None:
        session = build_session(config)
    try:
        if not isinstance(url, str):
            result = CheckResult(url=str(url), outcome=Outcome.INVALID_URL, rule="invalid-url")
        else:
            result = _Check(url, config, session, limiter, target).run()
    except CheckerError as exc:
        result = _result_from_error(url, exc)
    except Exception as exc:
        # A bug of ours, not evidence about the link: one bad URL must not kill a batch or a
        # worker, and must not count towards "broken". Logged, and recorded as a check error.
        logger.exception("unexpected error checking %r", url)
        result = CheckResult(
            url=url,
            outcome=Outcome.CHECK_ERROR,
            error=f"{type(exc).__name__}: {exc}",
            rule="unexpected-error",
        )
    finally:
        if own_session:
            session.close()
    result.elapsed_ms = int((time.monotonic() - started) * 1000)
    return result


def target_or_none(url: str) -> Target | None:
    """parse_target(url), or None when the URL does not parse or is refused as written."""
    try:
        return parse_target(url)
    except CheckerError:
        return None


def check_many(
    urls: Iterable[str],
    *,
    config: CheckerConfig,
    limiter: HostLimiter | None = None,
) -> Iterator[CheckResult]:
    """Check URLs concurrently, yielding results as they complete (not in input order)."""
    for _, result in check_many_keyed(((url, url) for url in urls), config=config, limiter=limiter):
        yield result


def check_many_keyed(
    items: Iterable[tuple[K, str]],
    *,
    config: CheckerConfig,
    limiter: HostLimiter | None = None,
    on_idle: Callable[[], None] | None = None,
    session: GuardedClient | None = None,
) -> Iterator[tuple[K, CheckResult]]:
    """Like check_many, for (key, url) pairs: yields (key, result) so callers can match them up
    (a resource id, an input line) without keeping a map of everything in flight.

    `on_idle()` is called whenever the run is about to wait for an answer (see schedule()).
    """
    # Parsed once when read; that one parse serves the scheduler's host key and the check
    # (a cache spanning the lookahead would cost memory that grows with it).
    parsed = ((key, url, target_or_none(url)) for key, url in items)
    return check_many_parsed(
        parsed, config=config, limiter=limiter, on_idle=on_idle, session=session
    )


def check_many_parsed(
    items: Iterable[tuple[K, str, Target | None]],
    *,
    config: CheckerConfig,
    limiter: HostLimiter | None = None,
    on_idle: Callable[[], None] | None = None,
    session: GuardedClient | None = None,
) -> Iterator[tuple[K, CheckResult]]:
    """check_many_keyed for (key, url, parse_target(url)) triples, parsed by the caller (None
    when the URL does not parse: the check then reports why).

    A `session` given by the caller stays open afterwards (a worker keeps one between its
    batches); without one, the run makes its own and closes it at the end."""
    if limiter is None:
        limiter = LocalHostLimiter(
            per_host_concurrency=config.per_host_concurrency,
            per_host_interval=config.per_host_interval,
        )
    own_session = session is None
    if session is None:
        session = build_session(config)
    active_limiter = limiter
    # A limiter that can reserve a slot for new work (the in-process one) gets each URL's first
    # request reserved by the scheduler, so follow-ups can be served first (see _ReservedSlot).
    reserve_slot = getattr(limiter, "reserve", None)

    def ready_in(key: object) -> float:
        return active_limiter.delay(key) if isinstance(key, str) else 0.0

    def reserve(key: object) -> tuple[Any, float]:
        if not isinstance(key, str):
            return _NO_SLOT, 0.0
        return reserve_slot(key, DISPATCH_LEAD)

    def work(item: tuple[K, str, Target | None]) -> tuple[K, CheckResult]:
        key, url, target = item
        return key, check_url(url, config=config, session=session, limiter=limiter, target=target)

    def work_reserved(reserved: tuple[tuple[K, str, Target | None], Any]) -> tuple[K, CheckResult]:
        (key, url, target), token = reserved
        if token is _NO_SLOT or target is None:
            return key, check_url(url, config=config, session=session, limiter=limiter)
        slot = _ReservedSlot(active_limiter, target.host_key, token)
        try:
            return key, check_url(url, config=config, session=session, limiter=slot, target=target)
        finally:
            slot.close()

    try:
        yield from schedule(
            items,
            key=lambda item: item[2].host_key if item[2] is not None else None,
            work=work if reserve_slot is None else work_reserved,
            concurrency=config.concurrency,
            per_key=config.per_host_concurrency,
            lookahead=config.lookahead,
            ready_in=ready_in,
            on_idle=on_idle,
            reserve=None if reserve_slot is None else reserve,
        )
    finally:
        if own_session:
            session.close()
