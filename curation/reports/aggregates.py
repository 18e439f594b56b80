"""The report's counts: resources per state, transitions, the domains and published lists where
failures gather, the checks that ran and the checker's offline incidents.

Every one is a GROUP BY over the database (plus a bounded list where it names rows), so it
costs the same few queries at 100 resources and at 100,000.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any
from urllib.parse import urlsplit

from django.db import connection
from django.db.models import CharField, Count, F, Func, Q, QuerySet

from curation.checker.outcomes import FAILING_OUTCOMES, Outcome
from curation.models import (
    CheckerIncident,
    Collection,
    CollectionItem,
    HealthState,
    HealthTransition,
    LinkCheck,
    LinkReport,
    PublicationStatus,
)
from curation.reports.periods import Period
from curation.reports.sections import iso, live_resources

STATE_ORDER = [state.value for state in HealthState]
# States a domain is ranked by in "domains with the most failures": a bot wall is not a
# broken link, but a domain that walls off dozens of resources is worth a curator's look.
DOMAIN_FAILURE_STATES = (
    HealthState.BROKEN.value,
    HealthState.SUSPECT.value,
    HealthState.UNVERIFIABLE.value,
)
AFFECTED_HEALTH = (HealthState.BROKEN, HealthState.MOVED)
AFFECTED_ITEMS_PER_COLLECTION = 25
INCIDENTS_LISTED = 100


def totals(counts: dict[str, int], previous: LinkReport | None) -> dict[str, Any]:
    """Resources per state now, with the change since the previous report (None without one)."""
    before = None
    if previous is not None:
        before = {
            row["state"]: row["count"] for row in previous.data.get("totals", {}).get("states", [])
        }
    states = [
        {
            "state": state,
            "label": HealthState(state).label,
            "count": counts[state],
            "change": None if before is None else counts[state] - before.get(state, 0),
        }
        for state in STATE_ORDER
    ]
    return {"total": sum(counts.values()), "states": states}


def transition_counts(period: Period) -> list[dict[str, Any]]:
    rows = (
        HealthTransition.objects.filter(at__gte=period.start, at__lt=period.end)
        .exclude(resource__status=PublicationStatus.ARCHIVED)
        .values("from_state", "to_state")
        .annotate(n=Count("id"))
        .order_by("-n", "from_state", "to_state")
    )
    return [{"from": r["from_state"], "to": r["to_state"], "count": r["n"]} for r in rows]


# --- Domains ----------------------------------------------------------------------------------


class _Host(Func):
    """PostgreSQL: the host of a normalized URL, without a leading www."""

    template = r"SUBSTRING(%(expressions)s FROM '^[a-z][a-z0-9+.-]*://(?:www\.)?([^/:?#]+)')"
    output_field = CharField()


def _domain_of(url: str) -> str:
    host = (urlsplit(url).hostname or "").lower()
    return host.removeprefix("www.")


def _domains_in_sql(failing: QuerySet, limit: int) -> list[dict[str, Any]]:
    per_state = {state: Count("id", filter=Q(health=state)) for state in DOMAIN_FAILURE_STATES}
    rows = (
        failing.annotate(domain=_Host(F("normalized_url")))
        .values("domain")
        .annotate(total=Count("id"), **per_state)
        .order_by("-total", "-broken", "domain")[:limit]
    )
    return [
        {
            "domain": row["domain"] or "",
            "total": row["total"],
            **{state: row[state] for state in DOMAIN_FAILURE_STATES},
        }
        for row in rows
    ]


def _domains_in_python(failing: QuerySet, limit: int) -> list[dict[str, Any]]:
    counts: dict[str, dict[str, int]] = defaultdict(lambda: dict.fromkeys(DOMAIN_FAILURE_STATES, 0))
    for url, health in failing.values_list("normalized_url", "health").iterator(chunk_size=2000):
        counts[_domain_of(url)][health] += 1
    items = [
        {"domain": domain, "total": sum(by_state.values()), **by_state}
        for domain, by_state in counts.items()
    ]
    items.sort(key=lambda item: (-item["total"], -item["broken"], item["domain"]))
    return items[:limit]


def domains(limit: int) -> dict[str, Any]:
    # Only the failing set is grouped (broken, suspect, unverifiable): a few percent of the
    # catalogue, and on PostgreSQL the host is cut out in SQL, so nothing scales with it.
    failing = live_resources().filter(health__in=DOMAIN_FAILURE_STATES)
    if connection.vendor == "postgresql":
        return {"items": _domains_in_sql(failing, limit)}
    return {"items": _domains_in_python(failing, limit)}


# --- Published lists --------------------------------------------------------------------------


def _affected_lists() -> list[dict[str, Any]]:
    """Every published list with a broken or moved item, most affected first.

    Broken links (required ones first) hurt learners now; a moved one still works and is a
    one-click fix. Lists number in the hundreds, not the catalogue's hundred thousand, so all
    are fetched and counted.
    """
    item_health = "sections__items__resource__health"
    annotated = (
        Collection.objects.filter(status=PublicationStatus.PUBLISHED)
        .annotate(
            items_total=Count("sections__items"),
            broken=Count("sections__items", filter=Q(**{item_health: HealthState.BROKEN})),
            moved=Count("sections__items", filter=Q(**{item_health: HealthState.MOVED})),
            required_broken=Count(
                "sections__items",
                filter=Q(**{item_health: HealthState.BROKEN, "sections__items__required": True}),
            ),
        )
        .filter(Q(broken__gt=0) | Q(moved__gt=0))
    )
    return list(
        annotated.order_by("-broken", "-required_broken", "-moved", "title").values(
            "id", "title", "slug", "items_total", "broken", "moved", "required_broken"
        )
    )


def _affected_items(collection_ids: list[int], limit: int) -> dict[int, list[dict[str, Any]]]:
    """The broken and moved items of these lists, in list order, at most
    AFFECTED_ITEMS_PER_COLLECTION per list."""
    affected: dict[int, list[dict[str, Any]]] = defaultdict(list)
    if not collection_ids:
        return affected
    rows = (
        CollectionItem.objects.filter(
            section__collection_id__in=collection_ids, resource__health__in=AFFECTED_HEALTH
        )
        .order_by("section__collection_id", "section__position", "section_id", "position", "id")
        .values(
            "section__collection_id",
            "section__title",
            "required",
            "resource_id",
            "resource__title",
            "resource__url",
            "resource__health",
            "resource__suggested_url",
        )[: limit * AFFECTED_ITEMS_PER_COLLECTION]
    )
    for row in rows:
        bucket = affected[row["section__collection_id"]]
        if len(bucket) < AFFECTED_ITEMS_PER_COLLECTION:
            bucket.append(
                {
                    "resource_id": row["resource_id"],
                    "title": row["resource__title"],
                    "url": row["resource__url"],
                    "health": row["resource__health"],
                    "suggested_url": row["resource__suggested_url"],
                    "section": row["section__title"],
                    "required": row["required"],
                }
            )
    return affected


def collections(limit: int) -> dict[str, Any]:
    affected_lists = _affected_lists()
    top = affected_lists[:limit]
    affected = _affected_items([row["id"] for row in top], limit)
    items = [
        {
            "collection_id": row["id"],
            "title": row["title"],
            "slug": row["slug"],
            "items_total": row["items_total"],
            "broken": row["broken"],
            "required_broken": row["required_broken"],
            "moved": row["moved"],
            "affected": affected.get(row["id"], []),
        }
        for row in top
    ]
    return {"total": len(affected_lists), "items": items}


# --- The checker ------------------------------------------------------------------------------


def checks(period: Period) -> dict[str, Any]:
    """The checks that ran in the period, by outcome.

    check_errors counts the checks that ended in our own failure (an engine bug, a task that
    kept killing its worker): they change no health state, so this is where operators see them.
    """
    rows = list(
        LinkCheck.objects.filter(checked_at__gte=period.start, checked_at__lt=period.end)
        .values("outcome")
        .annotate(n=Count("id"), counted_n=Count("id", filter=Q(counted=True)))
        .order_by("-n", "outcome")
    )
    total = sum(row["n"] for row in rows)
    counted = sum(row["counted_n"] for row in rows)
    return {
        "total": total,
        "counted": counted,
        "not_counted": total - counted,
        "failing": sum(row["n"] for row in rows if row["outcome"] in FAILING_OUTCOMES),
        "check_errors": sum(row["n"] for row in rows if row["outcome"] == Outcome.CHECK_ERROR),
        "by_outcome": [{"outcome": row["outcome"], "count": row["n"]} for row in rows],
    }


def incidents(period: Period) -> dict[str, Any]:
    overlapping = CheckerIncident.objects.filter(started_at__lt=period.end).filter(
        Q(ended_at__isnull=True) | Q(ended_at__gte=period.start)
    )
    items = [
        {
            "id": incident.pk,
            "started_at": iso(incident.started_at),
            "ended_at": iso(incident.ended_at),
            "reason": incident.reason,
            "checks_discarded": incident.checks_discarded,
        }
        for incident in overlapping.order_by("started_at")[:INCIDENTS_LISTED]
    ]
    return {"total": overlapping.count(), "items": items}
