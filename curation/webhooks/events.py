"""Emitting events: one outbox row per subscribed endpoint, written in the caller's transaction.

`emit` must be called inside the transaction that makes the change: the WebhookDelivery rows
commit (or roll back) with it, so an event is never sent for a change that did not happen and
never lost for one that did. The delivery task is published by name once the transaction
commits; if that message is lost (broker down, worker killed), the beat sweep
(`curation.sweep_webhook_deliveries`) finds the pending row and sends it again.

The events and the meaning of each (payloads documented in docs/webhooks.md):

- `resource.created`: a resource was added (admin, API, import).
- `resource.updated`: a curator changed a resource; `data.changed` names the fields. A curator
  setting a resource's status to archived is an update, not `resource.archived`.
- `resource.health_changed`: the health state machine moved a resource (one per transition).
- `resource.archived`: an archived copy of the resource's page was recorded (found by lookup
  after the link failed, or switched to by a curator).
- `collection.published`: a collection became published.
- `report.generated`: a link-health report was generated.
- `webhook.test`: sent to one endpoint from the admin's "send test event" button.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone

from curation import enqueue
from curation.models import (
    ArchivedSnapshot,
    Collection,
    HealthTransition,
    LinkCheck,
    LinkReport,
    Resource,
    WebhookDelivery,
    WebhookEndpoint,
)

RESOURCE_CREATED = "resource.created"
RESOURCE_UPDATED = "resource.updated"
RESOURCE_HEALTH_CHANGED = "resource.health_changed"
RESOURCE_ARCHIVED = "resource.archived"
COLLECTION_PUBLISHED = "collection.published"
REPORT_GENERATED = "report.generated"
WEBHOOK_TEST = "webhook.test"

# Up to this many deliveries written at once are sent right after commit; beyond it (a big
# import), the sweep sends them.
ENQUEUE_AT_ONCE = 500
BULK_BATCH_SIZE = 1000

# The events a curator may subscribe to, in the order the admin shows them.
EVENTS: dict[str, str] = {
    RESOURCE_HEALTH_CHANGED: "A resource's link health changed",
    RESOURCE_CREATED: "A resource was added",
    RESOURCE_UPDATED: "A resource was edited",
    RESOURCE_ARCHIVED: "An archived copy of a resource's page was recorded",
    COLLECTION_PUBLISHED: "A collection was published",
    REPORT_GENERATED: "A link-health report was generated",
}


def new_message_id() -> str:
    """A Standard Webhooks message id: the receiver's idempotency key, kept across retries."""
    return f"msg_{uuid.uuid4().hex}"


def emit(event: str, payload: dict, *, resource_id: int | None = None) -> None:
    """Write one pending delivery of `event` per active endpoint subscribed to it.

    Call inside the transaction that makes the change. `payload` is the event's `data`; the
    body sent is `{"type": event, "timestamp": ..., "data": payload}`. Deliveries that name
    a resource go out in order per endpoint. Nothing is written when no endpoint listens.
    """
    endpoints = subscribed(event)
    if endpoints:
        _write(endpoints, event, payload, resource_id=resource_id)


def subscribed(event: str) -> list[WebhookEndpoint]:
    """The active, enabled endpoints that want this event."""
    if event not in EVENTS:
        raise ValueError(f"unknown webhook event {event!r}")
    # JSONField `contains` is not available on SQLite; endpoints are few, so filter here.
    return [
        e
        for e in WebhookEndpoint.objects.filter(active=True, disabled_at__isnull=True)
        if event in (e.events or [])
    ]


def emit_test(endpoint: WebhookEndpoint) -> WebhookDelivery:
    """Queue a `webhook.test` event for this one endpoint, whatever it subscribes to."""
    data = {"endpoint": {"id": endpoint.pk, "url": endpoint.url}, "message": "Hello from Syllabus"}
    with transaction.atomic():
        return _write([endpoint], WEBHOOK_TEST, data, resource_id=None)[0]


def _write(
    endpoints: list[WebhookEndpoint], event: str, data: dict, *, resource_id: int | None
) -> list[WebhookDelivery]:
    return _write_many(endpoints, event, [(data, resource_id)])


def _write_many(
    endpoints: list[WebhookEndpoint], event: str, items: Iterable[tuple[dict, int | None]]
) -> list[WebhookDelivery]:
    """One message per item (its own id and time), one row per endpoint, in one INSERT."""
    rows = []
    for data, resource_id in items:
        now = timezone.now()
        message_id = new_message_id()
        body = {"type": event, "timestamp": _iso(now), "data": data}
        rows += [
            WebhookDelivery(
                endpoint=e,
                message_id=message_id,
                event=event,
                payload=body,
                resource_id=resource_id,
                created_at=now,
                next_attempt_at=now,
            )
            for e in endpoints
        ]
    WebhookDelivery.objects.bulk_create(rows, batch_size=BULK_BATCH_SIZE)
    # A big import leaves the rest to the sweep, which sends them in polite batches rather
    # than a burst of messages.
    if len(rows) <= ENQUEUE_AT_ONCE:
        for row in rows:
            enqueue.send_on_commit(enqueue.DELIVER_WEBHOOK, delivery_id=row.pk)
    return rows


# Payload builders: small and stable (documented in docs/webhooks.md).


def resource_data(resource: Resource) -> dict[str, Any]:
    return {
        "id": resource.pk,
        "url": resource.url,
        "title": resource.title,
        "status": resource.status,
        "health": resource.health,
    }


def snapshot_data(snapshot: ArchivedSnapshot | None) -> dict[str, Any] | None:
    if snapshot is None:
        return None
    return {
        "url": snapshot.url,
        "captured_at": _iso(snapshot.captured_at),
        "archive": snapshot.archive,
        "found_by": snapshot.found_by,
        "verified": snapshot.verified,
    }


def emit_resource_created(resource: Resource) -> None:
    emit(RESOURCE_CREATED, {"resource": resource_data(resource)}, resource_id=resource.pk)


def emit_resource_updated(resource: Resource, changed: list[str]) -> None:
    """A curator's edit; nothing is sent when no field changed."""
    if changed:
        data = {"resource": resource_data(resource), "changed": sorted(changed)}
        emit(RESOURCE_UPDATED, data, resource_id=resource.pk)


def emit_resources_created(resources: Iterable[Resource]) -> None:
    """`resource.created` for each of many new resources (an import): one endpoint query."""
    endpoints = subscribed(RESOURCE_CREATED)
    if endpoints:
        items = [({"resource": resource_data(r)}, r.pk) for r in resources]
        _write_many(endpoints, RESOURCE_CREATED, items)


def emit_resources_updated(resources: Iterable[Resource], changed: list[str]) -> None:
    """`resource.updated` for each of many resources changed alike (a bulk admin action)."""
    endpoints = subscribed(RESOURCE_UPDATED)
    if endpoints:
        items = [
            ({"resource": resource_data(r), "changed": sorted(changed)}, r.pk) for r in resources
        ]
        _write_many(endpoints, RESOURCE_UPDATED, items)


def emit_resource_archived(snapshot: ArchivedSnapshot) -> None:
    """An archived copy of the resource's page was recorded (looked up, or switched to)."""
    resource = snapshot.resource
    data = {"resource": resource_data(resource), "archived": snapshot_data(snapshot)}
    emit(RESOURCE_ARCHIVED, data, resource_id=resource.pk)


def emit_health_changes(
    changes: Iterable[tuple[Resource, HealthTransition, LinkCheck | None]],
) -> None:
    """One `resource.health_changed` per HealthTransition (recording calls this once per
    batch: with no endpoint subscribed it costs one query)."""
    changes = list(changes)
    if not changes:
        return
    endpoints = subscribed(RESOURCE_HEALTH_CHANGED)
    if not endpoints:
        return
    items = [(health_changed_data(r, t, c), r.pk) for r, t, c in changes]
    _write_many(endpoints, RESOURCE_HEALTH_CHANGED, items)


def health_changed_data(
    resource: Resource, transition: HealthTransition, check: LinkCheck | None
) -> dict[str, Any]:
    """The transition, the check that moved it and the resource's latest archived copy."""
    snapshot = (
        ArchivedSnapshot.objects.filter(resource_id=resource.pk)
        .order_by("-looked_up_at", "-id")
        .first()
    )
    evidence = None
    if check is not None:
        evidence = {
            "checked_at": _iso(check.checked_at),
            "outcome": check.outcome,
            "status_code": check.status_code,
            "rule": check.rule,
            "evidence": check.evidence[:500],
        }
    return {
        "resource": resource_data(resource),
        "from": transition.from_state,
        "to": transition.to_state,
        "at": _iso(transition.at),
        "reason": transition.reason,
        "check": evidence,
        "archived": snapshot_data(snapshot),
    }


def emit_collection_published(collection: Collection) -> None:
    data = {
        "collection": {
            "id": collection.pk,
            "slug": collection.slug,
            "title": collection.title,
            "published_on": collection.published_on.isoformat()
            if collection.published_on
            else None,
        }
    }
    emit(COLLECTION_PUBLISHED, data)


def emit_report_generated(report: LinkReport) -> None:
    """A generated LinkReport: its period, its summary sentence and its headline counts."""
    data = report.data if isinstance(report.data, dict) else {}

    def total(section: str) -> int:
        part = data.get(section)
        return int(part.get("total", 0)) if isinstance(part, dict) else 0

    payload = {
        "report": {
            "id": report.pk,
            "period_start": _iso(report.period_start),
            "period_end": _iso(report.period_end),
            "generated_at": _iso(report.generated_at),
            "changed": bool(data.get("changed")),
            "summary": data.get("summary", ""),
            "newly_broken": total("newly_broken"),
            "recovered": total("recovered"),
            "moved": total("moved"),
            "disabled_webhooks": total("webhooks"),
        }
    }
    emit(REPORT_GENERATED, payload)


def _iso(value: datetime | None) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value else None
