"""One signed POST to a webhook endpoint, through the checker's guard, limits and limiter.

The request goes through the same GuardedClient as link checks: the address is checked at
connect time (169.254.169.254 and private networks refused before any socket is opened,
unless the host is in LINKCHECK_ALLOWED_INTERNAL_HOSTS or WEBHOOK_ALLOWED_HOSTS), no proxy,
no redirect followed, a total deadline, and the per-host politeness limiter shared by every
worker. The answer's body is never read: only its status and Retry-After matter.
"""

from __future__ import annotations

import email.utils
import json
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from django.conf import settings
from standardwebhooks import Webhook
from urllib3.util.timeout import Timeout

from curation import outbound
from curation.checker.addresses import AddressPolicy, parse_target
from curation.checker.config import CheckerConfig
from curation.checker.errors import CheckerError, FetchTimeout, ForbiddenTarget, InvalidTarget
from curation.checker.guard import build_session
from curation.checker.politeness import starting
from curation.checker.watchdog import watching

USER_AGENT = "Syllabus-Webhooks/1.0"
# Longest Retry-After honoured as given; a longer one waits this long (the retry schedule
# still ends the delivery after about a day).
MAX_RETRY_AFTER = 6 * 3600
ERROR_MAX = 300


class RefusedURL(ValueError):
    """The endpoint's address may not be contacted (the SSRF guard's rules)."""


@dataclass(frozen=True)
class SendResult:
    status_code: int | None
    duration_ms: int
    error: str = ""
    # Seconds the receiver asked us to wait (429/503 Retry-After), if it said.
    retry_after: float | None = None
    # A refused address or an invalid URL: retrying cannot help.
    refused: bool = False

    @property
    def succeeded(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300

    @property
    def retryable(self) -> bool:
        """Timeouts and connection failures, 5xx and 429 are worth another try; a 4xx, a
        redirect (never followed) or a refused address is not."""
        if self.refused:
            return False
        if self.status_code is None:
            return True
        return self.status_code == 429 or self.status_code >= 500


def webhook_config() -> CheckerConfig:
    """The checker's configuration with the webhook allow-list added and the webhook timeout."""
    allowed = frozenset(settings.LINKCHECK_ALLOWED_INTERNAL_HOSTS) | frozenset(
        settings.WEBHOOK_ALLOWED_HOSTS
    )
    return outbound.checker_config(
        allowed_internal_hosts=allowed, deadline=settings.WEBHOOK_TIMEOUT, probe=False
    )


def check_endpoint_url(url: str, config: CheckerConfig | None = None) -> None:
    """Refuse, before anything is sent, an address the guard would refuse: not http(s), a
    private or metadata address literal, a port that is not a web port. Raises RefusedURL.

    Host names are checked again at each delivery, on the address they resolve to then.
    """
    config = config or webhook_config()
    try:
        target = parse_target(url)
        AddressPolicy(config).check_target(target)
    except (InvalidTarget, ForbiddenTarget) as exc:
        raise RefusedURL(str(exc)) from None


def sign(secret: str, message_id: str, body: bytes, at: datetime) -> dict[str, str]:
    """The Standard Webhooks headers for this body: webhook-id, -timestamp, -signature."""
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(int(at.timestamp())),
        "webhook-signature": Webhook(secret).sign(message_id, at, body),
    }


def encode(payload: dict[str, Any]) -> bytes:
    """The body sent: compact JSON, keys sorted, so a retry sends the same bytes."""
    return json.dumps(payload, separators=(",", ":"), sort_keys=True).encode("utf-8")


def post(url: str, body: bytes, headers: dict[str, str]) -> SendResult:
    """POST once; never raises for what the network or the receiver did."""
    config = webhook_config()
    started = time.monotonic()
    deadline = started + config.deadline

    def done(**kwargs: Any) -> SendResult:
        elapsed = round((time.monotonic() - started) * 1000)
        return SendResult(duration_ms=elapsed, **kwargs)

    try:
        target = parse_target(url)
        AddressPolicy(config).check_target(target)
    except (InvalidTarget, ForbiddenTarget) as exc:
        return done(status_code=None, error=_short(exc), refused=True)
    limiter = outbound.host_limiter(config)
    try:
        token = limiter.acquire(target.host_key, deadline=deadline)
    except FetchTimeout as exc:
        return done(status_code=None, error=_short(exc))
    request_headers = {
        **headers,
        "Content-Type": "application/json",
        "Content-Length": str(len(body)),
        "User-Agent": USER_AGENT,
        "Accept": "*/*",
    }
    session = build_session(config)
    try:
        left = max(0.05, deadline - time.monotonic())
        with starting(limiter, target.host_key, token), watching(deadline) as watch:
            response = session.open(
                "POST",
                url,
                headers=request_headers,
                body=body,
                timeout=Timeout(
                    connect=min(config.connect_timeout, left), read=min(config.read_timeout, left)
                ),
            )
        status = response.status
        retry_after = _retry_after(response.headers.get("Retry-After"))
        location = response.headers.get("Location", "")
        # Never drain an answer we do not read (it may be huge or dripping): drop it.
        response.close()
        response.release_conn()
        if watch.fired:
            return done(status_code=None, error="timed out waiting for the answer")
        if status == 429 and retry_after:
            # The receiver's host is busy for every worker, not only this delivery.
            limiter.defer(target.host_key, min(retry_after, config.max_queue_wait))
        error = ""
        if 300 <= status < 400:
            error = f"redirect not followed ({status} to {location[:200]})"
        elif status >= 400:
            error = f"HTTP {status}"
        return done(status_code=status, error=error, retry_after=retry_after)
    except ForbiddenTarget as exc:
        return done(status_code=None, error=_short(exc), refused=True)
    except CheckerError as exc:
        return done(status_code=None, error=_short(exc))
    except Exception as exc:
        # urllib3's own errors (timeouts, resets, refused connections): worth a retry.
        return done(status_code=None, error=_short(exc))
    finally:
        limiter.release(target.host_key, token)
        session.close()


def _retry_after(value: str | None) -> float | None:
    """Retry-After as seconds (delta-seconds or an HTTP date), capped; None if absent or bad."""
    if not value:
        return None
    value = value.strip()
    if value.isascii() and value.isdigit():
        return float(min(int(value), MAX_RETRY_AFTER))
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, min((when - datetime.now(UTC)).total_seconds(), MAX_RETRY_AFTER))


def _short(exc: BaseException) -> str:
    text = f"{type(exc).__name__}: {exc}" if not isinstance(exc, CheckerError) else str(exc)
    return text[:ERROR_MAX]
