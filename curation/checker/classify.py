"""Outcome rules: from a final response (and the redirects that led to it) to an Outcome + rule.

Retries are the engine's business; these functions only judge what they are shown.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, urlsplit

from .fetch import FetchChain, FetchResponse
from .htmlscan import PageSummary, scan_html
from .outcomes import Outcome

PERMANENT_REDIRECTS = frozenset({301, 308})
BLOCKED_STATUSES = frozenset({401, 403, 407, 429, 999})
NOT_FOUND_STATUSES = frozenset({404, 410})
HTML_TYPES = frozenset({"", "text/html", "application/xhtml+xml"})

# "Not found" in the languages our catalogue links to most; matched on lower-cased text.
NOT_FOUND_PHRASES = (
    "page not found",
    "not found",
    "page introuvable",
    "page non trouvée",
    "seite nicht gefunden",
    "seite wurde nicht gefunden",
    "página no encontrada",
    "pagina no encontrada",
    "página não encontrada",
    "pagina non trovata",
    "pagina niet gevonden",
    "strona nie została znaleziona",
    "sidan hittades inte",
    "siden blev ikke fundet",
    "sayfa bulunamadı",
    "страница не найдена",
    "ページが見つかりません",
    "页面未找到",
    "找不到页面",
    "페이지를 찾을 수 없습니다",
)
_STATUS_404 = re.compile(r"(?<![\d.,])404(?![\d.,])")
# A page whose visible text is this short is mostly its error message, if it has one.
SHORT_BODY_CHARS = 600

CHALLENGE_TITLES = (
    "just a moment...",
    "just a moment…",
    "attention required! | cloudflare",
    "access denied",
    "ddos-guard",
    "pardon our interruption",
    "are you a robot?",
)
CHALLENGE_MARKERS = (b"cf_chl_opt", b"px-captcha", b"_incapsula_resource", b"challenge-platform")

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
LOGIN_QUERY_KEYS = frozenset({"next", "return_to", "returnto", "returnurl", "redirect_uri"})
ROOT_PATHS = frozenset({"", "/", "/index.html", "/index.htm", "/index.php"})


def is_html(response: FetchResponse) -> bool:
    return response.content_type in HTML_TYPES


def says_not_found(text: str) -> bool:
    lowered = text.lower()
    return any(phrase in lowered for phrase in NOT_FOUND_PHRASES) or bool(
        _STATUS_404.search(lowered)
    )


def page_of(response: FetchResponse) -> PageSummary | None:
    if not response.body or not is_html(response):
        return None
    return scan_html(response.body, response.headers.get("Content-Type", ""))


def challenge_rule(response: FetchResponse, page: PageSummary | None) -> str | None:
    """A bot wall or captcha, whatever the status code says."""
    if response.headers.get("cf-mitigated", "").strip().lower() == "challenge":
        return "challenge-cf-mitigated"
    if page is not None:
        title = page.title.lower()
        if any(title == t or title.startswith(t) for t in CHALLENGE_TITLES):
            return "challenge-title"
    body = response.body[:65536].lower()
    if any(marker in body for marker in CHALLENGE_MARKERS):
        return "challenge-marker"
    # "captcha" alone appears in ordinary articles; only count it on a near-empty page.
    if b"captcha" in body and page is not None and page.text_length < SHORT_BODY_CHARS:
        return "challenge-captcha"
    return None


def soft404_body_rule(page: PageSummary | None) -> str | None:
    if page is None:
        return None
    if page.title and says_not_found(page.title):
        return "soft404-title"
    if page.h1 and says_not_found(page.h1):
        return "soft404-h1"
    if page.text_length < SHORT_BODY_CHARS and says_not_found(page.text):
        return "soft404-short-body"
    return None


def soft404_redirect_rule(url: str, chain: FetchChain) -> str | None:
    """A deep link that lands on the home page or a login page has lost its content."""
    if not chain.hops:
        return None
    original, final = urlsplit(url), urlsplit(chain.final_url)
    if original.path in ROOT_PATHS and not original.query:
        return None
    final_path = final.path.lower().rstrip("/")
    if _is_login(final_path, final.query) and not _is_login(
        original.path.lower().rstrip("/"), original.query
    ):
        return "soft404-redirect-to-login"
    if final.path in ROOT_PATHS and not final.query:
        return "soft404-redirect-to-root"
    return None


def _is_login(path: str, query: str) -> bool:
    if any(path == p or path.endswith(p) for p in LOGIN_PATHS):
        return True
    keys = {key.lower() for key, _ in parse_qsl(query, keep_blank_values=True)}
    return bool(keys & LOGIN_QUERY_KEYS) and ("login" in path or "signin" in path or "auth" in path)


def classify(url: str, chain: FetchChain) -> tuple[Outcome, str]:
    """Judge a final response. Transient statuses (5xx, 429) get their final verdict here."""
    response = chain.response
    status = response.status
    page = page_of(response)
    challenge = challenge_rule(response, page)
    if challenge:
        return Outcome.BLOCKED, challenge
    if 200 <= status < 300:
        rule = soft404_redirect_rule(url, chain) or soft404_body_rule(page)
        if rule:
            return Outcome.SOFT_404, rule
        if any(hop.status in PERMANENT_REDIRECTS for hop in chain.hops) and chain.final_url != url:
            return Outcome.REDIRECTED, "redirect-permanent"
        return Outcome.OK, f"status-{status}"
    if status in NOT_FOUND_STATUSES:
        return Outcome.NOT_FOUND, f"status-{status}"
    if status in BLOCKED_STATUSES:
        return Outcome.BLOCKED, f"status-{status}"
    if status >= 500:
        return Outcome.SERVER_ERROR, f"status-{status}"
    return Outcome.HTTP_ERROR, f"status-{status}"
