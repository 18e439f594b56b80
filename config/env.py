"""Typed readers for environment variables, for config.settings.

Each reader fails loudly, naming the variable, when a value is malformed: an operator should
learn about a typo at start-up, not from a strange behaviour a week later. The parsing itself
is curation.checker.envparse's, which the Django-free `checklinks --input` shares; the few
formats only Django's settings read (a request rate, a log level, a proxy header) are parsed here.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

from django.core.exceptions import ImproperlyConfigured

from curation.checker import envparse

T = TypeVar("T")

# DRF reads only the first letter of a rate's period ("120/minute" is 120 per 60 s) and
# answers 500 on any other letter: accept the words it documents, and their short forms.
RATE_PERIODS = {
    "s": "second", "sec": "second", "second": "second",
    "m": "minute", "min": "minute", "minute": "minute",
    "h": "hour", "hour": "hour",
    "d": "day", "day": "day",
}  # fmt: skip
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
HEADER_NAME = re.compile(r"[A-Za-z0-9-]+")
# A misconfigured process exits with this, as a command-line usage error does.
MISCONFIGURED = 2


@contextmanager
def exit_if_misconfigured(code: int = MISCONFIGURED) -> Iterator[None]:
    """At an entry point (manage.py, the WSGI module, the Celery app): a setting that stops
    start-up ends the process with one line, `error: <message>`, on stderr and exit status
    `code`, not with a traceback the message is buried at the end of."""
    try:
        yield
    except ImproperlyConfigured as exc:
        print(f"error: {exc}", file=sys.stderr, flush=True)
        raise SystemExit(code) from None


def env_parse(name: str, default: T, parse: Callable[[str], T]) -> T:
    """`parse` of the variable's text, `default` when unset or blank; a bad value stops start-up."""
    try:
        return envparse.read(os.environ, name, default, parse)
    except ValueError as exc:
        raise ImproperlyConfigured(str(exc)) from None


def env_str(name: str, default: str) -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool) -> bool:
    return env_parse(name, default, envparse.parse_bool)


def env_int(name: str, default: int, *, minimum: int | None = None) -> int:
    return env_parse(name, default, envparse.parse_int(minimum))


def env_float(name: str, default: float, *, minimum: float | None = None) -> float:
    return env_parse(name, default, envparse.parse_float(minimum))


def env_list(name: str, default: str = "") -> list[str]:
    return envparse.parse_list(os.environ.get(name, default))


def env_url(name: str, default: str, *, schemes: tuple[str, ...]) -> str:
    return env_parse(name, default, envparse.parse_url(*schemes))


def env_rate(name: str, default: str) -> str:
    """A request rate in DRF's form, "120/minute", spelled the way DRF reads it."""
    return env_parse(name, default, _parse_rate)


def env_log_level(name: str, default: str) -> str:
    """A logging level name, upper-case: DEBUG, INFO, WARNING, ERROR or CRITICAL."""
    return env_parse(name, default, _parse_log_level)


def env_header(name: str) -> tuple[str, str] | None:
    """The header and value a proxy marks HTTPS requests with ("X-Forwarded-Proto: https") as
    Django's SECURE_PROXY_SSL_HEADER pair ("HTTP_X_FORWARDED_PROTO", "https"); None when unset."""
    return env_parse(name, None, _parse_header)


def _parse_rate(text: str) -> str:
    count, _, period = text.partition("/")
    word = RATE_PERIODS.get(period.strip().lower())
    count = count.strip()
    if word is None or not (count.isascii() and count.isdigit()) or int(count) < 1:
        raise ValueError(
            "must be a number of requests per second, minute, hour or day, such as 120/minute"
        )
    return f"{int(count)}/{word}"


def _parse_log_level(text: str) -> str:
    level = text.upper()
    if level not in LOG_LEVELS:
        raise ValueError(f"must be a log level: {', '.join(LOG_LEVELS)}")
    return level


def _parse_header(text: str) -> tuple[str, str]:
    header, _, value = text.partition(":")
    header, value = header.strip(), value.strip()
    if not HEADER_NAME.fullmatch(header) or not value:
        raise ValueError(
            "must be a request header and the value that means HTTPS, such as "
            "'X-Forwarded-Proto: https'"
        )
    return "HTTP_" + header.upper().replace("-", "_"), value
