"""What a link check can conclude, and the record of one check."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any


class Outcome(StrEnum):
    OK = "ok"
    REDIRECTED = "redirected"
    NOT_FOUND = "not_found"
    SOFT_404 = "soft_404"
    SERVER_ERROR = "server_error"
    BLOCKED = "blocked"
    HTTP_ERROR = "http_error"
    TIMEOUT = "timeout"
    DNS_ERROR = "dns_error"
    CONNECTION_ERROR = "connection_error"
    TLS_ERROR = "tls_error"
    REDIRECT_LOOP = "redirect_loop"
    FORBIDDEN_TARGET = "forbidden_target"
    INVALID_URL = "invalid_url"
    # Our failure, not the link's: an unexpected exception in the engine, or a check whose task
    # kept killing its worker. It changes no health state.
    CHECK_ERROR = "check_error"


# Outcomes that mean "the link is (probably) broken" and make the command exit 1.
# blocked, http_error, forbidden_target, invalid_url and check_error are deliberately absent:
# a bot wall is not a broken link, and the others are about our input, policy or code.
FAILING_OUTCOMES: frozenset[Outcome] = frozenset(
    {
        Outcome.NOT_FOUND,
        Outcome.SOFT_404,
        Outcome.SERVER_ERROR,
        Outcome.DNS_ERROR,
        Outcome.CONNECTION_ERROR,
        Outcome.TLS_ERROR,
        Outcome.REDIRECT_LOOP,
        Outcome.TIMEOUT,
    }
)


@dataclass
class Hop:
    """One response in a redirect chain: the URL requested and the status it answered."""

    url: str
    status: int


@dataclass
class CheckResult:
    url: str
    outcome: Outcome
    status_code: int | None = None
    final_url: str | None = None
    redirects: list[Hop] = field(default_factory=list)
    elapsed_ms: int = 0
    error: str = ""
    rule: str = ""
    retry_after: float | None = None
    # Why, in a sentence a curator can read, when the rule name is not enough (the probe's
    # finding about the site: see probe.py).
    evidence: str = ""

    @property
    def failing(self) -> bool:
        return self.outcome in FAILING_OUTCOMES

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CheckResult:
        """The inverse of to_dict (retry_after, which to_dict leaves out, stays None)."""
        return cls(
            url=data["url"],
            outcome=Outcome(data["outcome"]),
            status_code=data["status_code"],
            final_url=data["final_url"],
            redirects=[Hop(url=hop["url"], status=hop["status"]) for hop in data["redirects"]],
            elapsed_ms=data["elapsed_ms"],
            error=data["error"],
            rule=data["rule"],
            evidence=data.get("evidence", ""),
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "url": self.url,
            "outcome": str(self.outcome),
            "status_code": self.status_code,
            "final_url": self.final_url,
            "redirects": [asdict(hop) for hop in self.redirects],
            "elapsed_ms": self.elapsed_ms,
            "error": self.error,
            "rule": self.rule,
            "evidence": self.evidence,
        }
