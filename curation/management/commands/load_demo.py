from __future__ import annotations

from django.core.management.base import BaseCommand

from curation.demo.loader import load_demo
from curation.models import Collection, Resource, Topic


class Command(BaseCommand):
    help = (
        "Load the demo catalogue (the seed post as a curated list). Never changes rows that "
        "exist; with --if-empty, does nothing once the catalogue holds anything."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--if-empty",
            action="store_true",
            help="Load only into an empty catalogue (what `make run` does on every start), so "
            "a demo row a curator deleted does not come back.",
        )

    def handle(self, *args, if_empty: bool = False, **options) -> None:
        if if_empty and any(m.objects.exists() for m in (Resource, Topic, Collection)):
            self.stdout.write("The catalogue is not empty: the demo was not loaded.")
            return
        summary = load_demo()
        self.stdout.write(self.style.SUCCESS(f"Demo catalogue loaded: {summary}"))
