"""Typed readers for environment variables, for config.settings.

Each reader fails loudly, naming the variable, when a value is malformed: an operator should
learn about a typo at start-up, not from a strange behaviour a week later. The parsing itself
is curation.checker.envparse's, which the Django-free `checklinks --input` shares.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import TypeVar

from django.core.exceptions import ImproperlyConfigured

from curation.checker import envparse

T = TypeVar("T")


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
