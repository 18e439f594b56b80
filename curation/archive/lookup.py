"""Asking web archives for the copy of a page closest to a moment, over the guarded client.

Three ways, in order, for each configured archive: the Memento TimeGate (RFC 7089: one
request with Accept-Datetime, answered by a redirect to the memento or by the memento itself),
the TimeMap (the list of every memento, in link-format, of which the last one before the
moment is taken), then the Wayback availability API. Each request goes through the SSRF
guard, the size and time limits of the checker's configuration and the shared per-host
limiter, like a link check. An archive that answers 429 or 503 holds the whole host for its
Retry-After (limiter.defer) and the lookup stops with ArchiveBusy, for the task to retry
later; any other failure of one way moves on to the next.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from curation.archive import memento
from curation.archive.endpoints import Archive
from curation.checker.addresses import parse_target
from curation.checker.config import CheckerConfig
from curation.checker.engine import parse_retry_after
from curation.checker.errors import CheckerError, FetchTimeout
from curation.checker.fetch import (
    Deadline,
    FetchResponse,
    fetch,
    fetch_following_redirects,
    redirect_target,
)
from curation.checker.guard import GuardedClient
from curation.checker.politeness import HostLimiter
from curation.checker.urlnorm import MAX_URL_LENGTH
from curation.models import SnapshotSource

# Statuses that mean "not now" rather than "not here": the archive is limiting us or down.
BUSY_STATUSES = frozenset({429, 503})
# Without a Retry-After, a busy archive is left alone this long before the next request.
DEFAULT_BUSY_SECONDS = 60.0
# A TimeMap of a popular page lists thousands of mementos; what fits here is plenty to
# find one before a given day (a cut-off list is read up to its last whole entry).
TIMEMAP_MAX_BYTES = 1024 * 1024
AVAILABILITY_MAX_BYTES = 64 * 1024
LINK_FORMAT = "application/link-format"


class ArchiveBusy(Exception):
    """An archive asked us to slow down (429) or is unavailable (503): try again later."""

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


@dataclass(frozen=True)
class Found:
    """A snapshot an archive named, or a constructed address (verified False)."""

    archive: str
    url: str
    captured_at: datetime | None
    found_by: str
    verified: bool = True


@dataclass
class Lookup:
    """What asking the archives gave: the copy found (or None), and what went wrong on the way.

    No copy and no failures means every archive answered that it holds none.
    """

    found: Found | None = None
    failures: list[str] = field(default_factory=list)


def find_snapshot(
    url: str,
    *,
    before: datetime,
    archives: list[Archive],
    config: CheckerConfig,
    session: GuardedClient,
    limiter: HostLimiter | None,
) -> Lookup:
    """Ask each archive in turn, each way in turn, until one names a copy of `url`.

    Raises ArchiveBusy as soon as an archive answers 429 or 503 (or our own limiter has no
    slot for it before the deadline): nothing is gained by asking its other endpoints now.
    """
    asker = _Asker(config=config, session=session, limiter=limiter)
    outcome = Lookup()
    for archive in archives:
        ways = (
            (archive.timegate, asker.timegate),
            (archive.timemap, asker.timemap),
            (archive.availability, asker.availability),
        )
        for base, ask in ways:
            if not base:
                continue
            try:
                found = ask(archive, url, before)
            except ArchiveBusy:
                raise
            except CheckerError as exc:
                outcome.failures.append(f"{archive.name} {ask.__name__}: {exc}")
                continue
            except _Unusable as exc:
                outcome.failures.append(f"{archive.name} {ask.__name__}: {exc}")
                continue
            if found is not None:
                outcome.found = found
                return outcome
    return outcome


def constructed(url: str, *, before: datetime, archives: list[Archive]) -> Found | None:
    """The `<archive>/web/<timestamp>/<url>` address of the first archive that has one: what
    Wayback-style archives redirect to their closest copy, if they hold any (unverified)."""
    for archive in archives:
        if archive.web:
            address = archive.constructed_url(url, memento.wayback_timestamp(before))
            if len(address) <= MAX_URL_LENGTH:
                return Found(
                    archive=archive.name,
                    url=address,
                    captured_at=None,
                    found_by=SnapshotSource.CONSTRUCTED,
                    verified=False,
                )
    return None


def raise_if_busy(address: str, response: FetchResponse, limiter: HostLimiter | None) -> None:
    """Raise ArchiveBusy on a 429 or 503, after holding the archive's host in the shared
    limiter for its Retry-After (DEFAULT_BUSY_SECONDS without one)."""
    if response.status not in BUSY_STATUSES:
        return
    retry_after = parse_retry_after(response.headers.get("Retry-After"))
    hold = retry_after if retry_after is not None else DEFAULT_BUSY_SECONDS
    if limiter is not None:
        # Every worker's requests to this archive wait, not only this lookup's retry.
        limiter.defer(parse_target(address).host_key, hold)
    raise ArchiveBusy(
        f"{address} answered HTTP {response.status}"
        + (f" (Retry-After {retry_after:g} s)" if retry_after is not None else ""),
        retry_after=retry_after,
    )


class _Unusable(Exception):
    """The archive answered, but not with something we can use (a 500, a garbled memento)."""


class _Asker:
    def __init__(
        self, *, config: CheckerConfig, session: GuardedClient, limiter: HostLimiter | None
    ) -> None:
        self.config, self.session, self.limiter = config, session, limiter

    def _deadline(self) -> Deadline:
        return Deadline.within(self.config.deadline, queue_allowance=self.config.max_queue_wait)

    def _request(self, address: str, *, accept: str, max_bytes: int, follow: bool, **headers):
        wanted = {"Accept": accept, **headers}
        try:
            if follow:
                chain = fetch_following_redirects(
                    self.session, address, config=self.config, max_bytes=max_bytes,
                    deadline=self._deadline(), limiter=self.limiter, headers=wanted,
                )  # fmt: skip
                response = chain.response
            else:
                response = fetch(
                    self.session, address, config=self.config, max_bytes=max_bytes,
                    deadline=self._deadline(), limiter=self.limiter, headers=wanted,
                )  # fmt: skip
        except FetchTimeout as exc:
            if exc.rule == "politeness-wait":
                # Our own limiter holds this archive (a Retry-After another lookup was given).
                raise ArchiveBusy(str(exc)) from None
            raise
        raise_if_busy(address, response, self.limiter)
        return response

    def timegate(self, archive: Archive, url: str, before: datetime) -> Found | None:
        address = archive.timegate_url(url)
        response = self._request(
            address,
            accept="*/*",
            max_bytes=0,
            follow=False,
            **{"Accept-Datetime": memento.http_date(before)},
        )
        links = memento.parse_links(response.headers.get("Link", ""))
        if response.is_redirect:
            target = redirect_target(address, response.location or "")
            return self._found(archive, target, links, SnapshotSource.TIMEGATE)
        if 200 <= response.status < 300 and response.headers.get("Memento-Datetime"):
            # The TimeGate is the memento itself (RFC 7089, pattern 2.2 / 1.1).
            location = response.headers.get("Content-Location")
            target = redirect_target(address, location) if location else address
            captured = memento.parse_http_date(response.headers.get("Memento-Datetime"))
            return self._found(archive, target, links, SnapshotSource.TIMEGATE, captured)
        if response.status in (404, 410):
            return None
        raise _Unusable(f"HTTP {response.status} without a memento")

    def timemap(self, archive: Archive, url: str, before: datetime) -> Found | None:
        response = self._request(
            archive.timemap_url(url), accept=LINK_FORMAT, max_bytes=TIMEMAP_MAX_BYTES, follow=True
        )
        if response.status in (404, 410):
            return None
        if not 200 <= response.status < 300:
            raise _Unusable(f"HTTP {response.status}")
        text = response.body.decode("utf-8", errors="replace")
        if response.truncated:
            text = text[: text.rfind(",")]
        chosen = memento.closest_before(memento.mementos_in(memento.parse_links(text)), before)
        if chosen is None:
            return None
        return self._found(archive, chosen.url, [], SnapshotSource.TIMEMAP, chosen.captured_at)

    def availability(self, archive: Archive, url: str, before: datetime) -> Found | None:
        response = self._request(
            archive.availability_url(url, memento.wayback_timestamp(before)),
            accept="application/json",
            max_bytes=AVAILABILITY_MAX_BYTES,
            follow=True,
        )
        if not 200 <= response.status < 300:
            raise _Unusable(f"HTTP {response.status}")
        chosen = memento.parse_availability(response.body)
        if chosen is None:
            return None
        return self._found(archive, chosen.url, [], SnapshotSource.AVAILABILITY, chosen.captured_at)

    @staticmethod
    def _found(
        archive: Archive,
        target: str,
        links: list[tuple[str, dict[str, str]]],
        how: str,
        captured_at: datetime | None = None,
    ) -> Found:
        if not target.startswith(("http://", "https://")) or len(target) > MAX_URL_LENGTH:
            raise _Unusable(f"unusable memento address {target[:200]!r}")
        if captured_at is None:
            named = [m for m in memento.mementos_in(links) if m.url == target]
            captured_at = named[0].captured_at if named else None
        if captured_at is None:
            captured_at = memento.timestamp_in_url(target)
        return Found(archive=archive.name, url=target, captured_at=captured_at, found_by=how)
