"""Curator actions on link health: snooze a resource, apply the address it moved to."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone

from curation.catalog.services import DuplicateResource, find_duplicate, normalized_or_error
from curation.health.recording import REASON_MAX
from curation.models import HealthState, HealthTransition, Resource
from curation.webhooks import events as webhook_events


class MonitoringError(Exception):
    """A curator action on link health that cannot be done (shown as a message)."""


def snooze_resource(resource_id: int, *, until: datetime | None, by: Any = None) -> Resource:
    """Mark a resource "not broken" until `until` (None lifts the snooze).

    A broken resource becomes suspect at once (recorded as a transition); while snoozed no
    check can make it broken. When the snooze ends, the next failing check decides by the
    usual rules, with the failure streak it had.
    """
    now = timezone.now()
    with transaction.atomic():
        resource = Resource.objects.select_for_update().get(pk=resource_id)
        resource.snoozed_until = until
        fields = ["snoozed_until", "updated_at"]
        if until is not None and until > now and resource.health == HealthState.BROKEN:
            who = f" by {by}" if by is not None else ""
            transition = HealthTransition.objects.create(
                resource=resource,
                from_state=HealthState.BROKEN,
                to_state=HealthState.SUSPECT,
                at=now,
                reason=f"snoozed{who} until {until:%Y-%m-%d %H:%M} UTC: marked not broken"[
                    :REASON_MAX
                ],
            )
            resource.health = HealthState.SUSPECT
            resource.health_changed_at = now
            fields += ["health", "health_changed_at"]
            webhook_events.emit_health_changes([(resource, transition, None)])
        resource.save(update_fields=fields)
    return resource


def apply_suggested_url(resource_id: int, *, by: Any = None) -> Resource:
    """Replace a moved resource's URL with the address it permanently redirects to.

    The old address stays in the history: the transition names it and points at the last
    check (which holds both addresses), and that check is never pruned. Raises
    MonitoringError when there is no confirmed move, and DuplicateResource when the new
    address is already another resource.
    """
    now = timezone.now()
    with transaction.atomic():
        resource = Resource.objects.select_for_update().get(pk=resource_id)
        new_url = resource.suggested_url
        if resource.health != HealthState.MOVED or not new_url:
            raise MonitoringError("This resource has no confirmed new address to apply.")
        existing = find_duplicate(new_url, exclude_id=resource.pk)
        if existing is not None:
            raise DuplicateResource(existing)
        old_url = resource.url
        evidence = resource.checks.filter(final_url=new_url).order_by("-checked_at", "-id").first()
        who = f" by {by}" if by is not None else ""
        transition = HealthTransition.objects.create(
            resource=resource,
            from_state=resource.health,
            to_state=HealthState.HEALTHY,
            at=now,
            link_check=evidence,
            reason=f"new address applied{who}; was {old_url}"[:REASON_MAX],
        )
        resource.url = new_url
        resource.normalized_url = normalized_or_error(new_url)
        resource.health = HealthState.HEALTHY
        resource.health_changed_at = now
        resource.suggested_url = ""
        resource.consecutive_moves = 0
        resource.consecutive_failures = 0
        resource.first_failure_at = None
        resource.consecutive_blocked = 0
        # Check the new address soon: it is the one learners will follow now.
        resource.next_check_at = now
        resource.save()
        webhook_events.emit_health_changes([(resource, transition, evidence)])
    return resource
