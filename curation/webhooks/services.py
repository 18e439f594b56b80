"""Registering webhook endpoints: every write to an endpoint goes through here."""

from __future__ import annotations

import base64
import secrets
from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.db import transaction

from curation.models import WebhookDelivery, WebhookEndpoint
from curation.webhooks import events, sending

SECRET_BYTES = 32
SECRET_PREFIX = "whsec_"  # noqa: S105 (the spec's prefix, not a secret)
ENDPOINT_FIELDS = ("url", "description", "events", "active")


def new_secret() -> str:
    """A Standard Webhooks secret: whsec_ and 32 random bytes in base64."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode("ascii")


def clean_events(values: Iterable[str]) -> list[str]:
    """The subscribed events, known ones only, in the catalogue's order. Raises
    ValidationError naming an unknown event."""
    chosen = list(values)
    unknown = sorted(set(chosen) - set(events.EVENTS))
    if unknown:
        raise ValidationError({"events": f"Unknown event(s): {', '.join(unknown)}."})
    return [name for name in events.EVENTS if name in chosen]


def clean_url(url: str) -> str:
    """Refuse an address the SSRF guard would refuse, with the guard's reason."""
    try:
        sending.check_endpoint_url(url)
    except sending.RefusedURL as exc:
        raise ValidationError(
            {"url": f"Deliveries to this address would be refused: {exc}."}
        ) from None
    return url


def create_endpoint(
    *, url: str, events: Iterable[str], description: str = "", active: bool = True, owner=None
) -> WebhookEndpoint:
    """Register an endpoint with a fresh secret (read it from `.secret` once, to show it)."""
    endpoint = WebhookEndpoint(
        url=clean_url(url),
        description=description,
        events=clean_events(events),
        active=active,
        owner=owner,
        secret=new_secret(),
    )
    endpoint.full_clean()
    endpoint.save()
    return endpoint


def update_endpoint(endpoint: WebhookEndpoint, **changes) -> WebhookEndpoint:
    """Change an endpoint's url, description, events or active flag (never its secret)."""
    unknown = set(changes) - set(ENDPOINT_FIELDS)
    if unknown:
        raise TypeError(f"not editable: {', '.join(sorted(unknown))}")
    if "url" in changes:
        changes["url"] = clean_url(changes["url"])
    if "events" in changes:
        changes["events"] = clean_events(changes["events"])
    for name, value in changes.items():
        setattr(endpoint, name, value)
    endpoint.full_clean()
    endpoint.save()
    return endpoint


def enable_endpoint(endpoint: WebhookEndpoint) -> WebhookEndpoint:
    """Deliver to a disabled endpoint again (failed deliveries stay failed)."""
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(
        disabled_at=None, disabled_reason="", consecutive_failures=0, active=True
    )
    endpoint.refresh_from_db()
    return endpoint


def send_test_event(endpoint: WebhookEndpoint) -> WebhookDelivery:
    """Queue a `webhook.test` delivery to this endpoint (the admin's button)."""
    with transaction.atomic():
        return events.emit_test(endpoint)
