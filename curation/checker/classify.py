"""Outcome rules: from a final response (and the redirects that led to it) to an Outcome + rule.

Retries are the engine's business; these functions only judge what they are shown.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import parse_qsl, urldefrag, urljoin, urlsplit

from curation.checker.urlnorm import InvalidURL, normalize_url

from .fetch import PLAIN_TEXT, FetchChain, FetchResponse
from .htmlscan import PageSummary, scan_html, scan_text
from .outcomes import Outcome
from .soft404 import SHORT_BODY_CHARS, SOFT404_SEPARATORS, Judgement, fold, judge

PERMANENT_REDIRECTS = frozenset({301, 308})
BLOCKED_STATUSES = frozenset({401, 403, 407, 429, 999})
NOT_FOUND_STATUSES = frozenset({404, 410})

# Matched on the whole title, or on its first segment before a separator
# ("Access denied | example.com used Cloudflare"), never as a prefix of an ordinary title.
CHALLENGE_TITLES = frozenset(
    {
        "just a moment...",
        "just a moment…",
        "just a moment",
        "attention required!",
        "attention required! | cloudflare",
        "access denied",
        "access to this page has been denied",
        "ddos-guard",
        "pardon our interruption",
        "are you a robot?",
        "are you a human?",
        "verify you are human",
        "human verification",
        "security check",
        "bot verification",
        "one more step",
        "please wait while we verify your browser",
        "request unsuccessful. incapsula incident id",
    }
)
# Cloudflare injects /cdn-cgi/challenge-platform/scripts/jsd/... into ordinary pages; only its
# challenge pages load /cdn-cgi/challenge-platform/h/.../orchestrate.
CHALLENGE_MARKERS = (
    b"cf_chl_opt",
    b"/cdn-cgi/challenge-platform/h/",
    b"px-captcha",
    b"_incapsula_resource",
)

LOGIN_PATHS = (
    "/login",
    "/log-in",
    "/signin",
    "/sign-in",
    "/sign_in",
    "/accounts/login",
    "/account/login",
    "/users/sign_in",
    "/user/login",
    "/auth/login",
    "/session/new",
    "/sso",
)
LOGIN_QUERY_KEYS = frozenset(
    {
        "next", "return_to", "returnto", "returnurl", "redirect_uri", "redirect", "redirect_to",
        "continue", "came_from", "destination",
    }
)  # fmt: skip
ROOT_PATHS = frozenset({"", "/", "/index.html", "/index.htm", "/index.php"})
# Sites send dead deep links to their home page in the reader's language: /en/, /pt-br/, /zh_CN.
LANGUAGES = frozenset(
    {
        "ar", "bg", "ca", "cs", "da", "de", "el", "en", "es", "et", "fa", "fi", "fr", "he",
        "hi", "hr", "hu", "id", "it", "ja", "ko", "lt", "lv", "ms", "nb", "nl", "no", "pl",
        "pt", "ro", "ru", "sk", "sl", "sr", "sv", "th", "tr", "uk", "vi", "zh",
    }
)  # fmt: skip
_LOCALE_ROOT = re.compile(r"/([a-z]{2})(?:[-_][a-zA-Z]{2,4})?/?(?:index\.html?)?", re.IGNORECASE)


def page_of(response: FetchResponse) -> PageSummary | None:
    """The page's title, heading and text; a short plain-text body ("404 not found") as text."""
    if not response.body:
        return None
    content_type = response.headers.get("Content-Type", "")
    if response.is_html:
        return scan_html(response.body, content_type)
    if response.content_type == PLAIN_TEXT:
        return scan_text(response.body, content_type)
    return None


def challenge_rule(response: FetchResponse, page: PageSummary | None) -> str | None:
    """A bot wall or captcha, whatever the status code says."""
    if response.headers.get("cf-mitigated", "").strip().lower() == "challenge":
        return "challenge-cf-mitigated"
    if page is not None:
        title = fold(page.title)
        first = SOFT404_SEPARATORS.split(title, maxsplit=1)[0].strip()
        if title in CHALLENGE_TITLES or first in CHALLENGE_TITLES:
            return "challenge-title"
    body = response.body[:65536].lower()
    if any(marker in body for marker in CHALLENGE_MARKERS):
        return "challenge-marker"
    # "captcha" alone appears in ordinary articles (and their titles); only count it on a page
    # that we read to its end and found nearly empty.
    if (
        b"captcha" in body
        and page is not None
        and page.text_length < SHORT_BODY_CHARS
        and read_to_the_end(response)
        and "captcha" not in page.title.lower()
    ):
        return "challenge-captcha"
    return None


def read_to_the_end(response: FetchResponse) -> bool:
    """Whether the body we hold is the whole page (the sniff may stop at </h1>)."""
    if response.truncated or response.body_error:
        return False
    if not response.stopped_at_marker:
        return True
    # The marker was in the last chunk read; that chunk may well have held the rest.
    length = response.headers.get("Content-Length", "")
    encoded = response.headers.get("Content-Encoding", "identity").strip().lower()
    return length.isdigit() and encoded in ("", "identity") and int(length) == len(response.body)


def soft404_page_rule(response: FetchResponse, page: PageSummary | None) -> Judgement:
    """What the page's title, heading and text say (see soft404.judge)."""
    if page is None:
        return Judgement()
    return judge(page, read_to_the_end(response))


def soft404_redirect_rule(url: str, chain: FetchChain, page: PageSummary | None) -> str | None:
    """A deep link that lands on the home page or a login page has lost its content.

    "Lands" covers HTTP redirects and an immediate <meta http-equiv="refresh"> on the final page,
    which some sites serve instead of a 404.
    """
    landing = chain.final_url if chain.hops else None
    if page is not None and page.refresh_url:
        refreshed = urldefrag(urljoin(chain.final_url, page.refresh_url))[0]
        if refreshed != chain.final_url:
            landing = refreshed
    if landing is None:
        return None
    original, final = urlsplit(url), urlsplit(landing)
    if _is_root(original.path) and not original.query:
        return None
    final_path = final.path.lower().rstrip("/")
    if _is_login(final_path, final.query) and not _is_login(
        original.path.lower().rstrip("/"), original.query
    ):
        return "soft404-redirect-to-login"
    if _is_root(final.path) and not _meaningful_query(landing):
        return "soft404-redirect-to-root"
    return None


def _is_root(path: str) -> bool:
    """The home page, or a language's home page (/en/, /fr-ca/, /pt_BR)."""
    if path in ROOT_PATHS:
        return True
    locale = _LOCALE_ROOT.fullmatch(path)
    return locale is not None and locale.group(1).lower() in LANGUAGES


def _meaningful_query(url: str) -> bool:
    """A query that picks content (/?p=12), as opposed to none or only tracking (/?utm_source=)."""
    try:
        return bool(urlsplit(normalize_url(url)).query)
    except InvalidURL:
        return bool(urlsplit(url).query)


def moved_to(url: str, chain: FetchChain) -> str | None:
    """The new address when the link has permanently moved, else None.

    Only the permanent redirects the chain starts with count: A -301-> B -302-> C means "use B"
    (C is a temporary stop), and A -302-> B -301-> C means A itself is still the address to
    keep. A move to the same resource in another spelling (a trailing slash, tracking
    parameters, see normalize_url) is not a move worth a curator's time.
    """
    target = None
    for index, hop in enumerate(chain.hops):
        if hop.status not in PERMANENT_REDIRECTS:
            break
        following = chain.hops[index + 1 :]
        target = following[0].url if following else chain.final_url
    if target is None or same_resource(url, target):
        return None
    return target


def same_resource(a: str, b: str) -> bool:
    try:
        return normalize_url(a) == normalize_url(b)
    except InvalidURL:
        return a == b


def _is_login(path: str, query: str) -> bool:
    if any(path == p or path.endswith(p) for p in LOGIN_PATHS):
        return True
    keys = {key.lower() for key, _ in parse_qsl(query, keep_blank_values=True)}
    return bool(keys & LOGIN_QUERY_KEYS) and ("login" in path or "signin" in path or "auth" in path)


@dataclass(frozen=True)
class PageVerdict:
    """What the rules alone say about a final response.

    `ambiguous` is True for a 2xx page whose verdict the rules cannot settle on their own (a weak
    not-found signal, or a strong-looking one that ordinary pages also show): the engine's
    random-sibling probe (probe.py) may then decide. A verdict that is not ambiguous stands.
    """

    outcome: Outcome
    rule: str
    ambiguous: bool = False


def page_verdict(url: str, chain: FetchChain) -> PageVerdict:
    """Judge a final response, with the rules' own confidence (see PageVerdict).

    Ambiguous: a 2xx page whose not-found signals are weak or disagree (a 404 beside a word we
    cannot place, a heading that only partly says it, a phrase inside a longer text, a short
    page that mentions 404). Redirects home or to a login, bot walls and statuses are not.
    Transient statuses (5xx, 429) get their final verdict here.
    """
    response = chain.response
    status = response.status
    page = page_of(response)
    challenge = challenge_rule(response, page)
    if challenge:
        return PageVerdict(Outcome.BLOCKED, challenge)
    if 200 <= status < 300:
        redirect_rule = soft404_redirect_rule(url, chain, page)
        if redirect_rule:
            return PageVerdict(Outcome.SOFT_404, redirect_rule)
        judged = soft404_page_rule(response, page)
        if judged.rule:
            return PageVerdict(Outcome.SOFT_404, judged.rule, judged.ambiguous)
        if moved_to(url, chain) is not None:
            return PageVerdict(Outcome.REDIRECTED, "redirect-permanent", judged.ambiguous)
        return PageVerdict(Outcome.OK, f"status-{status}", judged.ambiguous)
    if status in NOT_FOUND_STATUSES:
        return PageVerdict(Outcome.NOT_FOUND, f"status-{status}")
    if status in BLOCKED_STATUSES:
        return PageVerdict(Outcome.BLOCKED, f"status-{status}")
    if status >= 500:
        return PageVerdict(Outcome.SERVER_ERROR, f"status-{status}")
    return PageVerdict(Outcome.HTTP_ERROR, f"status-{status}")


def classify(url: str, chain: FetchChain) -> tuple[Outcome, str]:
    """The rules-only verdict on a final response: page_verdict() without its confidence."""
    verdict = page_verdict(url, chain)
    return verdict.outcome, verdict.rule
