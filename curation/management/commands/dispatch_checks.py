from __future__ import annotations

from django.core.management.base import BaseCommand

from curation.health import dispatch


class Command(BaseCommand):
    help = "Run the link-check dispatcher once now (what beat runs every minute)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--limit", type=int, default=None, help="Most resources to claim.")

    def handle(self, *args, limit=None, **options) -> None:
        count = dispatch.dispatch_due_checks(limit=limit)
        self.stdout.write(f"Dispatched {count} check(s).")
