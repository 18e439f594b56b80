"""Reads about webhooks for the admin and the link-health report."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from curation.models import WebhookEndpoint

REPORT_LIMIT = 50


def disabled_endpoints(owner=None):
    """Endpoints the system disabled after repeated failures (of one owner, when given)."""
    found = WebhookEndpoint.objects.filter(disabled_at__isnull=False).select_related("owner")
    if owner is not None:
        found = found.filter(owner=owner)
    return found.order_by("-disabled_at", "pk")


def disabled_endpoints_section(start: datetime) -> dict[str, Any]:
    """The report's "Disabled webhook endpoints" section: every endpoint disabled now, and how
    many were disabled since the period began (which makes the report worth emailing; a
    report is generated after its period ends, so "since" runs up to now)."""
    found = disabled_endpoints()
    items = [
        {
            "url": e.url,
            "description": e.description,
            "owner": e.owner.get_username() if e.owner else "",
            "disabled_at": e.disabled_at.isoformat(),
            "reason": e.disabled_reason,
        }
        for e in found[:REPORT_LIMIT]
    ]
    return {
        "total": found.count(),
        "disabled_in_period": found.filter(disabled_at__gte=start).count(),
        "items": items,
    }
