"""The weekly link-report schedule in django-celery-beat, created once and then left alone."""

from __future__ import annotations

from django.conf import settings
from django.db import transaction
from django_celery_beat.models import CrontabSchedule, PeriodicTask

from curation.report_tasks import REPORT_TASK_NAME

REPORT_SCHEDULE_NAME = "Weekly link-health report"


def _crontab_fields(expression: str) -> dict[str, str]:
    fields = expression.split()
    if len(fields) != 5:
        raise ValueError(f"REPORT_SCHEDULE_CRONTAB must have 5 fields, got {expression!r}")
    minute, hour, day_of_month, month_of_year, day_of_week = fields
    return {
        "minute": minute,
        "hour": hour,
        "day_of_month": day_of_month,
        "month_of_year": month_of_year,
        "day_of_week": day_of_week,
    }


def ensure_report_schedule() -> tuple[PeriodicTask, bool]:
    """The report's periodic task, created when missing; returns (task, created).

    An existing task is returned untouched, whatever it holds: a curator who moved the report
    to Friday or disabled it in the admin keeps that choice. Safe to call on every deploy
    and from two processes at once (get_or_create on the unique task name).
    """
    existing = PeriodicTask.objects.filter(name=REPORT_SCHEDULE_NAME).first()
    if existing is not None:
        return existing, False
    expression = getattr(settings, "REPORT_SCHEDULE_CRONTAB", "0 6 * * 1")
    with transaction.atomic():
        crontab = CrontabSchedule.objects.filter(
            **_crontab_fields(expression), timezone="UTC"
        ).first() or CrontabSchedule.objects.create(**_crontab_fields(expression), timezone="UTC")
        return PeriodicTask.objects.get_or_create(
            name=REPORT_SCHEDULE_NAME,
            defaults={
                "task": REPORT_TASK_NAME,
                "crontab": crontab,
                "description": "Generates the link-health report for the week that ended and "
                "emails it to the Curators group. Edit freely: it is never overwritten.",
            },
        )
