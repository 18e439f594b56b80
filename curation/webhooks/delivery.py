"""Delivering the outbox: claim a pending delivery, send it signed, record the attempt.

At least once: a delivery is claimed with a lease (a conditional UPDATE: whoever updates the
row owns the attempt) and stays pending until an answer is recorded, so a worker killed in
the middle leaves it pending; once its lease expires, the beat sweep sends it again, with the
same message id (the receiver's idempotency key). In order per resource: a delivery does not
go out while an older one for the same endpoint and resource is pending; finishing one sends
the next.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F, Max, Min, Q
from django.utils import timezone

from curation import enqueue
from curation.models import DeliveryStatus, WebhookAttempt, WebhookDelivery, WebhookEndpoint
from curation.webhooks import sending

logger = logging.getLogger(__name__)

# A pending delivery whose message may still be on its way is left to it this long before the
# sweep sends another (duplicates are harmless, only wasteful).
SWEEP_GRACE = timedelta(seconds=30)
SWEEP_LIMIT = 500
# On top of the attempt's own time budget (politeness wait plus the request), before another
# worker may take a claimed delivery over.
LEASE_MARGIN = timedelta(seconds=10)
REASON_MAX = 200


@dataclass(frozen=True)
class AttemptOutcome:
    """What one call of `deliver` did: None fields mean no attempt was made."""

    attempted: bool
    status: str = ""
    # Seconds until the retry is due, when the attempt failed and a retry is left.
    retry_in: float | None = None


NOT_ATTEMPTED = AttemptOutcome(attempted=False)


def lease_length() -> timedelta:
    # The politeness wait and the request each get at most WEBHOOK_TIMEOUT (sending.post).
    return timedelta(seconds=2 * settings.WEBHOOK_TIMEOUT) + LEASE_MARGIN


def deliver(delivery_id: int) -> AttemptOutcome:
    """Make the next attempt of one pending delivery, if it is due, unclaimed and first in line.

    Returns what happened; does nothing (NOT_ATTEMPTED) for a delivery that is gone, done,
    not due yet, held by another worker, or waiting behind an older one for the same resource.
    """
    now = timezone.now()
    delivery = WebhookDelivery.objects.select_related("endpoint").filter(pk=delivery_id).first()
    if delivery is None or delivery.status != DeliveryStatus.PENDING:
        return NOT_ATTEMPTED
    endpoint = delivery.endpoint
    if endpoint.disabled_at is not None or not endpoint.active:
        why = "endpoint disabled" if endpoint.disabled_at else "endpoint inactive"
        _fail_pending(endpoint, why)
        return NOT_ATTEMPTED
    if delivery.next_attempt_at is not None and delivery.next_attempt_at > now:
        return NOT_ATTEMPTED
    if _waits_behind_older(delivery):
        return NOT_ATTEMPTED
    claimed = (
        WebhookDelivery.objects.filter(pk=delivery.pk, status=DeliveryStatus.PENDING)
        .filter(Q(lease_until__isnull=True) | Q(lease_until__lte=now))
        .update(lease_until=now + lease_length(), attempts=F("attempts") + 1)
    )
    if claimed != 1:
        return NOT_ATTEMPTED
    number = delivery.attempts + 1
    sent_at = timezone.now()
    body = sending.encode(delivery.payload)
    headers = sending.sign(endpoint.secret, delivery.message_id, body, sent_at)
    result = sending.post(endpoint.url, body, headers)
    return _record(delivery.pk, number=number, at=sent_at, result=result)


def _waits_behind_older(delivery: WebhookDelivery) -> bool:
    if delivery.resource_id is None:
        return False
    return (
        WebhookDelivery.objects.filter(
            endpoint_id=delivery.endpoint_id,
            resource_id=delivery.resource_id,
            status=DeliveryStatus.PENDING,
        )
        .filter(
            Q(created_at__lt=delivery.created_at)
            | Q(created_at=delivery.created_at, pk__lt=delivery.pk)
        )
        .exists()
    )


def _record(
    delivery_id: int, *, number: int, at: datetime, result: sending.SendResult
) -> AttemptOutcome:
    now = timezone.now()
    with transaction.atomic():
        delivery = (
            WebhookDelivery.objects.select_for_update()
            .select_related("endpoint")
            .get(pk=delivery_id)
        )
        WebhookAttempt.objects.create(
            delivery=delivery,
            number=number,
            attempted_at=at,
            status_code=result.status_code,
            duration_ms=result.duration_ms,
            error=result.error[: sending.ERROR_MAX],
            succeeded=result.succeeded,
        )
        endpoint = WebhookEndpoint.objects.select_for_update().get(pk=delivery.endpoint_id)
        delivery.lease_until = None
        delivery.last_error = result.error[: sending.ERROR_MAX]
        retry_in: float | None = None
        if result.succeeded:
            delivery.status = DeliveryStatus.DELIVERED
            delivery.delivered_at = now
            endpoint.consecutive_failures = 0
            endpoint.save(update_fields=["consecutive_failures"])
        elif result.retryable and number <= len(settings.WEBHOOK_RETRY_DELAYS):
            retry_in = float(
                max(settings.WEBHOOK_RETRY_DELAYS[number - 1], result.retry_after or 0)
            )
            delivery.next_attempt_at = now + timedelta(seconds=retry_in)
        else:
            delivery.status = DeliveryStatus.FAILED
            endpoint.consecutive_failures += 1
            endpoint.save(update_fields=["consecutive_failures"])
        delivery.save(
            update_fields=["status", "delivered_at", "next_attempt_at", "lease_until", "last_error"]
        )
        if not result.succeeded:
            reason = _disable_reason(endpoint, now)
            if reason:
                disable_endpoint(endpoint, reason=reason, now=now)
        if delivery.status != DeliveryStatus.PENDING:
            _send_next_in_line(delivery)
    return AttemptOutcome(attempted=True, status=delivery.status, retry_in=retry_in)


def _disable_reason(endpoint: WebhookEndpoint, now: datetime) -> str:
    limit = settings.WEBHOOK_DISABLE_AFTER_FAILURES
    if endpoint.consecutive_failures >= limit:
        return f"{endpoint.consecutive_failures} deliveries in a row failed"
    since = failing_since(endpoint)
    hours = settings.WEBHOOK_DISABLE_AFTER_HOURS
    if since is not None and now - since >= timedelta(hours=hours):
        return f"every delivery has failed since {since:%Y-%m-%d %H:%M} UTC"
    return ""


def failing_since(endpoint: WebhookEndpoint) -> datetime | None:
    """The first failed attempt since the endpoint's last successful one (None: not failing)."""
    attempts = WebhookAttempt.objects.filter(delivery__endpoint=endpoint)
    last_ok = attempts.filter(succeeded=True).aggregate(at=Max("attempted_at"))["at"]
    failed = attempts.filter(succeeded=False)
    if last_ok is not None:
        failed = failed.filter(attempted_at__gt=last_ok)
    return failed.aggregate(at=Min("attempted_at"))["at"]


def disable_endpoint(
    endpoint: WebhookEndpoint, *, reason: str, now: datetime | None = None
) -> None:
    """Stop delivering to an endpoint that keeps failing: its pending deliveries fail, and the
    admin and the link-health report show it with the reason until a curator re-enables it."""
    now = now or timezone.now()
    with transaction.atomic():
        WebhookEndpoint.objects.filter(pk=endpoint.pk).update(
            disabled_at=now, disabled_reason=reason[:REASON_MAX]
        )
        endpoint.disabled_at, endpoint.disabled_reason = now, reason[:REASON_MAX]
        _fail_pending(endpoint, f"endpoint disabled: {reason}")
    logger.warning("webhook endpoint %s disabled: %s", endpoint.url, reason)


def _fail_pending(endpoint: WebhookEndpoint, why: str) -> None:
    WebhookDelivery.objects.filter(endpoint=endpoint, status=DeliveryStatus.PENDING).update(
        status=DeliveryStatus.FAILED, lease_until=None, last_error=why[: sending.ERROR_MAX]
    )


def _send_next_in_line(delivery: WebhookDelivery) -> None:
    """The oldest pending delivery of the same endpoint and resource may go now."""
    if delivery.resource_id is None:
        return
    following = (
        WebhookDelivery.objects.filter(
            endpoint_id=delivery.endpoint_id,
            resource_id=delivery.resource_id,
            status=DeliveryStatus.PENDING,
        )
        .order_by("created_at", "pk")
        .values_list("pk", flat=True)
        .first()
    )
    if following is not None:
        enqueue.send_on_commit(enqueue.DELIVER_WEBHOOK, delivery_id=following)


def sweep_deliveries(*, now: datetime | None = None, limit: int = SWEEP_LIMIT) -> int:
    """Send again every pending delivery that is due and unclaimed: a message lost with its
    worker (lease expired), a retry whose time came, a message the broker never took.
    Returns how many were sent; each is claimed by one worker, so duplicates cost nothing."""
    now = now or timezone.now()
    due = (
        WebhookDelivery.objects.filter(status=DeliveryStatus.PENDING)
        .filter(
            Q(lease_until__lte=now)
            | Q(lease_until__isnull=True, next_attempt_at__lte=now - SWEEP_GRACE)
        )
        .order_by("created_at", "pk")
        .values_list("pk", flat=True)[:limit]
    )
    ids = list(due)
    for pk in ids:
        try:
            enqueue.send(enqueue.DELIVER_WEBHOOK, delivery_id=pk)
        except Exception:
            # Still pending: the next sweep sends it.
            logger.exception("could not enqueue webhook delivery %s", pk)
            break
    return len(ids)
