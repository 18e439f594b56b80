"""The report's sections about resources: newly broken, recovered, moved, and the standing
lists (unverifiable, soft 404s), each with the evidence a curator needs to act.

Each section is a bounded list (at most `limit` rows, with the true total beside it), so it
costs the same few queries at 100 resources and at 100,000.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime
from typing import Any

from django.db.models import Count, F, Max, Q, QuerySet, Window
from django.db.models.functions import RowNumber

from curation.archive.selectors import archived_copies
from curation.models import (
    CollectionItem,
    HealthState,
    HealthTransition,
    LinkCheck,
    PublicationStatus,
    Resource,
)
from curation.reports.periods import Period

EVIDENCE_CHECKS = 5
# Transitions worth telling a curator about. healthy -> suspect -> healthy (a link that
# failed once) is deliberately absent: that is the false alarm the report must not raise.
RECOVERED_FROM = (HealthState.BROKEN, HealthState.UNVERIFIABLE)


def iso(value: datetime | date | None) -> str | None:
    return value.isoformat() if value is not None else None


def live_resources() -> QuerySet[Resource]:
    # Archived resources are no longer checked or recommended: they are out of every count.
    return Resource.objects.exclude(status=PublicationStatus.ARCHIVED)


def _in_period(when: datetime | None, period: Period) -> bool:
    return when is not None and period.start <= when < period.end


def _latest_transitions(
    period: Period, query: Q, limit: int
) -> tuple[int, dict[int, HealthTransition]]:
    """Distinct resources with a matching transition in the period: the true count, and the
    latest such transition for up to `limit` of them (most recent first)."""
    in_period = HealthTransition.objects.filter(
        query, at__gte=period.start, at__lt=period.end
    ).exclude(resource__status=PublicationStatus.ARCHIVED)
    total = in_period.values("resource_id").distinct().count()
    if not total:
        return 0, {}
    latest = list(
        in_period.values("resource_id")
        .annotate(last_at=Max("at"))
        .order_by("-last_at", "resource_id")[:limit]
    )
    wanted = {row["resource_id"]: row["last_at"] for row in latest}
    chosen: dict[int, HealthTransition] = {}
    rows = (
        in_period.filter(resource_id__in=wanted)
        .select_related("resource", "link_check")
        .order_by("-at", "-id")
    )
    for transition in rows:
        if transition.resource_id not in chosen and transition.at == wanted[transition.resource_id]:
            chosen[transition.resource_id] = transition
    ordered = {
        row["resource_id"]: chosen[row["resource_id"]]
        for row in latest
        if row["resource_id"] in chosen
    }
    return total, ordered


# --- Resource lists ---------------------------------------------------------------------------


def published_list_counts(resource_ids: list[int]) -> dict[int, int]:
    """How many published lists each of these resources is on (absent when none)."""
    if not resource_ids:
        return {}
    rows = (
        CollectionItem.objects.filter(
            resource_id__in=resource_ids,
            section__collection__status=PublicationStatus.PUBLISHED,
        )
        .values("resource_id")
        .annotate(n=Count("section__collection_id", distinct=True))
        .order_by()
    )
    return {row["resource_id"]: row["n"] for row in rows}


def _evidence(resource_ids: list[int], before: datetime) -> dict[int, list[dict[str, Any]]]:
    """The last EVIDENCE_CHECKS checks of each resource before `before`, newest first."""
    if not resource_ids:
        return {}
    ranked = (
        LinkCheck.objects.filter(resource_id__in=resource_ids, checked_at__lt=before)
        .annotate(
            rank=Window(
                RowNumber(),
                partition_by=[F("resource_id")],
                order_by=[F("checked_at").desc(), F("id").desc()],
            )
        )
        .filter(rank__lte=EVIDENCE_CHECKS)
        .values("resource_id", "checked_at", "outcome", "status_code", "rule", "counted")
        .order_by("resource_id", "-checked_at")
    )
    evidence: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for row in ranked:
        evidence[row["resource_id"]].append(
            {
                "checked_at": iso(row["checked_at"]),
                "outcome": row["outcome"],
                "status_code": row["status_code"],
                "rule": row["rule"],
                "counted": row["counted"],
            }
        )
    return evidence


def _resource_fields(resource: Resource) -> dict[str, Any]:
    return {
        "resource_id": resource.pk,
        "title": resource.title,
        "url": resource.url,
        "current_health": resource.health,
    }


def _broken_item(transition: HealthTransition) -> dict[str, Any]:
    resource = transition.resource
    check = transition.link_check
    return {
        **_resource_fields(resource),
        "broken_at": iso(transition.at),
        "first_failure_at": iso(resource.first_failure_at),
        "consecutive_failures": resource.consecutive_failures,
        "last_outcome": (check.outcome if check else "") or resource.last_outcome,
        "last_status_code": check.status_code if check else resource.last_status_code,
        # The state machine's rule that confirmed it, then the checker's own rule.
        "rule": transition.reason or (check.rule if check else ""),
        "check_rule": check.rule if check else "",
    }


def newly_broken(period: Period, limit: int) -> dict[str, Any]:
    total, transitions = _latest_transitions(period, Q(to_state=HealthState.BROKEN), limit)
    ids = list(transitions)
    lists = published_list_counts(ids)
    evidence = _evidence(ids, period.end)
    copies = archived_copies(ids)
    items = [
        {
            **_broken_item(transition),
            "published_lists": lists.get(resource_id, 0),
            "evidence": evidence.get(resource_id, []),
            # The page's archived copy, so the curator can act from the email (None: none).
            "archived_url": copies.get(resource_id, {}).get("archived_url"),
            "archived_at": iso(copies.get(resource_id, {}).get("archived_at")),
        }
        for resource_id, transition in transitions.items()
    ]
    # A broken link on many published lists hurts more learners: fix it first.
    items.sort(key=lambda item: (-item["published_lists"], item["broken_at"]))
    return {"total": total, "items": items}


def recovered(period: Period, limit: int) -> dict[str, Any]:
    total, transitions = _latest_transitions(
        period, Q(from_state__in=RECOVERED_FROM, to_state=HealthState.HEALTHY), limit
    )
    items = [
        {
            **_resource_fields(t.resource),
            "recovered_at": iso(t.at),
            "was": t.from_state,
            "last_status_code": t.link_check.status_code if t.link_check else None,
        }
        for t in transitions.values()
    ]
    return {"total": total, "items": items}


def moved(period: Period, limit: int) -> dict[str, Any]:
    pending = live_resources().filter(health=HealthState.MOVED)
    new_in_period = (
        HealthTransition.objects.filter(
            to_state=HealthState.MOVED, at__gte=period.start, at__lt=period.end
        )
        .exclude(resource__status=PublicationStatus.ARCHIVED)
        .values("resource_id")
        .distinct()
        .count()
    )
    rows = list(
        pending.order_by(F("health_changed_at").desc(nulls_last=True), "id").values(
            "id", "title", "url", "suggested_url", "health_changed_at", "last_status_code", "health"
        )[:limit]
    )
    lists = published_list_counts([row["id"] for row in rows])
    items = [
        {
            "resource_id": row["id"],
            "title": row["title"],
            "url": row["url"],
            "current_health": row["health"],
            "suggested_url": row["suggested_url"],
            "moved_at": iso(row["health_changed_at"]),
            "new_in_period": _in_period(row["health_changed_at"], period),
            "last_status_code": row["last_status_code"],
            "published_lists": lists.get(row["id"], 0),
        }
        for row in rows
    ]
    items.sort(key=lambda item: (not item["new_in_period"], -item["published_lists"]))
    return {"total": pending.count(), "new_in_period": new_in_period, "items": items}


def resource_list(queryset: QuerySet[Resource], period: Period, limit: int) -> dict[str, Any]:
    """The resources of `queryset`, most recently changed first (unverifiable, soft 404s)."""
    rows = queryset.order_by(F("health_changed_at").desc(nulls_last=True), "id").values(
        "id",
        "title",
        "url",
        "health",
        "health_changed_at",
        "last_checked_at",
        "last_outcome",
        "last_status_code",
    )[:limit]
    items = [
        {
            "resource_id": row["id"],
            "title": row["title"],
            "url": row["url"],
            "current_health": row["health"],
            "since": iso(row["health_changed_at"]),
            "new_in_period": _in_period(row["health_changed_at"], period),
            "last_checked_at": iso(row["last_checked_at"]),
            "last_outcome": row["last_outcome"],
            "last_status_code": row["last_status_code"],
        }
        for row in rows
    ]
    return {"total": queryset.count(), "items": items}
