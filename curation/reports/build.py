"""A report's content: every section for one period, the summary sentence, and the history
behind the health chart.

Nothing loads the catalogue into Python: each section is a GROUP BY or a bounded list
(REPORT_LIST_LIMIT rows with the true total beside it), so generation costs the same few
queries at 100 resources and at 100,000.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from typing import Any

from django.conf import settings
from django.db.models import Count
from django.db.models.functions import TruncDate
from django.utils import timezone

from curation.checker.outcomes import Outcome
from curation.models import (
    HealthState,
    HealthTransition,
    LinkReport,
    PublicationStatus,
    ReportStatus,
)
from curation.reports import aggregates, attention, sections
from curation.reports.aggregates import STATE_ORDER
from curation.reports.periods import Period, is_scheduled
from curation.reports.sections import iso, live_resources
from curation.webhooks.selectors import disabled_endpoints_section

REPORT_FORMAT_VERSION = 1
# How many recent reports to look through for the previous scheduled one: on-demand reports
# in between are few (one per click-minute at most, and curators click rarely).
PREVIOUS_CANDIDATES = 50
# What the summary sentence names, in its order, when the count is not zero.
SUMMARY_PARTS = (
    ("newly_broken", "link broke", "links broke"),
    ("moved", "link moved", "links moved"),
    ("recovered", "link recovered", "links recovered"),
    ("unverifiable", "link became unverifiable", "links became unverifiable"),
    ("incidents", "checker-offline incident", "checker-offline incidents"),
)


def previous_report(period: Period, *, exclude_report_id: int | None = None) -> LinkReport | None:
    """The latest ready scheduled report that ended before this period ended.

    Reports made with "generate now" are skipped: the weekly "change since last report" must
    compare week with week, not with whatever someone generated on a Friday.
    """
    found = LinkReport.objects.filter(status=ReportStatus.READY, period_end__lt=period.end)
    if exclude_report_id is not None:
        found = found.exclude(pk=exclude_report_id)
    for report in found.order_by("-period_end")[:PREVIOUS_CANDIDATES]:
        if is_scheduled(Period(start=report.period_start, end=report.period_end)):
            return report
    return None


def health_totals() -> dict[str, int]:
    """Live resources per health state, every state present (zero when empty)."""
    counts = dict.fromkeys(STATE_ORDER, 0)
    for row in live_resources().values("health").annotate(n=Count("id")).order_by():
        counts[row["health"]] = row["n"]
    return counts


def _daily_flows(since: datetime) -> dict[date, dict[str, int]]:
    """Per day since `since`: the net change in resources per state (transitions in and out,
    and resources created, which start as unknown)."""
    flows: dict[date, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    rows = (
        HealthTransition.objects.filter(at__gte=since)
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
        live_resources()
        .filter(created_at__gte=since)
        .annotate(day=TruncDate("created_at", tzinfo=UTC))
        .values("day")
        .annotate(n=Count("id"))
        .order_by()
    )
    for row in created:
        flows[row["day"]][HealthState.UNKNOWN.value] += row["n"]
    return flows


def health_history(totals: dict[str, int], *, until: datetime, days: int) -> list[dict[str, Any]]:
    """Resources per health state at each midnight (UTC) of the `days` days up to `until`.

    Walked back from today's totals with the transitions recorded since each midnight (one
    GROUP BY by day and state pair), so it needs no stored snapshots and is right from the
    first report. Resources added since a midnight are taken out of that day's "unknown".
    Archiving is not a transition, so a resource archived in the window shifts earlier days
    slightly; counts are clamped at zero.
    """
    last = datetime.combine(until.astimezone(UTC).date(), datetime.min.time(), tzinfo=UTC)
    by_day = sorted(_daily_flows(last - timedelta(days=days - 1)).items(), reverse=True)
    # Walk back: the state at midnight D is today's minus every net flow on day D or later.
    running = dict(totals)
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


def _summary_counts(data: dict[str, Any]) -> dict[str, int]:
    return {
        "newly_broken": data["newly_broken"]["total"],
        "moved": data["moved"]["new_in_period"],
        "recovered": data["recovered"]["total"],
        "unverifiable": sum(
            row["count"] for row in data["transitions"] if row["to"] == HealthState.UNVERIFIABLE
        ),
        "incidents": data["incidents"]["total"],
    }


def summary(data: dict[str, Any], period: Period) -> tuple[bool, str]:
    """Whether anything changed in the period, and the sentence that says what."""
    counts = _summary_counts(data)
    checks = data["checks"]["total"]
    span = f"{period.start:%Y-%m-%d %H:%M} and {period.end:%Y-%m-%d %H:%M} UTC"
    if not any(counts.values()):
        if checks == 0:
            return False, (
                f"Nothing changed, but no checks ran between {span}: the checker may not be "
                "running, so this report cannot vouch for any link."
            )
        return False, (
            f"Nothing changed between {span}: no link broke, moved, recovered or became "
            f"unverifiable, and the checker stayed online. {checks} checks ran."
        )
    parts = [
        f"{counts[key]} {singular if counts[key] == 1 else plural}"
        for key, singular, plural in SUMMARY_PARTS
        if counts[key]
    ]
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
    limit = settings.REPORT_LIST_LIMIT
    previous = previous_report(period, exclude_report_id=exclude_report_id)
    totals = health_totals()
    live = live_resources()
    data: dict[str, Any] = {
        "version": REPORT_FORMAT_VERSION,
        "period": {"start": iso(period.start), "end": iso(period.end)},
        "generated_at": iso(now),
        "previous_report": (
            {"id": previous.pk, "period_end": iso(previous.period_end)} if previous else None
        ),
        "totals": aggregates.totals(totals, previous),
        "transitions": aggregates.transition_counts(period),
        "newly_broken": sections.newly_broken(period, limit),
        "recovered": sections.recovered(period, limit),
        "moved": sections.moved(period, limit),
        "unverifiable": sections.resource_list(
            live.filter(health=HealthState.UNVERIFIABLE), period, limit
        ),
        "soft_404": sections.resource_list(
            live.filter(last_outcome=Outcome.SOFT_404), period, limit
        ),
        "domains": aggregates.domains(settings.REPORT_TOP_DOMAINS),
        "collections": aggregates.collections(settings.REPORT_TOP_COLLECTIONS),
        "checks": aggregates.checks(period),
        "incidents": aggregates.incidents(period),
        "problem_reports": attention.problem_reports(period, limit),
        "needs_review": attention.needs_review(now, limit),
        "history": health_history(totals, until=period.end, days=settings.REPORT_HISTORY_DAYS),
    }
    data["changed"], data["summary"] = summary(data, period)
    # Endpoints the system disabled after repeated failures: their owners read it here.
    data["webhooks"] = disabled_endpoints_section(period.start)
    if data["webhooks"]["disabled_in_period"]:
        data["changed"] = True
    return data
