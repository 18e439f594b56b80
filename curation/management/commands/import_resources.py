"""`python manage.py import_resources FILE`: bring a list in through the import service."""

from __future__ import annotations

import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from curation.transfer.formats import FORMATS, parse_file, parse_path
from curation.transfer.importing import ON_DUPLICATE, import_catalogue
from curation.transfer.limits import FileRefused, read_limited
from curation.transfer.netscape import FOLDERS_AS
from curation.transfer.records import ParsedFile

BAR_WIDTH = 30


class Command(BaseCommand):
    help = (
        "Import resources (and collections, topics) from an awesome-list Markdown file, a "
        "Netscape bookmark file, a CSV or a JSON backup. All or nothing unless "
        "--import-valid-rows; nothing is fetched while importing."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="The file to import, or - for standard input.")
        parser.add_argument("--format", choices=("auto", *FORMATS), default="auto")
        parser.add_argument(
            "--collection",
            help="Slug of the collection a Markdown or bookmark file becomes "
            "(default: from its title).",
        )
        parser.add_argument(
            "--folders",
            choices=FOLDERS_AS,
            default="sections",
            help="Bookmark folders become a collection's sections (default) or topics.",
        )
        parser.add_argument("--dry-run", action="store_true", help="Report, write nothing.")
        parser.add_argument("--on-duplicate", choices=ON_DUPLICATE, default="skip")
        parser.add_argument(
            "--with-history",
            action="store_true",
            help="JSON backup: restore the link-health history of the resources it creates.",
        )
        parser.add_argument(
            "--import-valid-rows",
            action="store_true",
            help="Import the rows without errors even when others have some.",
        )

    def handle(self, *args, **options):
        name, parsed = self._parse(options)
        report = import_catalogue(
            parsed,
            on_duplicate=options["on_duplicate"],
            dry_run=options["dry_run"],
            import_valid_rows=options["import_valid_rows"],
            with_history=options["with_history"],
            progress=self._progress_bar() if sys.stderr.isatty() else None,
        )
        for problem in report.problems:
            self.stdout.write(f"{name}: {problem}")
        label = "dry run: " if report.dry_run else ""
        self.stdout.write(f"{label}{report.format}: {report.summary()}")
        if report.errors and not report.applied and not report.dry_run:
            raise CommandError(
                f"{len(report.errors)} errors: nothing was imported "
                "(fix them, or use --import-valid-rows to import the other rows)"
            )

    def _parse(self, options: dict) -> tuple[str, ParsedFile]:
        path = options["file"]
        name = "stdin" if path == "-" else Path(path).name
        chosen = {
            "format": options["format"],
            "collection": options["collection"],
            "folders_as": options["folders"],
        }
        try:
            if path == "-":
                return name, parse_file(read_limited(sys.stdin.buffer), name=name, **chosen)
            # Read from disk as the import goes: a CSV is never held whole.
            return name, parse_path(path, **chosen)
        except FileRefused as exc:
            raise CommandError(f"{name}: {exc}; nothing was imported") from None
        except OSError as exc:
            raise CommandError(f"{path}: cannot read it ({exc.strerror})") from None

    def _progress_bar(self):
        # Only on a terminal: a log file or a pipe gets the report and nothing else.
        def show(phase: str, done: int, total: int) -> None:
            filled = BAR_WIDTH * done // max(total, 1)
            bar = "#" * filled + "-" * (BAR_WIDTH - filled)
            end = "\n" if done >= total else ""
            sys.stderr.write(f"\r{phase:>8} [{bar}] {done:,}/{total:,}{end}")
            sys.stderr.flush()

        return show
