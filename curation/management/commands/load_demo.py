from __future__ import annotations

from django.core.management.base import BaseCommand

from curation.demo.loader import load_demo


class Command(BaseCommand):
    help = "Load the demo catalogue (the seed post as a curated list). Safe to run again."

    def handle(self, *args, **options) -> None:
        summary = load_demo()
        self.stdout.write(self.style.SUCCESS(f"Demo catalogue loaded: {summary}"))
