"""The random-sibling probe: ask the site for an address that cannot exist, and compare.

A soft-404 site answers every unknown address with the same page and a 200, so a page that looks
ordinary may be its not-found page, and one that looks like it may be real. Bar-Yossef et al.
(WWW 2004) measured the fix: fetch a random sibling of the page (same directory, a random name).
The site answers it `honest` (404/410: its 2xx pages are real), `soft` (2xx: the page is compared
with that answer, the layout both share set aside), `home` (sent elsewhere: no verdict) or
`unknown` (an error: no verdict, kept briefly). `decide` is the decision table; the answer is
kept per host and directory for a day in a ProbeCache shared by every worker, and a short claim
per key makes two checks of one directory at once send one probe. See docs/soft404-probe.md.
"""

from __future__ import annotations

import hashlib
import logging
import posixpath
import re
import secrets
import string
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from html.parser import HTMLParser
from typing import Any
from urllib.parse import unquote, urljoin, urlsplit

from .addresses import Target, parse_target
from .classify import (
    NOT_FOUND_STATUSES,
    ROOT_PATHS,
    PageVerdict,
    page_of,
    same_resource,
    soft404_redirect_rule,
)
from .config import ProbeCache
from .decode import decode_html
from .errors import CheckerError
from .fetch import FetchChain, FetchResponse, redirect_target
from .outcomes import Hop, Outcome

logger = logging.getLogger(__name__)

HONEST, SOFT, HOME, UNKNOWN = "honest", "soft", "home", "unknown"
# The rule of a check that found no slot in our own limiter in time: the site was never asked.
POLITENESS_WAIT = "politeness-wait"
# An answer that says nothing is asked again soon: the site may have been down for a minute.
UNKNOWN_TTL = 15 * 60.0
# How long a check waits for another check's probe of the same directory before it settles
# on the rules alone (it never waits past its own deadline).
CLAIM_WAIT = 10.0
CLAIM_POLL = 0.05
# Same page: at most one line and this many characters of text of its own on each side, once
# the layout both share is set aside (a date, a counter, a word of the echoed address that
# slipped by). A character of a script written without spaces counts as CJK_WEIGHT: "頁面不存在"
# says as much as "page does not exist".
SAME_PAGE_MAX_CHARS = 40
SAME_PAGE_MAX_LINES = 1
CJK_WEIGHT = 3
# A not-found page with less text than this is a shell (a script-filled app page, often with the
# site's name as its only text): the page must then be exactly that shell to be the same page.
# A site whose real pages are the same shell (an app rendered in the browser alone) cannot be
# told apart this way, and its deep links read as soft 404s, with the evidence saying why.
MIN_NOT_FOUND_CHARS = 24
# Real page: at least this much text of its own, and twice what the not-found page has of its own.
REAL_PAGE_MIN_CHARS = 120
MAX_LINES = 2000
MAX_TEXT_CHARS = 200_000
_SKIPPED = frozenset({"script", "style", "noscript", "template", "svg"})
_NAME_CHARS = string.ascii_lowercase + string.digits
# Per-request noise in a page's text: ids and tokens with digits in them, then any number.
_TOKEN = re.compile(r"\b(?=[a-z_-]*\d)[\w-]{8,}\b")
_DIGITS = re.compile(r"\d+")


class CacheUnavailable(Exception):
    """The shared cache could not be reached: the check goes on without a probe."""


class LocalProbeCache:
    """One process's probe answers: expire after their ttl; past `max_entries` the oldest
    stored goes first. Claims are per key, and expire too (a thread that died keeps none)."""

    def __init__(
        self, *, max_entries: int = 10_000, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.max_entries = max_entries
        self.clock = clock
        self._entries: OrderedDict[str, tuple[float, dict[str, Any]]] = OrderedDict()
        self._claims: dict[str, tuple[float, str]] = {}
        self._lock = threading.Lock()

    def get(self, key: str) -> dict[str, Any] | None:
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return None
            if entry[0] <= self.clock():
                del self._entries[key]
                return None
            return entry[1]

    def set(self, key: str, value: dict[str, Any], ttl_seconds: float) -> None:
        with self._lock:
            self._entries.pop(key, None)
            self._entries[key] = (self.clock() + ttl_seconds, value)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)

    def claim(self, key: str, ttl_seconds: float) -> str | None:
        now = self.clock()
        with self._lock:
            held = self._claims.get(key)
            if held is not None and held[0] > now:
                return None
            token = secrets.token_hex(8)
            self._claims[key] = (now + ttl_seconds, token)
            return token

    def release(self, key: str, token: str) -> None:
        with self._lock:
            held = self._claims.get(key)
            if held is not None and held[1] == token:
                del self._claims[key]


@dataclass(frozen=True)
class SiteAnswer:
    """What the site did with a random sibling address, as kept in the cache."""

    kind: str
    probed: str  # the path asked for
    status: int | None = None
    landed: str = ""  # where a redirect took it
    detail: str = ""
    lines: dict[str, int] = field(default_factory=dict)  # text line hash -> its weight

    def to_value(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_value(cls, value: dict[str, Any]) -> SiteAnswer | None:
        try:
            return cls(
                kind=str(value["kind"]),
                probed=str(value["probed"]),
                status=value.get("status"),
                landed=str(value.get("landed", "")),
                detail=str(value.get("detail", "")),
                lines=dict(value.get("lines") or {}),
            )
        except (KeyError, TypeError, ValueError):
            return None  # Something else under our key (an older format): ask again.

    @property
    def said(self) -> str:
        """The probe and its answer, for the evidence: "probed /docs/x8f…, 200"."""
        shown = self.probed if len(self.probed) <= 40 else self.probed[:39] + "…"
        status = self.status if self.status is not None else self.detail or "no answer"
        return f"probed {shown}, {status}" + (f" to {self.landed}" if self.landed else "")


@dataclass(frozen=True)
class Settled:
    outcome: Outcome
    rule: str
    evidence: str = ""


# --- Addresses ---------------------------------------------------------------------------------


def is_deep(path: str) -> bool:
    """A link below the home page (which is what goes missing), not the home page itself."""
    return path not in ROOT_PATHS and path.strip("/") != ""


def probe_key(url: str, target: Target | None = None) -> str:
    """The cache key: scheme, host and port, and the directory of the path. `target` is
    parse_target(url) when the caller has it already (parsing is a fair share of a check)."""
    parts = urlsplit(url)
    target = target or parse_target(url)
    directory = posixpath.dirname(parts.path.rstrip("/") or "/")
    key = f"{target.scheme}://{target.host_key}{directory.rstrip('/')}/"
    if len(key) > 300:
        # Redis keys may be long, but a cache of long keys is memory spent on nothing.
        key = key[:200] + hashlib.blake2b(key.encode(), digest_size=16).hexdigest()
    return key


def sibling_url(url: str) -> str:
    """A random address beside `url`: the same directory, a random name, the same suffix and
    trailing slash (a site that serves /a/b.html may treat /a/b differently)."""
    parts = urlsplit(url)
    path = parts.path or "/"
    slash = "/" if path.endswith("/") and path != "/" else ""
    directory, name = posixpath.split(path.rstrip("/") or "/")
    suffix = posixpath.splitext(name)[1] if name else ""
    if not re.fullmatch(r"\.[A-Za-z0-9]{1,5}", suffix):
        suffix = ""
    size = 16 + secrets.randbelow(17)
    random_name = secrets.choice(string.ascii_lowercase) + "".join(
        secrets.choice(_NAME_CHARS) for _ in range(size - 1)
    )
    new_path = posixpath.join(directory, random_name + suffix) + slash
    return parts._replace(path=new_path, query="", fragment="").geturl()


# --- Text -------------------------------------------------------------------------------------


class _Lines(HTMLParser):
    """Visible text, one text node a line (the title included: not-found pages say it there)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.lines: list[str] = []
        self.size = 0
        self._skipping = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIPPED:
            self._skipping += 1

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        pass  # <svg/> opens nothing.

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIPPED and self._skipping:
            self._skipping -= 1

    def handle_data(self, data: str) -> None:
        if self._skipping or self.size > MAX_TEXT_CHARS:
            return
        line = " ".join(data.split())
        if line:
            self.lines.append(line)
            self.size += len(line)


def echoes_of(*urls: str) -> list[str]:
    """The spellings of the requested address a not-found page may repeat, longest first."""
    found: set[str] = set()
    for url in urls:
        path = urlsplit(url).path
        name = posixpath.basename(path.rstrip("/"))
        stem = posixpath.splitext(name)[0]
        for text in (url, path, name, stem, re.sub(r"[-_+]+", " ", stem)):
            for spelling in (text, unquote(text)):
                if len(spelling.strip("/ ")) >= 3:
                    found.add(spelling.lower())
    return sorted(found, key=len, reverse=True)


def normalize_line(line: str, echoes: list[str]) -> str:
    text = line.lower()
    for echo in echoes:
        text = text.replace(echo, " ")
    text = _DIGITS.sub("0", _TOKEN.sub("#", text))
    return " ".join(text.split())


def text_lines(response: FetchResponse, *urls: str) -> dict[str, int]:
    """A page's visible text lines, without what changes per request, as hash -> weight."""
    scanner = _Lines()
    try:
        text = decode_html(response.body, response.headers.get("Content-Type") or None)[0]
        scanner.feed(text[: MAX_TEXT_CHARS * 4])
        scanner.close()
    except Exception:  # Hostile markup: keep what the tokenizer saw before it choked.
        logger.debug("probe: could not read the whole page %s", response.url, exc_info=True)
    echoes = echoes_of(*urls)
    lines: dict[str, int] = {}
    for raw in scanner.lines:
        line = normalize_line(raw, echoes)
        if line and len(lines) < MAX_LINES:
            weight = len(line) + (CJK_WEIGHT - 1) * sum(1 for c in line if c >= "\u2e80")
            lines[hashlib.blake2b(line.encode(), digest_size=8).hexdigest()] = weight
    return lines


def compare(page: dict[str, int], not_found: dict[str, int]) -> str:
    """ "same", "different" or "unsure": the page against the site's not-found page, once the
    lines both share (the site's layout) are set aside."""
    if sum(not_found.values()) < MIN_NOT_FOUND_CHARS:
        return "same" if not_found and page == not_found else "unsure"
    page_lines = [size for line, size in page.items() if line not in not_found]
    not_found_lines = [size for line, size in not_found.items() if line not in page]
    page_own, not_found_own = sum(page_lines), sum(not_found_lines)
    if max(len(page_lines), len(not_found_lines)) <= SAME_PAGE_MAX_LINES and (
        max(page_own, not_found_own) <= SAME_PAGE_MAX_CHARS
    ):
        return "same"
    if page_own >= max(REAL_PAGE_MIN_CHARS, 2 * not_found_own):
        return "different"
    return "unsure"


# --- The site's answer, and what it means for the page ----------------------------------------


def answer_from(chain: FetchChain, probe_url: str) -> SiteAnswer:
    """Classify what the site did with the random sibling address."""
    response = chain.response
    path = urlsplit(probe_url).path
    first_status = chain.hops[0].status if chain.hops else response.status
    if response.status in NOT_FOUND_STATUSES:
        return SiteAnswer(HONEST, path, first_status)
    if not 200 <= response.status < 300:
        return SiteAnswer(UNKNOWN, path, first_status, detail=f"status {response.status}")
    page = page_of(response)
    # Where the site sent it: the redirects' end, or an immediate <meta refresh> on the answer.
    refresh = page.refresh_url if page is not None and not chain.hops else ""
    landed = urlsplit(urljoin(chain.final_url, refresh)).path or "/"
    if soft404_redirect_rule(probe_url, chain, page) or (
        chain.hops and not same_resource(probe_url, chain.final_url)
    ):
        return SiteAnswer(HOME, path, first_status, landed=landed)
    if not response.is_html:
        return SiteAnswer(UNKNOWN, path, first_status, detail="not a page")
    return SiteAnswer(SOFT, path, first_status, lines=text_lines(response, probe_url, landed))


def decide(verdict: PageVerdict, answer: SiteAnswer, page: dict[str, int] | None) -> Settled:
    """The decision table (see the module's docstring): what the site's answer does to the
    rules' verdict on a 2xx page."""
    keep = Settled(verdict.outcome, verdict.rule)
    strong_soft404 = verdict.outcome == Outcome.SOFT_404 and not verdict.ambiguous
    said = answer.said
    own_page = f"this site answers unknown addresses with a page of its own ({said})"
    if answer.kind == HONEST:
        honest = f"this site answers unknown addresses with {answer.status} ({said})"
        if strong_soft404:
            return _with(keep, f"{honest}, but this page itself says it is not found")
        rule = "probe-honest-site" if verdict.ambiguous else verdict.rule
        return Settled(Outcome.OK, rule, f"{honest}, so this page is real")
    if answer.kind == HOME:
        where = answer.landed if is_deep(answer.landed) else "its home page"
        return _with(keep, f"this site sends unknown addresses to {where} ({said}): no verdict")
    if answer.kind != SOFT or page is None:
        return keep
    likeness = compare(page, answer.lines)
    if likeness == "same":
        rule = verdict.rule if strong_soft404 else "soft404-probe-same-page"
        same = f"this site answers every unknown address with the same page ({said})"
        return Settled(Outcome.SOFT_404, rule, f"{same}, and this is that page")
    if likeness == "different":
        if strong_soft404:
            return _with(keep, f"{own_page}; this page is another, but says it is not found")
        rule = "probe-differs-from-not-found" if verdict.ambiguous else verdict.rule
        return Settled(Outcome.OK, rule, f"{own_page}, and this page is not that one")
    return _with(keep, f"{own_page}; this page is too close to it to tell them apart")


def _with(settled: Settled, evidence: str) -> Settled:
    return Settled(settled.outcome, settled.rule, evidence)


DEFAULT_CACHE = LocalProbeCache()


class SiblingProbe:
    """The probe for one check: looks the answer up before the page is fetched (to know how
    much of it to read), and settles the rules' verdict once it is."""

    def __init__(
        self,
        url: str,
        *,
        target: Target | None,
        cache: ProbeCache | None,
        ttl: float,
        fetch_one: Callable[[str], FetchResponse],
        fetch_chain: Callable[[str], FetchChain],
        time_left: Callable[[], float],
    ) -> None:
        self.url = url
        self.cache = cache
        self.ttl = ttl
        self.fetch_one = fetch_one
        self.fetch_chain = fetch_chain
        self.time_left = time_left
        self.key: str | None = None
        self.answer: SiteAnswer | None = None
        self.deep = False
        if cache is not None:
            try:
                self.key = probe_key(url, target)
            except (CheckerError, ValueError):
                return
            self.deep = is_deep(urlsplit(url).path)
            self.answer = self._lookup(self.key)

    def reads_whole_page(self) -> bool:
        """A probe may compare this page with the site's not-found page: read it all (capped)."""
        if self.key is None or not self.deep:
            return False
        return self.answer is None or self.answer.kind == SOFT

    def settle(self, chain: FetchChain, verdict: PageVerdict) -> Settled:
        keep = Settled(verdict.outcome, verdict.rule)
        response = chain.response
        if (
            self.cache is None
            or self.key is None
            or not 200 <= response.status < 300
            or not response.is_html
            or verdict.outcome not in (Outcome.OK, Outcome.SOFT_404)
        ):
            return keep
        page_url = chain.final_url
        try:
            # The page lives where the redirects ended (http -> https, a trailing slash).
            key = self.key if page_url == self.url else probe_key(page_url)
        except (CheckerError, ValueError):
            return keep
        answer = self.answer if key == self.key else self._lookup(key)
        if answer is None:
            if not (verdict.ambiguous or is_deep(urlsplit(page_url).path)):
                return keep
            answer = self._obtain(key, page_url)
        if answer is None or answer.kind == UNKNOWN:
            return keep
        page = text_lines(response, self.url, page_url) if answer.kind == SOFT else None
        return decide(verdict, answer, page)

    def _lookup(self, key: str) -> SiteAnswer | None:
        assert self.cache is not None
        try:
            value = self.cache.get(key)
        except CacheUnavailable as exc:
            logger.warning("probe cache unavailable, %s judged by the rules: %s", key, exc)
            return None
        return SiteAnswer.from_value(value) if value is not None else None

    def _obtain(self, key: str, page_url: str) -> SiteAnswer | None:
        """Probe once for the key; a check that finds another one at it waits for its answer."""
        assert self.cache is not None
        try:
            token = self.cache.claim(key, max(1.0, self.time_left() + 1.0))
            if token is None:
                return self._wait_for(key)
            try:
                # Another check may have stored the answer between our look and our claim.
                value = self.cache.get(key)
                if value is not None:
                    return SiteAnswer.from_value(value)
                answer, ttl = self._probe(page_url)
                if ttl > 0:
                    self.cache.set(key, answer.to_value(), ttl)
                return answer
            finally:
                self.cache.release(key, token)
        except CacheUnavailable as exc:
            # Without the shared memory every check would probe: judge by the rules instead.
            logger.warning("probe cache unavailable, %s judged by the rules: %s", key, exc)
            return None

    def _wait_for(self, key: str) -> SiteAnswer | None:
        until = time.monotonic() + min(CLAIM_WAIT, self.time_left())
        while time.monotonic() < until:
            time.sleep(CLAIM_POLL)
            answer = self._lookup(key)
            if answer is not None:
                return answer
        return None

    def _probe(self, page_url: str) -> tuple[SiteAnswer, float]:
        """The site's answer to a random sibling of the page, and how long to keep it."""
        probe_url = sibling_url(page_url)
        path = urlsplit(probe_url).path
        try:
            first = self.fetch_one(probe_url)
            landing = redirect_target(probe_url, first.location or "") if first.is_redirect else ""
            if landing and not same_resource(probe_url, landing):
                # Sent elsewhere (home, a login page): that is the answer, without a request
                # for the page it points to.
                landed = urlsplit(landing).path or "/"
                return SiteAnswer(HOME, path, first.status, landed=landed), self.ttl
            if landing:
                # A slash or a scheme away ("/x" -> "/x/"): the answer is what is there.
                chain = self.fetch_chain(landing)
                chain.hops.insert(0, Hop(probe_url, first.status))
            else:
                chain = FetchChain(url=probe_url, final_url=probe_url, response=first)
        except CheckerError as exc:
            answer = SiteAnswer(UNKNOWN, path, detail=exc.rule or "error")
            # Our own limiter had no slot in time: the site was never asked, so ask next time.
            return answer, 0.0 if exc.rule == POLITENESS_WAIT else UNKNOWN_TTL
        answer = answer_from(chain, probe_url)
        return answer, UNKNOWN_TTL if answer.kind == UNKNOWN else self.ttl
