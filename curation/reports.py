"""Link-health reports: one stored report per period, built from aggregate queries.

A report is claimed exactly once per period through LinkReport's UNIQUE(period_start,
period_end): the first insert wins, a failed or abandoned claim is taken over with a
conditional UPDATE. Every section is a GROUP BY over the database or a bounded list
(REPORT_LIST_LIMIT rows with the true total beside it), so generation costs the same few
queries at 100 resources and at 100,000: nothing loads the catalogue into Python.

Periods lie on a fixed grid (REPORT_PERIOD_DAYS long, ending at midnight UTC, weekly
periods ending on Mondays), so every trigger for "the current period" names the same row.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import CharField, Count, F, Func, Max, Q, Window
from django.db.models.functions import RowNumber, TruncDate
from django.utils import timezone

from curation.models import (
    CheckerIncident,
    Collection,
    CollectionItem,
    HealthState,
    HealthTransition,
    LinkCheck,
    LinkReport,
    PublicationStatus,
    ReportStatus,
    Resource,
)

logger = logging.getLogger(__name__)

REPORT_FORMAT_VERSION = 1
# Weekly periods end at Monday 00:00 UTC: the grid is anchored on a Monday.
PERIOD_ANCHOR = datetime(2024, 1, 1, tzinfo=UTC)
EVIDENCE_CHECKS = 5
AFFECTED_ITEMS_PER_COLLECTION = 25
# Outcomes the checker counts as failures (curation.checker.outcomes.FAILING_OUTCOMES), named
# here as strings so the report reads stored rows without importing the engine.
FAILING_OUTCOMES = (
    "not_found",
    "soft_404",
    "server_error",
    "dns_error",
    "connection_error",
    "tls_error",
    "redirect_loop",
    "timeout",
)
# States a domain is ranked by in "domains with the most failures": a bot wall is not a
# broken link, but a domain that walls off dozens of resources is worth a curator's look.
DOMAIN_FAILURE_STATES = (
    HealthState.BROKEN.value,
    HealthState.SUSPECT.value,
    HealthState.UNVERIFIABLE.value,
)
# Transitions worth telling a curator about. healthy -> suspect -> healthy (a link that
# failed once) is deliberately absent: that is the false alarm the report must not raise.
RECOVERED_FROM = (HealthState.BROKEN, HealthState.UNVERIFIABLE)
STATE_ORDER = [state.value for state in HealthState]


class ReportAlreadyClaimed(Exception):
    """Another worker holds the claim on this period's report."""


@dataclass(frozen=True)
class Period:
    start: datetime
    end: datetime


@dataclass
class GenerationResult:
    report: LinkReport
    created: bool


def _setting(name: str, default: Any) -> Any:
    return getattr(settings, name, default)


def period_length() -> timedelta:
    return timedelta(days=_setting("REPORT_PERIOD_DAYS", 7))


def period_ending_at(end: datetime) -> Period:
    """The period that ends at `end` (any instant; the command's --period-end)."""
    if timezone.is_naive(end):
        end = timezone.make_aware(end, UTC)
    return Period(start=end - period_length(), end=end)


def current_period(now: datetime | None = None) -> Period:
    """The most recent complete period on the grid at `now`.

    Every trigger between two grid boundaries (a second beat tick, a worker redelivery, the
    admin button, the command) names this same period, which is what makes the row unique.
    """
    now = now or timezone.now()
    length = period_length()
    steps = (now - PERIOD_ANCHOR) // length
    end = PERIOD_ANCHOR + steps * length
    return Period(start=end - length, end=end)


# --- Claiming ---------------------------------------------------------------------------------


def claim_report(period: Period, *, now: datetime | None = None) -> LinkReport | None:
    """Claim the report row for `period`, or return None when it is not ours to generate.

    Not ours: it is ready, or another worker claimed it less than REPORT_CLAIM_TIMEOUT
    seconds ago. A failed report, or a claim abandoned by a dead worker, is taken over with a
    conditional UPDATE so that of two workers taking it over, exactly one succeeds.
    """
    now = now or timezone.now()
    try:
        with transaction.atomic():
            return LinkReport.objects.create(
                period_start=period.start,
                period_end=period.end,
                status=ReportStatus.CLAIMED,
                claimed_at=now,
            )
    except IntegrityError:
        pass
    stale_before = now - timedelta(seconds=_setting("REPORT_CLAIM_TIMEOUT", 1800))
    rows = LinkReport.objects.filter(period_start=period.start, period_end=period.end)
    taken_over = rows.filter(
        Q(status=ReportStatus.FAILED)
        | Q(status=ReportStatus.CLAIMED, claimed_at__lt=stale_before)
        | Q(status=ReportStatus.CLAIMED, claimed_at__isnull=True)
    ).update(status=ReportStatus.CLAIMED, claimed_at=now, error="")
    if taken_over != 1:
        return None
    return rows.get()


def generate_link_report(
    *, period: Period | None = None, now: datetime | None = None
) -> GenerationResult:
    """Generate the report for `period` (default: the current one) exactly once.

    Returns the report and whether this call generated it. When the report exists (ready, or
    being generated elsewhere) the existing row is returned with created=False. A failure
    marks the row failed, with the error, and re-raises; the next trigger retries it.
    """
    now = now or timezone.now()
    period = period or current_period(now)
    report = claim_report(period, now=now)
    if report is None:
        existing = LinkReport.objects.get(period_start=period.start, period_end=period.end)
        return GenerationResult(report=existing, created=False)
    claimed_at = report.claimed_at
    try:
        data = build_report_data(period, now=now, exclude_report_id=report.pk)
    except Exception as exc:
        LinkReport.objects.filter(pk=report.pk, claimed_at=claimed_at).update(
            status=ReportStatus.FAILED, error=f"{type(exc).__name__}: {exc}"[:2000]
        )
        raise
    generated_at = timezone.now()
    # Conditional on our claim: a worker that lost its claim (it took longer than the
    # timeout and someone took over) must not overwrite the other's result.
    saved = LinkReport.objects.filter(
        pk=report.pk, status=ReportStatus.CLAIMED, claimed_at=claimed_at
    ).update(status=ReportStatus.READY, data=data, generated_at=generated_at, error="")
    report.refresh_from_db()
    if saved != 1:
        logger.warning("link report %s was taken over while generating; kept theirs", report.pk)
        return GenerationResult(report=report, created=False)
    return GenerationResult(report=report, created=True)


# --- Building ---------------------------------------------------------------------------------


def _iso(value: datetime | date | None) -> str | None:
    return value.isoformat() if value is not None else None


def _live_resources():
    # Archived resources are no longer checked or recommended: they are out of every count.
    return Resource.objects.exclude(status=PublicationStatus.ARCHIVED)


def previous_report(period: Period, *, exclude_report_id: int | None = None) -> LinkReport | None:
    """The latest ready report that ended before this period ended."""
    found = LinkReport.objects.filter(status=ReportStatus.READY, period_end__lt=period.end)
    if exclude_report_id is not None:
        found = found.exclude(pk=exclude_report_id)
    return found.order_by("-period_end").first()


def health_totals() -> dict[str, int]:
    """Live resources per health state, every state present (zero when empty)."""
    counts = dict.fromkeys(STATE_ORDER, 0)
    for row in _live_resources().values("health").annotate(n=Count("id")).order_by():
        counts[row["health"]] = row["n"]
    return counts


def _totals_section(totals: dict[str, int], previous: LinkReport | None) -> dict[str, Any]:
    before = None
    if previous is not None:
        before = {
            row["state"]: row["count"] for row in previous.data.get("totals", {}).get("states", [])
        }
    states = []
    for state in STATE_ORDER:
        change = None if before is None else totals[state] - before.get(state, 0)
        states.append(
            {
                "state": state,
                "label": HealthState(state).label,
                "count": totals[state],
                "change": change,
            }
        )
    return {"total": sum(totals.values()), "states": states}


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


def _published_list_counts(resource_ids: list[int]) -> dict[int, int]:
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
                "checked_at": _iso(row["checked_at"]),
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


def _newly_broken(period: Period, limit: int) -> dict[str, Any]:
    total, transitions = _latest_transitions(period, Q(to_state=HealthState.BROKEN), limit)
    ids = list(transitions)
    lists = _published_list_counts(ids)
    evidence = _evidence(ids, period.end)
    items = []
    for resource_id, transition in transitions.items():
        resource = transition.resource
        check = transition.link_check
        items.append(
            {
                **_resource_fields(resource),
                "broken_at": _iso(transition.at),
                "first_failure_at": _iso(resource.first_failure_at),
                "consecutive_failures": resource.consecutive_failures,
                "last_outcome": (check.outcome if check else "") or resource.last_outcome,
                "last_status_code": check.status_code if check else resource.last_status_code,
                # The state machine's rule that confirmed it, then the checker's own rule.
                "rule": transition.reason or (check.rule if check else ""),
                "check_rule": check.rule if check else "",
                "published_lists": lists.get(resource_id, 0),
                "evidence": evidence.get(resource_id, []),
            }
        )
    # A broken link on many published lists hurts more learners: fix it first.
    items.sort(key=lambda item: (-item["published_lists"], item["broken_at"]))
    return {"total": total, "items": items}


def _recovered(period: Period, limit: int) -> dict[str, Any]:
    total, transitions = _latest_transitions(
        period, Q(from_state__in=RECOVERED_FROM, to_state=HealthState.HEALTHY), limit
    )
    items = [
        {
            **_resource_fields(t.resource),
            "recovered_at": _iso(t.at),
            "was": t.from_state,
            "last_status_code": t.link_check.status_code if t.link_check else None,
        }
        for t in transitions.values()
    ]
    return {"total": total, "items": items}


def _moved(period: Period, limit: int) -> dict[str, Any]:
    moved = _live_resources().filter(health=HealthState.MOVED)
    total = moved.count()
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
        moved.order_by(F("health_changed_at").desc(nulls_last=True), "id").values(
            "id", "title", "url", "suggested_url", "health_changed_at", "last_status_code", "health"
        )[:limit]
    )
    lists = _published_list_counts([row["id"] for row in rows])
    items = [
        {
            "resource_id": row["id"],
            "title": row["title"],
            "url": row["url"],
            "current_health": row["health"],
            "suggested_url": row["suggested_url"],
            "moved_at": _iso(row["health_changed_at"]),
            "new_in_period": row["health_changed_at"] is not None
            and period.start <= row["health_changed_at"] < period.end,
            "last_status_code": row["last_status_code"],
            "published_lists": lists.get(row["id"], 0),
        }
        for row in rows
    ]
    items.sort(key=lambda item: (not item["new_in_period"], -item["published_lists"]))
    return {"total": total, "new_in_period": new_in_period, "items": items}


def _resource_list(queryset, period: Period, limit: int) -> dict[str, Any]:
    total = queryset.count()
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
            "since": _iso(row["health_changed_at"]),
            "new_in_period": row["health_changed_at"] is not None
            and period.start <= row["health_changed_at"] < period.end,
            "last_checked_at": _iso(row["last_checked_at"]),
            "last_outcome": row["last_outcome"],
            "last_status_code": row["last_status_code"],
        }
        for row in rows
    ]
    return {"total": total, "items": items}


class _Host(Func):
    """PostgreSQL: the host of a normalized URL, without a leading www."""

    template = r"SUBSTRING(%(expressions)s FROM '^[a-z][a-z0-9+.-]*://(?:www\.)?([^/:?#]+)')"
    output_field = CharField()


def _domain_of(url: str) -> str:
    host = (urlsplit(url).hostname or "").lower()
    return host.removeprefix("www.")


def _domains(limit: int) -> dict[str, Any]:
    # Only the failing set is grouped (broken, suspect, unverifiable): a few percent of the
    # catalogue, and on PostgreSQL the host is cut out in SQL, so nothing scales with it.
    failing = _live_resources().filter(health__in=DOMAIN_FAILURE_STATES)
    per_state = {state: Count("id", filter=Q(health=state)) for state in DOMAIN_FAILURE_STATES}
    if connection.vendor == "postgresql":
        rows = (
            failing.annotate(domain=_Host(F("normalized_url")))
            .values("domain")
            .annotate(total=Count("id"), **per_state)
            .order_by("-total", "-broken", "domain")[:limit]
        )
        items = [
            {
                "domain": row["domain"] or "",
                "total": row["total"],
                **{state: row[state] for state in DOMAIN_FAILURE_STATES},
            }
            for row in rows
        ]
    else:
        counts: dict[str, dict[str, int]] = defaultdict(
            lambda: dict.fromkeys(DOMAIN_FAILURE_STATES, 0)
        )
        for url, health in failing.values_list("normalized_url", "health").iterator(
            chunk_size=2000
        ):
            counts[_domain_of(url)][health] += 1
        items = [
            {"domain": domain, "total": sum(by_state.values()), **by_state}
            for domain, by_state in counts.items()
        ]
        items.sort(key=lambda item: (-item["total"], -item["broken"], item["domain"]))
        items = items[:limit]
    return {"items": items}


def _collections(limit: int) -> dict[str, Any]:
    affected_health = (HealthState.BROKEN, HealthState.MOVED)
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
    # Most affected first: broken links (required ones first) hurt learners now; a moved one
    # still works and is a one-click fix. One row per affected published list: lists number
    # in the hundreds, not the catalogue's hundred thousand, so all are fetched and counted.
    affected_lists = list(
        annotated.order_by("-broken", "-required_broken", "-moved", "title").values(
            "id", "title", "slug", "items_total", "broken", "moved", "required_broken"
        )
    )
    total = len(affected_lists)
    top = affected_lists[:limit]
    affected: dict[int, list[dict[str, Any]]] = defaultdict(list)
    if top:
        rows = (
            CollectionItem.objects.filter(
                section__collection_id__in=[row["id"] for row in top],
                resource__health__in=affected_health,
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
    return {"total": total, "items": items}


def _checks(period: Period) -> dict[str, Any]:
    rows = (
        LinkCheck.objects.filter(checked_at__gte=period.start, checked_at__lt=period.end)
        .values("outcome")
        .annotate(n=Count("id"), counted_n=Count("id", filter=Q(counted=True)))
        .order_by("-n", "outcome")
    )
    by_outcome = [{"outcome": row["outcome"], "count": row["n"]} for row in rows]
    total = sum(row["count"] for row in by_outcome)
    counted = sum(row["counted_n"] for row in rows)
    failing = sum(row["count"] for row in by_outcome if row["outcome"] in FAILING_OUTCOMES)
    return {
        "total": total,
        "counted": counted,
        "not_counted": total - counted,
        "failing": failing,
        "by_outcome": by_outcome,
    }


def _incidents(period: Period) -> dict[str, Any]:
    overlapping = CheckerIncident.objects.filter(started_at__lt=period.end).filter(
        Q(ended_at__isnull=True) | Q(ended_at__gte=period.start)
    )
    items = [
        {
            "id": incident.pk,
            "started_at": _iso(incident.started_at),
            "ended_at": _iso(incident.ended_at),
            "reason": incident.reason,
            "checks_discarded": incident.checks_discarded,
        }
        for incident in overlapping.order_by("started_at")[:100]
    ]
    return {"total": overlapping.count(), "items": items}


def _transition_counts(period: Period) -> list[dict[str, Any]]:
    rows = (
        HealthTransition.objects.filter(at__gte=period.start, at__lt=period.end)
        .exclude(resource__status=PublicationStatus.ARCHIVED)
        .values("from_state", "to_state")
        .annotate(n=Count("id"))
        .order_by("-n", "from_state", "to_state")
    )
    return [{"from": r["from_state"], "to": r["to_state"], "count": r["n"]} for r in rows]


def health_history(totals: dict[str, int], *, until: datetime, days: int) -> list[dict[str, Any]]:
    """Resources per health state at each midnight (UTC) of the `days` days up to `until`.

    Walked back from today's totals with the transitions recorded since each midnight (one
    GROUP BY by day and state pair), so it needs no stored snapshots and is right from the
    first report. Resources added since a midnight are taken out of that day's "unknown".
    Archiving is not a transition, so a resource archived in the window shifts earlier days
    slightly; counts are clamped at zero.
    """
    last = datetime.combine(until.astimezone(UTC).date(), datetime.min.time(), tzinfo=UTC)
    first = last - timedelta(days=days - 1)
    flows: dict[date, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    rows = (
        HealthTransition.objects.filter(at__gte=first)
        .exclude(resource__status=PublicationStatus.ARCHIVED)
        .annotate(day=TruncDate("at", tzinfo=UTC))
        .values("day", "from_state", "to_state")
        .annotate(n=Count("id"))
        .order_by()
    )
    for row in rows:
        flows[row["day"]][row["to_state"]] += row["n"]
        flows[row["day"]][row["from_state"]] -= row["n"]
    created = (
        _live_resources()
        .filter(created_at__gte=first)
        .annotate(day=TruncDate("created_at", tzinfo=UTC))
        .values("day")
        .annotate(n=Count("id"))
        .order_by()
    )
    for row in created:
        flows[row["day"]][HealthState.UNKNOWN.value] += row["n"]
    # Walk back: the state at midnight D is today's minus every net flow on day D or later.
    running = dict(totals)
    by_day = sorted(flows.items(), reverse=True)
    points = []
    cursor = 0
    for offset in range(days):
        point = last - timedelta(days=offset)
        while cursor < len(by_day) and by_day[cursor][0] >= point.date():
            for state, delta in by_day[cursor][1].items():
                if state in running:
                    running[state] -= delta
            cursor += 1
        points.append(
            {"at": point.isoformat(), "counts": {s: max(running[s], 0) for s in STATE_ORDER}}
        )
    points.reverse()
    return points


def _summary(data: dict[str, Any], period: Period) -> tuple[bool, str]:
    broken = data["newly_broken"]["total"]
    moved = data["moved"]["new_in_period"]
    recovered = data["recovered"]["total"]
    unverifiable = sum(
        row["count"] for row in data["transitions"] if row["to"] == HealthState.UNVERIFIABLE
    )
    incidents = data["incidents"]["total"]
    checks = data["checks"]["total"]
    span = f"{period.start:%Y-%m-%d %H:%M} and {period.end:%Y-%m-%d %H:%M} UTC"
    changed = bool(broken or moved or recovered or unverifiable or incidents)
    if not changed:
        if checks == 0:
            return False, (
                f"Nothing changed, but no checks ran between {span}: the checker may not be "
                "running, so this report cannot vouch for any link."
            )
        return False, (
            f"Nothing changed between {span}: no link broke, moved, recovered or became "
            f"unverifiable, and the checker stayed online. {checks} checks ran."
        )
    parts = []
    for count, singular, plural in (
        (broken, "link broke", "links broke"),
        (moved, "link moved", "links moved"),
        (recovered, "link recovered", "links recovered"),
        (unverifiable, "link became unverifiable", "links became unverifiable"),
        (incidents, "checker-offline incident", "checker-offline incidents"),
    ):
        if count:
            parts.append(f"{count} {singular if count == 1 else plural}")
    lists = data["collections"]["total"]
    sentence = "Between " + span + ": " + ", ".join(parts) + "."
    if lists:
        sentence += (
            f" {lists} published list{'s' if lists != 1 else ''} contain broken or moved items."
        )
    return True, sentence


def build_report_data(
    period: Period, *, now: datetime | None = None, exclude_report_id: int | None = None
) -> dict[str, Any]:
    """The report's content for `period`, as a JSON-ready dict.

    Sections about the period (newly broken, recovered, checks, incidents, transitions) read
    rows dated inside [start, end). Sections about standing problems (totals, moved,
    unverifiable, soft 404s, domains, lists) read the catalogue as it is when generated.
    Lists hold at most REPORT_LIST_LIMIT rows; each section carries its true total.
    """
    now = now or timezone.now()
    limit = _setting("REPORT_LIST_LIMIT", 200)
    previous = previous_report(period, exclude_report_id=exclude_report_id)
    totals = health_totals()
    data: dict[str, Any] = {
        "version": REPORT_FORMAT_VERSION,
        "period": {"start": _iso(period.start), "end": _iso(period.end)},
        "generated_at": _iso(now),
        "previous_report": (
            {"id": previous.pk, "period_end": _iso(previous.period_end)} if previous else None
        ),
        "totals": _totals_section(totals, previous),
        "transitions": _transition_counts(period),
        "newly_broken": _newly_broken(period, limit),
        "recovered": _recovered(period, limit),
        "moved": _moved(period, limit),
        "unverifiable": _resource_list(
            _live_resources().filter(health=HealthState.UNVERIFIABLE), period, limit
        ),
        "soft_404": _resource_list(
            _live_resources().filter(last_outcome="soft_404"), period, limit
        ),
        "domains": _domains(_setting("REPORT_TOP_DOMAINS", 10)),
        "collections": _collections(_setting("REPORT_TOP_COLLECTIONS", 20)),
        "checks": _checks(period),
        "incidents": _incidents(period),
        "history": health_history(
            totals, until=period.end, days=_setting("REPORT_HISTORY_DAYS", 28)
        ),
    }
    data["changed"], data["summary"] = _summary(data, period)
    return data
