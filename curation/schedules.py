"""The default beat schedules, upserted idempotently into django-celery-beat.

Create only what is missing: a schedule that exists is the curator's or operator's to edit
(interval, enabled flag, arguments), and is never overwritten, deleted or recreated.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.db import IntegrityError, transaction
from django_celery_beat.models import IntervalSchedule, PeriodicTask


@dataclass(frozen=True)
class DefaultSchedule:
    name: str
    task: str
    every_seconds: int
    description: str


def default_schedules() -> list[DefaultSchedule]:
    return [
        DefaultSchedule(
            name="Dispatch due link checks",
            task="curation.dispatch_due_checks",
            every_seconds=settings.MONITOR_DISPATCH_EVERY_SECONDS,
            description="Claims resources whose next check is due and queues their checks.",
        ),
        DefaultSchedule(
            name="Prune old link checks",
            task="curation.prune_checks",
            every_seconds=24 * 3600,
            description="Deletes old checks, keeping every check that changed a health state.",
        ),
    ]


def ensure_default_schedules() -> list[str]:
    """Create the default periodic tasks that do not exist yet; returns the names created."""
    return [schedule.name for schedule in default_schedules() if ensure_schedule(schedule)]


def ensure_schedule(schedule: DefaultSchedule) -> bool:
    """Create one periodic task if no task of that name exists; True when it was created."""
    if PeriodicTask.objects.filter(name=schedule.name).exists():
        return False
    interval, _ = IntervalSchedule.objects.get_or_create(
        every=schedule.every_seconds, period=IntervalSchedule.SECONDS
    )
    try:
        with transaction.atomic():
            _, created = PeriodicTask.objects.get_or_create(
                name=schedule.name,
                defaults={
                    "task": schedule.task,
                    "interval": interval,
                    "description": schedule.description,
                },
            )
    except IntegrityError:
        # Another process created it between our look and our insert: theirs stands.
        created = False
    return created
