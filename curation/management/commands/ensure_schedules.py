from __future__ import annotations

from django.core.management.base import BaseCommand

from curation.schedules import default_schedules, ensure_default_schedules


class Command(BaseCommand):
    help = "Create the default beat schedules (link checks, pruning, metadata, reports) if missing."

    def handle(self, *args, **options) -> None:
        created = ensure_default_schedules()
        kept = [s.name for s in default_schedules() if s.name not in created]
        if created:
            self.stdout.write(f"Created schedules: {', '.join(created)}")
        if kept:
            self.stdout.write(f"Already exist, left untouched: {', '.join(kept)}")
