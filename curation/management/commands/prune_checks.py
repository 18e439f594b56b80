from __future__ import annotations

from django.core.management.base import BaseCommand

from curation.health.retention import prune_checks


class Command(BaseCommand):
    help = (
        "Delete old link checks, keeping every check that caused a health transition and the "
        "newest few per resource (MONITOR_RETENTION_DAYS, MONITOR_RETENTION_KEEP_PER_RESOURCE)."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--days", type=int, default=None, help="Keep checks newer than this.")
        parser.add_argument(
            "--keep", type=int, default=None, help="Newest checks kept per resource."
        )

    def handle(self, *args, days=None, keep=None, **options) -> None:
        deleted = prune_checks(older_than_days=days, keep_per_resource=keep)
        self.stdout.write(f"Deleted {deleted} old check(s).")
