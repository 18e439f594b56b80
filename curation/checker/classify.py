"""Outcome rules: from a final response (and the redirects that led to it) to an Outcome + rule.

Retries are the engine's business; these functions only judge what they are shown.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import parse_qsl, urldefrag, urljoin, urlsplit

from curation.checker.urlnorm import InvalidURL, normalize_url

from .fetch import FetchChain, FetchResponse
from .htmlscan import PageSummary, scan_html
from .outcomes import Outcome

PERMANENT_REDIRECTS = frozenset({301, 308})
BLOCKED_STATUSES = frozenset({401, 403, 407, 429, 999})
NOT_FOUND_STATUSES = frozenset({404, 410})

# "Not found" in the languages our catalogue links to most; matched on lower-cased text with
# typographic apostrophes straightened.
NOT_FOUND_PHRASES = (
    "page not found",
    "not found",
    "can't be found",
    "cannot be found",
    "could not be found",
    "couldn't be found",
    "couldn't find",
    "could not find",
    "can't find",
    "doesn't exist",
    "does not exist",
    "no longer exists",
    "no longer available",
    "page introuvable",
    "page non trouvée",
    "n'existe pas",
    "n'existe plus",
    "seite nicht gefunden",
    "seite wurde nicht gefunden",
    "nicht gefunden",
    "existiert nicht",
    "página no encontrada",
    "pagina no encontrada",
    "no se encontró",
    "no existe",
    "página não encontrada",
    "pagina nao encontrada",
    "não encontrada",
    "pagina non trovata",
    "non trovata",
    "non esiste",
    "pagina niet gevonden",
    "niet gevonden",
    "bestaat niet",
    "não existe",
    "nao existe",
    "strona nie została znaleziona",
    "nie znaleziono",
    "nie istnieje",
    "sidan hittades inte",
    "siden blev ikke fundet",
    "sayfa bulunamadı",
    "страница не найдена",
    "не найдена",
    "не найден",
    "не существует",
)
# Scripts without spaces between words: a phrase here is enough on its own.
NOT_FOUND_PHRASES_CJK = (
    "見つかりません",
    "ページが存在しません",
    "页面未找到",
    "找不到页面",
    "页面不存在",
    "페이지를 찾을 수 없습니다",
)
# Words that surround an error message ("Oops! That page can't be found.", "Fehler 404").
# A title or heading segment made only of these, a phrase above and "404" is an error message;
# one with any other word ("HTTP 404 explained") is about something, so it is not.
ERROR_FILLER = frozenset(
    {
        "the", "a", "an", "this", "that", "these", "page", "pages", "site", "web", "you",
        "your", "we", "our", "us", "it", "its", "here", "there", "were", "was", "is",
        "are", "be", "been", "has", "have", "looking", "look", "for", "requested",
        "request", "sorry", "oops", "whoops", "ooops", "uh", "oh", "hmm", "ah", "error",
        "http", "status", "code", "file", "document", "url", "resource", "looks", "like",
        "seems", "not", "no", "nothing", "to", "of", "on", "at", "what", "just", "went",
        "wrong", "something", "link", "broken", "lost", "missing", "erreur", "oups",
        "cette", "la", "le", "les", "désolé", "desole", "nous", "cherchez", "vous",
        "fehler", "hoppla", "ups", "die", "der", "das", "diese", "leider", "sie", "wurde",
        "vaya", "lo", "sentimos", "página", "pagina", "el", "esta", "erro", "ops",
        "desculpe", "errore", "spiacenti", "questa", "fout", "oeps", "deze", "de", "het",
        # What error pages add around the phrase: "File or directory not found", "This page
        # doesn't exist. Try search", "Die angeforderte Seite konnte nicht gefunden werden",
        # "La página que buscas no existe", "Такой страницы не существует".
        "or", "and", "directory", "folder", "try", "search", "again", "please", "go", "back",
        "home", "homepage", "may", "moved", "removed", "deleted", "anymore",
        "seite", "angeforderte", "gesuchte", "konnte", "werden", "ist", "wir",
        "que", "buscas", "busca", "buscando", "solicitada", "ha", "sido", "siento",
        "procura", "procurando", "você", "voce", "demandée", "demandee", "recherchée",
        "est", "che", "cerchi", "stai", "cercando", "richiesta",
        "strona", "ta", "szukana", "błąd",
        "страница", "страницы", "такой", "такая", "запрашиваемая", "ошибка", "извините",
    }
)  # fmt: skip
# A site name after the separator: "Page not found | Example Docs".
SITE_NAME_MAX_WORDS = 4
_SEGMENT_SEPARATORS = re.compile(r"\s+[|\-–—·•»/]\s+|\s*[|·•»]\s*|:\s+|\s+::\s+")
_WORD = re.compile(r"\w+(?:'\w+)?")
# Not part of a longer number (1404, 404.5, 4,404); a full stop after it ends a sentence.
_STATUS_404 = re.compile(r"(?<![\d.,])404(?![\d,]|\.\d)")
# Where a short page's text breaks into statements: its text nodes, sentences, separators.
_SENTENCES = re.compile(r"\n|[.!?]+(?:\s|$)|" + _SEGMENT_SEPARATORS.pattern)
# A page whose visible text is this short is mostly its error message, if it has one.
SHORT_BODY_CHARS = 600

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


def _fold(text: str) -> str:
    return text.lower().replace("\u2019", "'").replace("\u02bc", "'")


def _has_phrase(folded: str) -> bool:
    return any(phrase in folded for phrase in NOT_FOUND_PHRASES + NOT_FOUND_PHRASES_CJK)


def _mentions_not_found(folded: str) -> bool:
    """Any not-found phrase or a standalone 404 anywhere in the (folded) text."""
    return _has_phrase(folded) or bool(_STATUS_404.search(folded))


def says_not_found(text: str) -> bool:
    """A short page's visible text (one text node a line) says "not found".

    Any phrase anywhere counts. A bare 404 counts only where it stands on its own: a line or
    sentence that is nothing but an error message ("404", "Error 404!"), since a short page
    may well mention a number ("Room 404 seats 30 people").
    """
    lowered = _fold(text)
    flat = " ".join(lowered.split())
    if _has_phrase(flat):
        return True
    if not _STATUS_404.search(flat):
        return False
    parts = _SENTENCES.split(lowered)
    return any(_is_error_message(part.strip()) for part in parts if part.strip())


def _is_error_message(segment: str) -> bool:
    """True when the segment says "not found" and nothing else."""
    if any(phrase in segment for phrase in NOT_FOUND_PHRASES_CJK):
        return True
    stripped = _STATUS_404.sub(" ", segment)
    for phrase in NOT_FOUND_PHRASES:
        stripped = stripped.replace(phrase, " ")
    if stripped == segment:
        return False
    # Digits too: Google's "Error 404 (Not Found)!!1".
    return all(word in ERROR_FILLER or word.isdigit() for word in _WORD.findall(stripped))


def heading_says_not_found(text: str) -> bool:
    """A title or heading that is an error message, possibly followed by the site's name.

    "Page not found | Example", "Error 404 (Not Found)!!1" and "404" qualify; "HTTP 404
    explained: a guide" and "404 Not Found Error: What It Is and How to Fix It" do not.
    """
    folded = _fold(text)
    if not _mentions_not_found(folded):
        # No segment can be an error message when the whole text holds no phrase and no 404.
        return False
    segments = [s.strip() for s in _SEGMENT_SEPARATORS.split(folded) if s.strip()]
    errors = [s for s in segments if _is_error_message(s)]
    if not errors:
        return False
    others = [s for s in segments if s not in errors]
    return all(len(_WORD.findall(s)) <= SITE_NAME_MAX_WORDS for s in others)


def page_of(response: FetchResponse) -> PageSummary | None:
    if not response.body or not response.is_html:
        return None
    return scan_html(response.body, response.headers.get("Content-Type", ""))


def challenge_rule(response: FetchResponse, page: PageSummary | None) -> str | None:
    """A bot wall or captcha, whatever the status code says."""
    if response.headers.get("cf-mitigated", "").strip().lower() == "challenge":
        return "challenge-cf-mitigated"
    if page is not None:
        title = _fold(page.title)
        first = _SEGMENT_SEPARATORS.split(title, maxsplit=1)[0].strip()
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


def soft404_body_rule(response: FetchResponse, page: PageSummary | None) -> str | None:
    if page is None:
        return None
    if page.title and heading_says_not_found(page.title):
        return "soft404-title"
    if page.h1 and heading_says_not_found(page.h1):
        return "soft404-h1"
    # The text before a page's first </h1> is always short; only a whole short page counts.
    if (
        page.text_length < SHORT_BODY_CHARS
        and read_to_the_end(response)
        and says_not_found(page.text)
    ):
        return "soft404-short-body"
    return None


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
    """classify() with the rules' own confidence (see PageVerdict)."""
    outcome, rule = classify(url, chain)
    return PageVerdict(outcome, rule, ambiguous=False)


def classify(url: str, chain: FetchChain) -> tuple[Outcome, str]:
    """Judge a final response. Transient statuses (5xx, 429) get their final verdict here."""
    response = chain.response
    status = response.status
    page = page_of(response)
    challenge = challenge_rule(response, page)
    if challenge:
        return Outcome.BLOCKED, challenge
    if 200 <= status < 300:
        rule = soft404_redirect_rule(url, chain, page) or soft404_body_rule(response, page)
        if rule:
            return Outcome.SOFT_404, rule
        if moved_to(url, chain) is not None:
            return Outcome.REDIRECTED, "redirect-permanent"
        return Outcome.OK, f"status-{status}"
    if status in NOT_FOUND_STATUSES:
        return Outcome.NOT_FOUND, f"status-{status}"
    if status in BLOCKED_STATUSES:
        return Outcome.BLOCKED, f"status-{status}"
    if status >= 500:
        return Outcome.SERVER_ERROR, f"status-{status}"
    return Outcome.HTTP_ERROR, f"status-{status}"
