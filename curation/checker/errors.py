"""Typed failures raised by the guard and the fetcher; each knows the outcome it stands for."""

from __future__ import annotations

from .outcomes import Hop, Outcome


class CheckerError(Exception):
    outcome: Outcome = Outcome.CONNECTION_ERROR
    default_rule = "connection-error"

    def __init__(self, message: str, *, rule: str | None = None) -> None:
        super().__init__(message)
        self.rule = rule or self.default_rule
        # The redirect hops walked before the failure, filled in by fetch_following_redirects.
        self.hops: list[Hop] = []
        self.url: str | None = None


class InvalidTarget(CheckerError):
    outcome = Outcome.INVALID_URL
    default_rule = "invalid-url"


class ForbiddenTarget(CheckerError):
    outcome = Outcome.FORBIDDEN_TARGET
    default_rule = "guard-private-address"


class DNSFailure(CheckerError):
    outcome = Outcome.DNS_ERROR
    default_rule = "dns-error"


class ConnectionFailure(CheckerError):
    outcome = Outcome.CONNECTION_ERROR
    default_rule = "connection-error"


class TLSFailure(CheckerError):
    outcome = Outcome.TLS_ERROR
    default_rule = "tls-error"


class FetchTimeout(CheckerError):
    outcome = Outcome.TIMEOUT
    default_rule = "timeout"


class RedirectLoop(CheckerError):
    outcome = Outcome.REDIRECT_LOOP
    default_rule = "redirect-loop"
