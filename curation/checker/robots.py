"""robots.txt for the requests that read a page's content (metadata), never for link checks.

A link check only asks whether a page is there, as every link checker does, and ignores
robots.txt. Reading a page to describe it is crawling, so it asks the site first, as the
checker's user agent. robots.txt is fetched like any other request: through the guarded
client, the per-host limiter, a deadline and a size cap. What it said is kept per origin
(scheme, host, port) in a cache the caller passes in (in-process here; the app shares one
through Redis).

What each answer means (RFC 9309, but for the one departure said below):
- 2xx: the rules, matched by protego against the user agent; kept ROBOTS_TTL.
- 4xx (404 missing, 401, 403, 410 ...): no rules, so everything is allowed; kept ROBOTS_TTL.
- 5xx, 429, a timeout, a failed connection, a body cut off by an error: unreachable. RFC 9309
  says to assume complete disallow; here it allows, and is kept only ROBOTS_RETRY_TTL so that
  a robots.txt that comes back is read soon. A metadata fetch is one page a curator chose,
  read at most every few weeks, not a crawl through discovered links; and many hosts answer
  every unknown path with a 5xx for good, which would otherwise mean never describing them.
  Only a robots.txt that is there and says no stops a fetch.
- The guard refusing robots.txt's own address (the page's host) is raised, as the page's own
  fetch would raise it.
"""

from __future__ import annotations

import json
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from protego import Protego

from .addresses import DEFAULT_PORTS, Target, parse_target
from .config import CheckerConfig
from .errors import CheckerError, FetchTimeout, ForbiddenTarget, InvalidTarget
from .fetch import fetch_following_redirects
from .guard import GuardedClient
from .politeness import HostLimiter

# RFC 9309 asks crawlers to read at least 500 KiB of a robots.txt.
ROBOTS_CAP_BYTES = 512 * 1024
ROBOTS_TTL = 24 * 3600.0
ROBOTS_RETRY_TTL = 15 * 60.0
ROBOTS_ACCEPT = "text/plain,*/*;q=0.5"
# The rule that says our own limiter had no slot before the deadline: nothing about the server.
POLITENESS_WAIT = "politeness-wait"

RULES = "rules"
MISSING = "missing"
UNREACHABLE = "unreachable"


class RobotsCache(Protocol):
    """Where what a robots.txt said is kept, by origin, as a string."""

    def get(self, key: str) -> str | None: ...

    def set(self, key: str, value: str, *, ttl: float) -> None: ...


class LocalRobotsCache:
    """One process's memory of robots.txt: entries expire after their ttl; past
    `max_entries` the oldest stored goes first."""

    def __init__(
        self, *, max_entries: int = 4096, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.max_entries = max_entries
        self.clock = clock
        self._entries: OrderedDict[str, tuple[float, str]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: str) -> str | None:
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return None
            if entry[0] <= self.clock():
                del self._entries[key]
                return None
            return entry[1]

    def set(self, key: str, value: str, *, ttl: float) -> None:
        with self._lock:
            self._entries.pop(key, None)
            self._entries[key] = (self.clock() + ttl, value)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


@dataclass(frozen=True)
class RobotsFile:
    """What one origin's robots.txt said: its rules, or that there were none to be had."""

    state: str
    url: str
    detail: str = ""
    text: str = ""

    def allows(self, url: str, user_agent: str) -> bool:
        if self.state != RULES:
            return True
        return Protego.parse(self.text).can_fetch(url, user_agent)

    def dumps(self) -> str:
        return json.dumps(
            {"state": self.state, "url": self.url, "detail": self.detail, "text": self.text}
        )

    @classmethod
    def loads(cls, value: str) -> RobotsFile:
        data = json.loads(value)
        return cls(state=data["state"], url=data["url"], detail=data["detail"], text=data["text"])


@dataclass(frozen=True)
class RobotsVerdict:
    allowed: bool
    robots: RobotsFile


def product_token(user_agent: str) -> str:
    """ "SyllabusLinkChecker" of "SyllabusLinkChecker/0.1 (+https://...)"."""
    return user_agent.split("/", 1)[0].strip()


def origin_key(target: Target) -> str:
    return f"{target.scheme}://{target.host}:{target.port}"


def robots_url(target: Target) -> str:
    port = "" if DEFAULT_PORTS[target.scheme] == target.port else f":{target.port}"
    return f"{target.scheme}://{target.host}{port}/robots.txt"


def check_robots(
    url: str,
    *,
    config: CheckerConfig,
    session: GuardedClient,
    cache: RobotsCache,
    limiter: HostLimiter | None = None,
) -> RobotsVerdict:
    """May the checker's user agent read `url`? robots.txt from `cache`, or fetched and kept.

    Raises the CheckerError of the page's own address (invalid, refused by the guard); any
    other failure to read robots.txt allows (see the module's docstring).
    """
    target = parse_target(url)
    key = origin_key(target)
    stored = cache.get(key)
    if stored is not None:
        robots = RobotsFile.loads(stored)
    else:
        robots, ttl = read_robots(target, config=config, session=session, limiter=limiter)
        if ttl > 0:
            cache.set(key, robots.dumps(), ttl=ttl)
    return RobotsVerdict(allowed=robots.allows(url, config.user_agent), robots=robots)


def read_robots(
    target: Target,
    *,
    config: CheckerConfig,
    session: GuardedClient,
    limiter: HostLimiter | None = None,
) -> tuple[RobotsFile, float]:
    """Fetch the origin's robots.txt; returns what it says and how long to keep it (0: not)."""
    url = robots_url(target)
    try:
        chain = fetch_following_redirects(
            session,
            url,
            method="GET",
            config=config,
            max_bytes=ROBOTS_CAP_BYTES,
            deadline=time.monotonic() + config.deadline,
            limiter=limiter,
            headers={"Accept": ROBOTS_ACCEPT},
            target=target,
        )
    except (InvalidTarget, ForbiddenTarget) as exc:
        if not exc.hops:
            raise
        return RobotsFile(UNREACHABLE, url, detail=str(exc)), ROBOTS_RETRY_TTL
    except FetchTimeout as exc:
        robots = RobotsFile(UNREACHABLE, url, detail=str(exc))
        return robots, 0.0 if exc.rule == POLITENESS_WAIT else ROBOTS_RETRY_TTL
    except CheckerError as exc:
        return RobotsFile(UNREACHABLE, url, detail=str(exc)), ROBOTS_RETRY_TTL
    response = chain.response
    status = response.status
    if status >= 500 or status == 429 or response.body_error:
        detail = response.body_error or f"HTTP {status}"
        return RobotsFile(UNREACHABLE, url, detail=detail), ROBOTS_RETRY_TTL
    if not 200 <= status < 300:
        return RobotsFile(MISSING, url, detail=f"HTTP {status}"), ROBOTS_TTL
    text = response.body.decode("utf-8-sig", errors="replace")
    if response.truncated:
        # The cap cut the last line: drop it rather than read half a rule.
        text = text.rpartition("\n")[0]
    return RobotsFile(RULES, url, detail=f"HTTP {status}", text=text), ROBOTS_TTL
