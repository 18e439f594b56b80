from __future__ import annotations

from django.core.management.base import BaseCommand

from curation.metadata_tasks import ensure_metadata_schedule
from curation.report_schedule import ensure_report_schedule
from curation.schedules import ensure_default_schedules


class Command(BaseCommand):
    help = "Create the default beat schedules (link checks, pruning, metadata, reports) if missing."

    def handle(self, *args, **options) -> None:
        created = ensure_default_schedules()
        ensure_metadata_schedule()
        ensure_report_schedule()
        if created:
            self.stdout.write(f"Created schedules: {', '.join(created)}")
        else:
            self.stdout.write("Link-check schedules already exist; left untouched.")
