"""`python manage.py export_resources`: the catalogue, or one collection, in any format."""

from __future__ import annotations

import sys

from django.core.management.base import BaseCommand, CommandError

from curation.models import Collection
from curation.transfer.exporting import export_csv, export_markdown, export_netscape, write_json
from curation.transfer.formats import FORMATS


class Command(BaseCommand):
    help = (
        "Export resources: the whole catalogue as JSON (the default) or CSV, a collection "
        "as Markdown, or bookmarks as a Netscape file that browsers import."
    )

    def add_arguments(self, parser):
        parser.add_argument("--format", choices=FORMATS, default="json")
        parser.add_argument("--collection", help="Slug of one collection (required for Markdown).")
        parser.add_argument("-o", "--output", help="File to write (default: standard output).")
        parser.add_argument(
            "--with-history",
            "--include-health",
            dest="with_history",
            action="store_true",
            help="JSON: add each resource's link-health history (health, checks, transitions).",
        )

    def handle(self, *args, **options):
        fmt = options["format"]
        collection = None
        if options["collection"]:
            collection = Collection.objects.filter(slug=options["collection"]).first()
            if collection is None:
                raise CommandError(f"no collection with slug {options['collection']!r}")
        if fmt == "markdown" and collection is None:
            raise CommandError("--format markdown exports one collection: give --collection")
        if options["output"]:
            with open(options["output"], "w", encoding="utf-8", newline="") as stream:
                self._write(stream, fmt, collection, options["with_history"])
        else:
            # The wrapper's own stream: OutputWrapper.write would add a newline to each piece.
            self._write(
                getattr(self.stdout, "_out", sys.stdout), fmt, collection, options["with_history"]
            )

    def _write(self, stream, fmt: str, collection, with_history: bool) -> None:
        if fmt == "json":
            write_json(stream, collection=collection, with_history=with_history)
        elif fmt == "csv":
            export_csv(stream, collection=collection)
        elif fmt == "markdown":
            stream.write(export_markdown(collection))
        else:
            stream.write(export_netscape(collection))
