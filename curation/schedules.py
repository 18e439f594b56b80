"""The default beat schedules: one table, created in django-celery-beat when missing.

Create only what is missing: a schedule that exists is the curator's or operator's to edit
(interval, crontab, enabled flag, arguments), and is never overwritten, deleted or recreated.
Safe to run on every deploy and from two processes at once.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.db import IntegrityError, transaction
from django_celery_beat.models import CrontabSchedule, IntervalSchedule, PeriodicTask

from curation import enqueue

DAY = 24 * 3600
REPORT_SCHEDULE_NAME = "Weekly link-health report"
IMPORT_SWEEP_EVERY_SECONDS = 600


@dataclass(frozen=True)
class DefaultSchedule:
    name: str
    task: str
    description: str
    every_seconds: int | None = None
    # minute hour day-of-month month day-of-week, UTC; used when every_seconds is None.
    crontab: str = ""


def default_schedules() -> list[DefaultSchedule]:
    """Every periodic task the system needs, with the defaults from settings."""
    return [
        DefaultSchedule(
            name="Dispatch due link checks",
            task=enqueue.DISPATCH_DUE_CHECKS,
            every_seconds=settings.MONITOR_DISPATCH_EVERY_SECONDS,
            description="Claims resources whose next check is due and queues their checks.",
        ),
        DefaultSchedule(
            name="Prune old link checks",
            task=enqueue.PRUNE_CHECKS,
            every_seconds=DAY,
            description="Deletes old checks, keeping every check that changed a health state.",
        ),
        DefaultSchedule(
            name="Refresh page metadata",
            task=enqueue.DISPATCH_DUE_METADATA,
            every_seconds=DAY,
            description=(
                "Daily: refresh the metadata of every resource last fetched more than "
                f"METADATA_REFRESH_DAYS ({settings.METADATA_REFRESH_DAYS}) days ago."
            ),
        ),
        DefaultSchedule(
            name="Sweep webhook deliveries",
            task=enqueue.SWEEP_WEBHOOK_DELIVERIES,
            every_seconds=settings.WEBHOOK_SWEEP_EVERY_SECONDS,
            description=(
                "Sends again the webhook deliveries still pending: a retry that is due, or "
                "one whose worker died mid-delivery (at-least-once delivery)."
            ),
        ),
        DefaultSchedule(
            name=REPORT_SCHEDULE_NAME,
            task=enqueue.GENERATE_LINK_REPORT,
            crontab=settings.REPORT_SCHEDULE_CRONTAB,
            description=(
                "Generates the link-health report for the period that ended and emails it to "
                "the Curators group. Edit freely: it is never overwritten."
            ),
        ),
        DefaultSchedule(
            name="Sweep import jobs",
            task=enqueue.SWEEP_IMPORT_JOBS,
            every_seconds=IMPORT_SWEEP_EVERY_SECONDS,
            description=(
                "Deletes import previews nobody confirmed in time, and sends again the "
                "background imports whose message was lost or whose worker died."
            ),
        ),
    ]


def ensure_default_schedules() -> list[str]:
    """Create the default periodic tasks that do not exist yet; returns the names created."""
    return [schedule.name for schedule in default_schedules() if ensure_schedule(schedule)]


def ensure_schedule(schedule: DefaultSchedule) -> bool:
    """Create one periodic task if no task of that name exists; True when it was created."""
    if PeriodicTask.objects.filter(name=schedule.name).exists():
        return False
    try:
        with transaction.atomic():
            _, created = PeriodicTask.objects.get_or_create(
                name=schedule.name,
                defaults={
                    "task": schedule.task,
                    "description": schedule.description,
                    **_timing(schedule),
                },
            )
    except IntegrityError:
        # Another process created it between our look and our insert: theirs stands.
        created = False
    return created


def _timing(schedule: DefaultSchedule) -> dict[str, IntervalSchedule | CrontabSchedule]:
    if schedule.every_seconds is not None:
        interval, _ = IntervalSchedule.objects.get_or_create(
            every=schedule.every_seconds, period=IntervalSchedule.SECONDS
        )
        return {"interval": interval}
    minute, hour, day_of_month, month_of_year, day_of_week = schedule.crontab.split()
    fields = {
        "minute": minute,
        "hour": hour,
        "day_of_month": day_of_month,
        "month_of_year": month_of_year,
        "day_of_week": day_of_week,
        "timezone": "UTC",
    }
    crontab = CrontabSchedule.objects.filter(**fields).first()
    return {"crontab": crontab or CrontabSchedule.objects.create(**fields)}
