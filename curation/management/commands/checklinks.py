"""python manage.py checklinks: check links from a file, or the catalogue's resources."""

from __future__ import annotations

import argparse
import contextlib
import signal
import threading
from collections.abc import Iterator
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser, OutputWrapper

from curation.checker.config import CheckerConfig, config_from_settings
from curation.checker.engine import check_many_keyed
from curation.checker.formats import FORMATS, make_writer
from curation.checker.inputs import InputLink, read_links
from curation.checker.outcomes import CheckResult, Outcome

SETTINGS_KEYS = (
    "LINKCHECK_ALLOWED_INTERNAL_HOSTS",
    "LINKCHECK_USER_AGENT_CONTACT",
    "LINKCHECK_CONTACT_URL",
    "LINKCHECK_CONCURRENCY",
    "LINKCHECK_PER_HOST_CONCURRENCY",
    "LINKCHECK_PER_HOST_INTERVAL",
    "LINKCHECK_TIMEOUT",
)
USAGE_ERROR = 2
FAILING = 1
INTERRUPTED_BY_SIGINT = 128 + signal.SIGINT
INTERRUPTED_BY_SIGTERM = 128 + signal.SIGTERM


class _Interrupted(Exception):
    def __init__(self, code: int) -> None:
        super().__init__(code)
        self.code = code


@contextlib.contextmanager
def _sigterm_as_interrupt() -> Iterator[None]:
    """Let a CI runner's SIGTERM end the run like Ctrl-C does, with the report closed."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def interrupt(signum: int, frame: object) -> None:
        raise _Interrupted(INTERRUPTED_BY_SIGTERM)

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an integer: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1: {text!r}")
    return value


def _seconds(minimum: float, inclusive: bool) -> Any:
    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
        if value != value or value < minimum or (not inclusive and value == minimum):
            raise argparse.ArgumentTypeError(f"out of range: {text!r}")
        return value

    return parse


class Progress:
    """A one-line counter on stderr, only when a human is watching (stderr is a TTY)."""

    def __init__(self, stream: OutputWrapper) -> None:
        self.stream = stream
        self.enabled = stream.isatty()
        self.done = self.failing = 0

    def update(self, result: CheckResult) -> None:
        self.done += 1
        self.failing += result.failing
        if self.enabled:
            self.stream.write(f"\rchecked {self.done}, failing {self.failing}", ending="")
            self.stream.flush()

    def close(self) -> None:
        if self.enabled:
            self.stream.write("")
            self.stream.flush()


class Command(BaseCommand):
    # Django's system checks cost about 0.5 s of start-up and check nothing --input uses (no
    # database, no admin, no URLs): checking a file of links is meant to start like lychee does.
    # The catalogue path, which writes to the database, still runs them (see handle()).
    requires_system_checks: list[str] = []
    help = (
        "Check links and report their health. With --input, checks the URLs in a text, Markdown "
        "or HTML file without touching the database; otherwise checks catalogue resources and "
        "records each result. Exits 1 if any link is failing, 2 on a usage error."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--input", metavar="FILE", help="text, Markdown or HTML file of links")
        parser.add_argument("--format", choices=FORMATS, default="text")
        parser.add_argument("--concurrency", type=_positive_int)
        parser.add_argument("--per-host-concurrency", type=_positive_int)
        parser.add_argument("--per-host-interval", type=_seconds(0.0, inclusive=True))
        parser.add_argument(
            "--timeout", type=_seconds(0.0, inclusive=False), help="total seconds per URL"
        )
        parser.add_argument("--topic", metavar="SLUG")
        parser.add_argument("--collection", metavar="SLUG")
        parser.add_argument("--health", metavar="STATE")
        parser.add_argument("--all", action="store_true", help="include archived resources")

    def handle(self, *args: Any, **options: Any) -> None:
        catalogue_filters = [o for o in ("topic", "collection", "health", "all") if options[o]]
        if options["input"] and catalogue_filters:
            raise CommandError(
                "--input cannot be combined with --topic/--collection/--health/--all",
                returncode=USAGE_ERROR,
            )
        if not options["input"] and not options.get("skip_checks"):
            self.check()
        config = self._config(options)
        # The writers manage their own newlines (JSON is written element by element).
        self.stdout.ending = ""
        writer = make_writer(options["format"], self.stdout)
        progress = Progress(self.stderr)
        failing = False
        if options["input"]:
            results = self._check_file(options["input"], config)
        else:
            results = self._check_catalogue(options, config)
        writer.start()
        interrupted: int | None = None
        try:
            with _sigterm_as_interrupt():
                for result in results:
                    writer.write(result)
                    progress.update(result)
                    failing = failing or result.failing
        except _Interrupted as exc:
            interrupted = exc.code
        except KeyboardInterrupt:
            interrupted = INTERRUPTED_BY_SIGINT
        finally:
            progress.close()
        # Even when interrupted, end the report properly (a JSON array stays parseable) with
        # what was checked so far, then exit the way shells expect of a signalled command.
        writer.finish()
        if interrupted is not None:
            self.stderr.write("interrupted: the report holds the links checked so far")
            raise SystemExit(interrupted)
        if failing:
            raise SystemExit(FAILING)

    def _config(self, options: dict[str, Any]) -> CheckerConfig:
        values = {key: getattr(settings, key) for key in SETTINGS_KEYS if hasattr(settings, key)}
        try:
            return config_from_settings(
                values,
                concurrency=options["concurrency"],
                per_host_concurrency=options["per_host_concurrency"],
                per_host_interval=options["per_host_interval"],
                deadline=options["timeout"],
            )
        except ValueError as exc:
            raise CommandError(f"bad link checker settings: {exc}", returncode=USAGE_ERROR) from exc

    def _check_file(self, path: str, config: CheckerConfig) -> Iterator[CheckResult]:
        try:
            # Open once up front so that a missing or unreadable file is a usage error (exit 2)
            # before any output, not an exception in the middle of the report.
            with open(path, "rb") as handle:
                handle.read(1)
        except OSError as exc:
            raise CommandError(f"cannot read {path}: {exc}", returncode=USAGE_ERROR) from exc
        return self._results_for_links(read_links(path), config)

    def _results_for_links(
        self, links: Iterator[InputLink], config: CheckerConfig
    ) -> Iterator[CheckResult]:
        def checkable() -> Iterator[tuple[InputLink, str]]:
            for link in links:
                if link.error:
                    # Not a URL at all: report it with its line number instead of checking it.
                    invalid.append(link)
                else:
                    yield link, link.url

        invalid: list[InputLink] = []
        for link, result in check_many_keyed(checkable(), config=config):
            yield from self._drain_invalid(invalid)
            if not result.error and result.outcome == Outcome.INVALID_URL:
                result.error = f"line {link.line}"
            yield result
        yield from self._drain_invalid(invalid)

    @staticmethod
    def _drain_invalid(invalid: list[InputLink]) -> Iterator[CheckResult]:
        while invalid:
            link = invalid.pop(0)
            yield CheckResult(
                url=link.url, outcome=Outcome.INVALID_URL, error=link.error, rule="invalid-url"
            )

    def _check_catalogue(
        self, options: dict[str, Any], config: CheckerConfig
    ) -> Iterator[CheckResult]:
        from django.core.exceptions import ObjectDoesNotExist

        from curation import selectors, services

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
            raise CommandError(str(exc), returncode=USAGE_ERROR) from exc

        def pairs() -> Iterator[tuple[int, str]]:
            for resource in resources.iterator(chunk_size=500):
                yield resource.id, resource.url

        def recorded() -> Iterator[CheckResult]:
            # Database writes happen here, in the command's own thread, never in the workers.
            for resource_id, result in check_many_keyed(pairs(), config=config):
                services.record_check(resource_id=resource_id, result=result, source="command")
                yield result

        return recorded()
