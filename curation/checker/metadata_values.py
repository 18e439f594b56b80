"""Small validators that turn untrusted metadata strings into safe, typed values."""

from __future__ import annotations

import re
from datetime import date, datetime
from urllib.parse import urljoin, urlsplit

from curation.checker.metadata_types import URL_MAX

HTTP_SCHEMES = ("http", "https")
MAX_DURATION_MINUTES = 10_000 * 60

# ISO 8601 durations: P[nY][nM][nW][nD][T[nH][nM][nS]]. A "T" must be followed by a component
# and "P" alone means nothing. Digits are bounded so a hostile value cannot build a huge int.
_NUMBER = r"(\d{1,12}(?:[.,]\d{1,9})?)"
_DURATION = re.compile(
    rf"P(?!$)(?:{_NUMBER}Y)?(?:{_NUMBER}M)?(?:{_NUMBER}W)?(?:{_NUMBER}D)?"
    rf"(?:T(?=\d)(?:{_NUMBER}H)?(?:{_NUMBER}M)?(?:{_NUMBER}S)?)?",
    re.IGNORECASE,
)
# Years and months have no fixed length; course "timeRequired" values like P2M still deserve
# an order of magnitude, so use 365 and 30 days.
_UNIT_SECONDS = (365 * 86400, 30 * 86400, 7 * 86400, 86400, 3600, 60, 1)

_LANGUAGE = re.compile(r"[A-Za-z]{2,3}(?:-[A-Za-z0-9]{1,8}){0,6}")
_PARTIAL_DATE = re.compile(r"(\d{4})(?!\d)(?:[-/](\d{1,2}))?(?:[-/](\d{1,2}))?")


def parse_iso8601_duration(value: object) -> int | None:
    """Return an ISO 8601 duration ("PT1H30M") in whole minutes, or None when unusable.

    Rounds half up with a floor of one minute for any positive duration; rejects zero,
    negative, malformed ("1h", "PTXM", "P") and absurd (over 10,000 hours) values.
    """
    if not isinstance(value, str):
        return None
    match = _DURATION.fullmatch(value.strip())
    if not match:
        return None
    seconds = 0.0
    for number, unit in zip(match.groups(), _UNIT_SECONDS, strict=True):
        if number is not None:
            seconds += float(number.replace(",", ".")) * unit
    return seconds_to_minutes(seconds)


def seconds_to_minutes(seconds: object) -> int | None:
    """Whole minutes for a positive number of seconds (int, float or digit string)."""
    if isinstance(seconds, bool):
        return None
    if isinstance(seconds, str):
        try:
            seconds = float(seconds.strip()[:20])
        except ValueError:
            return None
    if not isinstance(seconds, int | float) or not 0 < seconds < float("inf"):
        return None
    minutes = max(1, int(seconds / 60 + 0.5))
    return minutes if minutes <= MAX_DURATION_MINUTES else None


def safe_http_url(raw: object, base: str = "") -> str:
    """Resolve `raw` against `base`; return it only if it is an absolute http(s) URL, else ""."""
    if not isinstance(raw, str):
        return ""
    # Browsers strip surrounding whitespace and drop tabs and newlines inside URLs.
    candidate = raw.strip().replace("\t", "").replace("\n", "").replace("\r", "")
    if not candidate or len(candidate) > URL_MAX:
        return ""
    # Backslashes and control characters are where URL parsers disagree (urllib and requests
    # read "http://a\\@b/" differently); no honest metadata URL needs them.
    if "\\" in candidate or any(ord(c) < 0x20 or ord(c) == 0x7F for c in candidate):
        return ""
    candidate = candidate.replace(" ", "%20")
    try:
        resolved = urljoin(base, candidate) if base else candidate
        parts = urlsplit(resolved)
        port_is_valid = parts.port is None or parts.port > 0
    except ValueError:
        return ""
    if parts.scheme not in HTTP_SCHEMES or not parts.hostname or not port_is_valid:
        return ""
    # Credentials in a URL are only ever a trick to confuse whoever fetches it.
    if parts.username is not None or parts.password is not None:
        return ""
    return resolved if len(resolved) <= URL_MAX else ""


def normalize_language(raw: object) -> str:
    """A BCP 47-looking tag ("en_us" -> "en-US"), or "" when it does not look like one."""
    if not isinstance(raw, str):
        return ""
    tag = raw.strip().replace("_", "-")
    if not _LANGUAGE.fullmatch(tag):
        return ""
    primary, *rest = tag.split("-")
    subtags = [primary.lower()]
    for part in rest:
        if len(part) == 2 and part.isalpha():
            subtags.append(part.upper())
        elif len(part) == 4 and part.isalpha():
            subtags.append(part.title())
        else:
            subtags.append(part.lower())
    return "-".join(subtags)


def normalize_date(raw: object) -> str:
    """An ISO date ("2023-05-01", or "2023-05"/"2023" when that is all there is), else ""."""
    if not isinstance(raw, str):
        return ""
    text = raw.strip()[:64]
    if not text:
        return ""
    try:
        return _in_range(datetime.fromisoformat(text.replace("Z", "+00:00")).date())
    except ValueError:
        pass
    match = _PARTIAL_DATE.match(text)
    if not match:
        return ""
    year, month, day = match.groups()
    try:
        # Validate through date() even for "YYYY-MM" so that month 13 is refused.
        valid = _in_range(date(int(year), int(month or 1), int(day or 1)))
    except ValueError:
        return ""
    if day is not None:
        return valid
    return valid[:7] if month is not None else valid[:4]


def _in_range(value: date) -> str:
    # Year 1 or 9999 is a placeholder, not a publication date.
    return value.isoformat() if 1000 <= value.year <= 2999 else ""


def parse_bool(raw: object) -> bool | None:
    """JSON-LD booleans arrive as true/false or as the strings "true"/"false" (any case)."""
    if isinstance(raw, bool):
        return raw
    if isinstance(raw, str):
        lowered = raw.strip().lower()
        if lowered in ("true", "https://schema.org/true", "http://schema.org/true"):
            return True
        if lowered in ("false", "https://schema.org/false", "http://schema.org/false"):
            return False
    return None
