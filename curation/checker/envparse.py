"""Typed readers of environment values, shared by Django's settings and `checklinks --input`.

Plain Python, so that the Django-free command line reads the LINKCHECK_* variables exactly as
config.settings does. Each reader takes the raw text and raises ValueError saying what is wrong;
`read` adds the variable's name and value to the message.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import TypeVar

T = TypeVar("T")
TRUE_WORDS = frozenset({"1", "true", "yes", "on"})
FALSE_WORDS = frozenset({"0", "false", "no", "off"})


def read(environ: Mapping[str, str], name: str, default: T, parse: Callable[[str], T]) -> T:
    """`parse` of the variable's value; `default` when it is unset or blank."""
    raw = environ.get(name)
    if raw is None or not raw.strip():
        return default
    try:
        return parse(raw.strip())
    except ValueError as exc:
        raise ValueError(f"{name} {exc}, got {raw!r}") from None


def parse_bool(text: str) -> bool:
    word = text.lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise ValueError("must be a boolean (true/false, 1/0, yes/no)")


def parse_int(minimum: int | None = None) -> Callable[[str], int]:
    def parse(text: str) -> int:
        # int() also takes "٣" and "３": a setting is ASCII digits (FIELD-NOTES).
        body = text[1:] if text[:1] in "+-" else text
        if not (body.isascii() and body.isdigit()):
            raise ValueError("must be a whole number")
        return _at_least(int(text), minimum)

    return parse


def parse_float(minimum: float | None = None) -> Callable[[str], float]:
    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise ValueError("must be a number") from None
        if not math.isfinite(value):
            raise ValueError("must be a finite number")
        return _at_least(value, minimum)

    return parse


def parse_list(text: str) -> list[str]:
    return [item.strip() for item in text.split(",") if item.strip()]


def parse_url(*schemes: str) -> Callable[[str], str]:
    """A URL whose scheme must be one of `schemes`; the scheme is all we can check cheaply."""

    def parse(text: str) -> str:
        scheme, sep, rest = text.partition("://")
        if not sep or scheme.lower() not in schemes or not rest:
            allowed = ", ".join(f"{s}://" for s in schemes)
            raise ValueError(f"must be a URL starting with one of {allowed}")
        return text

    return parse


def _at_least(value: T, minimum: T | None) -> T:
    if minimum is not None and value < minimum:  # type: ignore[operator]
        raise ValueError(f"must be at least {minimum}")
    return value
