"""python manage.py checklinks: lint files' links, or check the catalogue's resources.

The arguments, the linter and the report live in curation.checker.cli, which manage.py also
runs without Django for `--input`; this command adds the catalogue mode, which records every
check in the database.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from curation.catalog import selectors
from curation.checker import cli
from curation.checker.config import CheckerConfig
from curation.checker.engine import check_many_keyed
from curation.checker.findings import Finding
from curation.health.checking import record_guarded
from curation.health.recording import CheckEntry
from curation.models import CheckSource
from curation.outbound import checker_values, host_limiter


class Command(BaseCommand):
    # Django's system checks cost about 0.5 s and check nothing --input uses (no database, no
    # admin, no URLs). The catalogue path, which writes to the database, still runs them.
    requires_system_checks: list[str] = []
    help = cli.DESCRIPTION

    def add_arguments(self, parser: CommandParser) -> None:
        cli.add_arguments(parser)

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            cli.check_options(options)
            if not options["input"] and not options.get("skip_checks"):
                self.check()
            config = cli.make_config(checker_values(), options)
            # The report manages its own newlines (JSON is written element by element).
            self.stdout.ending = self.stderr.ending = ""
            if cli.inputs_of(options):
                # The same linter as the Django-free path (a Django option such as --settings
                # brings the run here).
                code = cli.lint_inputs(options, config, stdout=self.stdout, stderr=self.stderr)
            else:
                results = self._check_catalogue(options, config)
                code = cli.report(results, options["format"], self.stdout, self.stderr)
        except cli.UsageError as exc:
            raise CommandError(str(exc), returncode=cli.USAGE_ERROR) from exc
        if code:
            raise SystemExit(code)

    def _check_catalogue(self, options: dict[str, Any], config: CheckerConfig) -> Iterator[Finding]:
        from django.core.exceptions import ObjectDoesNotExist

        try:
            resources = selectors.resources_for_check(
                topic=options["topic"],
                collection=options["collection"],
                health=options["health"],
                include_all=options["all"],
            )
            # Evaluate the first row now so an unknown slug is a usage error, not a traceback.
            resources.exists()
        except ObjectDoesNotExist as exc:
            raise cli.UsageError(str(exc)) from exc

        def pairs() -> Iterator[tuple[int, str]]:
            for resource in resources.iterator(chunk_size=500):
                yield resource.id, resource.url

        def recorded() -> Iterator[Finding]:
            # Database writes happen here, in the command's own thread, never in the workers.
            # The limiter is the workers' own (Redis when it is the broker): a command run beside
            # them shares their per-host politeness instead of doubling it. Results are recorded
            # a batch at a time behind the same offline guard as the workers' (a shell without
            # network must not turn the catalogue suspect), and what was checked before an
            # interruption is still recorded.
            limiter = host_limiter(config)
            pending: list[CheckEntry] = []
            try:
                for resource_id, result in check_many_keyed(
                    pairs(), config=config, limiter=limiter
                ):
                    pending.append(CheckEntry(resource_id, result, source=CheckSource.COMMAND))
                    if len(pending) >= settings.MONITOR_BATCH_SIZE:
                        record_guarded(pending, config=config, limiter=limiter)
                        pending = []
                    yield Finding.from_result(result)
            finally:
                record_guarded(pending, config=config, limiter=limiter)

        return recorded()
